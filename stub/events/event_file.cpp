// The memory file behind the shared log: appends, and released pages behind the oldest chunk.
#include "events/event_file.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace ruprobes::events {

namespace {

constexpr uint64_t page_bytes = 4096;
// Pages are released in runs of at least this much: one fallocate() per several chunks.
constexpr uint64_t release_bytes = 256 * 1024;

} // namespace

std::shared_ptr<event_file> event_file::create() {
    int fd = ::memfd_create("ruprobes-events", MFD_CLOEXEC);
    if (fd < 0)
        return nullptr;
    return std::shared_ptr<event_file>(new event_file(fd));
}

event_file::~event_file() {
    ::close(fd_);
}

bool event_file::append(std::span<const std::string_view> parts) {
    if (broken_)
        return false;
    std::vector<iovec> iov;
    for (std::string_view p : parts) {
        if (!p.empty())
            iov.push_back(iovec{const_cast<char*>(p.data()), p.size()});
    }
    std::size_t first = 0;
    while (first < iov.size()) {
        ssize_t n = ::pwritev(fd_, iov.data() + first,
                              static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX)),
                              static_cast<off_t>(end_));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            broken_ = true;
            return false;
        }
        end_ += static_cast<uint64_t>(n);
        // Past what was written: whole parts, then the rest of a part written in part.
        auto left = static_cast<std::size_t>(n);
        while (first < iov.size() && left >= iov[first].iov_len)
            left -= iov[first++].iov_len;
        if (left > 0) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
            iov[first].iov_len -= left;
        }
    }
    return true;
}

void event_file::skip_to(uint64_t offset) {
    if (offset > end_)
        end_ = offset;
}

void event_file::chunk_gone(uint64_t offset) {
    auto it = live_.find(offset);
    if (it != live_.end())
        live_.erase(it);
    release_before(live_.empty() ? end_ : std::min(*live_.begin(), end_));
}

void event_file::release_before(uint64_t offset) {
    uint64_t limit = offset / page_bytes * page_bytes; // the page holding `offset` stays
    if (broken_ || limit < released_ + release_bytes)
        return;
    // Pages a socket still references stay intact for it; the file just stops holding them.
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(released_),
                    static_cast<off_t>(limit - released_)) != 0) {
        broken_ = true; // cannot release: stop growing the file
        return;
    }
    released_ = limit;
}

} // namespace ruprobes::events

// The memory file behind the shared log: appends, and released pages behind the oldest chunk.
#include "events/event_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ruprobes::events {

namespace {

constexpr uint64_t page_bytes = 4096;

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

bool event_file::append(std::string_view bytes) {
    if (broken_)
        return false;
    while (!bytes.empty()) {
        ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(end_));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            broken_ = true;
            return false;
        }
        end_ += static_cast<uint64_t>(n);
        bytes.remove_prefix(static_cast<std::size_t>(n));
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
    if (broken_ || limit <= released_)
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

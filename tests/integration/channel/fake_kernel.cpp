#include "fake_kernel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ruprobes::test {

fake_kernel::~fake_kernel() {
    close();
}

void fake_kernel::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool fake_kernel::read_more(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0) {
        return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
        return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
    }
    std::array<uint8_t, 8192> buf{};
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    std::span<const uint8_t> in(buf.data(), static_cast<size_t>(n));
    while (!in.empty()) {
        in = in.subspan(decoder_.feed(in));
        while (auto f = decoder_.next()) {
            ready_.push_back(
                owned_frame{f->type, f->request_id,
                            std::vector<uint8_t>(f->payload.begin(), f->payload.end())});
        }
    }
    return true;
}

std::optional<owned_frame> fake_kernel::expect(uint16_t type, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto it = skipped_.begin(); it != skipped_.end(); ++it) {
        if (it->type == type) {
            owned_frame f = std::move(*it);
            skipped_.erase(it);
            return f;
        }
    }
    while (true) {
        while (!ready_.empty()) {
            owned_frame f = std::move(ready_.front());
            ready_.pop_front();
            if (f.type == type) {
                return f;
            }
            skipped_.push_back(std::move(f));
        }
        if (!read_more(deadline) && (eof_ || std::chrono::steady_clock::now() >= deadline)) {
            return std::nullopt;
        }
    }
}

void fake_kernel::send_bytes(std::span<const uint8_t> bytes) {
    if (fd_ >= 0) {
        (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
}

void fake_kernel::send_status(const owned_frame& request, int32_t status) {
    std::vector<uint8_t> out(wire::max_frame);
    out.resize(wire::encode_status(out, request.type, request.request_id, status));
    send_bytes(out);
}

} // namespace ruprobes::test

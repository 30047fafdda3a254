#include "socket_channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sim {

socket_channel::socket_channel(std::string path) : path_(std::move(path)) {
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path_.empty() || path_.size() >= sizeof addr.sun_path) {
        throw std::runtime_error("socket path empty or too long: " + path_);
    }
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener_ < 0) {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    unlink(path_.c_str());
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener_, 4) != 0) {
        const std::string why = std::strerror(errno);
        close(listener_);
        throw std::runtime_error("cannot listen on " + path_ + ": " + why);
    }
}

socket_channel::~socket_channel() {
    drop_client();
    close(listener_);
    unlink(path_.c_str());
}

void socket_channel::accept_client() {
    if (client_ >= 0) {
        return;
    }
    client_ = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void socket_channel::drop_client() {
    if (client_ >= 0) {
        close(client_);
        client_ = -1;
    }
    out_.clear();
    out_head_ = 0;
}

size_t socket_channel::read(uint8_t* dst, size_t max) {
    accept_client();
    if (client_ < 0 || max == 0) {
        return 0;
    }
    const ssize_t n = recv(client_, dst, max, 0);
    if (n > 0) {
        return static_cast<size_t>(n);
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        drop_client(); // the host went away; the next one is accepted on the next read
    }
    return 0;
}

bool socket_channel::write(const uint8_t* src, size_t len) {
    if (client_ < 0) {
        return true;
    }
    if (queued() + len > max_queued) {
        flush();
        if (queued() + len > max_queued) {
            return false;
        }
    }
    if (out_head_ > 0 && out_head_ == out_.size()) {
        out_.clear();
        out_head_ = 0;
    }
    out_.insert(out_.end(), src, src + len);
    flush();
    return true;
}

void socket_channel::flush() {
    while (client_ >= 0 && queued() > 0) {
        const ssize_t n = send(client_, out_.data() + out_head_, queued(), MSG_NOSIGNAL);
        if (n > 0) {
            out_head_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        }
        drop_client();
    }
    if (out_head_ == out_.size()) {
        out_.clear();
        out_head_ = 0;
    } else if (out_head_ > (1u << 20)) {
        out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_head_));
        out_head_ = 0;
    }
}

void socket_channel::wait(int timeout_ms) {
    pollfd fds[2] = {};
    fds[0].fd = client_ >= 0 ? client_ : listener_;
    fds[0].events = POLLIN | (client_ >= 0 && queued() > 0 ? POLLOUT : 0);
    poll(fds, 1, timeout_ms);
    flush();
}

} // namespace sim

// Blocking test client (see rpc_test_client.hpp).
#include "rpc_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ruprobes::test {

using clock = std::chrono::steady_clock;

rpc_test_client::rpc_test_client(uint16_t port, framing f, int receive_buffer) : framing_(f) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    if (receive_buffer > 0)
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        ::close(fd_);
        throw std::runtime_error("connect: " + std::string(std::strerror(e)));
    }
}

rpc_test_client::~rpc_test_client() {
    if (fd_ >= 0)
        ::close(fd_);
}

void rpc_test_client::raw(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error("send: " + std::string(std::strerror(errno)));
        }
        done += static_cast<std::size_t>(n);
    }
}

void rpc_test_client::send(const std::string& text) {
    if (framing_ == framing::line)
        raw(text + "\n");
    else
        raw("Content-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text);
}

bool rpc_test_client::fill(clock::time_point deadline) {
    if (closed_)
        return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() < 0)
        return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0)
        return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
        closed_ = true;
        return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

std::optional<std::string> rpc_test_client::next_frame() {
    if (framing_ == framing::line) {
        std::size_t nl = buffer_.find('\n');
        if (nl == std::string::npos)
            return std::nullopt;
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
    }
    std::size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos)
        return std::nullopt;
    std::size_t at = buffer_.find("Content-Length: ");
    if (at != 0)
        throw std::runtime_error("bad frame from server: " + buffer_.substr(0, 80));
    std::size_t length = std::stoul(buffer_.substr(16, end - 16));
    if (buffer_.size() < end + 4 + length)
        return std::nullopt;
    std::string body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return body;
}

std::optional<json> rpc_test_client::receive(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    for (;;) {
        if (auto frame = next_frame())
            return json::parse(*frame);
        if (!fill(deadline))
            return std::nullopt;
    }
}

json rpc_test_client::call(const std::string& method, json params,
                           std::chrono::milliseconds timeout) {
    int64_t id = next_id_++;
    send(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
    auto deadline = clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        auto msg = receive(left);
        if (!msg)
            throw std::runtime_error("no response to " + method);
        if (msg->is_object() && msg->contains("id") && (*msg)["id"] == id)
            return *msg;
        notifications.push_back(std::move(*msg));
    }
}

std::optional<json> rpc_test_client::wait_notification(const std::string& method,
                                                       std::chrono::milliseconds timeout) {
    for (auto it = notifications.begin(); it != notifications.end(); ++it) {
        if ((*it)["method"] == method) {
            json out = std::move(*it);
            notifications.erase(it);
            return out;
        }
    }
    auto deadline = clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        auto msg = receive(left);
        if (!msg)
            return std::nullopt;
        if ((*msg)["method"] == method)
            return msg;
        notifications.push_back(std::move(*msg));
    }
}

bool rpc_test_client::wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (!closed_) {
        if (!fill(deadline) && !closed_)
            return false;
    }
    return true;
}

} // namespace ruprobes::test

#include "cli/rpc_client.hpp"

#include "cli/cli_options.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace ruprobes::cli {
namespace {

using clock = std::chrono::steady_clock;

int millis_left(clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// Connects one resolved address with a deadline (non-blocking connect + poll); the socket is
// blocking again afterwards. -1 with `error` set on failure.
int connect_with_deadline(const addrinfo* ai, clock::time_point deadline, std::string& error) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        error = std::strerror(errno);
        return -1;
    }
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, millis_left(deadline));
        if (rc == 0) {
            error = "timed out";
            ::close(fd);
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
    }
    if (rc < 0) {
        error = std::strerror(errno);
        ::close(fd);
        return -1;
    }
    ::fcntl(fd, F_SETFL, flags);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// The error object of an answer, read without trusting its members' types.
jsonrpc::rpc_error error_object(const json& e) {
    jsonrpc::rpc_error out{0, "error", nullptr};
    if (!e.is_object())
        return out;
    if (auto code = e.find("code"); code != e.end() && code->is_number_integer())
        out.code = code->get<int>();
    if (auto message = e.find("message"); message != e.end() && message->is_string())
        out.message = message->get<std::string>();
    if (auto data = e.find("data"); data != e.end())
        out.data = *data;
    return out;
}

tl::unexpected<call_error> unreachable(std::string message) {
    return tl::unexpected(call_error{call_errc::unreachable, {}, std::move(message)});
}

} // namespace

call_result<rpc_client> rpc_client::connect(const std::string& host, uint16_t port,
                                            std::chrono::milliseconds timeout) {
    rpc_client c(host + ":" + std::to_string(port), timeout);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
    if (rc != 0)
        return unreachable("cannot resolve " + host + ": " + ::gai_strerror(rc));
    std::string error = "no address";
    auto deadline = clock::now() + timeout;
    for (addrinfo* ai = list; ai && c.fd_ < 0; ai = ai->ai_next)
        c.fd_ = connect_with_deadline(ai, deadline, error);
    ::freeaddrinfo(list);
    if (c.fd_ < 0)
        return unreachable("cannot connect to ruprobesd at " + c.peer_ + ": " + error +
                           " (is ruprobesd running? see --connect)");
    return c;
}

rpc_client::rpc_client(rpc_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), peer_(std::move(other.peer_)), timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)), scan_from_(other.scan_from_),
      notifications_(std::move(other.notifications_)), next_id_(other.next_id_) {}

rpc_client::~rpc_client() {
    if (fd_ >= 0)
        ::close(fd_);
}

call_result<void> rpc_client::send_line(const std::string& line) {
    std::string data = line + "\n";
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return unreachable("connection to " + peer_ + " lost: " + std::strerror(errno));
        done += static_cast<size_t>(n);
    }
    return {};
}

call_result<bool> rpc_client::read_message(clock::time_point deadline, json& out) {
    for (;;) {
        auto nl = buffer_.find('\n', scan_from_);
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            scan_from_ = 0;
            if (line.find_first_not_of(" \t\r") == std::string::npos)
                continue;
            out = json::parse(line, nullptr, false);
            if (out.is_discarded())
                return unreachable("ruprobesd at " + peer_ +
                                   " sent invalid JSON: " + jsonrpc::to_text(line.substr(0, 80)));
            return true;
        }
        scan_from_ = buffer_.size();
        pollfd p{fd_, POLLIN, 0};
        int rc = ::poll(&p, 1, millis_left(deadline));
        if (rc < 0 && errno == EINTR)
            return false;
        if (rc < 0)
            return unreachable(std::string("poll: ") + std::strerror(errno));
        if (rc == 0)
            return false;
        char chunk[65536];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR)
            return false;
        if (n <= 0)
            return unreachable("ruprobesd at " + peer_ + " closed the connection");
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

call_result<json> rpc_client::call(const std::string& method, const json& params) {
    int64_t id = next_id_++;
    json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null())
        request["params"] = params;
    if (auto sent = send_line(request.dump()); !sent)
        return tl::unexpected(sent.error());
    auto deadline = clock::now() + timeout_;
    for (;;) {
        json m;
        auto got = read_message(deadline, m);
        if (!got)
            return tl::unexpected(got.error());
        if (!*got) {
            if (clock::now() >= deadline)
                return unreachable("ruprobesd at " + peer_ + " did not answer " + method +
                                   " within " + std::to_string(timeout_.count() / 1000) + " s");
            continue; // a signal: the call still needs its answer
        }
        if (!m.is_object())
            return unreachable("ruprobesd sent a message that is not an object");
        if (!m.contains("id")) {
            notifications_.push_back(std::move(m));
            continue;
        }
        if (m["id"] != id)
            continue; // an answer to a call given up on earlier
        if (m.contains("error"))
            return tl::unexpected(
                call_error{call_errc::error_answer, error_object(m["error"]), {}});
        return m.contains("result") ? m["result"] : json();
    }
}

call_result<std::optional<json>> rpc_client::next_notification(std::chrono::milliseconds timeout) {
    if (!notifications_.empty()) {
        json m = std::move(notifications_.front());
        notifications_.pop_front();
        return m;
    }
    auto deadline = clock::now() + timeout;
    json m;
    for (;;) {
        auto got = read_message(deadline, m);
        if (!got)
            return tl::unexpected(got.error());
        if (!*got)
            return std::nullopt;
        if (m.is_object() && !m.contains("id"))
            return m;
    }
}

std::string describe(const jsonrpc::rpc_error& e) {
    std::string out = e.message + " (code " + std::to_string(e.code) + ")";
    if (e.data.is_object()) {
        if (e.data.contains("reason") && e.data["reason"].is_string())
            out += ": " + e.data["reason"].get<std::string>();
        out += "\n  data: " + e.data.dump();
    } else if (!e.data.is_null()) {
        out += "\n  data: " + e.data.dump();
    }
    return out;
}

std::string describe(const call_error& e) {
    return e.errc == call_errc::error_answer ? "error from ruprobesd: " + describe(e.answer)
                                             : e.message;
}

int exit_code_of(const call_error& e) {
    return e.errc == call_errc::error_answer ? exit_failed : exit_unreachable;
}

} // namespace ruprobes::cli

// Line counting over epoll for the fan-out benchmark.
#include "fanout_reader.hpp"

#include <nlohmann/json.hpp>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ruprobes::bench {

namespace {

constexpr std::size_t read_bytes = 256 * 1024;
// How the daemon starts every notification; the method name follows. A line that starts
// otherwise is searched whole.
constexpr std::string_view notification_start = R"({"jsonrpc":"2.0","method":")";

bool is_method(std::string_view line, std::string_view method) {
    if (line.starts_with(notification_start)) {
        std::string_view rest = line.substr(notification_start.size());
        return rest.size() > method.size() && rest.starts_with(method) &&
               rest[method.size()] == '"';
    }
    std::string quoted = "\"method\":\"" + std::string(method) + "\"";
    return line.find(quoted) != std::string_view::npos;
}

void count_line(stream_count& s, std::string_view line, clock_type::time_point now) {
    if (is_method(line, "probe.hit")) {
        if (s.hits++ == 0)
            s.first = now;
        s.last = now;
        return;
    }
    if (is_method(line, "events.lost")) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && j["params"].is_object()) {
            uint64_t count = j["params"].value("count", uint64_t{0});
            if (j["params"].value("reason", std::string()) == "kernel_ring_full")
                s.kernel_lost += count;
            else
                s.lost += count;
            return;
        }
    }
    s.other++;
}

} // namespace

void consume(stream_count& s, std::string_view data, clock_type::time_point now) {
    s.bytes += data.size();
    if (!s.partial.empty()) {
        std::size_t nl = data.find('\n');
        if (nl == std::string_view::npos) {
            s.partial.append(data);
            return;
        }
        s.partial.append(data.substr(0, nl));
        count_line(s, s.partial, now);
        s.partial.clear();
        data.remove_prefix(nl + 1);
    }
    const char* p = data.data();
    const char* end = p + data.size();
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (!nl) {
            s.partial.assign(p, end);
            return;
        }
        count_line(s, std::string_view(p, nl - p), now);
        p = nl + 1;
    }
}

double hit_rate(const stream_count& s) {
    double secs = std::chrono::duration<double>(s.last - s.first).count();
    return s.hits > 1 && secs > 0 ? static_cast<double>(s.hits) / secs : 0;
}

fanout_reader::fanout_reader(std::vector<stream_count>& streams)
    : streams_(streams), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), buffer_(read_bytes) {
    if (epoll_fd_ < 0) {
        std::perror("epoll_create1");
        std::exit(1);
    }
    for (std::size_t i = 0; i < streams_.size(); i++) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, streams_[i].fd, &ev) != 0) {
            std::perror("epoll_ctl");
            std::exit(1);
        }
    }
}

fanout_reader::~fanout_reader() {
    ::close(epoll_fd_);
}

bool fanout_reader::pump(std::chrono::milliseconds timeout) {
    epoll_event ready[256];
    int n = ::epoll_wait(epoll_fd_, ready, 256, static_cast<int>(timeout.count()));
    if (n <= 0)
        return false;
    auto now = clock_type::now();
    for (int i = 0; i < n; i++) {
        stream_count& s = streams_[ready[i].data.u64];
        ssize_t got = ::recv(s.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (got > 0) {
            consume(s, std::string_view(buffer_.data(), static_cast<std::size_t>(got)), now);
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr); // closed: stop watching
        }
    }
    return true;
}

} // namespace ruprobes::bench

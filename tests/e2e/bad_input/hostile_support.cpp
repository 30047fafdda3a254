#include "hostile_support.hpp"

#include "gdb_session.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace ruprobes::test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

raw_socket::raw_socket(uint16_t port, int receive_buffer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw std::runtime_error("socket failed");
    if (receive_buffer > 0)
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd_);
        throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
}

raw_socket::~raw_socket() {
    if (fd_ >= 0)
        ::close(fd_);
}

bool raw_socket::send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

std::string raw_socket::read_for(std::chrono::milliseconds timeout, const std::string& until) {
    std::string out;
    auto end = clock_type::now() + timeout;
    char buf[65536];
    while (clock_type::now() < end) {
        if (!until.empty() && out.find(until) != std::string::npos)
            break;
        pollfd p{fd_, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now());
        if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0)
            continue;
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

bool raw_socket::wait_closed(std::chrono::milliseconds timeout) {
    auto end = clock_type::now() + timeout;
    char buf[65536];
    while (clock_type::now() < end) {
        pollfd p{fd_, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now());
        if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0)
            continue;
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            return true;
    }
    return false;
}

long vm_hwm_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stol(line.substr(6));
    }
    return -1;
}

std::string rsp_packet(const std::string& payload) {
    unsigned sum = 0;
    for (unsigned char ch : payload)
        sum += ch;
    char cs[3];
    std::snprintf(cs, sizeof cs, "%02x", sum & 0xff);
    return "$" + payload + "#" + cs;
}

void expect_normal_sessions(const temp_dir& dir, rpc_daemon& d) {
    std::string out = run_gdb(dir, "gdb", "fib",
                              {"target extended-remote 127.0.0.1:" + std::to_string(d.rsp_port()),
                               "set remote exec-file /bin/fib", "break fib", "run 5", "bt",
                               "delete", "finish", "continue"});
    EXPECT_NE(out.find("Breakpoint 1, fib (n=n@entry=5)"), std::string::npos) << out;
    EXPECT_NE(out.find("#1  0x"), std::string::npos) << out; // bt reaches main
    EXPECT_NE(out.find("Value returned is $1 = 5"), std::string::npos) << out;
    EXPECT_NE(out.find("exited normally"), std::string::npos) << out;

    rpc_test_client c(d.rpc_port());
    c.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    json p = c.call("process.spawn", {{"argv", {"/bin/fib", "5"}}});
    ASSERT_TRUE(p.contains("result")) << p.dump();
    hit_count h = read_hits(c, probe["result"]["id"], p["result"]["pid"], 15, 30s);
    EXPECT_EQ(h.hits, 15); // calls of fib(5)
    EXPECT_EQ(h.unexplained, 0);
    c.call("probe.remove", {{"id", probe["result"]["id"]}});
    EXPECT_TRUE(d.process().running());
}

} // namespace ruprobes::test

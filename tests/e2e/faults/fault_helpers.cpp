#include "fault_helpers.hpp"

#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ruprobes::test {

using namespace std::chrono_literals;

rpc_daemon::rpc_daemon(const temp_dir& dir, const std::string& qemu_socket, const std::string& name,
                       std::vector<std::string> extra, std::vector<std::string> wrapper) {
    rpc_port_ = free_tcp_port();
    rsp_port_ = free_tcp_port();
    spawn_options d;
    d.argv = std::move(wrapper);
    d.argv.push_back(std::string(bin_dir) + "/ruprobesd");
    if (qemu_socket.empty()) {
        d.argv.insert(d.argv.end(),
                      {"--launch", kernel_elf, "--qemu-log", dir.file("console.log")});
    } else {
        d.argv.insert(d.argv.end(), {"--qemu-socket", qemu_socket});
    }
    d.argv.insert(d.argv.end(), {"--symbols", user_dir, "--rsp-listen",
                                 "127.0.0.1:" + std::to_string(rsp_port_), "--rpc-listen",
                                 "127.0.0.1:" + std::to_string(rpc_port_), "--log-level", "debug"});
    d.argv.insert(d.argv.end(), extra.begin(), extra.end());
    d.output_file = dir.file(name + ".log");
    process_ = std::make_unique<child_process>(d);
    if (!process_->wait_for_output("JSON-RPC server listening", 20s))
        throw std::runtime_error("ruprobesd did not start:\n" + process_->output());
}

rpc_daemon::~rpc_daemon() {
    process_->stop();
}

std::string wait_target_connected(rpc_test_client& c) {
    for (auto end = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(200ms)) {
        json s = c.call("target.status");
        if (s.contains("result") && s["result"]["connected"] == true)
            return s["result"]["boot_id"].get<std::string>();
    }
    return {};
}

std::optional<json> next_notification(rpc_test_client& c, std::chrono::milliseconds timeout) {
    if (!c.notifications.empty()) {
        json n = c.notifications.front();
        c.notifications.erase(c.notifications.begin());
        return n;
    }
    return c.receive(timeout);
}

hit_count read_hits(rpc_test_client& c, uint64_t probe, int64_t pid, int wanted,
                    std::chrono::milliseconds timeout) {
    hit_count r;
    std::optional<uint64_t> last_seq;
    bool lost_since_last = false;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (r.hits < wanted) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left <= 0ms)
            break;
        auto msg = next_notification(c, left);
        if (!msg)
            break;
        const json& p = (*msg)["params"];
        if ((*msg)["method"] == "events.lost") {
            r.lost += p["count"].get<uint64_t>();
            lost_since_last = true;
        }
        if ((*msg)["method"] != "probe.hit")
            continue;
        uint64_t seq = p["seq"].get<uint64_t>();
        if (last_seq && seq != *last_seq + 1 && !lost_since_last)
            r.unexplained++;
        last_seq = seq;
        lost_since_last = false;
        if (p["probe"] == probe && (pid < 0 || p["pid"] == pid))
            r.hits++;
    }
    return r;
}

long vm_rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    }
    return -1;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace ruprobes::test

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ruprobes::test {

std::string tcp_exchange(uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds linger) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
    std::string got;
    char buf[4096];
    auto drain = [&](int wait_ms) {
        pollfd p{fd, POLLIN, 0};
        while (::poll(&p, 1, wait_ms) > 0) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                return false;
            got.append(buf, static_cast<size_t>(n));
            wait_ms = 0;
        }
        return true;
    };
    size_t off = 0;
    bool open = true;
    while (open && off < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += static_cast<size_t>(n);
        open = drain(0); // keep the peer's answers flowing while sending
    }
    auto end = std::chrono::steady_clock::now() + linger;
    while (open && std::chrono::steady_clock::now() < end)
        open = drain(20);
    ::close(fd);
    return got;
}

} // namespace ruprobes::test

#include <sys/un.h>

namespace ruprobes::test {

void unix_send(const std::string& path, const std::string& bytes, size_t chunk) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (fd < 0 || path.size() >= sizeof a.sun_path)
        throw std::runtime_error("unix socket: bad path " + path);
    path.copy(a.sun_path, path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to " + path + " failed");
    }
    char buf[4096];
    for (size_t off = 0; off < bytes.size();) {
        ssize_t n =
            ::send(fd, bytes.data() + off, std::min(chunk, bytes.size() - off), MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += static_cast<size_t>(n);
        pollfd p{fd, POLLIN, 0};
        while (::poll(&p, 1, 1) > 0 && ::recv(fd, buf, sizeof buf, 0) > 0) {
        }
    }
    ::close(fd);
}

} // namespace ruprobes::test

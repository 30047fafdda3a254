// What the hostile-client tests share: raw sockets that misbehave on purpose, the daemon's memory
// (VmHWM, the peak, and VmRSS from /proc/PID/status), and the check that a normal gdb session and a
// normal subscription still work against the same daemon afterwards.
#pragma once

#include "fault_helpers.hpp"

#include <chrono>
#include <string>

namespace ruprobes::test {

// The bound every hostile case must keep the daemon's resident memory under.
inline constexpr long rss_limit_kib = 64 * 1024;

// A raw TCP connection to 127.0.0.1:port, closed when the object goes away.
class raw_socket {
public:
    explicit raw_socket(uint16_t port, int receive_buffer = 0);
    ~raw_socket();
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    // Sends all of `bytes` unless the peer closed; false then.
    bool send(const std::string& bytes);
    // Reads what arrives until `timeout` passes or `until` is found in what was read.
    std::string read_for(std::chrono::milliseconds timeout, const std::string& until = "");
    // True when the peer closed the connection (EOF or reset) before the deadline; what arrives
    // meanwhile is read and dropped.
    bool wait_closed(std::chrono::milliseconds timeout);
    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

// VmHWM (the peak resident set) of a process in KiB, or -1.
long vm_hwm_kib(pid_t pid);

// "$payload#cs" with a correct checksum.
std::string rsp_packet(const std::string& payload);

// A gdb session (break, run, bt, finish, continue) and a JSON-RPC subscription with a probe and a
// spawn, both against `d`; gtest expectations on what they printed and received.
void expect_normal_sessions(const temp_dir& dir, rpc_daemon& d);

} // namespace ruprobes::test

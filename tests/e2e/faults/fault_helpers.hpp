// Helpers of the fault and bad-input suites: ruprobesd with both servers on free ports (launching
// QEMU itself or attached to a test-owned QEMU's agent socket), JSON-RPC waits with deadlines, the
// daemon's resident memory. Every process is killed by pid when its object goes away.
#pragma once

#include "rpc_test_client.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ruprobes::test {

// ruprobesd with RSP and JSON-RPC on free ports and host copies of the user programs.
class rpc_daemon {
public:
    // `qemu_socket` non-empty: --qemu-socket to it; empty: --launch kernel.elf (console in
    // dir/console.log). `name` names the log file. Waits until the JSON-RPC server listens.
    // `wrapper`: a command the daemon runs under (e.g. {"prlimit", "--nofile=48", "--"}), which
    // must exec it (the process keeps its pid).
    rpc_daemon(const temp_dir& dir, const std::string& qemu_socket, const std::string& name,
               std::vector<std::string> extra = {}, std::vector<std::string> wrapper = {});
    ~rpc_daemon();

    uint16_t rpc_port() const { return rpc_port_; }
    uint16_t rsp_port() const { return rsp_port_; }
    child_process& process() { return *process_; }

private:
    uint16_t rpc_port_ = 0;
    uint16_t rsp_port_ = 0;
    std::unique_ptr<child_process> process_;
};

// Polls target.status until the kernel is connected (60 s at most); its boot_id, or "" on timeout.
std::string wait_target_connected(rpc_test_client& c);

// The next notification: the kept ones first (in arrival order), then the socket.
std::optional<json> next_notification(rpc_test_client& c, std::chrono::milliseconds timeout);

// Hit accounting of one probe while a test reads a stream.
struct hit_count {
    int hits = 0;        // probe.hit of the probe (and pid, when given)
    uint64_t lost = 0;   // sum of events.lost counts
    int unexplained = 0; // seq gaps between consecutive hits with no events.lost between them
};

// Reads notifications until `wanted` hits of `probe` (of `pid` when >= 0) arrived or `timeout`
// passed. Any hit's seq must follow the previous hit's (all hits of the target are subscribed)
// unless an events.lost notice came between them.
hit_count read_hits(rpc_test_client& c, uint64_t probe, int64_t pid, int wanted,
                    std::chrono::milliseconds timeout);

// VmRSS of a process in KiB (from /proc/PID/status), or -1.
long vm_rss_kib(pid_t pid);

// Reads a whole file (the kernel console, a log); empty when missing.
std::string read_text(const std::string& path);

} // namespace ruprobes::test

namespace ruprobes::test {

// Connects to 127.0.0.1:port, sends `bytes` (stops early if the peer closes), then reads what
// comes back for `linger` at most (until the peer closes); closes and returns what was read.
// Throws std::runtime_error when the connection cannot be made.
std::string tcp_exchange(uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds linger = std::chrono::milliseconds(200));

} // namespace ruprobes::test

namespace ruprobes::test {

// Connects to the unix socket at `path` (e.g. QEMU's agent channel), sends `bytes` in chunks of
// at most `chunk` bytes, reads and discards whatever comes back, and closes. Throws
// std::runtime_error when the connection cannot be made.
void unix_send(const std::string& path, const std::string& bytes, size_t chunk = 4096);

} // namespace ruprobes::test

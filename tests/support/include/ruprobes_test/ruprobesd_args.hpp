// The command line of a test's build/bin/ruprobesd, so that every test starts the daemon the
// same way: its target, the host copies of the guest programs as symbols, the RSP server on a
// free port and JSON-RPC on 127.0.0.1:rpc_port; and the line of its log that gives the RSP port.
#pragma once

#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

namespace ruprobes::test {

// The daemon boots the reference kernel itself on `harts` harts; QEMU's console goes to
// DIR/console.log.
inline std::vector<std::string> launch_target(const temp_dir& dir, unsigned harts = 1) {
    return {"--launch", kernel_elf,           "--qemu-log", dir.file("console.log"),
            "--harts",  std::to_string(harts)};
}

// The daemon connects to the agent socket of a QEMU the test started.
inline std::vector<std::string> qemu_socket_target(const std::string& agent_socket) {
    return {"--qemu-socket", agent_socket};
}

// ruprobesd with `target` (one of the above), symbols from build/guest/user, RSP on a free
// port, JSON-RPC on 127.0.0.1:rpc_port.
inline std::vector<std::string> ruprobesd_argv(std::vector<std::string> target, uint16_t rpc_port) {
    std::vector<std::string> argv{std::string(bin_dir) + "/ruprobesd"};
    argv.insert(argv.end(), target.begin(), target.end());
    argv.insert(argv.end(), {"--symbols", user_dir, "--rsp-listen",
                             "127.0.0.1:" + std::to_string(free_tcp_port()), "--rpc-listen",
                             "127.0.0.1:" + std::to_string(rpc_port)});
    return argv;
}

// The line a daemon's log says its RSP port in (group 1), whole: the port read with first_match()
// or child_process::wait_for_match() is never cut short.
inline const std::regex rsp_listening_line("RSP server listening on 127\\.0\\.0\\.1:(\\d+)\\s");

} // namespace ruprobes::test

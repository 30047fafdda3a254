// The reference kernel booted in QEMU for an end-to-end test: console captured to a file in the
// test's temp dir, killed by pid when the object goes away.
#pragma once

#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <memory>

namespace ruprobes::test {

struct guest_options {
    std::string append;             // kernel command line; empty: the kernel's default
    bool agent_channel = false;     // expose the agent's virtio-console as a unix socket
    std::string gdb_listen;         // e.g. "tcp:127.0.0.1:PORT": QEMU's own gdbstub
    bool gdb_wait = false;          // -S
    unsigned harts = 1;             // -smp
    std::vector<std::string> extra; // more QEMU arguments
};

class qemu_guest {
public:
    // Boots build/guest/kernel.elf; files go into `dir` (console.log, agent.sock).
    qemu_guest(const temp_dir& dir, guest_options options = {});

    child_process& process() { return *process_; }
    std::string console() const { return process_->output(); }
    bool wait_for_console(std::string_view needle, std::chrono::milliseconds timeout) const {
        return process_->wait_for_output(needle, timeout);
    }
    // The first group of `pattern` once the console matches it (child_process::wait_for_match).
    std::optional<std::string> wait_for_console_match(const std::regex& pattern,
                                                      std::chrono::milliseconds timeout) const {
        return process_->wait_for_match(pattern, timeout);
    }
    // QEMU's exit code (the kernel's shutdown status), or nothing on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        return process_->wait_exit(timeout);
    }
    const std::string& agent_socket() const { return agent_socket_; }
    const std::vector<std::string>& argv() const { return argv_; }

private:
    std::string agent_socket_;
    std::vector<std::string> argv_;
    std::unique_ptr<child_process> process_;
};

} // namespace ruprobes::test

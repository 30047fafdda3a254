// End-to-end helpers: ruprobesd launching the reference kernel in QEMU (--launch), and the real
// gdb-multiarch run against it in batch mode. Every process is killed by pid when the test ends.
#pragma once

#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace ruprobes::test {

class daemon_with_guest {
public:
    // Starts ruprobesd --launch kernel.elf with `append` as the kernel command line and `extra`
    // daemon flags; waits until the RSP port is known and the channel is up.
    daemon_with_guest(const temp_dir& dir, const std::string& append,
                      std::vector<std::string> extra = {}) {
        spawn_options o;
        o.argv = {std::string(bin_dir) + "/ruprobesd",
                  "--launch",
                  kernel_elf,
                  "--append",
                  append,
                  "--qemu-log",
                  dir.file("console.log"),
                  "--rsp-listen",
                  "127.0.0.1:0",
                  "--no-rpc",
                  "--log-level",
                  "debug"};
        o.argv.insert(o.argv.end(), extra.begin(), extra.end());
        o.output_file = dir.file("daemon.log");
        console_file_ = dir.file("console.log");
        process_ = std::make_unique<child_process>(o);
        if (!process_->wait_for_output("channel: connected", std::chrono::seconds(30)))
            throw std::runtime_error("daemon did not connect to the kernel:\n" +
                                     process_->output());
        auto port = first_match(process_->output(), rsp_listening_line);
        if (!port)
            throw std::runtime_error("no RSP port in the daemon's log");
        port_ = *port;
    }
    ~daemon_with_guest() { process_->stop(); }

    const std::string& port() const { return port_; }
    child_process& process() { return *process_; }
    // The kernel's console so far.
    std::string console() const;
    // Waits until the console contains `needle`.
    bool wait_for_console(const std::string& needle, std::chrono::milliseconds timeout) const;
    // The first group of `pattern` once the console matches it; give the pattern text after the
    // group, as a line may arrive in pieces (child_process::wait_for_match).
    std::optional<std::string> wait_for_console_match(const std::regex& pattern,
                                                      std::chrono::milliseconds timeout) const;

private:
    std::unique_ptr<child_process> process_;
    std::string port_;
    std::string console_file_;
};

// gdb-multiarch -batch with the program's host ELF and `commands` (-ex each).
std::vector<std::string> gdb_batch_argv(const std::string& program,
                                        const std::vector<std::string>& commands);

// Runs gdb to completion (60 s at most) and returns what it printed.
std::string run_gdb(const temp_dir& dir, const std::string& name, const std::string& program,
                    const std::vector<std::string>& commands);

// Whether gdb's output `out` contains `needle`.
inline bool has(const std::string& out, const std::string& needle) {
    return out.find(needle) != std::string::npos;
}

// How many times `needle` occurs in `out` (without overlaps).
inline size_t count(const std::string& out, const std::string& needle) {
    size_t n = 0;
    for (size_t at = 0; (at = out.find(needle, at)) != std::string::npos; at += needle.size())
        n++;
    return n;
}

} // namespace ruprobes::test

// The simulated kernel (build/bin/ruprobes-simkernel) listening on an agent socket in the test's
// temp dir, and the real ruprobesd connected to it with --kernel-socket (--qemu-socket's other
// name): the same daemon as for QEMU, another kernel behind the socket. Both are killed by pid when
// the object goes.
#pragma once

#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ruprobes::test {

class simkernel_target {
public:
    // Starts the simulated kernel with `run` as its boot processes (--run each) and the daemon
    // with `daemon_extra` flags; returns once the daemon's channel to the kernel is up.
    simkernel_target(const temp_dir& dir, const std::vector<std::string>& run,
                     const std::vector<std::string>& daemon_extra = {},
                     const std::vector<std::string>& kernel_extra = {}) {
        const std::string socket = dir.file("agent.sock");
        spawn_options k;
        k.argv = {std::string(bin_dir) + "/ruprobes-simkernel", "--programs", user_dir,
                  "--agent-socket", socket};
        k.argv.insert(k.argv.end(), kernel_extra.begin(), kernel_extra.end());
        for (const std::string& command : run) {
            k.argv.insert(k.argv.end(), {"--run", command});
        }
        k.output_file = dir.file("simkernel.log");
        kernel_ = std::make_unique<child_process>(k);
        if (!kernel_->wait_for_output("agent listening on", std::chrono::seconds(20))) {
            throw std::runtime_error("the simulated kernel did not start:\n" + kernel_->output());
        }
        socket_ = socket;
        log_dir_ = &dir;
        daemon_extra_ = daemon_extra;
        start_daemon();
    }
    ~simkernel_target() {
        daemon_->stop();
        kernel_->stop();
    }

    // (Re)starts ruprobesd on the kernel's socket with new ports; returns once it is connected.
    void start_daemon() {
        rpc_port_ = free_tcp_port();
        spawn_options d;
        d.argv = {std::string(bin_dir) + "/ruprobesd",
                  "--kernel-socket",
                  socket_,
                  "--symbols",
                  user_dir,
                  "--rsp-listen",
                  "127.0.0.1:0",
                  "--rpc-listen",
                  "127.0.0.1:" + std::to_string(rpc_port_),
                  "--log-level",
                  "debug"};
        d.argv.insert(d.argv.end(), daemon_extra_.begin(), daemon_extra_.end());
        d.output_file = log_dir_->file("ruprobesd-" + std::to_string(daemon_runs_++) + ".log");
        daemon_ = std::make_unique<child_process>(d);
        if (!daemon_->wait_for_output("channel: connected", std::chrono::seconds(30))) {
            throw std::runtime_error("ruprobesd did not connect to the simulated kernel:\n" +
                                     daemon_->output() + "\n--- kernel:\n" + kernel_->output());
        }
        auto port = first_match(daemon_->output(), rsp_listening_line);
        if (!port) {
            throw std::runtime_error("no RSP port in the daemon's log");
        }
        rsp_port_ = *port;
    }

    std::string rsp_address() const { return "127.0.0.1:" + rsp_port_; }
    uint16_t rpc_port() const { return rpc_port_; }
    child_process& kernel() { return *kernel_; }
    child_process& daemon() { return *daemon_; }

private:
    std::unique_ptr<child_process> kernel_;
    std::unique_ptr<child_process> daemon_;
    std::string socket_;
    const temp_dir* log_dir_ = nullptr;
    std::vector<std::string> daemon_extra_;
    int daemon_runs_ = 0;
    std::string rsp_port_;
    uint16_t rpc_port_ = 0;
};

} // namespace ruprobes::test

// What the JSON-RPC end-to-end tests share: a fixture that runs `ruprobesd --launch` (QEMU with
// the reference kernel) on a free port in a temp dir and stops it by pid, and the client-side
// waits every test uses.
#pragma once

#include "rpc_test_client.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/qemu_guest.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace ruprobes::test {

class rpc_daemon_fixture : public ::testing::Test {
protected:
    void SetUp() override {
        using namespace std::chrono_literals;
        port = free_tcp_port();
        spawn_options d;
        d.argv = ruprobesd_argv(launch_target(dir), port);
        d.output_file = dir.file("ruprobesd.log");
        daemon = std::make_unique<child_process>(d);
        ASSERT_TRUE(daemon->wait_for_output("JSON-RPC server listening", 20s)) << daemon->output();
    }
    void TearDown() override {
        if (daemon) {
            EXPECT_TRUE(daemon->running()) << "ruprobesd died:\n" << daemon->output();
            daemon->stop();
        }
    }

    temp_dir dir;
    uint16_t port = 0;
    std::unique_ptr<child_process> daemon;
};

// Polls target.status until the kernel is connected; its boot id (empty on timeout).
inline std::string wait_connected(rpc_test_client& c) {
    using namespace std::chrono_literals;
    for (auto end = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(200ms)) {
        json s = c.call("target.status");
        if (s["result"]["connected"] == true)
            return s["result"]["boot_id"].get<std::string>();
    }
    return std::string();
}

// The next message: kept notifications first, then the socket.
inline std::optional<json> next_message(rpc_test_client& c, std::chrono::milliseconds timeout) {
    if (!c.notifications.empty()) {
        json out = std::move(c.notifications.front());
        c.notifications.erase(c.notifications.begin());
        return out;
    }
    return c.receive(timeout);
}

} // namespace ruprobes::test

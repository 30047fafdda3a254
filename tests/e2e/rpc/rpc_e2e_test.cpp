// ruprobesd with the reference kernel in QEMU, driven over JSON-RPC by real clients: the fib
// scenario of issue 7 (entry + return probe on fib, `/bin/fib 15`: exactly 1973 + 1973 hits,
// every sequence number, no events.lost, return values = fib(n)) with the Python stdlib client
// in both framings and with VS Code's vscode-jsonrpc; then bad input against the real engine.
#include "rpc_test_client.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/qemu_guest.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

const std::string e2e_dir = RUPROBES_RPC_E2E_DIR;

class rpc_e2e : public ::testing::Test {
protected:
    void SetUp() override {
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

    // Runs a client to completion; its output.
    std::string run_client(std::vector<std::string> argv, const std::string& log, int& status) {
        spawn_options c;
        c.argv = std::move(argv);
        c.output_file = dir.file(log);
        child_process client(c);
        auto code = client.wait_exit(150s);
        status = code ? *code : -1;
        return client.output();
    }

    temp_dir dir;
    uint16_t port = 0;
    std::unique_ptr<child_process> daemon;
};

TEST_F(rpc_e2e, python_client_fib_15_line_framing_then_lsp_framing) {
    for (const char* framing : {"", "--lsp"}) {
        std::vector<std::string> argv = {"python3", e2e_dir + "/fib_trace.py", "--port",
                                         std::to_string(port)};
        if (*framing)
            argv.push_back(framing);
        int status = 0;
        std::string out = run_client(argv, std::string("python") + framing + ".log", status);
        EXPECT_EQ(status, 0) << out << "\n--- ruprobesd:\n" << daemon->output();
        EXPECT_NE(out.find("fib_trace: ok: 1973 entry + 1973 return hits"), std::string::npos)
            << out;
    }
}

TEST_F(rpc_e2e, node_vscode_jsonrpc_client_fib_15) {
    ASSERT_TRUE(std::filesystem::exists(e2e_dir + "/node/node_modules/vscode-jsonrpc"))
        << "npm package missing: run scripts/setup (npm ci in tests/e2e/rpc/node)";
    int status = 0;
    std::string out =
        run_client({"node", e2e_dir + "/node/fib_trace.js", "--port", std::to_string(port)},
                   "node.log", status);
    EXPECT_EQ(status, 0) << out << "\n--- ruprobesd:\n" << daemon->output();
    EXPECT_NE(out.find("fib_trace.js: ok: 1973 entry + 1973 return hits"), std::string::npos)
        << out;
}

TEST_F(rpc_e2e, bad_input_gets_clear_errors_and_the_daemon_keeps_serving) {
    int status = 0;
    std::string out = run_client(
        {"python3", e2e_dir + "/bad_input.py", "--port", std::to_string(port)}, "bad.log", status);
    EXPECT_EQ(status, 0) << out << "\n--- ruprobesd:\n" << daemon->output();
    EXPECT_NE(out.find("bad_input: ok"), std::string::npos) << out;
}

// Hits of `probe` in process `pid`: until it exited and then nothing came for a second (hits
// travel in batches and may arrive after the process.exit notice).
int count_hits(rpc_test_client& c, uint64_t probe, int64_t pid) {
    int hits = 0;
    bool exited = false;
    for (;;) {
        auto msg = c.receive(exited ? 1s : 30s);
        if (!msg)
            return exited ? hits : -1;
        const json& p = (*msg)["params"];
        if ((*msg)["method"] == "probe.hit" && p["probe"] == probe && p["pid"] == pid)
            hits++;
        if ((*msg)["method"] == "process.exit" && p["pid"] == pid)
            exited = true;
    }
}

// QEMU killed and started again under the daemon (--qemu-socket): subscribers hear of it and the
// JSON-RPC trace probe is armed again in the new kernel with the same id.
TEST(rpc_e2e_restart, trace_probe_survives_a_qemu_restart) {
    temp_dir dir;
    guest_options opts;
    opts.append = "ruprobes.stay";
    opts.agent_channel = true;
    auto guest = std::make_unique<qemu_guest>(dir, opts);
    uint16_t port = free_tcp_port();
    spawn_options d;
    d.argv = ruprobesd_argv(qemu_socket_target(guest->agent_socket()), port);
    d.output_file = dir.file("ruprobesd.log");
    child_process daemon(d);
    ASSERT_TRUE(daemon.wait_for_output("JSON-RPC server listening", 20s)) << daemon.output();

    rpc_test_client c(port);
    auto wait_connected = [&] {
        for (auto end = std::chrono::steady_clock::now() + 60s;
             std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(200ms)) {
            json s = c.call("target.status");
            if (s["result"]["connected"] == true)
                return s["result"]["boot_id"].get<std::string>();
        }
        return std::string();
    };
    std::string boot1 = wait_connected();
    ASSERT_FALSE(boot1.empty()) << daemon.output();
    c.call("events.subscribe",
           {{"kinds", {"probe.hit", "process.exit", "target.connected", "target.disconnected"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];
    json p1 = c.call("process.spawn", {{"argv", {"/bin/fib", "10"}}});
    ASSERT_TRUE(p1.contains("result")) << p1.dump();
    EXPECT_EQ(count_hits(c, id, p1["result"]["pid"]), 177); // calls of fib(10)

    guest->process().stop(); // QEMU goes away
    ASSERT_TRUE(c.wait_notification("target.disconnected", 30s)) << daemon.output();
    guest = std::make_unique<qemu_guest>(dir, opts); // same socket path
    auto up = c.wait_notification("target.connected", 60s);
    ASSERT_TRUE(up) << daemon.output();
    EXPECT_NE((*up)["params"]["boot_id"], boot1);

    json list = c.call("probe.list");
    ASSERT_EQ(list["result"]["probes"].size(), 1u) << list.dump();
    EXPECT_EQ(list["result"]["probes"][0]["id"], id);
    json p2 = c.call("process.spawn", {{"argv", {"/bin/fib", "10"}}});
    ASSERT_TRUE(p2.contains("result")) << p2.dump();
    EXPECT_EQ(count_hits(c, id, p2["result"]["pid"]), 177) << daemon.output();
    EXPECT_TRUE(daemon.running());
    daemon.stop();
}

} // namespace
} // namespace ruprobes::test

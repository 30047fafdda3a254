// ruprobesd with the reference kernel in QEMU, driven over JSON-RPC by real clients: the fib
// scenario of issue 7 (entry + return probe on fib, `/bin/fib 15`: exactly 1973 + 1973 hits,
// every sequence number, no events.lost, return values = fib(n)) with the Python stdlib client
// in both framings and with VS Code's vscode-jsonrpc; then bad input against the real engine.
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

const std::string e2e_dir = RUPROBES_RPC_E2E_DIR;

class rpc_e2e : public ::testing::Test {
protected:
    void SetUp() override {
        port = free_tcp_port();
        spawn_options d;
        d.argv = {std::string(bin_dir) + "/ruprobesd",
                  "--launch",
                  kernel_elf,
                  "--qemu-log",
                  dir.file("console.log"),
                  "--symbols",
                  user_dir,
                  "--rsp-listen",
                  "127.0.0.1:" + std::to_string(free_tcp_port()),
                  "--rpc-listen",
                  "127.0.0.1:" + std::to_string(port)};
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

} // namespace
} // namespace ruprobes::test

// scripts/demo end to end, as CI runs it (no terminal, stdin /dev/null), on this build
// directory (--no-build): it must exit 0 and show probe rows with non-zero counts, the
// histogram, gdb's backtrace and finish, and the one-liners to attach gdb, a JSON-RPC client and
// the CLI.
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& out, const std::string& needle) {
    return out.find(needle) != std::string::npos;
}

TEST(demo_e2e, demo_runs_without_a_terminal_and_shows_probes_gdb_and_one_liners) {
    temp_dir dir;
    spawn_options o;
    o.argv = {std::string(RUPROBES_SOURCE_DIR) + "/scripts/demo", "--no-build", "--duration", "3",
              "--free-ports"};
    o.env = {std::string("RUPROBES_BUILD_DIR=") + RUPROBES_BUILD_DIR, "TMPDIR=" + dir.path()};
    o.output_file = dir.file("demo.log");
    child_process demo(o);
    auto code = demo.wait_exit(100s);
    std::string out = demo.output();
    ASSERT_TRUE(code.has_value()) << "the demo did not finish\n" << out;
    EXPECT_EQ(*code, 0) << out;

    // Live view: rows of the three probes with non-zero counts, then the histogram.
    EXPECT_TRUE(has(out, "no terminal: ruprobes watch prints snapshots")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("entry\\s+ticker:fib\\s+[1-9]\\d*\\s+[0-9.]+")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("return\\s+ticker:fib\\s+[1-9]\\d*\\s+[0-9.]+")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("entry\\s+ticker:tick\\s+[1-9]\\d*\\s+[0-9.]+")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("ticker:fib: call durations .* [1-9]\\d* calls")))
        << out;
    EXPECT_TRUE(has(out, "events lost: 0")) << out;

    // The gdb session: stops in fib, the recursive backtrace down to main, finish's value.
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=12)")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#0  fib \\(n=n@entry=11\\)"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#1  0x[0-9a-f]+ in fib \\(n=n@entry=12\\)")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#2  0x[0-9a-f]+ in main"))) << out;
    EXPECT_TRUE(has(out, "Value returned is $1 = 89")) << out; // fib(11)
    EXPECT_TRUE(has(out, "detached]")) << out;

    // The one-liners, with the ports this run used.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("JSON-RPC:   127\\.0\\.0\\.1:(\\d+)"))) << out;
    std::string rpc_port = m[1];
    ASSERT_TRUE(std::regex_search(out, m, std::regex("gdb \\(RSP\\):  127\\.0\\.0\\.1:(\\d+)")))
        << out;
    std::string rsp_port = m[1];
    EXPECT_TRUE(has(out, "gdb-multiarch ")) << out;
    EXPECT_TRUE(has(out, "-ex 'target extended-remote :" + rsp_port + "'")) << out;
    EXPECT_TRUE(has(out, "| nc -q1 127.0.0.1 " + rpc_port)) << out;
    EXPECT_TRUE(has(out, "ruprobes --connect 127.0.0.1:" + rpc_port + " watch")) << out;

    // Cleaned up: its scratch directory (under TMPDIR) is gone.
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        EXPECT_EQ(e.path().filename().string().rfind("ruprobes-demo.", 0), std::string::npos)
            << e.path();
}

} // namespace
} // namespace ruprobes::test

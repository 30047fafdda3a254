// The real gdb-multiarch (batch mode) against ruprobesd-fake (ruprobesd serving the in-memory
// fake kernel): gdb's own connect sequence, registers, memory, breakpoints, stepping, exit,
// detach, extended-remote run/attach, and a gdb killed while its process is stopped.
// Assertions are on what gdb printed.
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <regex>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

struct daemon_fixture : ::testing::Test {
    temp_dir dir;
    std::unique_ptr<child_process> daemon;
    std::string port;

    void start_daemon(std::vector<std::string> extra = {}) {
        spawn_options o;
        o.argv = {std::string(bin_dir) + "/ruprobesd-fake",
                  "--rsp-listen",
                  "127.0.0.1:0",
                  "--no-rpc",
                  "--log-level",
                  "debug"};
        o.argv.insert(o.argv.end(), extra.begin(), extra.end());
        o.output_file = dir.file("daemon.log");
        daemon = std::make_unique<child_process>(o);
        auto listening = daemon->wait_for_match(rsp_listening_line, 10s);
        ASSERT_TRUE(listening) << daemon->output();
        port = *listening;
    }

    std::vector<std::string> gdb_argv(const std::vector<std::string>& commands) {
        std::vector<std::string> argv = {
            "gdb-multiarch",  "-nx", "-batch", "-ex", "set architecture riscv:rv64", "-ex",
            "set confirm off"};
        for (const auto& c : commands) {
            argv.push_back("-ex");
            argv.push_back(c);
        }
        return argv;
    }

    // Runs gdb with `commands` to completion; what it printed.
    std::string run_gdb(const std::vector<std::string>& commands, const std::string& name) {
        spawn_options o;
        o.argv = gdb_argv(commands);
        o.output_file = dir.file(name + ".log");
        child_process gdb(o);
        auto code = gdb.wait_exit(60s);
        EXPECT_TRUE(code.has_value()) << "gdb did not finish:\n" << gdb.output();
        return gdb.output();
    }

    std::string remote() { return "target remote 127.0.0.1:" + port; }
    std::string extended() { return "target extended-remote 127.0.0.1:" + port; }

    void TearDown() override {
        if (daemon) {
            daemon->stop();
            if (HasFailure())
                std::fprintf(stderr, "daemon log:\n%s\n", daemon->output().c_str());
        }
    }
};

TEST_F(daemon_fixture, connect_registers_memory_break_step_exit) {
    start_daemon({"--spawn", "/bin/count"});
    std::string out = run_gdb({remote(), "info registers pc", "p/x $sp", "x/4xw 0x10000",
                               "break *0x1000a", "continue", "p $a0", "stepi", "p/x $pc", "stepi",
                               "p/x $pc", "stepi", "p/x $pc", "x/2xw 0x1000", "delete", "continue"},
                              "gdb");
    EXPECT_NE(out.find("0x0000000000010000 in ?? ()"), std::string::npos) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("pc\\s+0x10000\\s"))) << out;
    EXPECT_NE(out.find("= 0x7ffffff0"), std::string::npos) << out;
    // The program's first instructions, little-endian words: li a0,0 ; li t0,3 ; c.nop+addi…
    EXPECT_NE(out.find("0x10000:\t0x00000513\t0x00300293\t0x05130001"), std::string::npos) << out;
    EXPECT_NE(out.find("Breakpoint 1, 0x000000000001000a in ?? ()"), std::string::npos) << out;
    EXPECT_NE(out.find("$2 = 0\n"), std::string::npos) << out;
    // stepi over the 32-bit addi (+4), the taken bne (back to 0x10008), the c.nop (+2)
    EXPECT_NE(out.find("$3 = 0x1000e"), std::string::npos) << out;
    EXPECT_NE(out.find("$4 = 0x10008"), std::string::npos) << out;
    EXPECT_NE(out.find("$5 = 0x1000a"), std::string::npos) << out;
    EXPECT_NE(out.find("Cannot access memory at address 0x1000"), std::string::npos) << out;
    EXPECT_NE(out.find("[Inferior 1 (process 100) exited with code 03]"), std::string::npos) << out;
}

TEST_F(daemon_fixture, detach_leaves_the_process_running_without_breakpoints) {
    start_daemon({"--spawn", "/bin/loop"});
    std::string out =
        run_gdb({remote(), "break *0x10006", "continue", "continue", "p $a0", "detach"}, "gdb1");
    EXPECT_NE(out.find("Breakpoint 1, 0x0000000000010006"), std::string::npos) << out;
    EXPECT_NE(out.find("$1 = 1"), std::string::npos) << out;
    EXPECT_NE(out.find("[Inferior 1 (process 100) detached]"), std::string::npos) << out;
    // Another client attaches: the process ran on (a0 counted far past 1), no breakpoint left.
    out = run_gdb(
        {extended(), "attach 100", "p $a0 > 1000", "p $pc >= 0x10004 && $pc <= 0x1000a", "kill"},
        "gdb2");
    EXPECT_NE(out.find("$1 = 1"), std::string::npos) << out;
    EXPECT_NE(out.find("$2 = 1"), std::string::npos) << out;
}

TEST_F(daemon_fixture, extended_remote_run_and_breakpoint) {
    start_daemon();
    std::string out = run_gdb({extended(), "set remote exec-file /bin/count", "break *0x10012",
                               "run", "p $a0", "continue"},
                              "gdb");
    EXPECT_NE(out.find("Breakpoint 1, 0x0000000000010012"), std::string::npos) << out;
    EXPECT_NE(out.find("$1 = 3"), std::string::npos) << out;
    EXPECT_NE(out.find("exited with code 03"), std::string::npos) << out;
}

TEST_F(daemon_fixture, gdb_killed_while_stopped_detaches_cleanly) {
    start_daemon({"--spawn", "/bin/loop"});
    spawn_options o;
    o.argv =
        gdb_argv({remote(), "break *0x10006", "continue", "echo STOPPED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb1.log");
    {
        child_process gdb(o);
        ASSERT_TRUE(gdb.wait_for_output("STOPPED", 30s)) << gdb.output();
        gdb.signal(SIGKILL);
        gdb.wait_exit(10s);
    }
    ASSERT_TRUE(daemon->wait_for_output("disconnected", 10s));
    std::string out = run_gdb({extended(), "attach 100", "p $a0 > 1000", "kill"}, "gdb2");
    EXPECT_NE(out.find("$1 = 1"), std::string::npos) << out;
}

TEST_F(daemon_fixture, second_client_cannot_take_a_debugged_process) {
    start_daemon({"--spawn", "/bin/loop"});
    spawn_options o;
    o.argv = gdb_argv({remote(), "echo CONNECTED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb1.log");
    child_process first(o);
    ASSERT_TRUE(first.wait_for_output("CONNECTED", 30s)) << first.output();
    std::string out = run_gdb({extended(), "attach 100"}, "gdb2");
    EXPECT_NE(out.find("Attaching to process 100 failed"), std::string::npos) << out;
}

} // namespace

// The second port end to end: the guest's real /bin/fib runs in the simulated kernel
// (kernel-port/sim), whose agent library talks to the real ruprobesd over a unix socket; the real
// gdb-multiarch breaks, unwinds and finishes in it, the real JSON-RPC client counts every probe
// hit of fib(15), and the ruprobes CLI's watch shows them. Each test has its own temp dir and
// free ports; every process is killed by pid.
#include "sim_target.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ruprobes::test;
using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) {
        n++;
    }
    return n;
}

// gdb-multiarch -batch on the host copy of /bin/`program` with `commands` (-ex each).
std::vector<std::string> gdb_argv(const std::vector<std::string>& commands,
                                  const std::string& program = "fib") {
    std::vector<std::string> argv = {
        "gdb-multiarch",      "-nx", "-batch",          "-ex",
        "set pagination off", "-ex", "set confirm off", std::string(user_dir) + "/" + program};
    for (const std::string& c : commands) {
        argv.insert(argv.end(), {"-ex", c});
    }
    return argv;
}

// Runs a program to its end (at most `timeout`) and returns what it printed.
std::string run_to_end(const temp_dir& dir, const std::string& name, std::vector<std::string> argv,
                       std::chrono::seconds timeout = 60s) {
    spawn_options o;
    o.argv = std::move(argv);
    o.output_file = dir.file(name + ".log");
    child_process p(o);
    const auto code = p.wait_exit(timeout);
    EXPECT_TRUE(code.has_value()) << name << " did not finish:\n" << p.output();
    return p.output();
}

class simkernel_e2e : public ::testing::Test {
protected:
    temp_dir dir;
};

TEST_F(simkernel_e2e, gdb_break_backtrace_finish_on_fib) {
    simkernel_target t(dir, {});
    const std::string out = run_to_end(
        dir, "gdb",
        gdb_argv({"target extended-remote " + t.rsp_address(), "set remote exec-file /bin/fib",
                  "break fib", "run 5", "continue", "bt", "info registers pc", "x/2i $pc", "delete",
                  "finish", "continue"}));
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=5)")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=4)")) << out;
    // bt: two fib frames (the argument of each) and main.
    EXPECT_TRUE(std::regex_search(out, std::regex("#0  fib \\(n=n@entry=4\\) at .*fib\\.c:7")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#1  0x[0-9a-f]+ in fib \\(n=n@entry=5\\)")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#2  0x[0-9a-f]+ in main \\(")) &&
                !has(out, "#3"))
        << out;
    // The text gdb reads is the program's, not the breakpoint.
    EXPECT_FALSE(has(out, "ebreak")) << out;
    // finish: fib(4) returns 3 into fib(5).
    EXPECT_TRUE(std::regex_search(
        out, std::regex("in fib \\(n=n@entry=5\\) at .*fib\\.c:10\n10\\s+return fib")))
        << out;
    EXPECT_TRUE(has(out, "Value returned is $1 = 3")) << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) exited normally\\]")))
        << out;
    EXPECT_TRUE(t.kernel().wait_for_output("fib(5) = 5", 10s)) << t.kernel().output();
}

TEST_F(simkernel_e2e, gdb_steps_and_sees_faults_as_signals) {
    simkernel_target t(dir, {});
    std::string out = run_to_end(
        dir, "gdb-steps",
        gdb_argv({"target extended-remote " + t.rsp_address(), "set remote exec-file /bin/fib",
                  "break main", "run 4", "next", "step", "stepi", "p $pc", "finish", "continue"}));
    EXPECT_TRUE(has(out, "Breakpoint 1, main (argc=2")) << out;
    EXPECT_TRUE(has(out, "15\t    unsigned long result = fib(n);")) << out; // next
    EXPECT_TRUE(has(out, "fib (n=n@entry=4) at ")) << out;                  // step into fib
    EXPECT_TRUE(has(out, "$1 = (void (*)()) 0x40000014 <fib+2>")) << out;   // one 2-byte stepi
    EXPECT_TRUE(has(out, "Value returned is $2 = 3")) << out;               // finish
    EXPECT_TRUE(has(out, "exited normally")) << out;

    // A null call: the fetch fault stops the traced process with SIGSEGV at pc 0.
    out = run_to_end(dir, "gdb-bad",
                     gdb_argv({"target extended-remote " + t.rsp_address(),
                               "set remote exec-file /bin/bad", "run null", "bt", "kill"},
                              "bad"));
    EXPECT_TRUE(has(out, "Program received signal SIGSEGV")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#1  0x[0-9a-f]+ in main \\("))) << out;
    EXPECT_TRUE(has(out, "killed]")) << out;

    // An FP store, beyond the simulated CPU: SIGILL at that instruction, then the end.
    out = run_to_end(dir, "gdb-fpu",
                     gdb_argv({"target extended-remote " + t.rsp_address(),
                               "set remote exec-file /bin/fpu", "run", "x/i $pc", "continue"},
                              "fpu"));
    EXPECT_TRUE(has(out, "Program received signal SIGILL")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("=> 0x[0-9a-f]+ <main\\+\\d+>:\\s+fsd"))) << out;
    EXPECT_TRUE(has(out, "Program terminated with signal SIGILL")) << out;
    EXPECT_TRUE(has(t.kernel().output(), "the simulated CPU cannot execute 'fsd"))
        << t.kernel().output();
}

TEST_F(simkernel_e2e, only_the_debugged_process_stops) {
    simkernel_target t(dir, {"/bin/ticker 20"}, {"--spawn", "/bin/fib 5"});
    ASSERT_TRUE(t.kernel().wait_for_output("ticker: tick 10,", 20s)) << t.kernel().output();
    spawn_options o;
    o.argv = gdb_argv({"target remote " + t.rsp_address(), "break fib", "continue",
                       "echo STOPPED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb.log");
    child_process gdb(o);
    ASSERT_TRUE(gdb.wait_for_output("STOPPED", 30s)) << gdb.output();
    EXPECT_TRUE(has(gdb.output(), "Breakpoint 1, fib (n=n@entry=5)")) << gdb.output();
    // While fib is held at its breakpoint, the ticker keeps ticking.
    const size_t ticks_before = count(t.kernel().output(), "ticker: tick ");
    ASSERT_TRUE(t.kernel().wait_for_output(
        "ticker: tick " + std::to_string((ticks_before + 2) * 10) + ",", 30s))
        << t.kernel().output();
    // fib's own line (the ticker prints "ticker: tick 70, fib(5) = 5" too).
    EXPECT_FALSE(has(t.kernel().output(), "\nfib(5) = 5\n")) << t.kernel().output();
    gdb.stop();
}

TEST_F(simkernel_e2e, json_rpc_counts_every_entry_and_return_of_fib_15) {
    simkernel_target t(dir, {});
    const std::string out =
        run_to_end(dir, "fib_trace",
                   {"python3", std::string(RUPROBES_RPC_E2E_DIR) + "/fib_trace.py", "--port",
                    std::to_string(t.rpc_port()), "--n", "15"});
    EXPECT_TRUE(has(out, "fib_trace: ok: 1973 entry + 1973 return hits")) << out;
    EXPECT_TRUE(t.kernel().wait_for_output("fib(15) = 610", 10s)) << t.kernel().output();
}

TEST_F(simkernel_e2e, no_hit_record_is_dropped_in_the_kernel_when_hits_outrun_the_agent) {
    simkernel_target t(dir, {});
    const std::string out =
        run_to_end(dir, "hit_backpressure",
                   {"python3", std::string(RUPROBES_SIM_E2E_DIR) + "/hit_backpressure.py", "--port",
                    std::to_string(t.rpc_port()), "--n", "22"});
    EXPECT_TRUE(has(out, "hit_backpressure: ok: 114626 records, none dropped in the kernel"))
        << out;
}

// Each trap on the next of 4 harts (--harts 4): consecutive records of one process lie in
// different rings of the agent, and reach the subscriber only through the merge by seq, in order
// and complete before the process's exit; with rings of a quarter of the records, backpressure
// still loses none.
TEST_F(simkernel_e2e, hits_spread_over_four_harts_rings_arrive_merged_in_seq_order) {
    simkernel_target t(dir, {}, {}, {"--harts", "4"});
    const std::string out =
        run_to_end(dir, "fib_trace",
                   {"python3", std::string(RUPROBES_RPC_E2E_DIR) + "/fib_trace.py", "--port",
                    std::to_string(t.rpc_port()), "--n", "15"});
    EXPECT_TRUE(has(out, "fib_trace: ok: 1973 entry + 1973 return hits")) << out;
    const std::string full =
        run_to_end(dir, "hit_backpressure",
                   {"python3", std::string(RUPROBES_SIM_E2E_DIR) + "/hit_backpressure.py", "--port",
                    std::to_string(t.rpc_port()), "--n", "22"});
    EXPECT_TRUE(has(full, "hit_backpressure: ok: 114626 records, none dropped in the kernel"))
        << full;
}

TEST_F(simkernel_e2e, ruprobes_watch_shows_the_hits) {
    simkernel_target t(dir, {});
    const std::string connect = "127.0.0.1:" + std::to_string(t.rpc_port());
    auto cli = [&](const std::string& name, std::vector<std::string> args) {
        std::vector<std::string> argv = {std::string(bin_dir) + "/ruprobes", "--connect", connect};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_to_end(dir, name, argv);
    };
    EXPECT_TRUE(std::regex_search(cli("add-entry", {"probes", "add", "fib:fib", "--entry"}),
                                  std::regex("probe \\d+: entry /bin/fib:fib at 0x")));
    EXPECT_TRUE(std::regex_search(cli("add-return", {"probes", "add", "fib:fib", "--return"}),
                                  std::regex("probe \\d+: return /bin/fib:fib at 0x")));
    spawn_options w;
    w.argv = {std::string(bin_dir) + "/ruprobes",
              "--connect",
              connect,
              "watch",
              "--duration",
              "4",
              "--interval",
              "0.25"};
    w.output_file = dir.file("watch.log");
    child_process watch(w);
    ASSERT_TRUE(watch.wait_for_output("ruprobes watch", 20s)) << watch.output();
    EXPECT_TRUE(has(cli("spawn", {"spawn", "/bin/fib 15"}), "spawned pid"));
    const auto code = watch.wait_exit(30s);
    ASSERT_TRUE(code.has_value()) << watch.output();
    EXPECT_EQ(*code, 0) << watch.output();
    const std::string out = watch.output();
    EXPECT_TRUE(std::regex_search(out, std::regex("entry\\s+fib:fib\\s+1973\\s"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("return\\s+fib:fib\\s+1973\\s"))) << out;
    EXPECT_TRUE(has(out, "(final)")) << out;
    EXPECT_TRUE(has(out, "events lost: 0")) << out;
    EXPECT_TRUE(has(out, "fib:fib: call durations (entry -> return, guest clock), 1973 calls"))
        << out;
    EXPECT_TRUE(t.kernel().wait_for_output("fib(15) = 610", 10s)) << t.kernel().output();
}

TEST_F(simkernel_e2e, a_probe_fires_in_a_forked_child_after_its_exec) {
    simkernel_target t(dir, {});
    const std::string connect = "127.0.0.1:" + std::to_string(t.rpc_port());
    auto cli = [&](const std::string& name, std::vector<std::string> args) {
        std::vector<std::string> argv = {std::string(bin_dir) + "/ruprobes", "--connect", connect};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_to_end(dir, name, argv);
    };
    // forker forks; the child execs /bin/hello, whose main carries the probe; the parent waits.
    EXPECT_TRUE(
        has(cli("add", {"probes", "add", "hello:main", "--entry"}), "entry /bin/hello:main"));
    EXPECT_TRUE(has(cli("spawn", {"spawn", "/bin/forker"}), "spawned pid"));
    auto parent = t.kernel().wait_for_match(
        std::regex("forker: parent pid \\d+, (sum \\d+, child \\d+ exited with status \\d+)\\s"),
        20s);
    ASSERT_TRUE(parent) << t.kernel().output();
    EXPECT_TRUE(std::regex_match(*parent, std::regex("sum 28, child \\d+ exited with status 0")))
        << t.kernel().output();
    EXPECT_TRUE(has(t.kernel().output(), "hello from user space")) << t.kernel().output();
    EXPECT_TRUE(
        std::regex_search(cli("list", {"probes", "list"}),
                          std::regex("entry\\s+/bin/hello:main\\s+0x[0-9a-f]+\\s+\\w+\\s+1\\n")));
}

TEST_F(simkernel_e2e, a_new_daemon_releases_a_process_the_killed_one_held_stopped) {
    simkernel_target t(dir, {});
    spawn_options o;
    o.argv = gdb_argv({"target extended-remote " + t.rsp_address(), "set remote exec-file /bin/fib",
                       "break fib", "run 6", "echo STOPPED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb.log");
    child_process gdb(o);
    ASSERT_TRUE(gdb.wait_for_output("STOPPED", 30s)) << gdb.output();
    ASSERT_TRUE(has(gdb.output(), "Breakpoint 1, fib (n=n@entry=6)")) << gdb.output();
    // The daemon dies without a word to the kernel: fib stays stopped on its breakpoint.
    t.daemon().signal(SIGKILL);
    ASSERT_TRUE(t.daemon().wait_exit(10s).has_value());
    gdb.stop();
    EXPECT_FALSE(has(t.kernel().output(), "fib(6) = 8"));
    // A new daemon's session (hello with reset) removes the breakpoint and resumes fib, which
    // then runs to its end with the right result; the kernel is still fully served.
    t.start_daemon();
    EXPECT_TRUE(t.kernel().wait_for_output("fib(6) = 8", 20s)) << t.kernel().output();
    EXPECT_TRUE(t.kernel().wait_for_output("(/bin/fib) exited with status 0", 10s))
        << t.kernel().output();
    const std::string out = run_to_end(
        dir, "gdb-again",
        gdb_argv({"target extended-remote " + t.rsp_address(), "set remote exec-file /bin/fib",
                  "break fib", "run 3", "bt", "delete", "continue"}));
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=3)")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
}

} // namespace

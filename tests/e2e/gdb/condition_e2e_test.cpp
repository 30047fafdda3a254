// Target-side breakpoint conditions with the real gdb-multiarch: gdb sends each condition as
// agent-expression bytecode in Z0 (`;X len,bytes`), the kernel evaluates it at every hit, and
// only the hits whose condition holds (or fails to evaluate) stop the program.
#include "gdb_session.hpp"

#include <fstream>
#include <regex>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";

struct gdb_condition_e2e : ::testing::Test {
    temp_dir dir;
    std::string remote(const daemon_with_guest& d) { return "target remote 127.0.0.1:" + d.port(); }
};

bool has(const std::string& out, const std::string& needle) {
    return out.find(needle) != std::string::npos;
}

// fib(20) calls fib(3) F(18) = 2584 times (of 21891 calls in all). Were the condition not
// evaluated in the kernel, gdb, which does not evaluate a target-evaluated condition again, would
// count every call; without ConditionalBreakpoints+ gdb would say "host evaluation".
TEST_F(gdb_condition_e2e, break_fib_if_n_is_3_stops_2584_times) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 20"});
    std::string script = dir.file("cond.gdb");
    std::ofstream(script) << remote(d) << "\n"
                          << "set breakpoint condition-evaluation target\n"
                          << "break fib if n==3\n"
                          << "commands\nsilent\ncontinue\nend\n"
                          << "continue\n"
                          << "info breakpoints\n";
    spawn_options o;
    o.argv = gdb_batch_argv("fib", {"source " + script});
    o.output_file = dir.file("gdb.log");
    child_process gdb(o);
    ASSERT_TRUE(gdb.wait_exit(170s).has_value()) << "gdb did not finish:\n" << gdb.output();
    std::string out = gdb.output();
    EXPECT_TRUE(has(out, "stop only if n==3 (target evaluation)")) << out;
    EXPECT_TRUE(has(out, "breakpoint already hit 2584 times")) << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) exited normally\\]")))
        << out;
    EXPECT_TRUE(d.wait_for_console("fib(20) = 6765", 10s)) << d.console();
}

// A condition that cannot be evaluated (unreadable memory) stops, as gdb expects of a target.
TEST_F(gdb_condition_e2e, a_condition_that_faults_stops) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    std::string out =
        run_gdb(dir, "gdb", "fib",
                {remote(d), "set breakpoint condition-evaluation target",
                 "break fib if *(unsigned long *)8 == 1", "continue", "info breakpoints", "kill"});
    EXPECT_TRUE(has(out, "(target evaluation)")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=5)")) << out;
}

// A new condition on a breakpoint gdb already inserted replaces the one in the kernel.
TEST_F(gdb_condition_e2e, a_changed_condition_replaces_the_old_one) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    std::string out =
        run_gdb(dir, "gdb", "fib",
                {remote(d), "set breakpoint condition-evaluation target", "break fib if n==4",
                 "continue", "condition 1 n==1", "continue", "print n", "kill"});
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=4)")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=1)")) << out;
    EXPECT_TRUE(has(out, "$1 = 1")) << out;
}

} // namespace

// Target-side breakpoint conditions with the real gdb-multiarch: gdb sends each condition as
// agent-expression bytecode in Z0 (`;X len,bytes`), the kernel evaluates it at every hit, and
// only the hits whose condition holds (or fails to evaluate) stop the program.
#include "gdb_session.hpp"

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";

struct gdb_condition_e2e : ::testing::Test {
    temp_dir dir;
    std::string remote(const daemon_with_guest& d) { return "target remote 127.0.0.1:" + d.port(); }
};

// The stop replies at `addr` the daemon sent to gdb, counted in its trace log (`<- T05…;20:PC;`,
// pc as little-endian hex).
size_t stop_replies_at(const std::string& daemon_log, uint64_t addr) {
    char pc[40];
    std::snprintf(pc, sizeof pc, ";20:%016llx;",
                  static_cast<unsigned long long>(__builtin_bswap64(addr)));
    size_t n = 0;
    std::istringstream in(daemon_log);
    for (std::string line; std::getline(in, line);)
        n += line.find("<- T05") != std::string::npos && has(line, pc) ? 1 : 0;
    return n;
}

// fib(20) calls fib(3) F(18) = 2584 times (of 21891 calls in all). gdb checks a condition again
// at each stop it is told of, so its hit count alone cannot tell where the condition was
// evaluated: the daemon's own count of breakpoint stop replies does (21891 if the kernel did not
// evaluate it).
TEST_F(gdb_condition_e2e, break_fib_if_n_is_3_stops_2584_times) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 20", "--log-level", "trace"});
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
    EXPECT_TRUE(has(out, "breakpoint already hit 2584 times")) << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) exited normally\\]")))
        << out;
    EXPECT_TRUE(d.wait_for_console("fib(20) = 6765", 10s)) << d.console();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("Breakpoint 1 at 0x([0-9a-f]+)"))) << out;
    EXPECT_EQ(stop_replies_at(d.process().output(), std::stoull(m[1], nullptr, 16)), 2584u);
}

// A condition that cannot be evaluated (unreadable memory) stops, as gdb expects of a target.
TEST_F(gdb_condition_e2e, a_condition_that_faults_stops) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    std::string out =
        run_gdb(dir, "gdb", "fib",
                {remote(d), "set breakpoint condition-evaluation target",
                 "break fib if *(unsigned long *)8 == 1", "continue", "info breakpoints", "kill"});
    EXPECT_TRUE(has(out, "(target evals)")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=5)")) << out;
    // gdb checks the condition again and says why it stopped.
    EXPECT_TRUE(has(out, "Cannot access memory at address 0x8")) << out;
}

// Bytecode gdb would never send, through `maint packet`: an unknown opcode is refused by the
// kernel (an error reply); an endless loop (goto 0) is armed, and each evaluation, cut off by the
// instruction budget, stops the thread like any condition error: all 15 calls of fib(5) stop
// (gdb, which inserted no breakpoint there, resumes each such stop itself) and the program ends.
TEST_F(gdb_condition_e2e, hostile_bytecode_is_refused_or_bounded) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5", "--log-level", "trace"});
    std::string out =
        run_gdb(dir, "gdb", "fib",
                {remote(d), "python fib = int(gdb.parse_and_eval('&fib'))",
                 "python print('FIB AT %x' % fib)",
                 "python gdb.execute('maint packet Z0,%x,2;X2,ff27' % fib)",
                 "python gdb.execute('maint packet Z0,%x,2;X3,210000' % fib)", "continue"});
    EXPECT_TRUE(std::regex_search(out, std::regex("received: \"E[0-9a-f]{2}\""))) << out;
    EXPECT_TRUE(has(out, "received: \"OK\"")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(d.wait_for_console("fib(5) = 5", 10s)) << d.console();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("FIB AT ([0-9a-f]+)"))) << out;
    EXPECT_EQ(stop_replies_at(d.process().output(), std::stoull(m[1], nullptr, 16)), 15u);
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

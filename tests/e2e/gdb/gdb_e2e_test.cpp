// The real gdb-multiarch against ruprobesd and the reference kernel in QEMU: breakpoints are
// stop-mode uprobes in the kernel; only the debugged process stops. Assertions are on gdb's
// own output (and the guest's console).
#include "gdb_session.hpp"

#include <csignal>
#include <fstream>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";

struct gdb_e2e : ::testing::Test {
    temp_dir dir;
    std::string remote(const daemon_with_guest& d) { return "target remote 127.0.0.1:" + d.port(); }
    std::string extended(const daemon_with_guest& d) {
        return "target extended-remote 127.0.0.1:" + d.port();
    }
};

TEST_F(gdb_e2e, break_backtrace_registers_original_text_finish) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    std::string out =
        run_gdb(dir, "gdb", "fib",
                {remote(d), "break fib if n == 2", "continue", "bt", "info registers pc sp ra",
                 "p $pc", "x/4i $pc", "delete", "finish", "x/4x 0", "kill"});
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=2)")) << out;
    // The recursive frames down to main: fib(2) <- fib(3) <- fib(4) <- fib(5) <- main.
    EXPECT_TRUE(std::regex_search(out, std::regex("#0  fib \\(n=n@entry=2\\)"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#3  0x[0-9a-f]+ in fib \\(n=5\\)|#3 .* fib "
                                                  "\\(n=n@entry=5\\)")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#4  0x[0-9a-f]+ in main"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("pc\\s+0x[0-9a-f]+\\s+0x[0-9a-f]+ <fib>")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\$1 = \\(void \\(\\*\\)\\(\\)\\) 0x[0-9a-f]+ "
                                                  "<fib>")))
        << out;
    // The original instruction under the breakpoint, never the ebreak the kernel wrote.
    EXPECT_TRUE(std::regex_search(out, std::regex("=> 0x[0-9a-f]+ <fib>:\\s+add\\s+sp,sp,-")))
        << out;
    EXPECT_FALSE(has(out, "ebreak")) << out;
    EXPECT_TRUE(has(out, "Value returned is $2 = 1")) << out;
    EXPECT_TRUE(has(out, "Cannot access memory at address 0x0")) << out;
    EXPECT_TRUE(has(out, "[Inferior 1 (process ")) << out;
}

TEST_F(gdb_e2e, stepi_advances_by_the_instruction_length) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    // Steps from the entry (_start: auipc/addi are 32-bit, main's prologue is compressed) and
    // reports, for the first compressed and the first 32-bit instruction that is not a jump or
    // branch, how far stepi moved pc.
    std::string script = dir.file("stepi.py");
    std::ofstream(script)
        << "seen = set()\n"
           "for i in range(40):\n"
           "    pc = int(gdb.parse_and_eval('$pc'))\n"
           "    insn = gdb.selected_frame().architecture().disassemble(pc)[0]\n"
           "    gdb.execute('stepi', to_string=True)\n"
           "    npc = int(gdb.parse_and_eval('$pc'))\n"
           "    m = insn['asm'].split()[0]\n"
           "    if m[0] in 'jb' or m in ('ret', 'call', 'tail'):\n"
           "        continue\n"
           "    if insn['length'] in seen:\n"
           "        continue\n"
           "    seen.add(insn['length'])\n"
           "    print('STEPI length %d advanced %d' % (insn['length'], npc - pc))\n";
    std::string out = run_gdb(dir, "gdb", "fib", {remote(d), "source " + script, "kill"});
    EXPECT_TRUE(has(out, "STEPI length 2 advanced 2")) << out;
    EXPECT_TRUE(has(out, "STEPI length 4 advanced 4")) << out;
}

TEST_F(gdb_e2e, tbreak_delete_continue_to_exit) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 6"});
    std::string out = run_gdb(dir, "gdb", "fib",
                              {remote(d), "tbreak fib", "continue", "info breakpoints",
                               "break main", "delete", "continue"});
    EXPECT_TRUE(has(out, "Temporary breakpoint 1, fib (n=n@entry=6)")) << out;
    EXPECT_TRUE(has(out, "No breakpoints or watchpoints.")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) exited "
                                                  "normally\\]")))
        << out;
    EXPECT_TRUE(d.wait_for_console("fib(6) = 8", 10s)) << d.console();
}

TEST_F(gdb_e2e, detach_lets_the_program_finish_with_correct_output) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 7"});
    std::string out =
        run_gdb(dir, "gdb", "fib", {remote(d), "break fib", "continue", "continue", "detach"});
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=6)")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) detached\\]")))
        << out;
    EXPECT_TRUE(d.wait_for_console("fib(7) = 13", 20s)) << d.console();
}

TEST_F(gdb_e2e, only_the_debugged_process_stops) {
    daemon_with_guest d(dir, std::string(stay) + "; /bin/ticker 20 &", {"--spawn", "/bin/fib 5"});
    ASSERT_TRUE(d.wait_for_console("ticker: tick 10,", 20s)) << d.console();
    spawn_options o;
    o.argv = gdb_batch_argv(
        "fib", {remote(d), "break fib", "continue", "echo STOPPED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb.log");
    child_process gdb(o);
    ASSERT_TRUE(gdb.wait_for_output("STOPPED", 30s)) << gdb.output();
    // While fib is held at its breakpoint, ticker keeps ticking.
    std::string before = d.console();
    size_t ticks_before = 0;
    for (size_t at = 0; (at = before.find("ticker: tick", at)) != std::string::npos; at++)
        ticks_before++;
    ASSERT_TRUE(
        d.wait_for_console("ticker: tick " + std::to_string((ticks_before + 2) * 10) + ",", 30s))
        << d.console();
    EXPECT_FALSE(has(d.console(), "fib(5) = 5"));
    gdb.stop();
}

TEST_F(gdb_e2e, interrupt_stops_spin_with_sigint) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/spin"});
    spawn_options o;
    o.argv = gdb_batch_argv("spin", {remote(d), "continue", "p $pc != 0", "kill"});
    o.output_file = dir.file("gdb.log");
    child_process gdb(o);
    // spin prints its pid once it runs, that is once gdb's continue is under way.
    ASSERT_TRUE(d.wait_for_console("spin: pid", 30s)) << d.console() << gdb.output();
    gdb.signal(SIGINT);
    auto code = gdb.wait_exit(30s);
    ASSERT_TRUE(code.has_value()) << gdb.output();
    std::string out = gdb.output();
    EXPECT_TRUE(has(out, "Program received signal SIGINT")) << out;
    EXPECT_TRUE(has(out, "$1 = 1")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) killed\\]")))
        << out;
}

TEST_F(gdb_e2e, extended_remote_run_and_attach) {
    daemon_with_guest d(dir, std::string(stay) + "; /bin/spin &");
    auto spin_pid = d.wait_for_console_match(std::regex("spin: pid (\\d+) spinning"), 30s);
    ASSERT_TRUE(spin_pid) << d.console();

    std::string out = run_gdb(dir, "run", "fib",
                              {extended(d), "set remote exec-file /bin/fib", "break fib", "run 4",
                               "p n", "delete", "continue"});
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=4)")) << out;
    EXPECT_TRUE(has(out, "$1 = 4")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(d.wait_for_console("fib(4) = 3", 10s)) << d.console();

    out = run_gdb(dir, "attach", "spin",
                  {extended(d), "attach " + *spin_pid, "p $pc != 0", "detach"});
    EXPECT_TRUE(has(out, "main () at ")) << out; // stopped inside spin's loop
    EXPECT_FALSE(has(out, "SIGINT")) << out;     // an attach is a quiet stop
    EXPECT_TRUE(has(out, "$1 = 1")) << out;
    EXPECT_TRUE(has(out, "detached]")) << out;
}

} // namespace

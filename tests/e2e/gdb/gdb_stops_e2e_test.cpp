// Debugger breakpoints on every instruction class and stepping through system calls, with the
// real gdb against ruprobesd and the kernel in QEMU, in both ways gdb steps: with vCont;s (the
// target description says osabi none) and with breakpoints gdb inserts itself on the next
// instruction (`set osabi GNU/Linux`: gdb's Linux software single-step). The stepping is
// compared with QEMU's user-mode gdbstub (qemu-riscv64 -g) running the same program.
#include "gdb_scripts.hpp"
#include "gdb_session.hpp"
#include "ruprobes_test/free_port.hpp"

#include <fstream>
#include <sstream>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";

// The lines of `out` that start with `prefix` (STOP / PC lines of stepping_trace_script).
std::vector<std::string> lines_with(const std::string& out, const std::string& prefix) {
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0)
            lines.push_back(line);
    }
    return lines;
}

// gdb's two ways of stepping: the default (osabi none from target.xml: vCont;s) and its Linux
// software single-step (a breakpoint on the next instruction).
struct gdb_stops : ::testing::TestWithParam<bool> {
    temp_dir dir;
    bool linux_stepping() const { return GetParam(); }
    std::vector<std::string> with_osabi(std::vector<std::string> commands) const {
        if (linux_stepping())
            commands.insert(commands.begin(), "set osabi GNU/Linux");
        return commands;
    }
};

std::string remote(const daemon_with_guest& d) {
    return "target remote 127.0.0.1:" + d.port();
}

TEST_P(gdb_stops, breakpoints_on_every_instruction_class_run_it_once) {
    daemon_with_guest d(dir, stay);
    std::vector<std::string> commands = {"target extended-remote 127.0.0.1:" + d.port(),
                                         "set remote exec-file /bin/sys_insns"};
    for (const char* label : {"sys_insns_csr", "sys_insns_fence_i", "sys_insns_ecall"})
        commands.push_back(std::string("break *") + label);
    // Each breakpoint once per call (3 calls), then the program runs to its end.
    commands.push_back("run 3");
    for (int i = 0; i < 9; i++)
        commands.push_back("continue");
    // lr and sc: an sc resumed after a stop fails (a trap clears the reservation, as on Linux)
    // and the loop retries from the lr; resuming from the lr runs lr..sc without a trap between
    // (gdb's Linux single-step, which steps this lr alone, would loop here while the lr's
    // breakpoint is inserted: it is deleted first).
    for (const char* c :
         {"delete", "break *sys_insns_sc", "run 1", "p $pc == &sys_insns_sc", "delete",
          "break *sys_insns_lr", "continue", "p $pc == &sys_insns_lr", "delete", "continue"})
        commands.push_back(c);
    std::string out = run_gdb(dir, "gdb", "sys_insns", with_osabi(commands));
    EXPECT_FALSE(has(out, "Cannot insert breakpoint")) << out;
    EXPECT_FALSE(has(out, "Cannot access memory")) << out;
    for (int bp = 1; bp <= 3; bp++)
        EXPECT_EQ(count(out, "Breakpoint " + std::to_string(bp) + ", "), 3u) << bp << "\n" << out;
    EXPECT_EQ(count(out, "Breakpoint 4, "), 1u) << out;
    EXPECT_EQ(count(out, "Breakpoint 5, "), 1u) << out;
    EXPECT_TRUE(has(out, "$1 = 1")) << out;
    EXPECT_TRUE(has(out, "$2 = 1")) << out;
    EXPECT_EQ(count(out, "exited normally"), 2u) << out;
    // The CSR read, the lr/sc increment and getpid ran once per call.
    EXPECT_TRUE(d.wait_for_console("sys_insns: 3 calls, counter 3, 6 checks passed", 10s))
        << d.console();
    EXPECT_TRUE(d.wait_for_console("sys_insns: 1 calls, counter 1, 2 checks passed", 10s))
        << d.console();
}

// gdb itself never inserts a breakpoint on an ebreak the program has (it treats one there as
// permanent and skips it), so the Z0 is sent by hand: accepted; the stop there is reported, and
// stepping from it executes the program's ebreak: its own SIGTRAP, at the same pc.
TEST_P(gdb_stops, program_own_ebreak_takes_a_z0_and_stepping_runs_its_trap) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/bad ebreak"});
    std::string script = dir.file("ebreak.py");
    // The ebreak compiled into main: the first one in its disassembly.
    std::ofstream(script) << "import gdb\n"
                             "gdb.execute('set trust-readonly-sections on')\n"
                             "arch = gdb.selected_inferior().architecture()\n"
                             "pc = int(gdb.parse_and_eval('(long)&main'))\n"
                             "for i in range(512):\n"
                             "    insn = arch.disassemble(pc)[0]\n"
                             "    if insn['asm'].split()[0] in ('ebreak', 'c.ebreak'):\n"
                             "        gdb.set_convenience_variable('own_ebreak', pc)\n"
                             "        gdb.execute('maint packet Z0,%x,4' % pc)\n"
                             "        break\n"
                             "    pc += insn['length']\n";
    // Resuming from the stop on the Z0 executes the ebreak: SIGTRAP at the same pc. With vCont;s
    // a stepi does the same (gdb's Linux single-step cannot step an ebreak: it finds no next pc).
    std::vector<std::string> commands = {remote(d),  "source " + script,
                                         "continue", "p $pc == $own_ebreak",
                                         "continue", "p $pc == $own_ebreak"};
    if (!linux_stepping()) {
        commands.push_back("stepi");
        commands.push_back("p $pc == $own_ebreak");
    }
    commands.push_back("kill");
    std::string out = run_gdb(dir, "gdb", "bad", with_osabi(commands));
    EXPECT_TRUE(has(out, "received: \"OK\"")) << out;
    EXPECT_EQ(count(out, "Program received signal SIGTRAP"), 2u) << out;
    EXPECT_TRUE(has(out, "$1 = 1")) << out;
    EXPECT_TRUE(has(out, "$2 = 1")) << out;
    if (!linux_stepping()) {
        EXPECT_TRUE(has(out, "$3 = 1")) << out;
    }
    EXPECT_FALSE(d.wait_for_console("bad: still alive", 1s)) << d.console();
}

TEST_P(gdb_stops, step_next_and_finish_through_syscall_wrappers) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/sleep 10"});
    std::string ecalls = ecall_addresses_script(dir, "time_ns sched_yield");
    std::string leave = dir.file("leave.py");
    // `leave CMD FN`: repeats the step command CMD until pc is out of function FN.
    std::ofstream(leave) << "import gdb\n"
                            "def where():\n"
                            "    return gdb.execute('info symbol $pc', to_string=True).split()[0]\n"
                            "class leave(gdb.Command):\n"
                            "    def __init__(self):\n"
                            "        super().__init__('leave', gdb.COMMAND_USER)\n"
                            "    def invoke(self, arg, from_tty):\n"
                            "        cmd, fn = arg.split()\n"
                            "        n = 0\n"
                            "        while where() == fn and n < 40:\n"
                            "            gdb.execute(cmd, to_string=True)\n"
                            "            n += 1\n"
                            "        print('LEFT %s WITH %s NOW %s' % (fn, cmd, where()))\n"
                            "leave()\n";
    std::string out = run_gdb(
        dir, "gdb", "sleep",
        with_osabi(
            {remote(d), "source " + ecalls, "source " + leave, "break time_ns", "break sleep_ms",
             "continue", "leave step time_ns", "continue", "leave next sleep_ms", "delete",
             // finish from the instruction just before an ecall (inside the inlined
             // system call helper, then out of time_ns)
             "break *$time_ns_before_ecall", "continue", "finish", "finish",
             // stepi onto an ecall and over it, then finish
             "break *$sched_yield_before_ecall", "continue", "stepi", "p $pc == $sched_yield_ecall",
             "stepi", "p $pc == $sched_yield_ecall + 4", "finish", "delete", "continue"}));
    EXPECT_FALSE(has(out, "Cannot insert breakpoint")) << out;
    EXPECT_FALSE(has(out, "Cannot access memory")) << out;
    // step through time_ns and next through sleep_ms (each makes a system call), out of each into
    // the next call main makes.
    EXPECT_TRUE(has(out, "LEFT time_ns WITH step NOW sleep_ms")) << out;
    EXPECT_TRUE(has(out, "LEFT sleep_ms WITH next NOW time_ns")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 3, ")) << out;
    EXPECT_TRUE(has(out, "Value returned is $1 = ")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 4, ")) << out;
    EXPECT_TRUE(has(out, "$2 = 1")) << out;
    EXPECT_TRUE(has(out, "$3 = 1")) << out;
    EXPECT_TRUE(has(out, "Value returned is $4 = 0")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    auto verdict = d.wait_for_console_match(std::regex("slept \\d+ ms for 10: (\\w+)\\s"), 10s);
    EXPECT_EQ(verdict.value_or("(no line)"), "ok") << d.console();
}

// A software watchpoint single-steps every instruction, system calls included: `calls` changes
// after each call's ecall (and its lr/sc sequence).
TEST_P(gdb_stops, software_watchpoint_steps_over_system_calls) {
    if (linux_stepping())
        GTEST_SKIP() << "gdb's Linux single-step steps an lr/addi/sc loop one instruction at a "
                        "time (it only recognises lr/bne/sc/bnez), and an sc after a trap always "
                        "fails: the loop never ends, on any target that clears reservations on "
                        "traps (QEMU, Linux)";
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/sys_insns 2"});
    std::string out =
        run_gdb(dir, "gdb", "sys_insns",
                with_osabi({remote(d), "set can-use-hw-watchpoints 0", "break main", "continue",
                            "watch calls", "continue", "continue", "delete", "continue"}));
    EXPECT_FALSE(has(out, "Cannot insert breakpoint")) << out;
    EXPECT_TRUE(has(out, "Watchpoint 2: calls")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("Old value = 0\\s+New value = 1"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("Old value = 1\\s+New value = 2"))) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(d.wait_for_console("sys_insns: 2 calls, counter 2, 4 checks passed", 10s))
        << d.console();
}

TEST_P(gdb_stops, break_before_an_ecall_run_continue_continue) {
    daemon_with_guest d(dir, stay);
    std::string ecalls = ecall_addresses_script(dir, "write");
    std::string out =
        run_gdb(dir, "gdb", "fib",
                with_osabi({"target extended-remote 127.0.0.1:" + d.port(),
                            "set remote exec-file /bin/fib", "source " + ecalls,
                            "break *$write_before_ecall", "run 10", "continue", "continue"}));
    EXPECT_FALSE(has(out, "Cannot insert breakpoint")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, ")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(has(out, "The program is not being run.")) << out;
    EXPECT_TRUE(d.wait_for_console("fib(10) = 55", 10s)) << d.console();
    EXPECT_EQ(count(d.console(), "fib(10) = 55"), 1u) << "the write ran exactly once";
}

// The same stepping through three system call wrappers (time_ns: clock_gettime, sleep_ms:
// nanosleep, sched_yield) under ruprobesd and under QEMU's user-mode gdbstub: the same pcs.
TEST_P(gdb_stops, stepi_through_syscall_wrappers_matches_qemu_user_gdbstub) {
    std::string trace = stepping_trace_script(dir, 2, 45);
    std::string ecalls = ecall_addresses_script(dir, "time_ns sleep_ms sched_yield");
    std::vector<std::string> commands = {"break time_ns", "break sleep_ms", "break sched_yield",
                                         "source " + trace, "kill"};

    std::string port = std::to_string(free_tcp_port());
    spawn_options q;
    // No arguments: the runtime's crt0 takes argc/argv from the guest kernel's registers, which
    // Linux (qemu-riscv64) does not set, so both runs take the defaults (100 ms).
    q.argv = {"qemu-riscv64", "-g", port, std::string(user_dir) + "/sleep"};
    q.output_file = dir.file("qemu_user.log");
    child_process qemu_user(q);
    std::vector<std::string> qemu_commands = commands;
    qemu_commands.insert(qemu_commands.begin(), "target remote 127.0.0.1:" + port);
    std::string reference = run_gdb(dir, "gdb_qemu", "sleep", with_osabi(qemu_commands));
    qemu_user.stop();

    daemon_with_guest d(dir, stay, {"--spawn", "/bin/sleep"});
    std::vector<std::string> ours_commands = commands;
    ours_commands.insert(ours_commands.begin(), {remote(d), "source " + ecalls});
    std::string ours = run_gdb(dir, "gdb_ours", "sleep", with_osabi(ours_commands));

    std::vector<std::string> expected = lines_with(reference, "STOP ");
    std::vector<std::string> expected_pcs = lines_with(reference, "PC ");
    ASSERT_EQ(expected.size(), 2u) << reference;
    ASSERT_EQ(expected_pcs.size(), 2u * 45) << reference;
    EXPECT_EQ(lines_with(ours, "STOP "), expected) << ours;
    EXPECT_EQ(lines_with(ours, "PC "), expected_pcs) << ours << "\n---- qemu-riscv64:\n"
                                                     << reference;
    EXPECT_FALSE(has(ours, "Cannot insert breakpoint")) << ours;
    // The steps went over the ecall of each of the three wrappers.
    std::vector<std::string> ecall_lines = lines_with(ours, "ECALL ");
    ASSERT_EQ(ecall_lines.size(), 3u) << ours;
    for (const auto& line : ecall_lines) {
        std::istringstream in(line);
        std::string tag, fn, ecall;
        in >> tag >> fn >> ecall;
        uint64_t after = std::stoull(ecall, nullptr, 16) + 4;
        char pc_line[32];
        std::snprintf(pc_line, sizeof pc_line, "PC %llx", static_cast<unsigned long long>(after));
        EXPECT_TRUE(has(ours, std::string(pc_line) + "\n")) << fn << " " << pc_line << "\n" << ours;
    }
}

INSTANTIATE_TEST_SUITE_P(stepping, gdb_stops, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                             return p.param ? "linux_software_single_step" : "vcont_step";
                         });

} // namespace

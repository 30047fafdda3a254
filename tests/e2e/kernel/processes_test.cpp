// Processes of the reference kernel: every user program's output and exit status, several
// processes at once, fork/exec/wait, and faulting programs killed with a reason while the kernel
// goes on.
#include "guest_run.hpp"

using ruprobes::test::contains;
using ruprobes::test::count_of;
using ruprobes::test::run_guest;

TEST(KernelProcesses, ProgramsPrintTheirResults) {
    auto run = run_guest("/bin/hello; /bin/fib 15; /bin/fib 10; /bin/loop 100; /bin/jump; "
                         "/bin/insns 10; /bin/syscall_bench 1000");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
    EXPECT_TRUE(contains(run.console, "fib(15) = 610")) << run.console;
    EXPECT_TRUE(contains(run.console, "fib(10) = 55")) << run.console;
    // sum of 3i+1 for i < 100
    EXPECT_TRUE(contains(run.console, "loop: 100 iterations, sum 14950")) << run.console;
    // rounds 0..9: odd rounds return 3r+3 through the levels, even rounds longjmp with r+1.
    EXPECT_TRUE(contains(run.console, "jump: 10 rounds, 5 longjmps, sum 115")) << run.console;
    // insn_mix(i) = i + 1006, +100 when odd: 10 calls give 10*1006 + 45 + 5*100.
    EXPECT_TRUE(contains(run.console, "insns: 10 calls, sum 10605")) << run.console;
    EXPECT_TRUE(contains(run.console, "syscall_bench: 1000 calls in")) << run.console;
    EXPECT_EQ(count_of(run.console, "exited with status 0"), 7u) << run.console;
}

// Exited, killed, forked and exec'ed processes give back every frame they used.
TEST(KernelProcesses, NoFramesLeakedByProcesses) {
    auto run = run_guest("/bin/forker; /bin/fib 12; /bin/bad null; /bin/bad text; /bin/spin &; "
                         "/bin/sleep 20; /bin/nosuch");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 139) << run.console;
    EXPECT_TRUE(contains(run.console, "init: 0 frames not returned by exited processes"))
        << run.console;
}

TEST(KernelProcesses, TickerTicksAndStops) {
    auto run = run_guest("/bin/ticker 5 20");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "ticker: tick 10, fib(9) = 34")) << run.console;
    EXPECT_TRUE(contains(run.console, "ticker: tick 20, fib(3) = 2")) << run.console;
}

TEST(KernelProcesses, DefaultCommandLineRunsHello) {
    auto run = run_guest("");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
}

TEST(KernelProcesses, ExitStatusOfFirstFailingCommandReachesQemu) {
    auto run = run_guest("/bin/hello; /bin/bad nosuchmode; /bin/hello");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 2) << run.console;
    EXPECT_EQ(count_of(run.console, "hello from user space"), 2u) << run.console;
}

TEST(KernelProcesses, UnknownProgramIsReportedAndFails) {
    auto run = run_guest("/bin/nosuch; /bin/hello");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 127) << run.console;
    EXPECT_TRUE(contains(run.console, "init: cannot start '/bin/nosuch'")) << run.console;
    EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
}

// Two spinning processes never make a system call: fib and hello only finish because the timer
// preempts them, and init kills them at the end. The foreground first sleeps 200 ms, some 20
// time slices, so that each spinner surely runs far enough to say so: on a busy host a slice
// can end before its process ran a single instruction (QEMU's clock runs on while the host
// holds QEMU back), and fib alone finishes within one slice.
TEST(KernelProcesses, SeveralProcessesRunAtOnce) {
    auto run = run_guest("/bin/spin &; /bin/spin &; /bin/sleep 200 pause; /bin/fib 18; /bin/hello");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "spin: pid 2 spinning")) << run.console;
    EXPECT_TRUE(contains(run.console, "spin: pid 3 spinning")) << run.console;
    EXPECT_TRUE(contains(run.console, "fib(18) = 2584")) << run.console;
    EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
    EXPECT_TRUE(contains(run.console, "init: killing pid 2 (/bin/spin)")) << run.console;
    EXPECT_TRUE(contains(run.console, "init: killing pid 3 (/bin/spin)")) << run.console;
}

// Two sleepers in the background while the foreground runs a short sleep, hello and a long
// sleep: every sleep lasts at least what was asked, and the background ones (300 and 200 ms)
// finish during the foreground's 1500 ms one, so init has nothing left to kill. The margins are
// wide on purpose: nothing here depends on how fast the host runs QEMU.
TEST(KernelProcesses, SleepersRunConcurrently) {
    auto run = run_guest("/bin/sleep 300 slow &; /bin/sleep 200 medium &; /bin/sleep 50 fast; "
                         "/bin/hello; /bin/sleep 1500 last");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    const auto fast = run.console.find("fast: pid 4 (parent 1) slept");
    const auto hello = run.console.find("hello from user space");
    const auto medium = run.console.find("medium: pid 3 (parent 1) slept");
    const auto slow = run.console.find("slow: pid 2 (parent 1) slept");
    const auto last = run.console.find("last: pid 6 (parent 1) slept");
    ASSERT_NE(fast, std::string::npos) << run.console;
    ASSERT_NE(medium, std::string::npos) << run.console;
    ASSERT_NE(slow, std::string::npos) << run.console;
    ASSERT_NE(last, std::string::npos) << run.console;
    EXPECT_LT(fast, hello) << run.console;
    EXPECT_LT(hello, last) << run.console;
    EXPECT_LT(medium, last) << run.console;
    EXPECT_LT(slow, last) << run.console;
    EXPECT_FALSE(contains(run.console, "init: killing")) << run.console;
    EXPECT_EQ(count_of(run.console, ": ok"), 4u) << run.console;
    EXPECT_FALSE(contains(run.console, "EARLY")) << run.console;
}

// Three processes summing in double precision at once, preempted many times: each must get the
// value of an undisturbed run (computed the same way on the host: 15085873).
TEST(KernelProcesses, FloatingPointStateSurvivesPreemption) {
    auto run =
        run_guest("/bin/fpu 2000000 &; /bin/fpu 2000000 &; /bin/fpu 2000000; /bin/sleep 500");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_EQ(count_of(run.console, "H(2000000) * 1e6 = 15085873"), 3u) << run.console;
    EXPECT_EQ(count_of(run.console, "H(2000000) * 1e6 = "), 3u) << run.console;
}

TEST(KernelProcesses, ForkExecWait) {
    auto run = run_guest("/bin/forker");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    // Parent pid 2 forks child pid 3, which execs /bin/hello; the parent waits for it.
    EXPECT_TRUE(contains(run.console, "forker: child pid 3, sum 21")) << run.console;
    EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
    EXPECT_TRUE(contains(run.console, "forker: parent pid 2, sum 28, child 3 exited with status 0"))
        << run.console;
    EXPECT_LT(run.console.find("hello from user space"), run.console.find("forker: parent"))
        << run.console;
}

struct bad_mode {
    const char* mode;
    const char* reason;
    int status;
};

class KernelBadPrograms : public ::testing::TestWithParam<bad_mode> {};

// Each misbehaving mode is killed with a logged reason (pc, cause, tval); the kernel then runs
// the next command.
TEST_P(KernelBadPrograms, KilledWithReasonAndKernelGoesOn) {
    const bad_mode& m = GetParam();
    auto run = run_guest(std::string("/bin/bad ") + m.mode + "; /bin/hello");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, m.status) << run.console;
    const auto killed = run.console.find("(/bin/bad) killed: ");
    ASSERT_NE(killed, std::string::npos) << run.console;
    EXPECT_TRUE(
        contains(run.console.substr(killed, run.console.find('\n', killed) - killed), m.reason))
        << run.console;
    EXPECT_TRUE(contains(run.console, "pc=")) << run.console;
    EXPECT_TRUE(contains(run.console, "tval=")) << run.console;
    EXPECT_FALSE(contains(run.console, "still alive")) << run.console;
    EXPECT_FALSE(contains(run.console, "kernel panic")) << run.console;
    EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
    EXPECT_TRUE(contains(run.console, "(/bin/bad) exited with status " + std::to_string(m.status)))
        << run.console;
}

INSTANTIATE_TEST_SUITE_P(
    Modes, KernelBadPrograms,
    ::testing::Values(bad_mode{"null", "instruction page fault (pc=0000000000000000", 139},
                      bad_mode{"text", "store page fault", 139},
                      bad_mode{"illegal", "illegal instruction", 132},
                      bad_mode{"ebreak", "breakpoint not placed by the probe engine", 133},
                      bad_mode{"kernel", "load page fault", 139},
                      bad_mode{"stack", "store page fault", 139},
                      bad_mode{"misaligned", "address misaligned", 135}),
    [](const auto& info) { return std::string(info.param.mode); });

// The benchmark mode runs every measurement and prints its table (no timing is asserted).
TEST(KernelBench, RunsAndPrintsRatios) {
    auto run = run_guest("ruprobes.bench=2000");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: 2000 iterations per run")) << run.console;
    EXPECT_FALSE(contains(run.console, "FAILED")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: null syscall (getpid)")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: simulated insn probe hit")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: out-of-line insn probe hit")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: entry+return probe pair")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: round-robin hit, 1 site")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: round-robin hit, 100 sites")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: round-robin hit, 10000 sites")) << run.console;
    // The smp benchmark's controls: the trap path without the engine, and user code alone.
    EXPECT_TRUE(contains(run.console, "bench: null syscall, 4 at once: ")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: user code, 4 at once: ")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: done")) << run.console;
}

// A fault in the kernel itself panics with the registers printed and a distinct status.
TEST(KernelPanic, KernelFaultPrintsRegistersAndExits101) {
    auto run = run_guest("ruprobes.kernel_fault");
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 101) << run.console;
    EXPECT_TRUE(contains(run.console, "kernel panic: load page fault in the kernel (scause=13 "
                                      "stval=0000000030000000)"))
        << run.console;
    EXPECT_TRUE(contains(run.console, "sepc ")) << run.console;
    EXPECT_TRUE(contains(run.console, "ra ")) << run.console;
    EXPECT_TRUE(contains(run.console, "s11 ")) << run.console;
}

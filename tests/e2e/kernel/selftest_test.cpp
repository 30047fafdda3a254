// The in-kernel probe test table (kernel flag ruprobes.selftest): exact hit counts for entry,
// return and instruction probes, return probes through longjmp, fork, text restore, refusals,
// stop-mode probes with a single step, and a running process held by thread_stop.
#include "guest_run.hpp"

using ruprobes::test::contains;
using ruprobes::test::run_guest;

namespace {

using KernelProbeSelftest = ruprobes::test::selftest_suite<1>;

} // namespace

TEST_F(KernelProbeSelftest, AllPassAndKernelExitsZero) {
    ASSERT_TRUE(run().status.has_value()) << run().console;
    EXPECT_EQ(*run().status, 0) << run().console;
    EXPECT_TRUE(contains(run().console, "selftest: 14 passed, 0 failed")) << run().console;
    EXPECT_FALSE(contains(run().console, "FAIL")) << run().console;
    EXPECT_FALSE(contains(run().console, "killed:")) << run().console;
    EXPECT_FALSE(contains(run().console, "kernel panic")) << run().console;
}

TEST_F(KernelProbeSelftest, FibEntryAndReturnCountEveryCall) {
    EXPECT_TRUE(contains(run().console, "selftest: fib: entry 1973, return 1973, outermost "
                                        "return 610, exit 0: PASS"))
        << run().console;
    EXPECT_TRUE(contains(run().console, "fib(15) = 610")) << run().console;
}

TEST_F(KernelProbeSelftest, InstructionProbesOnCompressed32BitPcRelativeAndOutOfLine) {
    EXPECT_TRUE(contains(run().console,
                         "selftest: insns: compressed 100, 32-bit 100, auipc 100, "
                         "branch 100, atomic 100 (100 out of line), 500 traps, exit 0: PASS"))
        << run().console;
    EXPECT_TRUE(contains(run().console, "insns: 100 calls, sum 110550")) << run().console;
}

TEST_F(KernelProbeSelftest, ReturnProbesSurviveLongjmp) {
    EXPECT_TRUE(
        contains(run().console, "selftest: jump: level1 entry 10, returns 5/5/5, exit 0: PASS"))
        << run().console;
    EXPECT_TRUE(contains(run().console, "jump: 10 rounds, 5 longjmps, sum 115")) << run().console;
}

TEST_F(KernelProbeSelftest, ProbesHitInParentAndChildOfFork) {
    EXPECT_TRUE(contains(run().console, "selftest: fork_both: parent 2, child 1, exit 0: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, ParentOnlyProbeDoesNotLeakIntoChild) {
    EXPECT_TRUE(
        contains(run().console, "selftest: fork_parent_only: parent 2, child 0, exit 0: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, UnregisterRestoresText) {
    EXPECT_TRUE(contains(run().console, "selftest: text: file equal, armed changed, breakpoint "
                                        "present, disarmed equal, exit 0: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, UnprobeableSitesRefusedWithReason) {
    EXPECT_TRUE(contains(run().console,
                         "selftest: refuse: ecall insn_ecall, odd address addr_misaligned, "
                         "mid-instruction addr_not_boundary, outside text addr_outside_text: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, StopModeProbeStopsEachCallAndSingleStepAdvancesOneInstruction) {
    // fib(3) calls fib 5 times; the first stop is single-stepped over fib's first instruction
    // (a 16-bit one), then every stop is resumed.
    EXPECT_TRUE(contains(run().console, "selftest: stop: 5 probe stops, 1 step stop at +2 ok, "
                                        "first a0 3, exit 0: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, ThreadStopHoldsARunningProcess) {
    EXPECT_TRUE(contains(run().console, "selftest: stop_running: pc in text, unchanged while "
                                        "stopped, resumed, killed with 137: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, SingleStepsFromEntryThroughASystemCall) {
    // Held by thread_stop before its first instruction, hello is single-stepped to its first
    // ecall; stepping it performs write(1, "hello from user space", 21).
    EXPECT_TRUE(contains(run().console, "selftest: step: held at entry, ecall stepped, write "
                                        "returned 21, exit 0: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, ProbesArmAndDisarmInARunningProcess) {
    EXPECT_TRUE(contains(run().console, "selftest: live: armed while running yes, hits some, "
                                        "disarmed while running yes, no hit after, exit 0: PASS"))
        << run().console;
}

// On one hart the SMP cases run too: every process on hart 0, the counts exact.
TEST_F(KernelProbeSelftest, SmpCasesPassOnOneHart) {
    EXPECT_TRUE(contains(run().console, "smp: 1 harts online")) << run().console;
    EXPECT_TRUE(
        contains(run().console, "selftest: smp_processes: 4 of 4 right, ran on 1 of 1 harts: PASS"))
        << run().console;
    // Every hit but each process's first entry (its thread record is made under the lock) went
    // through the engine's lock-free path: 2 x 7892 - 4.
    EXPECT_TRUE(contains(run().console, "selftest: smp_probes: 4 x fib 15, entry 7892, return "
                                        "7892, 4 exit 0, 15780 hits without the big lock on 1 "
                                        "harts, ran on 1 of 1 harts: PASS"))
        << run().console;
}

TEST_F(KernelProbeSelftest, EngineConformanceRunPasses) {
    // uprobes_conformance_run: fib(15) calls fib 1973 times; one stop, text restored, resumed.
    EXPECT_TRUE(contains(run().console, "selftest: conformance: entry 1973, return 1973, stops 1, "
                                        "failed check 0: PASS"))
        << run().console;
}

// The reference kernel on 4 harts under QEMU -icount, where QEMU runs the harts in turn from one
// host thread (and, before QEMU 8.1, hands each round's whole instruction budget to the first
// busy hart): a hart that spins until another hart acts can starve that hart for good. The probe
// self-test table (with a running process held by thread_stop, and probes armed and removed
// while other harts run: remote fences) passes, and the probe benchmark runs to its end.
#include "guest_run.hpp"

#include <regex>
#include <string>

using namespace std::chrono_literals;
using ruprobes::test::contains;
using ruprobes::test::icount_args;
using ruprobes::test::run_guest;

namespace {

using KernelSmpIcountSelftest = ruprobes::test::selftest_suite<4, true>;

} // namespace

TEST_F(KernelSmpIcountSelftest, AllPassOnFourHartsUnderIcount) {
    ruprobes::test::expect_selftest_passed_on_four_harts(run());
}

// thread_stop kicks the hart that runs the spinner and sleeps until the thread has switched out.
TEST_F(KernelSmpIcountSelftest, StopRunningHoldsAThreadOfAnotherHart) {
    EXPECT_TRUE(contains(run().console, "selftest: stop_running: pc in text, unchanged while "
                                        "stopped, resumed, killed with 137: PASS"))
        << run().console;
}

// Exact counts whatever the harts the four ran on (QEMU 7.2 may give the other harts no time).
TEST_F(KernelSmpIcountSelftest, ProbesCountExactlyWhileFourProcessesHit) {
    static const std::regex line(R"(selftest: smp_probes: 4 x fib 15, entry 7892, return 7892, )"
                                 R"(4 exit 0, [0-9]+ hits without the big lock on [1-4] harts, )"
                                 R"(ran on [1-4] of 4 harts: PASS)");
    EXPECT_TRUE(std::regex_search(run().console, line)) << run().console;
}

// Every variant arms and removes probes in programs that run on other harts: each exec and
// unregister fences every hart.
TEST(KernelSmpIcount, ProbeBenchmarkRunsToItsEndOnFourHarts) {
    auto run = run_guest("ruprobes.bench=1000", 90s, 4, icount_args);
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: per hit, 4 at once / 1 alone: ")) << run.console;
    EXPECT_TRUE(contains(run.console, "bench: done")) << run.console;
    EXPECT_FALSE(contains(run.console, "FAILED")) << run.console;
}

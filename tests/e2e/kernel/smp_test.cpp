// The reference kernel on several harts (QEMU -smp): it starts every hart, runs processes on all
// of them at once, and the probe self-test table (with its SMP cases: four fib and two spinners
// at once, four fib 15 under entry and return probes, exact counts) passes on 4 harts.
#include "guest_run.hpp"

#include <regex>
#include <string>

using namespace std::chrono_literals;
using ruprobes::test::contains;
using ruprobes::test::count_of;
using ruprobes::test::run_guest;

namespace {

// Harts whose "smp: hart I (id H): T ticks, S user time slices" line (printed at power-off)
// reports at least one user time slice.
int harts_that_ran_user_code(const std::string& console) {
    static const std::regex line(R"(smp: hart \d+ \(id \d+\): \d+ ticks, (\d+) user time slices)");
    int n = 0;
    for (auto it = std::sregex_iterator(console.begin(), console.end(), line);
         it != std::sregex_iterator(); ++it) {
        n += std::stoul((*it)[1]) > 0 ? 1 : 0;
    }
    return n;
}

using KernelSmpSelftest = ruprobes::test::selftest_suite<4>;

} // namespace

TEST(KernelSmp, BootsEveryHartQemuGives) {
    for (int harts : {1, 2, 3, 4}) {
        auto run = run_guest("/bin/hello", 40s, harts);
        ASSERT_TRUE(run.status.has_value()) << run.console;
        EXPECT_EQ(*run.status, 0) << run.console;
        EXPECT_TRUE(contains(run.console, "smp: " + std::to_string(harts) + " harts online"))
            << run.console;
        EXPECT_TRUE(contains(run.console, "hello from user space")) << run.console;
        // One report line per hart at power-off, only with several.
        EXPECT_EQ(count_of(run.console, " user time slices"), harts > 1 ? size_t(harts) : 0u)
            << run.console;
    }
}

// Three spinners never make a system call; fib finishes (with its result checked by the
// program itself) while they spin, init kills them, and user code ran on more than one hart
// (fib 25 runs long enough for the woken harts to take the spinners).
TEST(KernelSmp, SpinnersAndFibShareFourHarts) {
    auto run = run_guest("/bin/spin &; /bin/spin &; /bin/spin &; /bin/fib 25 75025", 60s, 4);
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "fib(25) = 75025")) << run.console;
    EXPECT_EQ(count_of(run.console, "init: killing pid"), 3u) << run.console;
    EXPECT_TRUE(contains(run.console, "init: 0 frames not returned by exited processes"))
        << run.console;
    EXPECT_GE(harts_that_ran_user_code(run.console), 2) << run.console;
}

TEST_F(KernelSmpSelftest, AllPassOnFourHarts) {
    ruprobes::test::expect_selftest_passed_on_four_harts(run());
}

TEST_F(KernelSmpSelftest, FourCpuBoundProcessesRightOnSeveralHarts) {
    static const std::regex line(
        R"(selftest: smp_processes: 4 of 4 right, ran on ([2-4]) of 4 harts: PASS)");
    EXPECT_TRUE(std::regex_search(run().console, line)) << run().console;
}

TEST_F(KernelSmpSelftest, ProbesCountExactlyWhileFourProcessesHitOnSeveralHarts) {
    // The hits went through the engine's lock-free path on several harts (PASS: all but a few of
    // the 2 x 7892, on two harts or more).
    static const std::regex line(R"(selftest: smp_probes: 4 x fib 15, entry 7892, return 7892, )"
                                 R"(4 exit 0, [0-9]+ hits without the big lock on ([2-4]) harts, )"
                                 R"(ran on ([2-4]) of 4 harts: PASS)");
    EXPECT_TRUE(std::regex_search(run().console, line)) << run().console;
}

TEST_F(KernelSmpSelftest, EngineConformanceAndProbeTablePassOnFourHarts) {
    EXPECT_TRUE(contains(run().console, "selftest: conformance: entry 1973, return 1973, stops 1, "
                                        "failed check 0: PASS"))
        << run().console;
    EXPECT_TRUE(contains(run().console, "selftest: fib: entry 1973, return 1973, outermost "
                                        "return 610, exit 0: PASS"))
        << run().console;
    EXPECT_TRUE(contains(run().console, "selftest: stop_running: pc in text, unchanged while "
                                        "stopped, resumed, killed with 137: PASS"))
        << run().console;
}

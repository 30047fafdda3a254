// Boots the kernel with a command line, waits for it to power off and keeps what it printed.
#pragma once

#include "ruprobes_test/qemu_guest.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ruprobes::test {

struct guest_run {
    std::optional<int> status; // QEMU's exit code; empty when the guest did not power off
    std::string console;
};

// Runs the kernel with `append` on `harts` harts (QEMU -smp) until it powers off (at most
// `timeout`); `extra`: more QEMU arguments.
inline guest_run run_guest(const std::string& append,
                           std::chrono::milliseconds timeout = std::chrono::seconds(40),
                           int harts = 1, const std::vector<std::string>& extra = {}) {
    temp_dir dir;
    guest_options options;
    options.append = append;
    if (harts != 1) {
        // After the launcher's own -smp 1: QEMU keeps the last one.
        options.extra = {"-smp", std::to_string(harts)};
    }
    options.extra.insert(options.extra.end(), extra.begin(), extra.end());
    qemu_guest guest(dir, options);
    guest_run run;
    run.status = guest.wait_exit(timeout);
    run.console = guest.console();
    return run;
}

// QEMU arguments that run the guest under instruction counting: the harts run in turn from one
// host thread, the guest clock advances 1 ns per instruction, and time passes while all wait.
inline const std::vector<std::string> icount_args = {"-icount", "shift=0,sleep=on"};

// A test suite sharing one boot of the probe self-test table (kernel flag ruprobes.selftest) on
// `Harts` harts (under -icount when `Icount`): the kernel runs once, in SetUpTestSuite, and every
// test reads its console.
template <unsigned Harts, bool Icount = false>
class selftest_suite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        run_ = new guest_run(run_guest("ruprobes.selftest", std::chrono::seconds(Icount ? 60 : 90),
                                       Harts, Icount ? icount_args : std::vector<std::string>{}));
    }
    static void TearDownTestSuite() {
        delete run_;
        run_ = nullptr;
    }
    static const guest_run& run() { return *run_; }

private:
    static inline guest_run* run_ = nullptr;
};

// Number of times `needle` occurs in `text`.
inline size_t count_of(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        n++;
    }
    return n;
}

inline bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// The self-test boot on 4 harts: every case passed, the kernel exited 0 after init took back
// every frame, nothing was killed and nothing panicked.
inline void expect_selftest_passed_on_four_harts(const guest_run& run) {
    ASSERT_TRUE(run.status.has_value()) << run.console;
    EXPECT_EQ(*run.status, 0) << run.console;
    EXPECT_TRUE(contains(run.console, "smp: 4 harts online")) << run.console;
    EXPECT_TRUE(contains(run.console, "selftest: 14 passed, 0 failed")) << run.console;
    EXPECT_FALSE(contains(run.console, "FAIL")) << run.console;
    EXPECT_FALSE(contains(run.console, "killed:")) << run.console;
    EXPECT_FALSE(contains(run.console, "kernel panic")) << run.console;
    EXPECT_TRUE(contains(run.console, "init: 0 frames not returned by exited processes"))
        << run.console;
}

} // namespace ruprobes::test

// Call pairing (entry/return per thread, by stack pointer) and the power-of-two histogram.
#include "cli/latency.hpp"

#include <gtest/gtest.h>

namespace ruprobes::cli {
namespace {

TEST(call_pairing, recursion_matches_innermost_call_by_sp) {
    call_pairing p;
    // fib(2) -> fib(1), fib(0): frames at sp 0x1000, 0xfe0 (twice).
    p.on_entry("fib", 1, 0x1000, 100);
    p.on_entry("fib", 1, 0xfe0, 110);
    EXPECT_EQ(p.on_return("fib", 1, 0xfe0, 115), 5u);
    p.on_entry("fib", 1, 0xfe0, 120);
    EXPECT_EQ(p.on_return("fib", 1, 0xfe0, 130), 10u);
    EXPECT_EQ(p.on_return("fib", 1, 0x1000, 140), 40u);
    EXPECT_EQ(p.open_entries(), 0u);
    EXPECT_EQ(p.unmatched_returns(), 0u);
    EXPECT_EQ(p.dropped_entries(), 0u);
}

TEST(call_pairing, threads_and_functions_are_separate) {
    call_pairing p;
    p.on_entry("fib", 1, 0x1000, 100);
    p.on_entry("fib", 2, 0x1000, 200);
    p.on_entry("tick", 1, 0x1000, 300);
    EXPECT_EQ(p.on_return("fib", 2, 0x1000, 250), 50u);
    EXPECT_EQ(p.on_return("tick", 1, 0x1000, 310), 10u);
    EXPECT_EQ(p.on_return("fib", 1, 0x1000, 400), 300u);
    EXPECT_FALSE(p.on_return("fib", 1, 0x1000, 500)); // nothing open any more
    EXPECT_EQ(p.unmatched_returns(), 1u);
}

TEST(call_pairing, longjmp_discards_deeper_entries_and_unknown_returns_do_not_pop) {
    call_pairing p;
    p.on_entry("f", 1, 0x1000, 10);
    p.on_entry("f", 1, 0xf00, 20); // never returns (longjmp out of it)
    p.on_entry("f", 1, 0xe00, 30); // never returns
    EXPECT_EQ(p.on_return("f", 1, 0x1000, 50), 40u);
    EXPECT_EQ(p.dropped_entries(), 2u);
    // A return from a frame entered before the watch started (higher sp than any open entry)
    // matches nothing; the deeper frames still open cannot outlive it and are dropped.
    p.on_entry("f", 1, 0xf00, 60);
    EXPECT_FALSE(p.on_return("f", 1, 0x2000, 70));
    EXPECT_EQ(p.unmatched_returns(), 1u);
    EXPECT_EQ(p.dropped_entries(), 3u);
    EXPECT_EQ(p.open_entries(), 0u);
    // A return with a sp between open entries: the deeper ones go, the outer one stays.
    p.on_entry("f", 1, 0x1000, 80);
    p.on_entry("f", 1, 0xe00, 90);
    EXPECT_FALSE(p.on_return("f", 1, 0xf00, 95));
    EXPECT_EQ(p.open_entries(), 1u);
    EXPECT_EQ(p.on_return("f", 1, 0x1000, 100), 20u);
}

TEST(call_pairing, thread_exit_forgets_its_entries_and_depth_is_bounded) {
    call_pairing p;
    p.on_entry("f", 7, 0x1000, 1);
    p.on_entry("g", 7, 0x1000, 1);
    p.on_entry("f", 8, 0x1000, 1);
    p.on_thread_exit(7);
    EXPECT_EQ(p.open_entries(), 1u);
    EXPECT_EQ(p.dropped_entries(), 2u);
    for (uint64_t i = 0; i < call_pairing::max_depth + 10; i++)
        p.on_entry("deep", 1, 0x100000 - i * 16, i);
    EXPECT_EQ(p.open_entries(), 1u + call_pairing::max_depth);
    EXPECT_EQ(p.dropped_entries(), 12u);
}

TEST(log2_histogram, buckets_are_powers_of_two) {
    EXPECT_EQ(log2_histogram::bucket_of(0), 0u);
    EXPECT_EQ(log2_histogram::bucket_of(1), 0u);
    EXPECT_EQ(log2_histogram::bucket_of(2), 1u);
    EXPECT_EQ(log2_histogram::bucket_of(3), 1u);
    EXPECT_EQ(log2_histogram::bucket_of(1024), 10u);
    EXPECT_EQ(log2_histogram::bucket_of(2047), 10u);
    EXPECT_EQ(log2_histogram::bucket_of(UINT64_MAX), 63u);
    log2_histogram h;
    for (uint64_t ns : {1000, 1500, 1023, 5000, 5000, 5000})
        h.add(ns);
    EXPECT_EQ(h.count(), 6u);
    EXPECT_EQ(h.min(), 1000u);
    EXPECT_EQ(h.max(), 5000u);
    EXPECT_EQ(h.mean(), (1000u + 1500 + 1023 + 15000) / 6);
    EXPECT_EQ(h.bucket(9), 2u);  // [512, 1024): 1000, 1023
    EXPECT_EQ(h.bucket(10), 1u); // [1024, 2048): 1500
    EXPECT_EQ(h.bucket(12), 3u); // [4096, 8192): 5000 x3
}

TEST(log2_histogram, render_scales_bars_and_lists_every_bucket_between) {
    log2_histogram h;
    EXPECT_TRUE(h.render().empty());
    for (int i = 0; i < 4; i++)
        h.add(1000); // bucket 9
    h.add(5000);     // bucket 12
    auto lines = h.render(8);
    ASSERT_EQ(lines.size(), 4u); // buckets 9, 10, 11, 12
    EXPECT_EQ(lines[0], "[  512ns,  1.02us)        4 |@@@@@@@@|");
    EXPECT_EQ(lines[1], "[ 1.02us,  2.05us)        0 |        |");
    EXPECT_EQ(lines[3], "[ 4.10us,  8.19us)        1 |@@      |");
    auto j = h.to_json();
    EXPECT_EQ(j["count"], 5);
    ASSERT_EQ(j["buckets"].size(), 2u);
    EXPECT_EQ(j["buckets"][0]["low_ns"], 512);
    EXPECT_EQ(j["buckets"][0]["high_ns"], 1024);
    EXPECT_EQ(j["buckets"][1]["count"], 1);
}

TEST(log2_histogram, durations_print_three_significant_digits) {
    EXPECT_EQ(format_duration(0), "0ns");
    EXPECT_EQ(format_duration(999), "999ns");
    EXPECT_EQ(format_duration(1024), "1.02us");
    EXPECT_EQ(format_duration(32768), "32.8us");
    EXPECT_EQ(format_duration(131072), "131us");
    EXPECT_EQ(format_duration(2'000'000'000), "2.00s");
}

} // namespace
} // namespace ruprobes::cli

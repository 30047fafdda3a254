// event_log: events appended as lines into chunks of fixed text capacity, index lookups across
// chunks, byte budgets, the window, and text that never moves while a chunk grows.
#include "events/event_log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ruprobes::events {
namespace {

event_meta hit_meta(uint64_t probe) {
    return event_meta{event_kind::probe_hit, probe, 1};
}

TEST(event_log, lines_and_texts_across_chunks) {
    event_log log(64); // chunks of 8 events
    for (uint64_t i = 0; i < 20; i++)
        log.append(hit_meta(i), "event " + std::to_string(i));
    EXPECT_EQ(log.begin(), 0u);
    EXPECT_EQ(log.end(), 20u);
    EXPECT_EQ(log.chunk_count(), 3u);
    for (uint64_t i = 0; i < 20; i++) {
        const event_chunk& c = *log.chunk_of(i);
        EXPECT_LE(c.first(), i);
        EXPECT_LT(i, c.end());
        EXPECT_EQ(c.text(i), "event " + std::to_string(i));
        EXPECT_EQ(c.meta(i).probe, i);
    }
    const event_chunk& second = *log.chunk_of(8);
    EXPECT_EQ(second.first(), 8u);
    EXPECT_EQ(second.lines(9, 11), "event 9\nevent 10\n");
    EXPECT_EQ(second.kinds(), static_cast<uint32_t>(event_kind::probe_hit));
}

TEST(event_log, fit_takes_whole_lines_within_the_budget_and_at_least_one) {
    event_log log(4096);
    for (uint64_t i = 0; i < 10; i++)
        log.append(hit_meta(0), "abcd"); // 5 bytes a line
    const event_chunk& c = *log.chunk_of(0);
    EXPECT_EQ(c.fit(0, 5), 1u);
    EXPECT_EQ(c.fit(0, 14), 2u);
    EXPECT_EQ(c.fit(2, 15), 5u);
    EXPECT_EQ(c.fit(3, 1), 4u); // smaller than a line: still one
    EXPECT_EQ(c.fit(0, 1000), 10u);
    EXPECT_EQ(c.fit(10, 5), 10u); // nothing left
}

TEST(event_log, window_drops_whole_old_chunks_only) {
    event_log log(16); // chunks of 2 events
    for (uint64_t i = 0; i < 100; i++) {
        log.append(hit_meta(0), "x");
        while (log.over_window())
            log.drop_oldest();
        EXPECT_LE(log.end() - log.begin(), 16u);
        EXPECT_GE(log.end() - log.begin(), std::min<uint64_t>(i + 1, 15));
    }
    EXPECT_EQ(log.end(), 100u);
    EXPECT_EQ(log.begin() % 2, 0u) << "the log starts at a chunk boundary";
}

TEST(event_log, text_handed_out_does_not_move_while_its_chunk_grows) {
    event_log log(4096);
    log.append(hit_meta(0), "first");
    std::string_view first = log.chunk_of(0)->lines(0, 1);
    const char* where = first.data();
    for (int i = 0; i < 50; i++)
        log.append(hit_meta(0), std::string(100, 'y'));
    EXPECT_EQ(log.chunk_of(0)->lines(0, 1).data(), where);
    EXPECT_EQ(first, "first\n");
}

TEST(event_log, a_line_larger_than_a_chunk_gets_a_chunk_of_its_own) {
    event_log log(4096);
    log.append(hit_meta(0), "small");
    std::string big(100 * 1024, 'z');
    log.append(hit_meta(1), big);
    log.append(hit_meta(2), "after");
    EXPECT_EQ(log.chunk_of(1)->text(1), big);
    EXPECT_NE(log.chunk_of(0), log.chunk_of(1));
    EXPECT_NE(log.chunk_of(1), log.chunk_of(2));
    EXPECT_EQ(log.chunk_of(2)->text(2), "after");
    EXPECT_EQ(log.bytes(), 6 + big.size() + 1 + 6);
}

} // namespace
} // namespace ruprobes::events

// event_hub over the shared event log: every matching subscriber gets each event once, filters
// (applied from when they were added), cursors that fall out of the window skip ahead with the
// exact count of what they missed reported at the gap, pieces of the shared text (runs of lines
// or single events) within the byte and piece budgets, wake-ups once per burst, and a stalled
// subscriber that neither slows nor grows anything.
#include "events/event_hub.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ruprobes::events {
namespace {

published_event hit(uint64_t probe, int64_t pid, uint64_t n) {
    published_event e;
    e.kind = event_kind::probe_hit;
    e.probe = probe;
    e.pid = pid;
    e.text = "hit " + std::to_string(n);
    return e;
}

published_event other(event_kind kind, int64_t pid) {
    published_event e;
    e.kind = kind;
    e.pid = pid;
    e.text = event_kind_name(kind);
    return e;
}

// Everything `s` has now, one entry per event and "lost N" for a loss notice.
std::vector<std::string> drain(subscriber& s) {
    std::vector<std::string> out;
    event_batch b;
    while (s.take(b, 1 << 20, 1 << 20, piece_mode::events)) {
        if (b.lost)
            out.push_back("lost " + std::to_string(b.lost));
        for (std::string_view piece : b.pieces)
            out.emplace_back(piece);
        b.clear();
    }
    return out;
}

// The same, through line pieces: the concatenated text.
std::string drain_lines(subscriber& s, std::size_t max_bytes = 1 << 20,
                        std::size_t max_pieces = 64) {
    std::string out;
    event_batch b;
    while (s.take(b, max_bytes, max_pieces, piece_mode::lines)) {
        if (b.lost)
            out += "lost " + std::to_string(b.lost) + "\n";
        for (std::string_view piece : b.pieces)
            out += piece;
        b.clear();
    }
    return out;
}

TEST(event_filter, kinds_probes_pids) {
    event_filter any;
    EXPECT_TRUE(any.matches(hit(1, 10, 0)));
    EXPECT_TRUE(any.matches(other(event_kind::target_connected, 0)));

    event_filter probes;
    probes.probes = {2};
    EXPECT_FALSE(probes.matches(hit(1, 10, 0)));
    EXPECT_TRUE(probes.matches(hit(2, 10, 0)));
    EXPECT_TRUE(probes.matches(other(event_kind::process_exit, 10))); // probes: their events only
    published_event table = other(event_kind::probe_aggregate, 0);
    table.probe = 1;
    EXPECT_FALSE(probes.matches(table));
    table.probe = 2;
    EXPECT_TRUE(probes.matches(table));

    event_filter pids;
    pids.pids = {10};
    EXPECT_TRUE(pids.matches(hit(1, 10, 0)));
    EXPECT_FALSE(pids.matches(hit(1, 11, 0)));
    EXPECT_FALSE(pids.matches(other(event_kind::process_exec, 11)));
    EXPECT_TRUE(pids.matches(other(event_kind::target_disconnected, 0)));

    event_filter kinds;
    kinds.kinds = static_cast<uint32_t>(event_kind::process_exit);
    EXPECT_FALSE(kinds.matches(hit(1, 10, 0)));
    EXPECT_TRUE(kinds.matches(other(event_kind::process_exit, 10)));

    EXPECT_EQ(any.unrestricted_kinds(), all_kinds);
    EXPECT_EQ(probes.unrestricted_kinds(),
              all_kinds & ~(static_cast<uint32_t>(event_kind::probe_hit) |
                            static_cast<uint32_t>(event_kind::probe_aggregate)));
    EXPECT_EQ(pids.unrestricted_kinds(),
              static_cast<uint32_t>(event_kind::target_connected) |
                  static_cast<uint32_t>(event_kind::target_disconnected) |
                  static_cast<uint32_t>(event_kind::events_lost) |
                  static_cast<uint32_t>(event_kind::probe_aggregate));
}

TEST(event_filter, kind_names_round_trip) {
    for (uint32_t bit = 1; bit & all_kinds; bit <<= 1) {
        auto kind = static_cast<event_kind>(bit);
        EXPECT_EQ(parse_event_kind(event_kind_name(kind)), kind);
    }
    EXPECT_FALSE(parse_event_kind("probe.hits"));
}

TEST(event_hub, every_matching_subscriber_gets_each_event_once) {
    event_hub hub;
    auto a = hub.attach(nullptr);
    auto b = hub.attach(nullptr);
    auto c = hub.attach(nullptr);
    a->add_filter({});
    a->add_filter({}); // two matching filters: still once
    event_filter only_probe_2;
    only_probe_2.probes = {2};
    b->add_filter(only_probe_2);
    // c has no filter: it gets nothing
    hub.publish(hit(1, 10, 0));
    hub.publish(hit(2, 10, 1));
    EXPECT_EQ(drain(*a), (std::vector<std::string>{"hit 0", "hit 1"}));
    EXPECT_EQ(drain(*b), (std::vector<std::string>{"hit 1"}));
    EXPECT_TRUE(drain(*c).empty());
    EXPECT_EQ(hub.published(), 2u);
}

TEST(event_hub, filters_apply_from_when_they_were_added) {
    event_hub hub;
    auto s = hub.attach(nullptr);
    event_filter exits;
    exits.kinds = static_cast<uint32_t>(event_kind::process_exit);
    s->add_filter(exits);
    hub.publish(hit(1, 1, 0)); // not taken yet: the subscriber lags behind it
    s->add_filter({});         // takes everything, but only from now on
    hub.publish(hit(1, 1, 1));
    hub.publish(other(event_kind::process_exit, 1));
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"hit 1", "process.exit"}));
}

TEST(event_hub, filter_ids_are_unique_and_removable) {
    event_hub hub;
    auto a = hub.attach(nullptr);
    auto b = hub.attach(nullptr);
    uint64_t fa = a->add_filter({});
    uint64_t fb = b->add_filter({});
    EXPECT_NE(fa, fb);
    EXPECT_FALSE(a->remove_filter(fb)); // not a's
    EXPECT_TRUE(a->remove_filter(fa));
    hub.publish(hit(1, 1, 0));
    EXPECT_TRUE(drain(*a).empty());
    EXPECT_EQ(drain(*b), (std::vector<std::string>{"hit 0"}));
}

TEST(event_hub, lagging_cursor_skips_ahead_and_reports_the_exact_loss_at_the_gap) {
    event_hub hub(3); // a window of 3 events: chunks of one event
    auto s = hub.attach(nullptr);
    s->add_filter({});
    for (uint64_t i = 0; i < 10; i++)
        hub.publish(hit(1, 1, i));
    // 0..6 fell out of the window; 7, 8, 9 are still there.
    EXPECT_EQ(s->stats().lost, 7u);
    EXPECT_EQ(s->stats().lag, 3u);
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"lost 7", "hit 7", "hit 8", "hit 9"}));
    hub.publish(hit(1, 1, 10)); // caught up: nothing more lost
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"hit 10"}));
    EXPECT_EQ(s->stats().delivered, 4u);
    EXPECT_EQ(s->stats().lost, 7u);
}

TEST(event_hub, loss_counts_only_what_the_filters_would_have_taken) {
    event_hub hub(4);
    auto pid_7 = hub.attach(nullptr);
    event_filter f;
    f.pids = {7};
    pid_7->add_filter(f);
    auto quiet = hub.attach(nullptr); // hit of probe 9 only: none published
    event_filter g;
    g.probes = {9};
    g.kinds = static_cast<uint32_t>(event_kind::probe_hit);
    quiet->add_filter(g);
    // 20 hits, every third one from pid 7: the window keeps 4 of them.
    uint64_t of_7 = 0;
    for (uint64_t i = 0; i < 20; i++) {
        hub.publish(hit(1, i % 3 == 0 ? 7 : 8, i));
        of_7 += i % 3 == 0;
    }
    std::vector<std::string> got = drain(*pid_7);
    ASSERT_FALSE(got.empty());
    ASSERT_EQ(got[0].rfind("lost ", 0), 0u) << got[0];
    uint64_t lost = std::stoull(got[0].substr(5));
    EXPECT_EQ(lost + got.size() - 1, of_7) << "delivered + announced must cover every match";
    for (std::size_t i = 1; i < got.size(); i++) {
        uint64_t n = std::stoull(got[i].substr(4));
        EXPECT_EQ(n % 3, 0u);
        EXPECT_GE(n, 16u) << "only the last window's events are delivered";
    }
    EXPECT_TRUE(drain(*quiet).empty()) << "nothing matched: nothing lost either";
    EXPECT_EQ(quiet->stats().lost, 0u);
}

published_event kernel_loss(uint64_t count) {
    published_event e;
    e.kind = event_kind::events_lost;
    e.lost = count;
    e.text = "kernel lost " + std::to_string(count);
    return e;
}

// A skipped kernel loss notice counts the events it announced, not one: received + announced
// losses still add up to every hit made.
TEST(event_hub, skipping_a_kernel_loss_notice_carries_its_count_into_the_subscribers_loss) {
    event_hub hub(3);
    auto all = hub.attach(nullptr);
    all->add_filter({});
    auto hits_only = hub.attach(nullptr); // does not take loss notices: loses only hits
    event_filter f;
    f.kinds = static_cast<uint32_t>(event_kind::probe_hit);
    hits_only->add_filter(f);
    hub.publish(hit(1, 1, 0));
    hub.publish(kernel_loss(1000)); // hits 1..1000 dropped in the kernel
    for (uint64_t i = 1001; i < 1010; i++)
        hub.publish(hit(1, 1, i));
    std::vector<std::string> got = drain(*all);
    EXPECT_EQ(got, (std::vector<std::string>{"lost 1007", "hit 1007", "hit 1008", "hit 1009"}));
    EXPECT_EQ(all->stats().lost, 1007u);
    EXPECT_EQ(drain(*hits_only),
              (std::vector<std::string>{"lost 7", "hit 1007", "hit 1008", "hit 1009"}));
    // The same with a filter that looks at each event (pids), through line pieces.
    event_hub hub2(3);
    auto pid_1 = hub2.attach(nullptr);
    event_filter g;
    g.pids = {1};
    pid_1->add_filter(g);
    hub2.publish(kernel_loss(50));
    hub2.publish(hit(1, 2, 0));
    for (uint64_t i = 1; i < 5; i++)
        hub2.publish(hit(1, 1, i));
    EXPECT_EQ(drain_lines(*pid_1), "lost 51\nhit 2\nhit 3\nhit 4\n");
}

TEST(event_hub, loss_only_is_delivered_as_a_notice) {
    event_hub hub(1);
    auto s = hub.attach(nullptr);
    event_filter f;
    f.pids = {1};
    s->add_filter(f);
    hub.publish(hit(1, 1, 0));
    hub.publish(hit(1, 2, 1)); // pushes the pid 1 hit out; itself not taken
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"lost 1"}));
}

TEST(event_hub, line_pieces_are_runs_of_the_shared_text) {
    event_hub hub;
    auto all = hub.attach(nullptr);
    all->add_filter({});
    auto odd = hub.attach(nullptr);
    event_filter f;
    f.probes = {1};
    f.kinds = static_cast<uint32_t>(event_kind::probe_hit);
    odd->add_filter(f);
    for (uint64_t i = 0; i < 6; i++)
        hub.publish(hit(i < 2 || i == 4 ? 1 : 2, 1, i));

    event_batch b;
    ASSERT_TRUE(all->take(b, 1 << 20, 64, piece_mode::lines));
    ASSERT_EQ(b.pieces.size(), 1u) << "matching everything: one piece for the chunk";
    EXPECT_EQ(b.pieces[0], "hit 0\nhit 1\nhit 2\nhit 3\nhit 4\nhit 5\n");
    EXPECT_EQ(b.events, 6u);
    EXPECT_EQ(b.keep.size(), 1u) << "one reference per chunk, not per event";

    event_batch o;
    ASSERT_TRUE(odd->take(o, 1 << 20, 64, piece_mode::lines));
    ASSERT_EQ(o.pieces.size(), 2u) << "consecutive matches share a piece";
    EXPECT_EQ(o.pieces[0], "hit 0\nhit 1\n");
    EXPECT_EQ(o.pieces[1], "hit 4\n");
    // The pieces point into the shared text: the same bytes for both subscribers.
    EXPECT_EQ(o.pieces[0].data(), b.pieces[0].data());
}

TEST(event_hub, take_stays_within_the_byte_and_piece_budgets) {
    event_hub hub;
    auto s = hub.attach(nullptr);
    s->add_filter({});
    for (uint64_t i = 0; i < 100; i++)
        hub.publish(hit(1, 1, 1000 + i)); // "hit 1xxx\n": 9 bytes each
    event_batch b;
    ASSERT_TRUE(s->take(b, 90, 64, piece_mode::lines));
    EXPECT_EQ(b.events, 10u);
    EXPECT_EQ(b.bytes, 90u);
    b.clear();
    ASSERT_TRUE(s->take(b, 1, 64, piece_mode::lines));
    EXPECT_EQ(b.events, 1u) << "at least one event, however small the budget";
    b.clear();
    ASSERT_TRUE(s->take(b, 1 << 20, 3, piece_mode::events));
    EXPECT_EQ(b.pieces.size(), 3u);
    EXPECT_EQ(b.pieces[0], "hit 1011");
    b.clear();
    EXPECT_EQ(drain_lines(*s).size(), 86u * 9);
}

TEST(event_hub, wakes_an_idle_subscriber_once_per_burst) {
    event_hub hub;
    std::vector<std::function<void()>> scheduled;
    hub.set_flush_scheduler([&] { scheduled.push_back([&] { hub.flush(); }); });
    int wakes = 0;
    auto s = hub.attach([&] { wakes++; });
    s->add_filter({});
    auto deaf = hub.attach([&] { ADD_FAILURE() << "nothing matches it"; });
    event_filter exits;
    exits.kinds = static_cast<uint32_t>(event_kind::process_exit);
    deaf->add_filter(exits);

    for (uint64_t i = 0; i < 50; i++)
        hub.publish(hit(1, 1, i)); // one burst
    EXPECT_EQ(scheduled.size(), 1u) << "one flush per burst";
    EXPECT_EQ(wakes, 0) << "nobody is woken from inside publish";
    scheduled.back()();
    EXPECT_EQ(wakes, 1);
    EXPECT_EQ(deaf->stats().lag, 0u) << "an idle subscriber with nothing new moves to the end";

    // Busy (it took something and has not come back empty): more events wake nobody.
    event_batch b;
    ASSERT_TRUE(s->take(b, 100, 64, piece_mode::lines));
    hub.publish(hit(1, 1, 50));
    scheduled.back()();
    EXPECT_EQ(wakes, 1);
    // It drains to empty (idle again): the next burst wakes it once more.
    drain(*s);
    hub.publish(hit(1, 1, 51));
    hub.publish(hit(1, 1, 52));
    EXPECT_EQ(scheduled.size(), 3u);
    scheduled.back()();
    EXPECT_EQ(wakes, 2);
}

TEST(event_hub, stalled_subscriber_neither_slows_nor_starves_the_others_and_stays_bounded) {
    constexpr std::size_t window = 64;
    constexpr uint64_t events = 100000;
    event_hub hub(window);
    auto stalled = hub.attach(nullptr);
    stalled->add_filter({});
    std::vector<std::shared_ptr<subscriber>> readers;
    for (int i = 0; i < 10; i++) {
        readers.push_back(hub.attach(nullptr));
        readers.back()->add_filter({});
    }
    std::vector<uint64_t> next_expected(readers.size(), 0);
    std::size_t most_chunks = 0, most_bytes = 0;
    for (uint64_t i = 0; i < events; i++) {
        hub.publish(hit(1, 1, i));
        // The readers keep up (drain every 32 events); the stalled one never reads.
        if (i % 32 == 31 || i + 1 == events) {
            for (std::size_t r = 0; r < readers.size(); r++) {
                for (const std::string& e : drain(*readers[r])) {
                    ASSERT_EQ(e, "hit " + std::to_string(next_expected[r]))
                        << "a reader that keeps up must lose nothing";
                    next_expected[r]++;
                }
            }
        }
        // The log never holds more than the window plus one chunk, whoever lags.
        ASSERT_LE(stalled->stats().lag, window);
        most_chunks = std::max(most_chunks, hub.log().chunk_count());
        most_bytes = std::max(most_bytes, hub.log().bytes());
    }
    for (uint64_t n : next_expected)
        EXPECT_EQ(n, events);
    EXPECT_LE(hub.log().end() - hub.log().begin(), window + window / 8);
    EXPECT_LE(most_chunks, 9u + 1);
    EXPECT_LE(most_bytes, (window + window / 8) * 12);
    subscriber_stats st = stalled->stats();
    EXPECT_EQ(st.lost + st.lag, events) << "the stalled one: every event lost or still held";
    // Every event is accounted for: delivered + announced as lost.
    uint64_t seen = 0, lost = 0;
    for (const std::string& e : drain(*stalled)) {
        if (e.rfind("lost ", 0) == 0)
            lost += std::stoull(e.substr(5));
        else
            seen++;
    }
    EXPECT_EQ(seen + lost, events);
    EXPECT_LE(seen, window);
}

// The pace of the kernel's hits: held while a reading subscriber lags more than half the window,
// not by one without filters, and not for longer than the patience (then it is stalled, and
// holds nobody back until it is within half the window again).
TEST(event_hub, readers_behind_holds_the_hits_for_a_lagging_reader_until_its_patience_ends) {
    using namespace std::chrono_literals;
    event_hub hub(8);
    auto reader = hub.attach(nullptr);
    reader->add_filter({});
    auto listener = hub.attach(nullptr); // no filter: takes nothing, holds nothing back
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (uint64_t i = 0; i < 4; i++)
        hub.publish(hit(1, 1, i));
    EXPECT_FALSE(hub.readers_behind(t0, 100ms)) << "4 behind: within half the window";
    hub.publish(hit(1, 1, 4));
    EXPECT_TRUE(hub.readers_behind(t0, 100ms)) << "5 behind";
    EXPECT_TRUE(hub.readers_behind(t0 + 100ms, 100ms)) << "not yet longer than the patience";
    EXPECT_FALSE(hub.readers_behind(t0 + 101ms, 100ms)) << "stalled: holds nothing back";
    hub.publish(hit(1, 1, 5));
    EXPECT_FALSE(hub.readers_behind(t0 + 200ms, 100ms)) << "still stalled";
    // It reads: within half the window again, then it may hold the hits back once more.
    EXPECT_EQ(drain(*reader).size(), 6u);
    EXPECT_FALSE(hub.readers_behind(t0 + 300ms, 100ms));
    for (uint64_t i = 6; i < 11; i++)
        hub.publish(hit(1, 1, i));
    EXPECT_TRUE(hub.readers_behind(t0 + 400ms, 100ms));
    EXPECT_TRUE(hub.readers_behind(t0 + 450ms, 100ms));
    EXPECT_EQ(listener->stats().delivered, 0u);
}

// A reader whose write is in flight moves no cursor for a while; while its progress (the bytes
// its peer took) grows, it is slow, not stalled, and keeps holding the hits back.
TEST(event_hub, a_lagging_reader_that_makes_progress_is_not_stalled) {
    using namespace std::chrono_literals;
    event_hub hub(8);
    auto reader = hub.attach(nullptr);
    reader->add_filter({});
    uint64_t bytes_taken = 0;
    reader->set_progress([&] { return bytes_taken; });
    for (uint64_t i = 0; i < 6; i++)
        hub.publish(hit(1, 1, i));
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int step = 0; step <= 10; step++) {
        bytes_taken += 100;
        EXPECT_TRUE(hub.readers_behind(t0 + step * 90ms, 100ms)) << "at step " << step;
    }
    EXPECT_FALSE(hub.readers_behind(t0 + 1001ms, 100ms)) << "no progress for 101 ms: stalled";
}

TEST(event_hub, a_batch_keeps_its_chunks_alive_after_the_log_drops_them) {
    event_hub hub(8);
    auto s = hub.attach(nullptr);
    s->add_filter({});
    hub.publish(hit(1, 1, 0));
    event_batch b;
    ASSERT_TRUE(s->take(b, 1 << 20, 64, piece_mode::lines));
    for (uint64_t i = 1; i < 100; i++)
        hub.publish(hit(1, 1, i)); // the first chunk leaves the log
    EXPECT_GT(hub.log().begin(), 0u);
    ASSERT_EQ(b.pieces.size(), 1u);
    EXPECT_EQ(b.pieces[0], "hit 0\n"); // still readable: the batch holds it
}

TEST(event_hub, detached_subscribers_leave_and_hub_may_die_first) {
    auto hub = std::make_unique<event_hub>();
    auto a = hub->attach(nullptr);
    {
        auto b = hub->attach(nullptr);
        EXPECT_EQ(hub->subscriber_count(), 2u);
    }
    EXPECT_EQ(hub->subscriber_count(), 1u);
    hub.reset();
    event_batch batch;
    EXPECT_FALSE(a->take(batch, 100, 10, piece_mode::lines));
    a.reset(); // must not touch the destroyed hub
}

} // namespace
} // namespace ruprobes::events

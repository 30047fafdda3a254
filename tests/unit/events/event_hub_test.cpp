// event_hub: every matching subscriber gets each event once, filters, bounded queues with loss
// notices at the gaps, and a stalled subscriber that neither slows nor grows the others.
#include "events/event_hub.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ruprobes::events {
namespace {

event_ptr hit(uint64_t probe, int64_t pid, uint64_t n) {
    auto e = std::make_shared<published_event>();
    e->kind = event_kind::probe_hit;
    e->probe = probe;
    e->pid = pid;
    e->text = "hit " + std::to_string(n);
    return e;
}

event_ptr other(event_kind kind, int64_t pid) {
    auto e = std::make_shared<published_event>();
    e->kind = kind;
    e->pid = pid;
    e->text = event_kind_name(kind);
    return e;
}

// Drains `s`: event texts, and "lost N" for loss notices.
std::vector<std::string> drain(subscriber& s) {
    std::vector<std::string> out;
    while (auto d = s.pop())
        out.push_back(d->event ? d->event->text : "lost " + std::to_string(d->lost));
    return out;
}

TEST(event_filter, kinds_probes_pids) {
    event_filter any;
    EXPECT_TRUE(any.matches(*hit(1, 10, 0)));
    EXPECT_TRUE(any.matches(*other(event_kind::target_connected, 0)));

    event_filter probes;
    probes.probes = {2};
    EXPECT_FALSE(probes.matches(*hit(1, 10, 0)));
    EXPECT_TRUE(probes.matches(*hit(2, 10, 0)));
    EXPECT_TRUE(probes.matches(*other(event_kind::process_exit, 10))); // probes: hits only

    event_filter pids;
    pids.pids = {10};
    EXPECT_TRUE(pids.matches(*hit(1, 10, 0)));
    EXPECT_FALSE(pids.matches(*hit(1, 11, 0)));
    EXPECT_FALSE(pids.matches(*other(event_kind::process_exec, 11)));
    EXPECT_TRUE(pids.matches(*other(event_kind::target_disconnected, 0)));

    event_filter kinds;
    kinds.kinds = static_cast<uint32_t>(event_kind::process_exit);
    EXPECT_FALSE(kinds.matches(*hit(1, 10, 0)));
    EXPECT_TRUE(kinds.matches(*other(event_kind::process_exit, 10)));
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
    auto a = hub.attach(16, nullptr);
    auto b = hub.attach(16, nullptr);
    auto c = hub.attach(16, nullptr);
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
}

TEST(event_hub, filter_ids_are_unique_and_removable) {
    event_hub hub;
    auto a = hub.attach(4, nullptr);
    auto b = hub.attach(4, nullptr);
    uint64_t fa = a->add_filter({});
    uint64_t fb = b->add_filter({});
    EXPECT_NE(fa, fb);
    EXPECT_FALSE(a->remove_filter(fb)); // not a's
    EXPECT_TRUE(a->remove_filter(fa));
    hub.publish(hit(1, 1, 0));
    EXPECT_TRUE(a->empty());
    EXPECT_FALSE(b->empty());
}

TEST(event_hub, full_queue_drops_and_reports_loss_at_the_gap) {
    event_hub hub;
    auto s = hub.attach(3, nullptr);
    s->add_filter({});
    for (uint64_t i = 0; i < 10; i++)
        hub.publish(hit(1, 1, i));
    // 0,1,2 queued; 3..9 lost after them.
    EXPECT_EQ(s->stats().queued, 3u);
    EXPECT_EQ(s->stats().lost, 7u);
    ASSERT_EQ(s->pop()->event->text, "hit 0");
    hub.publish(hit(1, 1, 10)); // room again: queued after the gap
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"hit 1", "hit 2", "lost 7", "hit 10"}));
    EXPECT_TRUE(s->empty());
    EXPECT_EQ(s->stats().delivered, 4u);
}

TEST(event_hub, wake_only_on_empty_to_non_empty) {
    event_hub hub;
    int wakes = 0;
    auto s = hub.attach(2, [&] { wakes++; });
    s->add_filter({});
    hub.publish(hit(1, 1, 0));
    hub.publish(hit(1, 1, 1));
    hub.publish(hit(1, 1, 2)); // lost
    EXPECT_EQ(wakes, 1);
    drain(*s);
    hub.publish(hit(1, 1, 3));
    EXPECT_EQ(wakes, 2);
}

TEST(event_hub, loss_only_is_delivered_as_a_notice) {
    event_hub hub;
    auto s = hub.attach(1, nullptr);
    s->add_filter({});
    hub.publish(hit(1, 1, 0));
    hub.publish(hit(1, 1, 1));
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"hit 0", "lost 1"}));
}

TEST(event_hub, stalled_subscriber_neither_slows_nor_starves_the_others_and_stays_bounded) {
    event_hub hub;
    constexpr std::size_t capacity = 64;
    constexpr uint64_t events = 100000;
    auto stalled = hub.attach(capacity, nullptr);
    stalled->add_filter({});
    std::vector<std::shared_ptr<subscriber>> readers;
    for (int i = 0; i < 10; i++) {
        readers.push_back(hub.attach(capacity, nullptr));
        readers.back()->add_filter({});
    }
    std::vector<uint64_t> received(readers.size(), 0);
    std::vector<uint64_t> next_expected(readers.size(), 0);
    for (uint64_t i = 0; i < events; i++) {
        hub.publish(hit(1, 1, i));
        // The readers keep up (drain every 32 events); the stalled one never reads.
        if (i % 32 == 31 || i + 1 == events) {
            for (std::size_t r = 0; r < readers.size(); r++) {
                while (auto d = readers[r]->pop()) {
                    ASSERT_TRUE(d->event) << "a reader that keeps up must lose nothing";
                    EXPECT_EQ(d->event->text, "hit " + std::to_string(next_expected[r]));
                    next_expected[r]++;
                    received[r]++;
                }
            }
        }
        // The stalled subscriber's queue never grows past its capacity.
        ASSERT_LE(stalled->stats().queued, capacity);
    }
    for (uint64_t n : received)
        EXPECT_EQ(n, events);
    subscriber_stats st = stalled->stats();
    EXPECT_EQ(st.queued, capacity);
    EXPECT_EQ(st.lost, events - capacity);
    // Every event is accounted for: delivered + announced as lost.
    uint64_t seen = 0, lost = 0;
    while (auto d = stalled->pop()) {
        if (d->event)
            seen++;
        else
            lost += d->lost;
    }
    EXPECT_EQ(seen + lost, events);
}

TEST(event_hub, detached_subscribers_leave_and_hub_may_die_first) {
    auto hub = std::make_unique<event_hub>();
    auto a = hub->attach(4, nullptr);
    {
        auto b = hub->attach(4, nullptr);
        EXPECT_EQ(hub->subscriber_count(), 2u);
    }
    EXPECT_EQ(hub->subscriber_count(), 1u);
    hub.reset();
    a.reset(); // must not touch the destroyed hub
}

} // namespace
} // namespace ruprobes::events

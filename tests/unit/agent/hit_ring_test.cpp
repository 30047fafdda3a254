// The agent's hit ring (protocol/README.md §4): consecutive seq numbers for stored records,
// counted drops when full, records kept until acknowledged and sent again after a rewind.
#include "agent/event_queue.hpp"
#include "agent/hit_ring.hpp"

#include "ruprobes/ruprobes.h"

#include <gtest/gtest.h>

#include <memory>

namespace {

uprobes_hit make_hit(uint64_t n) {
    uprobes_hit h{};
    h.probe_id = 1;
    h.pid = 3;
    h.tid = 3;
    h.pc = 0x40000000 + n;
    h.a[0] = n;
    h.retval = n * 2;
    h.flags = UPROBES_HIT_RETURN_VALUE;
    return h;
}

} // namespace

TEST(HitRing, StoredRecordsGetConsecutiveSeqAndFullRingCountsDrops) {
    auto ring = std::make_unique<hit_ring>();
    for (uint64_t i = 0; i < hit_ring::capacity + 10; i++) {
        ring->push(make_hit(i));
    }
    EXPECT_EQ(ring->size(), hit_ring::capacity);
    EXPECT_EQ(ring->dropped(), 10u);
    EXPECT_EQ(ring->at(0).seq, 1u);
    EXPECT_EQ(ring->at(hit_ring::capacity - 1).seq, hit_ring::capacity);
    EXPECT_EQ(ring->next_seq(), hit_ring::capacity + 1);
    EXPECT_EQ(ring->at(5).a[0], 5u);
    EXPECT_EQ(ring->at(5).ret, 10u);
    EXPECT_EQ(ring->at(5).flags, ruprobes::wire::hit_flag_ret_valid);
}

// The record sink's reserve(): the record is stored at once (seq, size, unsent) and filled in
// place afterwards; a full ring gives nullptr and counts the drop, interleaved with push() the
// seq numbers stay consecutive.
TEST(HitRing, ReserveStoresTheRecordAtOnce) {
    auto ring = std::make_unique<hit_ring>();
    ruprobes::wire::hit_record* r = ring->reserve();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->seq, 1u);
    EXPECT_EQ(ring->size(), 1u);
    EXPECT_EQ(ring->unsent(), 1u);
    EXPECT_EQ(ring->next_seq(), 2u);
    r->pc = 0x1234;
    EXPECT_EQ(&ring->at(0), r);
    EXPECT_EQ(ring->at(0).pc, 0x1234u);
    ring->push(make_hit(7));
    EXPECT_EQ(ring->at(1).seq, 2u);
    for (uint32_t i = 2; i < hit_ring::capacity; i++) {
        ASSERT_NE(ring->reserve(), nullptr);
    }
    EXPECT_EQ(ring->reserve(), nullptr);
    EXPECT_EQ(ring->dropped(), 1u);
    EXPECT_EQ(ring->size(), hit_ring::capacity);
    EXPECT_EQ(ring->at(hit_ring::capacity - 1).seq, hit_ring::capacity);
}

TEST(HitRing, RecordsStayUntilAcknowledgedAndGoAgainAfterRewind) {
    auto ring = std::make_unique<hit_ring>();
    for (uint64_t i = 0; i < 100; i++) {
        ring->push(make_hit(i));
    }
    EXPECT_EQ(ring->unsent(), 100u);
    ring->mark_sent(62);
    EXPECT_EQ(ring->unsent(), 38u);
    EXPECT_EQ(ring->unsent_at(0).seq, 63u);
    ring->ack(32); // the host has 1..31
    EXPECT_EQ(ring->size(), 69u);
    EXPECT_EQ(ring->oldest_seq(), 32u);
    EXPECT_EQ(ring->unsent(), 38u);
    ring->rewind(); // a new connection: 32.. go again
    EXPECT_EQ(ring->unsent(), 69u);
    EXPECT_EQ(ring->unsent_at(0).seq, 32u);
    ring->mark_sent(69);
    ring->ack(101);
    EXPECT_EQ(ring->size(), 0u);
    EXPECT_EQ(ring->oldest_seq(), 101u);
    EXPECT_EQ(ring->dropped(), 0u);
}

TEST(HitRing, DiscardCountsAsDropped) {
    auto ring = std::make_unique<hit_ring>();
    for (uint64_t i = 0; i < 7; i++) {
        ring->push(make_hit(i));
    }
    ring->discard_all();
    EXPECT_EQ(ring->size(), 0u);
    EXPECT_EQ(ring->dropped(), 7u);
    ring->push(make_hit(0));
    EXPECT_EQ(ring->at(0).seq, 8u); // numbering goes on
}

TEST(EventQueue, BoundedWithCountedOverflow) {
    event_queue q;
    agent_event e;
    for (uint32_t i = 0; i < event_queue::capacity + 3; i++) {
        e.pid = i;
        q.push(e);
    }
    EXPECT_EQ(q.dropped(), 3u);
    EXPECT_EQ(q.front().pid, 0u);
    q.pop();
    EXPECT_EQ(q.front().pid, 1u);
    q.discard_all();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.dropped(), 3u + event_queue::capacity - 1);
}

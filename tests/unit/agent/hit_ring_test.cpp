// The agent's hit ring (protocol/README.md §4): consecutive seq numbers for stored records,
// counted drops when full, records kept until acknowledged and sent again after a rewind.
#include "agent/event_queue.hpp"
#include "agent/hit_ring.hpp"

#include "ruprobes/ruprobes.h"
#include "ruprobes/wire/codec.hpp"
#include "ruprobes/wire/fetch.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

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

// A hit with fetched data (hit_ring::push_with_data): the hit record and its continuation
// records, in consecutive seq, all or nothing; the host's reassembly (ruprobes/wire/fetch.hpp)
// gives back exactly the data stored.
TEST(HitRing, FetchedDataGoesInContinuationRecordsThatTheHostReassembles) {
    namespace wire = ruprobes::wire;
    auto ring = std::make_unique<hit_ring>();
    ring->push(make_hit(0));
    uint8_t data[200];
    for (int i = 0; i < 200; i++)
        data[i] = uint8_t(i * 13 + 1);
    ASSERT_TRUE(ring->push_with_data(make_hit(1), data, sizeof data));
    ring->push(make_hit(2));
    ASSERT_EQ(ring->size(), 1u + 1u + 3u + 1u); // 200 bytes: 3 continuation records
    EXPECT_EQ(ring->at(1).flags, wire::hit_flag_ret_valid | wire::hit_flag_fetch);
    EXPECT_EQ(ring->at(1).fetch_records, 3u);
    EXPECT_EQ(ring->at(1).a[0], 1u);
    EXPECT_EQ(ring->at(2).kind, wire::hit_kind_fetch_data);
    EXPECT_EQ(ring->at(5).seq, 6u);
    EXPECT_EQ(ring->at(5).fetch_records, 0u);

    struct sink {
        std::vector<uint64_t> plain;
        std::vector<uint8_t> data;
        int fetched = 0;
        bool complete = false;
        void plain_record(const wire::hit_record& r) { plain.push_back(r.seq); }
    };
    struct adapter {
        sink& s;
        void plain(const wire::hit_record& r) { s.plain_record(r); }
        void fetched(const wire::hit_record& head, wire::bytes d, bool complete) {
            EXPECT_EQ(head.seq, 2u);
            s.data.assign(d.begin(), d.end());
            s.fetched++;
            s.complete = complete;
        }
        void stray(const wire::hit_record&) { ADD_FAILURE() << "stray record"; }
    };
    sink s;
    adapter a{s};
    wire::fetch_assembler assembler;
    for (uint32_t i = 0; i < ring->size(); i++) {
        // Through the wire encoding, as the host receives them.
        std::vector<uint8_t> bytes(wire::hit_record_size);
        std::memcpy(bytes.data(), &ring->at(i), wire::hit_record_size);
        auto r = wire::decode_fields<wire::hit_record>(bytes);
        ASSERT_TRUE(r.ok());
        assembler.feed(*r, a);
    }
    EXPECT_EQ(s.plain, (std::vector<uint64_t>{1, 6}));
    EXPECT_EQ(s.fetched, 1);
    EXPECT_TRUE(s.complete);
    EXPECT_EQ(s.data, std::vector<uint8_t>(data, data + sizeof data));

    // No room for the hit and all its records: nothing is stored, one record counts as dropped.
    auto full = std::make_unique<hit_ring>();
    for (uint32_t i = 0; i < hit_ring::capacity - 2; i++)
        full->push(make_hit(i));
    EXPECT_FALSE(full->push_with_data(make_hit(9), data, sizeof data));
    EXPECT_EQ(full->size(), hit_ring::capacity - 2);
    EXPECT_EQ(full->dropped(), 1u);
    EXPECT_TRUE(full->push_with_data(make_hit(9), data, 80)); // one continuation record fits
    EXPECT_EQ(full->size(), hit_ring::capacity);
}

// The agent's per-hart hit rings (protocol/README.md §4), one thread: consecutive seq numbers for
// stored records, counted drops when full, records kept until acknowledged and sent again after a
// rewind. hit_rings_threads_test.cpp runs them with a producer thread per hart.
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

// Rings for the most harts: total_records / max_harts records each.
constexpr uint32_t cap = hit_rings::total_records / hit_rings::max_harts;

std::unique_ptr<hit_rings> make_rings(uint32_t harts = hit_rings::max_harts) {
    auto rings = std::make_unique<hit_rings>();
    rings->configure(harts);
    return rings;
}

// Sends every record the rings let go (unsent_run, mark_sent), as the agent does, and returns
// them in the order they went.
std::vector<ruprobes::wire::hit_record>
send_all(hit_rings& rings, uint32_t max = ruprobes::wire::max_hits_per_frame) {
    std::vector<ruprobes::wire::hit_record> out;
    while (true) {
        hit_run run = rings.unsent_run(max);
        if (run.n == 0) {
            return out;
        }
        EXPECT_EQ(run.first_seq, run.records[0].seq);
        out.insert(out.end(), run.records, run.records + run.n);
        rings.mark_sent(run);
    }
}

} // namespace

TEST(HitRing, StoredRecordsGetConsecutiveSeqAndFullRingCountsDrops) {
    auto ring = make_rings();
    for (uint64_t i = 0; i < cap + 10; i++) {
        ring->push(0, make_hit(i));
    }
    EXPECT_EQ(ring->size(), cap);
    EXPECT_EQ(ring->dropped(), 10u);
    EXPECT_EQ(ring->next_seq(), cap + 1);
    auto sent = send_all(*ring);
    ASSERT_EQ(sent.size(), cap);
    EXPECT_EQ(sent[0].seq, 1u);
    EXPECT_EQ(sent[cap - 1].seq, cap);
    EXPECT_EQ(sent[5].a[0], 5u);
    EXPECT_EQ(sent[5].ret, 10u);
    EXPECT_EQ(sent[5].flags, ruprobes::wire::hit_flag_ret_valid);
}

// The record sink's reserve(): the record gets its seq at once and is filled in place; only
// commit() lets the agent see it. A full ring gives nullptr and counts the drop, interleaved
// with push() the seq numbers stay consecutive.
TEST(HitRing, ReserveGivesTheSeqAndCommitPublishes) {
    auto ring = make_rings();
    ruprobes::wire::hit_record* r = ring->reserve(0);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->seq, 1u);
    EXPECT_EQ(ring->next_seq(), 2u);
    EXPECT_EQ(ring->unsent_run(8).n, 0u) << "not committed yet";
    r->pc = 0x1234;
    EXPECT_EQ(ring->ring_of(r), 0u);
    ring->commit(0);
    EXPECT_EQ(ring->size(), 1u);
    EXPECT_EQ(ring->unsent(), 1u);
    ring->push(0, make_hit(7));
    for (uint32_t i = 2; i < cap; i++) {
        ASSERT_NE(ring->reserve(0), nullptr);
        ring->commit(0);
    }
    EXPECT_EQ(ring->reserve(0), nullptr);
    EXPECT_EQ(ring->dropped(), 1u);
    EXPECT_EQ(ring->next_seq(), cap + 1) << "a drop takes no seq";
    auto sent = send_all(*ring);
    ASSERT_EQ(sent.size(), cap);
    EXPECT_EQ(sent[0].pc, 0x1234u);
    EXPECT_EQ(sent[1].seq, 2u);
    EXPECT_EQ(sent[1].a[0], 7u);
    // Another hart's ring is its own: room there, and the ring is found from the record.
    ruprobes::wire::hit_record* other = ring->reserve(5);
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(ring->ring_of(other), 5u);
    EXPECT_EQ(other->seq, cap + 1);
    ring->commit(5);
    // A hart id out of range loses the record, counted.
    EXPECT_EQ(ring->reserve(hit_rings::max_harts), nullptr);
    EXPECT_EQ(ring->dropped(), 2u);
}

// The records are split among the harts the kernel declares, in powers of two; one hart keeps
// them all in one ring, which the trap path reaches through constants (reserve<true>).
TEST(HitRing, ConfigureSplitsTheRecordsAmongTheHarts) {
    EXPECT_EQ(make_rings(1)->ring_capacity(), hit_rings::total_records);
    EXPECT_EQ(make_rings(2)->ring_capacity(), hit_rings::total_records / 2);
    EXPECT_EQ(make_rings(3)->ring_capacity(), hit_rings::total_records / 4);
    EXPECT_EQ(make_rings(0)->ring_capacity(), cap);
    auto later = make_rings(2);
    later->configure(1); // the first call decides
    EXPECT_EQ(later->ring_capacity(), hit_rings::total_records / 2);

    auto one = make_rings(1);
    for (uint32_t i = 0; i < hit_rings::total_records; i++) {
        bool crowded = false;
        ruprobes::wire::hit_record* r = one->reserve<true>(0, 1, &crowded);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(crowded, i >= hit_rings::total_records / 4 * 3) << i;
        r->a[0] = i;
        EXPECT_EQ(one->commit<true>(0), i + 1);
    }
    bool crowded = false;
    EXPECT_EQ(one->reserve<true>(0, 1, &crowded), nullptr);
    EXPECT_TRUE(crowded);
    EXPECT_EQ(one->reserve(1), nullptr) << "no ring for a second hart";
    EXPECT_EQ(one->dropped(), 2u);
    auto sent = send_all(*one);
    ASSERT_EQ(sent.size(), hit_rings::total_records);
    EXPECT_EQ(sent.back().seq, hit_rings::total_records);
    EXPECT_EQ(sent.back().a[0], hit_rings::total_records - 1);
    one->ack(one->next_unsent());
    EXPECT_NE(one->reserve<true>(0), nullptr) << "room again once acknowledged";
}

TEST(HitRing, RecordsStayUntilAcknowledgedAndGoAgainAfterRewind) {
    auto ring = make_rings();
    for (uint64_t i = 0; i < 100; i++) {
        ring->push(uint32_t(i % 3), make_hit(i)); // three harts, interleaved
    }
    EXPECT_EQ(ring->unsent(), 100u);
    auto first = send_all(*ring, 1);
    ASSERT_EQ(first.size(), 100u);
    EXPECT_EQ(ring->unsent(), 0u);
    EXPECT_TRUE(ring->unacknowledged());
    ring->ack(32); // the host has 1..31
    EXPECT_EQ(ring->size(), 69u);
    EXPECT_EQ(ring->oldest_seq(), 32u);
    ring->rewind(); // a new connection: 32.. go again
    EXPECT_EQ(ring->unsent(), 69u);
    EXPECT_EQ(ring->next_unsent(), 32u);
    auto again = send_all(*ring);
    ASSERT_EQ(again.size(), 69u);
    for (size_t i = 0; i < again.size(); i++) {
        EXPECT_EQ(again[i].seq, 32u + i);
        EXPECT_EQ(again[i].a[0], 31u + i);
    }
    ring->ack(101);
    EXPECT_EQ(ring->size(), 0u);
    EXPECT_EQ(ring->oldest_seq(), 101u);
    EXPECT_FALSE(ring->unacknowledged());
    EXPECT_EQ(ring->dropped(), 0u);
}

// An acknowledgement frees exactly the records before its seq: on one hart (dense seqs, found
// without a search) across the ring's end, and on three (a hart's seqs have gaps).
TEST(HitRing, AcknowledgementsFreeExactlyTheRecordsBeforeThem) {
    auto ring = make_rings(1);
    const uint64_t before = hit_rings::total_records - 10;
    for (uint64_t i = 0; i < before; i++) {
        ring->push(0, make_hit(i));
    }
    ASSERT_EQ(send_all(*ring).size(), before);
    ring->ack(ring->next_unsent());
    ASSERT_EQ(ring->size(), 0u);
    const uint64_t base = before + 1; // the seq of the next record
    for (uint64_t i = 0; i < 100; i++) {
        ring->push(0, make_hit(i)); // ten before the ring's end, ninety after
    }
    ASSERT_EQ(send_all(*ring).size(), 100u);
    for (uint64_t acked : {base, base + 1, base + 9, base + 10, base + 37, base + 99, base + 100}) {
        ring->ack(acked);
        EXPECT_EQ(ring->size(), base + 100 - acked) << "acknowledged up to " << acked;
    }

    auto three = make_rings(3);
    for (uint64_t i = 0; i < 60; i++) {
        three->push(uint32_t(i % 3 == 2 ? 2 : i % 2), make_hit(i));
    }
    ASSERT_EQ(send_all(*three, 1).size(), 60u);
    for (uint64_t acked : {2u, 3u, 20u, 21u, 45u, 61u}) {
        three->ack(acked);
        EXPECT_EQ(three->size(), 61 - acked) << "acknowledged up to " << acked;
    }
}

// Harts whose hits interleave leave runs of a record each: unsent_runs gives them together (for
// one frame) without marking them sent; a long run comes only first, and alone.
TEST(HitRing, InterleavedHartsGiveTheirRunsTogetherForOneFrame) {
    auto rings = make_rings(4);
    for (uint64_t i = 0; i < 10; i++) {
        rings->push(uint32_t(i % 4), make_hit(i)); // seq i + 1 on hart i % 4
    }
    for (uint64_t i = 10; i < 15; i++) {
        rings->push(2, make_hit(i)); // seqs 11..15: one run of hart 2
    }
    hit_run runs[ruprobes::wire::max_hits_per_frame];
    uint32_t count = rings->unsent_runs(31, 2, runs, 31);
    ASSERT_EQ(count, 10u) << "the run of five waits for a frame of its own";
    for (uint32_t i = 0; i < count; i++) {
        EXPECT_EQ(runs[i].n, 1u);
        EXPECT_EQ(runs[i].ring, i % 4);
        EXPECT_EQ(runs[i].first_seq, i + 1);
        EXPECT_EQ(runs[i].records[0].seq, i + 1);
    }
    EXPECT_EQ(rings->next_unsent(), 1u) << "nothing is marked sent";
    EXPECT_EQ(rings->unsent(), 15u);
    EXPECT_EQ(rings->unsent_runs(4, 2, runs, 31), 4u) << "at most `max` records";
    EXPECT_EQ(rings->unsent_runs(31, 2, runs, 3), 3u) << "at most `max_runs` runs";
    count = rings->unsent_runs(31, 2, runs, 31);
    for (uint32_t i = 0; i < count; i++) {
        rings->mark_sent(runs[i]);
    }
    EXPECT_EQ(rings->next_unsent(), 11u);
    count = rings->unsent_runs(31, 2, runs, 31);
    ASSERT_EQ(count, 1u);
    EXPECT_EQ(runs[0].n, 5u);
    EXPECT_EQ(runs[0].first_seq, 11u);
    rings->mark_sent(runs[0]);
    EXPECT_EQ(rings->unsent(), 0u);
    EXPECT_EQ(rings->unsent_runs(31, 2, runs, 31), 0u);
    // Sent, acknowledged up to 6, rewound: the rest goes again, from 6.
    rings->ack(6);
    rings->rewind();
    count = rings->unsent_runs(31, 31, runs, 31);
    ASSERT_EQ(count, 6u);
    EXPECT_EQ(runs[0].first_seq, 6u);
    EXPECT_EQ(runs[5].first_seq, 11u);
    EXPECT_EQ(runs[5].n, 5u);
}

TEST(HitRing, DiscardCountsAsDropped) {
    auto ring = make_rings();
    for (uint64_t i = 0; i < 7; i++) {
        ring->push(uint32_t(i % 2), make_hit(i));
    }
    // A record reserved before the discard and committed after it is discarded too.
    ruprobes::wire::hit_record* late = ring->reserve(3);
    ASSERT_NE(late, nullptr);
    ring->discard_all();
    EXPECT_EQ(ring->size(), 0u);
    EXPECT_EQ(ring->dropped(), 7u);
    ring->commit(3);
    ring->push(0, make_hit(0));
    auto sent = send_all(*ring);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].seq, 9u); // numbering goes on
    EXPECT_EQ(ring->dropped(), 8u);
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

// A hit with fetched data (hit_rings::push_with_data): the hit record and its continuation
// records, in consecutive seq, all or nothing; the host's reassembly (ruprobes/wire/fetch.hpp)
// gives back exactly the data stored.
TEST(HitRing, FetchedDataGoesInContinuationRecordsThatTheHostReassembles) {
    namespace wire = ruprobes::wire;
    auto ring = make_rings();
    ring->push(0, make_hit(0));
    uint8_t data[200];
    for (int i = 0; i < 200; i++)
        data[i] = uint8_t(i * 13 + 1);
    ASSERT_TRUE(ring->push_with_data(0, make_hit(1), data, sizeof data));
    ring->push(0, make_hit(2));
    const auto recs = send_all(*ring);
    ASSERT_EQ(recs.size(), 1u + 1u + 3u + 1u); // 200 bytes: 3 continuation records
    EXPECT_EQ(recs.at(1).flags, wire::hit_flag_ret_valid | wire::hit_flag_fetch);
    EXPECT_EQ(recs.at(1).fetch_records, 3u);
    EXPECT_EQ(recs.at(1).a[0], 1u);
    EXPECT_EQ(recs.at(2).kind, wire::hit_kind_fetch_data);
    EXPECT_EQ(recs.at(5).seq, 6u);
    EXPECT_EQ(recs.at(5).fetch_records, 0u);

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
    for (uint32_t i = 0; i < recs.size(); i++) {
        // Through the wire encoding, as the host receives them.
        std::vector<uint8_t> bytes(wire::hit_record_size);
        std::memcpy(bytes.data(), &recs.at(i), wire::hit_record_size);
        auto r = wire::decode_fields<wire::hit_record>(bytes);
        ASSERT_TRUE(r.ok());
        assembler.feed(*r, a);
    }
    EXPECT_EQ(s.plain, (std::vector<uint64_t>{1, 6}));
    EXPECT_EQ(s.fetched, 1);
    EXPECT_TRUE(s.complete);
    EXPECT_EQ(s.data, std::vector<uint8_t>(data, data + sizeof data));

    // No room for the hit and all its records: nothing is stored, one record counts as dropped.
    auto full = make_rings();
    for (uint32_t i = 0; i < cap - 2; i++)
        full->push(1, make_hit(i));
    EXPECT_FALSE(full->push_with_data(1, make_hit(9), data, sizeof data));
    EXPECT_EQ(full->size(), cap - 2);
    EXPECT_EQ(full->dropped(), 1u);
    EXPECT_EQ(full->next_seq(), cap - 1) << "a drop takes no seq";
    EXPECT_TRUE(full->push_with_data(1, make_hit(9), data, 80)); // one continuation record fits
    EXPECT_EQ(full->size(), cap);
}

// The per-hart hit rings with real concurrency: a producer thread per "hart" (reserve, fill,
// commit, as the trap path does) and one consumer (the agent: merge by seq, send, acknowledge,
// rewind). Every record arrives exactly once (again only after a rewind, unchanged), seq numbers
// are dense and shipped in order, a record never goes before it and every smaller seq are
// committed, and every drop is counted.
#include "agent/hit_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

namespace wire = ruprobes::wire;

// What a producer writes between reserve and commit: a record shipped before its commit shows
// another seq's (or no) value here.
uint64_t stamp(uint64_t seq) {
    return seq * 0x9e37'79b9'7f4a'7c15ull + 1;
}

// Rings for the most harts: total_records / max_harts records each.
constexpr uint32_t cap = hit_rings::total_records / hit_rings::max_harts;

std::unique_ptr<hit_rings> make_rings(uint32_t harts = hit_rings::max_harts) {
    auto rings = std::make_unique<hit_rings>();
    rings->configure(harts);
    return rings;
}

struct producer_result {
    uint64_t stored = 0;
    uint64_t dropped = 0;
};

// `attempts` records on `hart`, each filled slowly (a few hundred spins at random) between
// reserve and commit, so that other harts commit larger seqs meanwhile.
void produce(hit_rings& rings, uint32_t hart, uint32_t attempts, producer_result& out) {
    std::minstd_rand rng(hart + 1);
    for (uint32_t i = 0; i < attempts; i++) {
        wire::hit_record* r = rings.reserve(hart);
        if (r == nullptr) {
            out.dropped++;
            std::this_thread::yield(); // let the consumer run on a small machine
            continue;
        }
        r->pid = hart;
        r->a[0] = i;
        for (uint32_t spin = rng() % 256; spin > 0; spin--) {
            __asm__ volatile("" ::: "memory");
        }
        r->a[1] = stamp(r->seq);
        rings.commit(hart);
        out.stored++;
    }
}

} // namespace

TEST(HitRingsThreads, EveryRecordOnceDenseInSeqOrderAndDropsCounted) {
    constexpr uint32_t harts = 4;
    constexpr uint32_t attempts = 60000;
    auto rings = make_rings();
    std::vector<producer_result> results(harts);
    std::atomic<uint32_t> running{harts};
    std::vector<std::thread> producers;
    for (uint32_t h = 0; h < harts; h++) {
        producers.emplace_back([&, h] {
            produce(*rings, h, attempts, results[h]);
            running.fetch_sub(1);
        });
    }

    // The consumer: what the host received, by seq (stamp, hart, index), checked as it comes.
    struct got {
        uint64_t stamp = 0;
        uint32_t hart = 0;
        uint64_t index = 0;
    };
    std::vector<got> received(1); // seq 0 is never used
    std::vector<int64_t> last_index(harts, -1);
    uint64_t sent_records = 0, resent = 0, rounds = 0;
    bool failed = false;
    while (!failed) {
        const bool done = running.load() == 0; // read before the rings: nothing comes after
        hit_run run = rings->unsent_run(wire::max_hits_per_frame);
        if (run.n == 0) {
            if (done && rings->next_unsent() == rings->next_seq()) {
                break;
            }
            std::this_thread::yield();
            continue;
        }
        ASSERT_EQ(run.first_seq, rings->next_unsent());
        for (uint32_t i = 0; i < run.n && !failed; i++) {
            const wire::hit_record& r = run.records[i];
            const uint64_t seq = run.first_seq + i;
            if (r.seq != seq || r.a[1] != stamp(seq) || r.pid != run.ring) {
                ADD_FAILURE() << "record " << i << " of a run from " << run.first_seq << ": seq "
                              << r.seq << ", stamp ok " << (r.a[1] == stamp(seq)) << ", hart "
                              << r.pid << " in ring " << run.ring;
                failed = true;
                break;
            }
            if (seq < received.size()) { // sent again after a rewind: unchanged
                resent++;
                EXPECT_EQ(received[seq].stamp, r.a[1]);
                EXPECT_EQ(received[seq].index, r.a[0]);
                continue;
            }
            ASSERT_EQ(seq, received.size()) << "seq numbers are dense and go in order";
            received.push_back(got{r.a[1], r.pid, r.a[0]});
            // A hart's records come in the order it made them.
            EXPECT_GT(int64_t(r.a[0]), last_index[r.pid]);
            last_index[r.pid] = int64_t(r.a[0]);
        }
        rings->mark_sent(run);
        sent_records += run.n;
        // The host acknowledges now and then (the rings fill meanwhile and drop), and a
        // reconnection now and then has the unacknowledged records sent again.
        if (++rounds % 7 == 0) {
            rings->ack(rings->next_unsent());
        } else if (rounds % 101 == 0) {
            rings->rewind();
        }
    }
    for (std::thread& t : producers) {
        t.join();
    }
    uint64_t stored = 0, dropped = 0;
    for (const producer_result& r : results) {
        stored += r.stored;
        dropped += r.dropped;
    }
    EXPECT_EQ(received.size() - 1, stored) << "every stored record arrived once";
    EXPECT_EQ(rings->next_seq(), stored + 1) << "a dropped record takes no seq";
    EXPECT_EQ(rings->dropped(), dropped);
    EXPECT_EQ(stored + dropped, uint64_t(harts) * attempts);
    EXPECT_GT(resent, 0u);
}

// Deterministic: a record reserved on one hart and not committed holds back every larger seq,
// committed or not, on every hart.
TEST(HitRingsThreads, NothingGoesBeforeASmallerSeqIsCommitted) {
    auto rings = make_rings();
    wire::hit_record* slow = rings->reserve(2); // seq 1, being written on hart 2
    ASSERT_NE(slow, nullptr);
    std::thread other([&] {
        for (int i = 0; i < 5; i++) {
            rings->push(1, uprobes_hit{}); // seq 2..6 on hart 1
        }
    });
    other.join();
    EXPECT_EQ(rings->unsent(), 5u);
    EXPECT_EQ(rings->unsent_run(64).n, 0u) << "seq 2.. wait for seq 1";
    rings->commit(2);
    hit_run run = rings->unsent_run(64);
    ASSERT_EQ(run.n, 1u);
    EXPECT_EQ(run.ring, 2u);
    EXPECT_EQ(run.first_seq, 1u);
    rings->mark_sent(run);
    run = rings->unsent_run(64);
    ASSERT_EQ(run.n, 5u);
    EXPECT_EQ(run.ring, 1u);
    EXPECT_EQ(run.first_seq, 2u);
}

// Every hart's ring fills on its own: with the consumer away, each of 4 producers threads
// stores exactly capacity records and drops the rest, counted.
TEST(HitRingsThreads, FullRingsDropExactlyWhatTheyCannotHold) {
    constexpr uint32_t harts = 4;
    constexpr uint32_t extra = 333;
    auto rings = make_rings();
    std::vector<producer_result> results(harts);
    std::vector<std::thread> producers;
    for (uint32_t h = 0; h < harts; h++) {
        producers.emplace_back([&, h] { produce(*rings, h, cap + extra + h, results[h]); });
    }
    for (std::thread& t : producers) {
        t.join();
    }
    uint64_t dropped = 0;
    for (uint32_t h = 0; h < harts; h++) {
        EXPECT_EQ(results[h].stored, cap);
        EXPECT_EQ(results[h].dropped, extra + h);
        dropped += extra + h;
    }
    EXPECT_EQ(rings->dropped(), dropped);
    EXPECT_EQ(rings->next_seq(), uint64_t(harts) * cap + 1);
    // The merge gives them back in seq order, each hart's in the order it made them.
    uint64_t seq = 1;
    while (true) {
        hit_run run = rings->unsent_run(wire::max_hits_per_frame);
        if (run.n == 0) {
            break;
        }
        for (uint32_t i = 0; i < run.n; i++) {
            ASSERT_EQ(run.records[i].seq, seq++);
            ASSERT_EQ(run.records[i].a[1], stamp(run.records[i].seq));
        }
        rings->mark_sent(run);
    }
    EXPECT_EQ(seq, uint64_t(harts) * cap + 1);
    // Room comes back once the host acknowledges.
    rings->ack(seq);
    EXPECT_EQ(rings->size(), 0u);
    EXPECT_NE(rings->reserve(3), nullptr);
}

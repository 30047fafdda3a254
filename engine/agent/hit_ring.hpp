// The hit records between the trap path and the agent thread (protocol/README.md §4): one
// bounded single-producer/single-consumer ring per hart. The producer of a ring is the trap path
// on its hart (interrupts off, one hit at a time per hart, os_agent_hart_id), the consumer the
// agent thread; neither takes a lock: the ring indices are published with acquire/release
// atomics. reserve() never waits: when the hart's ring is full the record is dropped and counted.
// Sequence numbers are global and dense: a record takes the next one (one atomic fetch-add) only
// once its room is known, so a dropped record takes none. The agent ships the records merged by
// seq, and only a contiguous prefix: a record waits while one with a smaller seq is reserved but
// not committed yet on another hart. A record stays in its ring after it was sent until the host
// acknowledges it, so that a host reconnecting with the same session gets the records that were
// in flight again.
//
// The 2 MiB of records are split evenly among the harts the kernel declares (configure): one
// hart keeps one ring of 16384 records, 8 harts get 2048 each. With one hart the trap path uses
// the ring's constants (reserve<true>, commit<true>) and never asks which hart it runs on.
//
// In one ring, positions are free-running 32-bit counters:
//
//   head                      sent                      tail             (committed)
//    | sent, not acknowledged  | not sent yet            |
//
// tail is the producer's (release at commit, acquire in the agent), head and sent the agent's
// (head released once the host has the records, acquired by the producer before it reuses room).
// The agent's side (everything but reserve/commit/push/push_with_data and the counters' reads) is
// called from the agent thread only, under the agent's lock as the rest of its state.
#pragma once

#include "ruprobes/agent.h"
#include "ruprobes/ruprobes.h"
#include "ruprobes/wire/fetch.hpp"
#include "ruprobes/wire/messages.hpp"

// One run of unsent records of one ring, consecutive in seq and in memory.
struct hit_run {
    const ruprobes::wire::hit_record* records = nullptr;
    uint32_t n = 0;
    uint32_t ring = 0;
    uint64_t first_seq = 0;
};

class hit_rings {
public:
    // The most harts the agent takes hits from: os_agent_hart_id() must be below it.
    static constexpr uint32_t max_harts = RUPROBES_AGENT_MAX_HARTS;
    static_assert((max_harts & (max_harts - 1)) == 0);
    // Records of all rings together: 2 MiB, about 100 ms of host acknowledgement delay at one
    // hart's full hit rate.
    static constexpr uint32_t total_records = 16384;

    // Splits the records among `harts` rings (0: max_harts; at most max_harts), each a power of
    // two; rings beyond them take nothing (counted as dropped). The first call decides (later
    // ones change nothing); until then no ring takes a record.
    void configure(uint32_t harts);
    // Records per ring.
    uint32_t ring_capacity() const { return ring_capacity_; }
    // Rings in use.
    uint32_t harts() const { return harts_in_use_; }

    // ---- producer: the trap path of hart `hart` ----------------------------------------------

    // Room for `n` consecutive records in `hart`'s ring, their seq filled in (consecutive), or
    // nullptr (one record counted as dropped) when the ring has no room for all of them or `hart`
    // is not a ring in use. Nothing reads them before commit(hart, n). `one_hart`: configure(1)
    // was called, and `hart` is 0. inline: every traced hit.
    // `*crowded` is set when the ring was three quarters full (or more) before this reservation,
    // and whenever it gives nullptr.
    template <bool one_hart = false>
    inline ruprobes::wire::hit_record* reserve(uint32_t hart, uint32_t n = 1,
                                               bool* crowded = nullptr);
    // The i-th of the records reserve(hart, n) returned (they may wrap around the ring's end).
    ruprobes::wire::hit_record& reserved(size_t hart, uint32_t i) {
        const hart_state& h = harts_[hart];
        return h.records[(h.tail + i) & h.mask];
    }
    // Publishes the `n` records reserved last on `hart`; returns the records of the ring not
    // sent yet.
    template <bool one_hart = false>
    uint32_t commit(size_t hart, uint32_t n = 1) {
        hart_state* p = state(one_hart ? 0 : hart);
        const uint32_t tail = p->tail + n;
        // Release: the records are filled in before the agent sees the new tail.
        __atomic_store_n(&p->tail, tail, __ATOMIC_RELEASE);
        return tail - __atomic_load_n(&p->sent, __ATOMIC_RELAXED);
    }
    // What push() left in its ring: records not sent yet, and whether it was three quarters full.
    struct fill {
        uint32_t unsent = 0;
        bool crowded = false;
    };
    // The hart whose ring holds `r` (a record reserve() returned).
    size_t ring_of(const void* r) {
        hit_rings* self = laundered();
        return (reinterpret_cast<uintptr_t>(r) - reinterpret_cast<uintptr_t>(self->records_)) >>
               self->ring_shift_;
    }
    // Stores `hit` in the wire layout with its reserved bytes zero (protocol/README.md §3), so a
    // record is shipped as it lies, and commits it; false (and counted) when `hart`'s ring is full.
    inline bool push(uint32_t hart, const uprobes_hit& hit, fill* after = nullptr);
    // Stores `hit` followed by the continuation records that carry `data` (`len` bytes, at most
    // wire::max_fetch_data; ruprobes/wire/fetch.hpp), all or nothing: false (one record counted
    // as dropped) when the ring has no room for all of them.
    bool push_with_data(uint32_t hart, const uprobes_hit& hit, const uint8_t* data, uint32_t len);
    // Records committed and not sent yet in `hart`'s ring (a hint outside the agent).
    uint32_t ring_unsent(size_t hart) const {
        return __atomic_load_n(&harts_[hart].tail, __ATOMIC_RELAXED) -
               __atomic_load_n(&harts_[hart].sent, __ATOMIC_RELAXED);
    }
    // Whether `hart`'s ring is three quarters full (a hint outside the agent).
    bool ring_congested(size_t hart) const {
        const hart_state& h = harts_[hart];
        return h.room != 0 && __atomic_load_n(&h.tail, __ATOMIC_RELAXED) -
                                      __atomic_load_n(&h.head, __ATOMIC_RELAXED) >=
                                  h.congested_at;
    }

    // ---- any context ---------------------------------------------------------------------------

    // The seq the next reserved record gets.
    uint64_t next_seq() const { return __atomic_load_n(&next_seq_, __ATOMIC_RELAXED); }
    // Records lost: rings full, records discarded (discard_all), a hart id out of range.
    uint64_t dropped() const;

    // ---- consumer: the agent thread ------------------------------------------------------------

    // The unsent records from seq next_unsent() on that are committed, of one ring, consecutive
    // in seq and in memory (at most `max`); n == 0 when next_unsent() is not committed yet (or
    // every record went). They stay where they are until ack() or discard_all().
    hit_run unsent_run(uint32_t max);
    // The records of `run` (unsent_run) were sent.
    void mark_sent(const hit_run& run);
    // The runs unsent_run would give one after another (each marked sent), at most `max` records
    // in at most `max_runs` runs, into `out`; nothing is marked sent. A run longer than
    // `long_run` is taken only as the first (and then alone). Where harts interleave their hits
    // the runs are a record or two: one frame carries several of them.
    uint32_t unsent_runs(uint32_t max, uint32_t long_run, hit_run* out, uint32_t max_runs);
    // The seq of the next record to send: every record before it went.
    uint64_t next_unsent() const { return next_send_; }
    // The host has every record with seq < next_seq: forget them.
    void ack(uint64_t next_seq);
    // Send every unacknowledged record again (a new connection).
    void rewind();
    // The seq of the oldest record not acknowledged (kept, or still being written).
    uint64_t oldest_seq() const { return acked_; }
    // Records sent and not acknowledged yet.
    bool unacknowledged() const { return next_send_ > acked_; }
    // Forgets every record; they count as dropped (records being written now too, once seen).
    void discard_all();
    // Records kept in all rings, and those not sent yet.
    uint32_t size() const;
    uint32_t unsent() const;

private:
    // One hart's ring, in one cache line: both sides read both ends.
    struct alignas(64) hart_state {
        uint32_t tail = 0;         // written by the producer (release)
        uint32_t head = 0;         // written by the agent (release)
        uint32_t sent = 0;         // written by the agent
        uint32_t room = 0;         // records it holds (configure; 0: not in use)
        uint32_t mask = 0;         // room - 1 (room 0: 0)
        uint32_t congested_at = 0; // three quarters of room
        uint64_t dropped = 0;      // written by the producer only
        ruprobes::wire::hit_record* records = nullptr;
    };
    // `this` through a register the compiler knows nothing about, so that it addresses every
    // field from it (the atomics would otherwise each rebuild the global's address).
    hit_rings* laundered() {
        hit_rings* self = this;
        __asm__("" : "+r"(self));
        return self;
    }
    hart_state* state(size_t hart) { return &laundered()->harts_[hart]; }
    // A record of `ring` that was committed after its seq was acknowledged or discarded (it
    // was being written meanwhile): skipped, and counted as dropped when it was discarded.
    void skip_stale(uint32_t ring, uint32_t tail);
    void release_acked(uint32_t ring);
    const ruprobes::wire::hit_record& record(uint32_t ring, uint32_t pos) const {
        return harts_[ring].records[pos & harts_[ring].mask];
    }

    // The small state first: the trap path reaches it with short offsets from one address.
    hart_state harts_[max_harts];
    alignas(64) uint64_t next_seq_ = 1; // every producer's fetch-add
    uint64_t stray_dropped_ = 0;        // hart ids out of range (atomic)
    uint32_t ring_shift_ = 63;          // log2 of a ring's bytes (configure)
    uint32_t ring_capacity_ = 0;
    uint32_t harts_in_use_ = 0;
    uint32_t last_ring_ = 0; // the agent's: the ring of the last run
    // The agent's: every seq below next_send_ went (or was skipped), below acked_ the host has it
    // (or it was discarded); stale records below discard_mark_ count as dropped.
    uint64_t next_send_ = 1;
    uint64_t acked_ = 1;
    uint64_t discard_mark_ = 1;
    uint64_t discarded_ = 0;
    alignas(64) ruprobes::wire::hit_record records_[total_records];
};

namespace hit_ring_detail {

// A 64-bit word of the record at byte `offset` (aligned), written as one store.
inline void put_word(ruprobes::wire::hit_record& r, size_t offset, uint64_t v) {
    __builtin_memcpy(__builtin_assume_aligned(reinterpret_cast<uint8_t*>(&r) + offset, 8), &v, 8);
}

} // namespace hit_ring_detail

template <bool one_hart>
inline ruprobes::wire::hit_record* hit_rings::reserve(uint32_t hart, uint32_t n, bool* crowded) {
    // The calling convention keeps a 32-bit value sign-extended: taken so, it needs no
    // zero-extension, and an id out of range is out of range either way.
    const size_t k = one_hart ? 0 : size_t(int64_t(int32_t(hart)));
    if (k >= max_harts) [[unlikely]] {
        __atomic_fetch_add(&stray_dropped_, 1, __ATOMIC_RELAXED);
        if (crowded != nullptr) {
            *crowded = true;
        }
        return nullptr;
    }
    hit_rings* self = laundered();
    hart_state* p = &self->harts_[k];
    const uint32_t tail = p->tail;
    // Acquire: the agent (and the device it handed the records to) is done with the room.
    const uint32_t used = tail - __atomic_load_n(&p->head, __ATOMIC_ACQUIRE);
    // One test for the usual record: below three quarters there is room (a ring not in use has
    // none, and its threshold is 0).
    if (used >= (one_hart ? total_records / 4 * 3 : p->congested_at)) [[unlikely]] {
        if (crowded != nullptr) {
            *crowded = true;
        }
        if (used + n > (one_hart ? total_records : p->room)) {
            __atomic_store_n(&p->dropped, p->dropped + 1, __ATOMIC_RELAXED);
            return nullptr;
        }
    }
    // The room cannot shrink (only this hart fills it): the seq is taken only now.
    uint64_t seq = __atomic_fetch_add(&self->next_seq_, n, __ATOMIC_RELAXED);
    // The slot from the sign-extended tail: the mask clears what the extension set.
    const size_t slot = size_t(int64_t(int32_t(tail))) & (one_hart ? total_records - 1 : p->mask);
    ruprobes::wire::hit_record& r = one_hart ? self->records_[slot] : p->records[slot];
    r.seq = seq;
    for (uint32_t i = 1; i < n; i++) {
        reserved(k, i).seq = ++seq;
    }
    return &r;
}

inline bool hit_rings::push(uint32_t hart, const uprobes_hit& hit, fill* after) {
    bool crowded = false;
    ruprobes::wire::hit_record* slot = reserve(hart, 1, &crowded);
    if (slot == nullptr) {
        return false;
    }
    ruprobes::wire::hit_record& r = *slot;
    r.time_ns = hit.time_ns;
    hit_ring_detail::put_word(r, 16, uint64_t(hit.pid) | uint64_t(hit.tid) << 32);
    r.pc = hit.pc;
    const uint64_t flags =
        (hit.flags & UPROBES_HIT_RETURN_VALUE) ? ruprobes::wire::hit_flag_ret_valid : 0;
    hit_ring_detail::put_word(r, 32,
                              uint64_t(hit.probe_id) | uint64_t(hit.kind) << 32 | flags << 40);
    // a0..a7, sp, ra and the return value lie in the same order in both.
    static_assert(
        offsetof(uprobes_hit, retval) - offsetof(uprobes_hit, a) == 80 &&
        offsetof(ruprobes::wire::hit_record, ret) - offsetof(ruprobes::wire::hit_record, a) == 80);
    __builtin_memcpy(__builtin_assume_aligned(&r.a, 8), __builtin_assume_aligned(&hit.a, 8), 88);
    const uint32_t unsent = commit(hart);
    if (after != nullptr) {
        *after = fill{.unsent = unsent, .crowded = crowded};
    }
    return true;
}

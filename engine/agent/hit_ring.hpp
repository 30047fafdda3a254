// The bounded ring of hit records between the trap path (producer) and the agent thread
// (consumer), protocol/README.md §4. push() never waits: when the ring is full the record is
// dropped and counted. Only stored records get a sequence number, so seq numbers are consecutive.
// A record stays in the ring after it was sent until the host acknowledges it, so that a host
// reconnecting with the same session gets the records that were in flight again.
//
//   head                      head + sent               head + count
//    | sent, not acknowledged  | not sent yet              |
//
// push() runs in a breakpoint trap (the engine's hit sink), the consumer in the agent: the agent
// holds its lock (os_agent_lock) around every call.
#pragma once

#include "ruprobes/ruprobes.h"
#include "ruprobes/wire/fetch.hpp"
#include "ruprobes/wire/messages.hpp"

class hit_ring {
public:
    // 2 MiB of records: absorbs about 100 ms of host acknowledgement delay at full hit rate.
    static constexpr uint32_t capacity = 16384;

    // Stores `hit` with the next sequence number, in the wire layout with its reserved bytes zero
    // (protocol/README.md §3), so a record is shipped as it lies; false (and counted) when full.
    inline bool push(const uprobes_hit& hit); // inline: it runs in every traced hit
    // Stores `hit` followed by the continuation records that carry `data` (`len` bytes, at most
    // wire::max_fetch_data; ruprobes/wire/fetch.hpp), all or nothing: false (one record counted
    // as dropped) when the ring has no room for all of them.
    bool push_with_data(const uprobes_hit& hit, const uint8_t* data, uint32_t len);

    uint32_t size() const { return count_; }
    // The i-th oldest record (i < size()).
    const ruprobes::wire::hit_record& at(uint32_t i) const {
        return records_[(head_ + i) % capacity];
    }
    // Records not sent yet, and the i-th of them.
    uint32_t unsent() const { return count_ - sent_; }
    const ruprobes::wire::hit_record& unsent_at(uint32_t i) const { return at(sent_ + i); }
    // The next record, stored at once with its seq filled in, or nullptr (counted as dropped)
    // when the ring is full. For a writer that fills the record in place (the engine's record
    // sink): it holds the agent's lock until the record is filled, so nothing reads it before.
    ruprobes::wire::hit_record* reserve() {
        if (count_ == capacity) {
            dropped_++;
            return nullptr;
        }
        ruprobes::wire::hit_record& r = records_[(head_ + count_) % capacity];
        r.seq = next_seq_++;
        count_++;
        return &r;
    }

    // The oldest unsent record and how many unsent ones follow it contiguously in memory (at most
    // `max`, at least 1 when unsent() > 0). They stay where they are until ack() or
    // discard_all(): push() only writes behind them, so the agent may read them without its lock.
    const ruprobes::wire::hit_record* unsent_run(uint32_t max, uint32_t* n) const {
        const uint32_t first = (head_ + sent_) % capacity;
        uint32_t run = unsent();
        if (run > max) {
            run = max;
        }
        if (run > capacity - first) {
            run = capacity - first;
        }
        *n = run;
        return &records_[first];
    }
    // The `n` oldest unsent records were sent.
    void mark_sent(uint32_t n);
    // The host has every record with seq < next_seq: forget them.
    void ack(uint64_t next_seq);
    // Send every unacknowledged record again (a new connection).
    void rewind() { sent_ = 0; }
    // The seq of the oldest record kept (next_seq() when empty).
    uint64_t oldest_seq() const { return count_ > 0 ? at(0).seq : next_seq_; }
    // Forgets every record; they count as dropped.
    void discard_all();

    uint64_t next_seq() const { return next_seq_; }
    uint64_t dropped() const { return dropped_; }

private:
    ruprobes::wire::hit_record records_[capacity];
    uint32_t head_ = 0;
    uint32_t count_ = 0;
    uint32_t sent_ = 0;
    uint64_t next_seq_ = 1;
    uint64_t dropped_ = 0;
};

namespace hit_ring_detail {

// A 64-bit word of the record at byte `offset` (aligned), written as one store.
inline void put_word(ruprobes::wire::hit_record& r, size_t offset, uint64_t v) {
    __builtin_memcpy(__builtin_assume_aligned(reinterpret_cast<uint8_t*>(&r) + offset, 8), &v, 8);
}

} // namespace hit_ring_detail

inline bool hit_ring::push(const uprobes_hit& hit) {
    if (count_ == capacity) {
        dropped_++;
        return false;
    }
    ruprobes::wire::hit_record& r = records_[(head_ + count_) % capacity];
    r.seq = next_seq_++;
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
    count_++;
    return true;
}

#include "agent/hit_ring.hpp"

#include "ruprobes/ruprobes.h"

namespace {

// A 64-bit word of the record at byte `offset` (aligned), written as one store.
inline void put_word(ruprobes::wire::hit_record& r, size_t offset, uint64_t v) {
    __builtin_memcpy(__builtin_assume_aligned(reinterpret_cast<uint8_t*>(&r) + offset, 8), &v, 8);
}

} // namespace

bool hit_ring::push(const uprobes_hit& hit) {
    if (count_ == capacity) {
        dropped_++;
        return false;
    }
    ruprobes::wire::hit_record& r = records_[(head_ + count_) % capacity];
    r.seq = next_seq_++;
    r.time_ns = hit.time_ns;
    put_word(r, 16, uint64_t(hit.pid) | uint64_t(hit.tid) << 32);
    r.pc = hit.pc;
    const uint64_t flags =
        (hit.flags & UPROBES_HIT_RETURN_VALUE) ? ruprobes::wire::hit_flag_ret_valid : 0;
    put_word(r, 32, uint64_t(hit.probe_id) | uint64_t(hit.kind) << 32 | flags << 40);
    // a0..a7, sp, ra and the return value lie in the same order in both.
    static_assert(
        offsetof(uprobes_hit, retval) - offsetof(uprobes_hit, a) == 80 &&
        offsetof(ruprobes::wire::hit_record, ret) - offsetof(ruprobes::wire::hit_record, a) == 80);
    __builtin_memcpy(__builtin_assume_aligned(&r.a, 8), __builtin_assume_aligned(&hit.a, 8), 88);
    count_++;
    return true;
}

void hit_ring::mark_sent(uint32_t n) {
    sent_ = sent_ + n > count_ ? count_ : sent_ + n;
}

void hit_ring::ack(uint64_t next_seq) {
    if (count_ == 0 || next_seq <= at(0).seq) {
        return;
    }
    const uint64_t acked = next_seq - at(0).seq; // seq numbers in the ring are consecutive
    const uint32_t n = acked < count_ ? uint32_t(acked) : count_;
    head_ = (head_ + n) % capacity;
    count_ -= n;
    sent_ = sent_ > n ? sent_ - n : 0;
}

void hit_ring::discard_all() {
    dropped_ += count_;
    head_ = 0;
    count_ = 0;
    sent_ = 0;
}

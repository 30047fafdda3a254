#include "agent/hit_ring.hpp"

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

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

// A hit with fetched data: the hit record (hit_flag_fetch, fetch_records = n), then n
// continuation records of up to 88 data bytes each (protocol/README.md §3, "fetched data").
bool hit_ring::push_with_data(const uprobes_hit& hit, const uint8_t* data, uint32_t len) {
    namespace wire = ruprobes::wire;
    const uint32_t n = (len + wire::fetch_chunk_size - 1) / wire::fetch_chunk_size;
    if (count_ + 1 + n > capacity || n > wire::max_fetch_records) {
        dropped_++;
        return false;
    }
    const uint64_t hit_seq = next_seq_;
    if (!push(hit))
        return false; // not reached: the room was checked
    wire::hit_record& head = records_[(head_ + count_ - 1) % capacity];
    head.flags |= wire::hit_flag_fetch;
    head.fetch_records = static_cast<uint16_t>(n);
    for (uint32_t i = 0; i < n; i++) {
        wire::hit_record& r = records_[(head_ + count_) % capacity];
        auto* raw = reinterpret_cast<uint8_t*>(&r);
        __builtin_memset(raw, 0, sizeof r);
        const uint32_t at = i * uint32_t(wire::fetch_chunk_size);
        const uint32_t used = len - at < wire::fetch_chunk_size ? len - at : wire::fetch_chunk_size;
        r.seq = next_seq_++;
        r.time_ns = hit_seq;
        r.pid = (i + 1) | used << 16; // index, data bytes
        r.probe_id = hit.probe_id;
        r.kind = wire::hit_kind_fetch_data;
        __builtin_memcpy(raw + 40, data + at, used);
        count_++;
    }
    return true;
}

#include "agent/hit_ring.hpp"

#include "ruprobes/ruprobes.h"

bool hit_ring::push(const uprobes_hit& hit) {
    if (count_ == capacity) {
        dropped_++;
        return false;
    }
    ruprobes::wire::hit_record& r = records_[(head_ + count_) % capacity];
    r.seq = next_seq_++;
    r.time_ns = hit.time_ns;
    r.pid = hit.pid;
    r.tid = hit.tid;
    r.pc = hit.pc;
    r.probe_id = hit.probe_id;
    r.kind = hit.kind;
    r.flags = (hit.flags & UPROBES_HIT_RETURN_VALUE) ? ruprobes::wire::hit_flag_ret_valid : 0;
    for (int i = 0; i < 8; i++) {
        r.a[i] = hit.a[i];
    }
    r.sp = hit.sp;
    r.ra = hit.ra;
    r.ret = hit.retval;
    count_++;
    return true;
}

void hit_ring::mark_sent(uint32_t n) {
    sent_ = sent_ + n > count_ ? count_ : sent_ + n;
}

void hit_ring::ack(uint64_t next_seq) {
    while (count_ > 0 && at(0).seq < next_seq) {
        head_ = (head_ + 1) % capacity;
        count_--;
        if (sent_ > 0) {
            sent_--;
        }
    }
}

void hit_ring::discard_all() {
    dropped_ += count_;
    head_ = 0;
    count_ = 0;
    sent_ = 0;
}

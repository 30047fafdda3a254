#include "agent/hit_ring.hpp"

namespace wire = ruprobes::wire;

void hit_rings::configure(uint32_t harts) {
    if (harts_in_use_ != 0) {
        return; // the first call decides: records may be in the rings
    }
    if (harts == 0 || harts > max_harts) {
        harts = max_harts;
    }
    uint32_t shift = 0; // log2 of the records per ring
    while ((total_records >> (shift + 1)) >= harts) {
        shift++;
    }
    const uint32_t capacity = 1u << shift; // the largest power of two with harts * it <= total
    for (uint32_t k = 0; k < max_harts; k++) {
        hart_state& h = harts_[k];
        h = hart_state{};
        if (k < harts) {
            h.room = capacity;
            h.mask = capacity - 1;
            h.congested_at = capacity / 4 * 3;
            h.records = &records_[k * capacity];
        }
    }
    ring_capacity_ = capacity;
    harts_in_use_ = harts;
    ring_shift_ = shift + 7;
    static_assert(sizeof(wire::hit_record) == 1u << 7);
}

uint64_t hit_rings::dropped() const {
    uint64_t n = __atomic_load_n(&stray_dropped_, __ATOMIC_RELAXED) + discarded_;
    for (const hart_state& p : harts_) { // rings not in use count an id out of range
        n += __atomic_load_n(&p.dropped, __ATOMIC_RELAXED);
    }
    return n;
}

uint32_t hit_rings::size() const {
    uint32_t n = 0;
    for (uint32_t k = 0; k < harts_in_use_; k++) {
        n += __atomic_load_n(&harts_[k].tail, __ATOMIC_RELAXED) - harts_[k].head;
    }
    return n;
}

uint32_t hit_rings::unsent() const {
    uint32_t n = 0;
    for (uint32_t k = 0; k < harts_in_use_; k++) {
        n += __atomic_load_n(&harts_[k].tail, __ATOMIC_ACQUIRE) - harts_[k].sent;
    }
    return n;
}

// Frees the records the host acknowledged from the front of `ring`'s sent ones: those with seq
// below acked_. Seqs in a ring only grow: when the last sent one is acknowledged all are (always
// so on one hart), else a binary search finds the first that is not.
void hit_rings::release_acked(uint32_t ring) {
    hart_state& c = harts_[ring];
    const uint32_t n = c.sent - c.head;
    if (n == 0) {
        return;
    }
    uint32_t freed = n;
    if (record(ring, c.head + n - 1).seq >= acked_) {
        // Record i has a seq of at least first + i, exactly so where the ring's seqs are dense
        // (one hart): then the first one not acknowledged is record acked_ - first.
        const uint64_t first = record(ring, c.head).seq;
        const uint64_t guess = acked_ > first ? acked_ - first : 0;
        if (guess < n && (guess == 0 || record(ring, c.head + uint32_t(guess) - 1).seq < acked_)) {
            freed = uint32_t(guess);
        } else {
            uint32_t lo = 0, hi = n - 1; // record lo - 1 is acknowledged (lo > 0), hi is not
            while (lo < hi) {
                const uint32_t mid = lo + (hi - lo) / 2;
                if (record(ring, c.head + mid).seq < acked_) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            freed = lo;
        }
    }
    // Release: the records' room goes back to the producer after every read of them.
    __atomic_store_n(&c.head, c.head + freed, __ATOMIC_RELEASE);
}

void hit_rings::skip_stale(uint32_t ring, uint32_t tail) {
    hart_state& c = harts_[ring];
    bool skipped = false;
    while (c.sent != tail) {
        const uint64_t seq = record(ring, c.sent).seq;
        if (seq >= next_send_) {
            break;
        }
        if (seq < discard_mark_) {
            discarded_++;
        }
        __atomic_store_n(&c.sent, c.sent + 1, __ATOMIC_RELAXED);
        skipped = true;
    }
    if (skipped) {
        release_acked(ring);
    }
}

// Merge by seq: the ring whose oldest unsent record is next_send_ gives a run of records with
// seq next_send_, next_send_ + 1, ... (a hart's records are in seq order in its ring, so a run
// ends where another hart's record comes between). None while next_send_ is not committed. The
// ring of the last run is looked at first: with one hart, the only one.
hit_run hit_rings::unsent_run(uint32_t max) {
    hit_run run;
    run.first_seq = next_send_;
    for (uint32_t i = 0; i < harts_in_use_; i++) {
        const uint32_t k = (last_ring_ + i) % harts_in_use_;
        hart_state& h = harts_[k];
        // Acquire: the records up to tail are filled in.
        const uint32_t tail = __atomic_load_n(&h.tail, __ATOMIC_ACQUIRE);
        if (h.sent == tail) {
            continue;
        }
        skip_stale(k, tail);
        if (h.sent == tail || record(k, h.sent).seq != next_send_) {
            continue;
        }
        const uint32_t first = h.sent & h.mask;
        uint32_t limit = tail - h.sent;
        if (limit > max) {
            limit = max;
        }
        if (limit > h.room - first) {
            limit = h.room - first; // contiguous in memory
        }
        // Seqs in a ring only grow, so "record j has seq next_send_ + j" holds up to some j and
        // not after: the last record tells whether all hold, else a binary search finds the end.
        const wire::hit_record* r = &h.records[first];
        uint32_t n = limit;
        if (r[n - 1].seq != next_send_ + n - 1) {
            uint32_t lo = 1, hi = n - 1; // r[lo - 1] holds, r[hi] does not
            while (lo < hi) {
                const uint32_t mid = lo + (hi - lo) / 2;
                if (r[mid].seq == next_send_ + mid) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            n = lo;
        }
        last_ring_ = k;
        run.records = r;
        run.n = n;
        run.ring = k;
        return run;
    }
    return run;
}

void hit_rings::mark_sent(const hit_run& run) {
    hart_state& c = harts_[run.ring];
    if (run.n == 0 || run.first_seq != next_send_) {
        return; // not the current run (rewound meanwhile)
    }
    __atomic_store_n(&c.sent, c.sent + run.n, __ATOMIC_RELAXED);
    next_send_ += run.n;
}

uint32_t hit_rings::unsent_runs(uint32_t max, uint32_t long_run, hit_run* out, uint32_t max_runs) {
    if (harts_in_use_ == 1 || max_runs == 1) { // one ring's run is as long as it gets
        out[0] = unsent_run(max);
        return out[0].n != 0 ? 1 : 0;
    }
    uint32_t count = 0;
    uint32_t total = 0;
    while (count < max_runs && total < max) {
        const hit_run run = unsent_run(max - total);
        if (run.n == 0 || (count > 0 && run.n > long_run)) {
            break;
        }
        out[count++] = run;
        total += run.n;
        mark_sent(run); // the next run starts after it
        if (run.n > long_run) {
            break;
        }
    }
    // Taken back, the last first. A stale record skipped meanwhile (skip_stale) stays skipped:
    // its seq is below every run's, so it lay before them in its ring.
    for (uint32_t i = count; i-- > 0;) {
        __atomic_store_n(&harts_[out[i].ring].sent, harts_[out[i].ring].sent - out[i].n,
                         __ATOMIC_RELAXED);
        next_send_ = out[i].first_seq;
    }
    return count;
}

void hit_rings::ack(uint64_t next) {
    if (next <= acked_) {
        return;
    }
    if (next > next_seq()) {
        next = next_seq(); // no record beyond the last reserved one
    }
    acked_ = next;
    if (next_send_ < acked_) {
        next_send_ = acked_; // the host has records not sent yet (as it says): they are skipped
    }
    for (uint32_t k = 0; k < harts_in_use_; k++) {
        const uint32_t tail = __atomic_load_n(&harts_[k].tail, __ATOMIC_ACQUIRE);
        skip_stale(k, tail);
        release_acked(k);
    }
}

void hit_rings::rewind() {
    for (hart_state& c : harts_) {
        __atomic_store_n(&c.sent, c.head, __ATOMIC_RELAXED);
    }
    next_send_ = acked_;
}

void hit_rings::discard_all() {
    // Records reserved from here on are kept; those reserved before and committed later are
    // skipped and counted when seen (skip_stale).
    const uint64_t mark = next_seq();
    for (uint32_t k = 0; k < harts_in_use_; k++) {
        hart_state& c = harts_[k];
        const uint32_t tail = __atomic_load_n(&harts_[k].tail, __ATOMIC_ACQUIRE);
        uint32_t kept = tail;
        // A record reserved after the mark may have been committed already: it stays.
        while (kept != c.head && record(k, kept - 1).seq >= mark) {
            kept--;
        }
        discarded_ += kept - c.head;
        c.sent = kept;
        __atomic_store_n(&c.head, kept, __ATOMIC_RELEASE);
    }
    next_send_ = acked_ = discard_mark_ = mark;
}

// A hit with fetched data (fetch.cpp): the hit record (hit_flag_fetch, fetch_records = n), then
// n continuation records of up to 88 data bytes each (protocol/README.md §3, "fetched data").
bool hit_rings::push_with_data(uint32_t hart, const uprobes_hit& hit, const uint8_t* data,
                               uint32_t len) {
    const uint32_t n = (len + wire::fetch_chunk_size - 1) / wire::fetch_chunk_size;
    if (n > wire::max_fetch_records) {
        if (hart < max_harts) {
            hart_state& h = harts_[hart];
            __atomic_store_n(&h.dropped, h.dropped + 1, __ATOMIC_RELAXED); // only this hart writes
        } else {
            __atomic_fetch_add(&stray_dropped_, 1, __ATOMIC_RELAXED);
        }
        return false;
    }
    wire::hit_record* head = reserve(hart, 1 + n);
    if (head == nullptr) {
        return false;
    }
    const uint64_t hit_seq = head->seq;
    const uint64_t seq_after = hit_seq + 1;
    // The hit record as push() writes it, then its flags.
    {
        wire::hit_record& r = *head;
        r.time_ns = hit.time_ns;
        hit_ring_detail::put_word(r, 16, uint64_t(hit.pid) | uint64_t(hit.tid) << 32);
        r.pc = hit.pc;
        const uint64_t flags =
            (hit.flags & UPROBES_HIT_RETURN_VALUE) ? wire::hit_flag_ret_valid : 0;
        hit_ring_detail::put_word(r, 32,
                                  uint64_t(hit.probe_id) | uint64_t(hit.kind) << 32 | flags << 40);
        __builtin_memcpy(&r.a, &hit.a, 88);
        r.flags |= wire::hit_flag_fetch;
        r.fetch_records = static_cast<uint16_t>(n);
    }
    for (uint32_t i = 0; i < n; i++) {
        wire::hit_record& r = reserved(hart, 1 + i);
        auto* raw = reinterpret_cast<uint8_t*>(&r);
        __builtin_memset(raw, 0, sizeof r);
        const uint32_t at = i * uint32_t(wire::fetch_chunk_size);
        const uint32_t used = len - at < wire::fetch_chunk_size ? len - at : wire::fetch_chunk_size;
        r.seq = seq_after + i;
        r.time_ns = hit_seq;
        r.pid = (i + 1) | used << 16; // index, data bytes
        r.probe_id = hit.probe_id;
        r.kind = wire::hit_kind_fetch_data;
        __builtin_memcpy(raw + 40, data + at, used);
    }
    commit(hart, 1 + n);
    return true;
}

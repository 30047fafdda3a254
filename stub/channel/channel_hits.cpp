// The channel client's hit stream: records delivered in seq order, duplicates after a
// reconnect skipped, go-back-N after a gap, and the acknowledgements gathered (hit_acks.hpp).
#include "channel/channel_impl.hpp"

namespace ruprobes::channel {

void client::impl::on_hits(const wire::frame& f) {
    size_t used = 0;
    auto head = wire::decode<wire::hits_event>(f, &used);
    if (!head.ok() || head->record_size < wire::hit_record_size) {
        return;
    }
    std::vector<wire::hit_record> records;
    records.reserve(head->count);
    wire::entry_reader<wire::hit_record> reader(f.payload.subspan(used), head->count,
                                                head->record_size);
    uint64_t last_seq = 0;
    while (auto r = reader.next()) {
        last_seq = r->seq;
        // Records sent again after a reconnect (not acknowledged before) arrive twice.
        if (r->seq >= expected_seq) {
            records.push_back(*r);
        } else {
            st.duplicate_records++;
        }
    }
    if (records.empty()) {
        if (last_seq != 0 && options.auto_ack_hits) {
            acknowledge(expected_seq);
        }
        return;
    }
    uint64_t first = records.front().seq;
    if (first > expected_seq) {
        // A batch went missing in transit (a reconnect or line noise cut it). The kernel keeps
        // every record until it is acknowledged, so acknowledge only what arrived in order and
        // let the kernel send the rest again (go-back-N): nothing is lost. Within a session
        // the kernel's seq numbers have no holes, so a gap that survives two full windows of
        // resends is reported as lost rather than waited on forever. Counted in records, not
        // batches: when the kernel's harts interleave its batches are a record or two each, and
        // a count of batches ran out long before the kernel's resend came.
        gap_records += records.size();
        if (gap_records <= max_gap_records()) {
            if (options.auto_ack_hits) {
                acks.arrived(expected_seq);
                acks.take();
                ack_hits(expected_seq); // again at once: what arrived in order, not past it
            }
            return;
        }
        lost_records(first - expected_seq);
    }
    gap_records = 0;
    uint64_t next = records.back().seq + 1;
    if (next > expected_seq) {
        expected_seq = next;
    }
    deliver(records);
    if (options.auto_ack_hits) {
        acknowledge(next);
    }
}

// Hands the records of a batch to the handlers in seq order: runs of plain records to on_hits,
// each hit with fetched data, once its continuation records are in, to on_fetched_hit.
void client::impl::deliver(std::span<const wire::hit_record> records) {
    // Runs of plain records are handed on where they lie in `records`: no copy.
    struct sink {
        impl& self;
        const wire::hit_record* run = nullptr;
        size_t run_len = 0;
        void flush_run() {
            if (run_len == 0)
                return;
            self.st.hit_records += run_len;
            if (self.handlers.on_hits)
                self.handlers.on_hits(std::span<const wire::hit_record>(run, run_len));
            run_len = 0;
        }
        void plain(const wire::hit_record& r) {
            if (run_len != 0 && &r != run + run_len)
                flush_run();
            if (run_len == 0)
                run = &r;
            run_len++;
        }
        void fetched(const wire::hit_record& head, wire::bytes data, bool complete) {
            flush_run();
            self.st.hit_records++;
            self.st.fetch_records += head.fetch_records;
            if (!complete)
                self.st.fetch_incomplete++;
            if (self.handlers.on_fetched_hit)
                self.handlers.on_fetched_hit(head, data, complete);
            else if (self.handlers.on_hits)
                self.handlers.on_hits(std::span<const wire::hit_record>(&head, 1));
        }
        void stray(const wire::hit_record&) {
            flush_run();
            self.st.fetch_stray++;
        }
    } out{*this};
    for (const wire::hit_record& r : records)
        fetched.feed(r, out);
    out.flush_run();
}

void client::impl::acknowledge(uint64_t next_seq) {
    if (acks.arrived(next_seq)) {
        flush_acks();
        return;
    }
    if (acks.waiting()) {
        arm_ack_timer(options.hit_ack_delay);
    }
}

void client::impl::arm_ack_timer(std::chrono::milliseconds delay) {
    if (ack_timer_armed) {
        return;
    }
    ack_timer_armed = true;
    ack_timer.expires_after(delay);
    ack_timer.async_wait([self = shared_from_this()](const error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return; // disconnect() cleared the flag
        }
        self->ack_timer_armed = false;
        self->flush_acks();
    });
}

void client::impl::flush_acks() {
    if (acks.waiting() && options.hold_hit_acks && options.hold_hit_acks()) {
        arm_ack_timer(ack_recheck_interval); // the readers are behind: ask again soon
        return;
    }
    if (uint64_t next_seq = acks.take(); next_seq != 0) {
        ack_hits(next_seq);
    }
}

void client::impl::ack_hits(uint64_t next_seq) {
    std::vector<uint8_t> out(wire::max_frame);
    out.resize(wire::encode(out, 0, wire::hits_ack_notice{.next_seq = next_seq}));
    send(std::move(out));
}

} // namespace ruprobes::channel

// What the agent thread sends to the host: the queued events and the hit records of the ring in
// causal order (an event goes once every record made before it went), hits frames within the
// host's credit window, the losses, and kernel_ready.
#include "agent/agent_internal.hpp"
#include "agent/hit_frames.hpp"
#include "agent/transport.hpp"

#include "ruprobes/agent.h"

namespace agent {
namespace {

constinit uint64_t reported_events_dropped = 0;

// False when the transmit buffers are busy (the event stays queued and goes on the next round).
bool send_event(const agent_event& e) {
    size_t len = 0;
    if (e.type == wire::msg_type::stop) {
        send_stop_event(e.pid, e.tid, wire::stop_reason(e.stop_reason), e.probe_id);
        return true;
    }
    if (e.type == wire::msg_type::exec) {
        len = wire::encode(
            tx_frame, 0,
            wire::exec_event{
                .pid = e.pid,
                .ppid = e.ppid,
                .path = wire::bytes(reinterpret_cast<const uint8_t*>(e.path), str_length(e.path)),
                .args = {}});
    } else if (e.type == wire::msg_type::drops) {
        len = wire::encode(tx_frame, 0,
                           wire::drops_event{.hits_dropped = e.hits_dropped,
                                             .next_seq = e.hit_mark,
                                             .events_dropped = events.dropped(),
                                             .frames_rejected = decoder.stats().rejected_total()});
        if (send_frame(len, false)) {
            if (e.hits_dropped > reported_hits_dropped) {
                reported_hits_dropped = e.hits_dropped;
            }
            reported_events_dropped = events.dropped();
            return true;
        }
        return false;
    } else {
        len = wire::encode(tx_frame, 0,
                           wire::exit_event{.pid = e.pid,
                                            .status = e.status,
                                            .killed = uint8_t(e.killed ? 1 : 0)});
    }
    return send_frame(len, false);
}

// A loss the event queue could not place (it was full), or lost events: reported once the queue
// has drained, with the totals.
void send_drops_if_changed() {
    uint64_t hits_dropped, events_dropped, next_seq;
    {
        agent_lock lock;
        hits_dropped = hits.dropped();
        events_dropped = events.dropped();
        next_seq = hits.next_seq();
        if (!events.empty() ||
            (hits_dropped == reported_hits_dropped && events_dropped == reported_events_dropped)) {
            return;
        }
    }
    size_t len =
        wire::encode(tx_frame, 0,
                     wire::drops_event{.hits_dropped = hits_dropped,
                                       .next_seq = next_seq,
                                       .events_dropped = events_dropped,
                                       .frames_rejected = decoder.stats().rejected_total()});
    if (send_frame(len, false)) {
        reported_hits_dropped = hits_dropped;
        reported_events_dropped = events_dropped;
    }
}

// How hits frames are sealed (protocol/README.md §1): sequence-checked on the virtio console (a
// memory transport that corrupts no bytes: the checksum of every record would cost as much as the
// rest of shipping it), else the word checksum when the host takes it (the CRC-32 costs more
// still), else the CRC-32.
uint8_t hit_frame_flags() {
    if (transport::is_virtio() &&
        (session.capabilities & wire::capability::seq_checked_hits) != 0) {
        return wire::frame_flag_seq_checked;
    }
    return (session.capabilities & wire::capability::word_checksum) != 0
               ? wire::frame_flag_word_checksum
               : 0;
}

// Batches of at most this many records are copied into the transmit buffer, not sent in place.
constexpr uint32_t copied_batch_max = 2;

// Sends the in-place frames of `run` (a run of one ring, longer than copied_batch_max), each of
// at most max_hits_per_frame records, one after another; marks what went as sent. False when
// nothing went (transmit buffers busy).
bool send_run_in_place(const hit_run& run) {
    uint32_t done = 0;
    while (done < run.n) {
        uint32_t n = run.n - done;
        n = n < wire::max_hits_per_frame ? n : uint32_t(wire::max_hits_per_frame);
        if (!send_hit_frame_in_place(run.first_seq + done, run.records + done, n)) {
            transport::poll();
            if (!send_hit_frame_in_place(run.first_seq + done, run.records + done, n)) {
                break; // transmit buffers busy: the rest goes on the next round
            }
        }
        done += n;
    }
    if (done == 0) {
        return false;
    }
    agent_lock lock;
    hits.mark_sent(
        hit_run{.records = run.records, .n = done, .ring = run.ring, .first_seq = run.first_seq});
    return true;
}

// Sends the unsent records from the next one on, at most `limit_seq - first` of them, while the
// host's credit window allows; records stay in the ring until the host acknowledges them. A long
// run of one hart's ring (hit_rings::unsent_run) goes in place on the virtio console (the device
// reads the records from the ring), in as many frames as it takes, with one look at the rings;
// short runs, where the harts' hits interleave, are copied together into one frame in the
// transport's buffer (hit_rings::unsent_runs). A frame per run would cost the host a write per
// record or two: QEMU writes each descriptor to its socket with a write of its own, each counted
// in the socket's send buffer with its overhead, and discards what the buffer does not take
// (protocol/README.md §4, "Credit window"). False when nothing went.
bool send_hit_batch(uint64_t limit_seq) {
    const uint8_t flags = hit_frame_flags();
    const bool in_place = flags == wire::frame_flag_seq_checked;
    static hit_run runs[wire::max_hits_per_frame]; // the agent thread's
    uint32_t count = 0;
    hit_run long_run;
    {
        agent_lock lock;
        const uint64_t first = hits.next_unsent();
        uint64_t limit = hits.oldest_seq() + hit_window;
        if (limit_seq < limit) {
            limit = limit_seq;
        }
        if (first >= limit) {
            return false; // wait for the host's hits_ack, or for the event due first
        }
        const uint64_t credit = limit - first;
        // The records from `first` on, merged by seq from the harts' rings: none while `first`
        // is still being written on its hart. A run longer than copied_batch_max goes in place
        // (whole, up to the credit); only shorter ones are looked at again for a copied frame.
        if (in_place) {
            long_run = hits.unsent_run(uint32_t(credit < hit_window ? credit : hit_window));
            if (long_run.n == 0) {
                return false;
            }
        }
        if (long_run.n <= copied_batch_max) {
            const uint32_t max = credit < wire::max_hits_per_frame
                                     ? static_cast<uint32_t>(credit)
                                     : uint32_t(wire::max_hits_per_frame);
            count = hits.unsent_runs(max, in_place ? copied_batch_max : max, runs,
                                     wire::max_hits_per_frame);
            if (count == 0) {
                return false;
            }
        }
    }
    if (long_run.n > copied_batch_max) {
        return send_run_in_place(long_run);
    }
    // A few records are copied into the open transmit buffer: they then go in one descriptor
    // and one notification with the events after them (a breakpoint stop's record and its stop
    // event reach the host in one write).
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        n += runs[i].n;
    }
    const size_t len = wire::header_size + 16 + n * wire::hit_record_size + wire::trailer_size;
    uint8_t* out = transport::reserve(len);
    if (out == nullptr) {
        transport::flush();
        transport::poll();
        out = transport::reserve(len);
        if (out == nullptr) {
            return false; // transmit buffers busy: try again on the next round
        }
    }
    build_hit_frame(out, runs, count, flags);
    if (!transport::commit(len)) {
        return false;
    }
    agent_lock lock;
    for (uint32_t i = 0; i < count; i++) {
        hits.mark_sent(runs[i]);
    }
    return true;
}

// The event due next (its hit_mark reached) into *out; false when there is none.
bool next_due_event(agent_event* out, uint64_t* limit) {
    agent_lock lock;
    if (events.empty()) {
        *limit = ~uint64_t(0);
        return false;
    }
    *limit = events.front().hit_mark;
    if (events.front().hit_mark > hits.next_unsent()) {
        return false;
    }
    *out = events.front();
    return true;
}

void pop_event() {
    agent_lock lock;
    events.pop();
}

} // namespace

// Events and hit batches in causal order: an event goes once every record before its hit_mark
// went, and a batch stops at the mark of the event due next.
void send_in_order() {
    static agent_event e;
    while (true) {
        uint64_t limit = 0;
        if (next_due_event(&e, &limit)) {
            if (!send_event(e)) {
                return; // transmit buffers busy: the event keeps its place
            }
            pop_event();
            continue;
        }
        if (!send_hit_batch(limit)) {
            break;
        }
    }
    send_drops_if_changed();
}

// True when the next hit record to send is committed and the window lets it go.
bool hits_sendable() {
    agent_lock lock;
    return hits.next_unsent() < hits.oldest_seq() + hit_window && hits.unsent_run(1).n > 0;
}

// No host: nobody could resume a thread that stopped on a probe left by a host that went away,
// so it continues at once; other events are lost (and counted).
void discard_events() {
    static agent_event e;
    while (true) {
        {
            agent_lock lock;
            if (events.empty()) {
                return;
            }
            e = events.front();
            events.pop();
            if (e.type != wire::msg_type::drops) {
                events.count_drop(); // a drop is in hits_dropped, reported at the hello
            }
        }
        if (e.type == wire::msg_type::stop) {
            resume_thread(e.pid, e.tid);
        }
    }
}

void send_ready() {
    log(log_line().text("serving the host on the ").text(transport::name()));
    send_frame(wire::encode(tx_frame, 0,
                            wire::kernel_ready_event{.version = wire::protocol_version,
                                                     .capabilities = kernel_capabilities,
                                                     .boot_id = boot_id,
                                                     .time_ns = agent_time_ns()}),
               false);
    transport::flush();
}

} // namespace agent

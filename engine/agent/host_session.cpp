// The agent's side of the host's session (protocol/README.md §5): the frames the host sends
// (hello, ping, hits_ack, requests), the lease, and the resend of hit records the host has not
// acknowledged.
#include "agent/agent_internal.hpp"
#include "agent/tracepoints.hpp"
#include "agent/transport.hpp"

#include "ruprobes/agent.h"

namespace agent {
namespace {

constexpr uint64_t resend_after_ns = 1'000'000'000;
constinit uint64_t last_ack_ns = 0; // the last hits_ack (or hello): progress of the host
constinit uint64_t hits_resent = 0; // times unacknowledged records were sent again
uint8_t rx_chunk[512];

// The clock of the host's lease: the host's own (the RTC), because under `-icount sleep=off`
// the guest's timer skips idle time and runs far ahead of the host's pings. The kernel's clock
// when there is no wall clock.
uint64_t lease_clock_ns() {
    uint64_t t = os_agent_wall_clock_ns();
    return t != 0 ? t : agent_time_ns();
}

void end_session(const char* why) {
    session.active = false;
    os_agent_notify(RUPROBES_AGENT_NOTICE_ROOM);
    uint32_t resumed = resume_all_stopped();
    log(log_line()
            .text("session ended (")
            .text(why)
            .text("), ")
            .dec(resumed)
            .text(" stopped threads resumed"));
}

void handle_hello(const wire::frame& f) {
    auto req = wire::decode<wire::hello_request>(f);
    if (!req.ok()) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (req->min_version > wire::protocol_version || req->max_version < wire::protocol_version) {
        reply_status(f, wire::status::version_mismatch);
        return;
    }
    bool reset = (req->flags & wire::hello_flag_reset) != 0;
    if (reset) {
        remove_all_probes();
        trace_reset();
        resume_all_stopped();
        agent_lock lock;
        hits.discard_all();
        events.discard_all();
    } else if (session.ever && req->session_id != session.session_id) {
        resume_all_stopped(); // their host is gone
    }
    session.active = true;
    session.ever = true;
    session.session_id = req->session_id;
    session.capabilities = req->capabilities & kernel_capabilities;
    session.lease_ms = req->lease_ms;
    session.last_frame_ns = lease_clock_ns();
    uint64_t next_hit_seq, hits_dropped;
    {
        agent_lock lock;
        hits.rewind(); // records sent on an earlier connection and not acknowledged go again
        next_hit_seq = hits.oldest_seq();
        hits_dropped = hits.dropped();
    }
    last_ack_ns = agent_time_ns();
    os_agent_session_started();
    log_line line;
    line.text("host session ").hex(req->session_id).text(reset ? " (reset)" : "").text(" (");
    transport::describe(line);
    line.text("; ").dec(decoder.stats().rejected_total()).text(" frames rejected, ");
    line.dec(hits_resent).text(" hit resends)");
    log(line);
    reply(f, wire::hello_response{.status = 0,
                                  .version = wire::protocol_version,
                                  .capabilities = session.capabilities,
                                  .boot_id = boot_id,
                                  .time_ns = agent_time_ns(),
                                  .next_hit_seq = next_hit_seq,
                                  .hits_dropped = hits_dropped,
                                  .hit_window = hit_window,
                                  .max_frame = wire::max_frame,
                                  .stopped_threads = count_stopped()});
    reported_hits_dropped = hits_dropped;
}

void handle_ping(const wire::frame& f) {
    auto req = wire::decode<wire::ping_request>(f);
    if (!req.ok()) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (!session.active && session.ever) {
        // The session ended (lease expired): tell the host, which pings only inside a session,
        // so that it says hello again.
        reply_status(f, wire::status::no_session);
        return;
    }
    reply(f, wire::ping_response{.status = 0, .cookie = req->cookie, .time_ns = agent_time_ns()});
}

void handle_frame(const wire::frame& f) {
    if (wire::is_response(f.type) || wire::is_event(f.type)) {
        return; // only the kernel sends these
    }
    session.last_frame_ns = lease_clock_ns();
    switch (static_cast<wire::msg_type>(f.type)) {
    case wire::msg_type::hello:
        return handle_hello(f);
    case wire::msg_type::ping:
        return handle_ping(f);
    case wire::msg_type::hits_ack:
        if (auto ack = wire::decode<wire::hits_ack_notice>(f); ack.ok() && session.active) {
            // Only progress restarts the resend timer: a host that keeps acknowledging the same
            // seq is missing records and waits for them to come again.
            bool progress;
            {
                agent_lock lock;
                uint64_t before = hits.oldest_seq();
                hits.ack(ack->next_seq);
                progress = hits.oldest_seq() != before || hits.size() == 0;
            }
            wake_if_room();
            if (progress) {
                last_ack_ns = agent_time_ns();
            }
        }
        return;
    default:
        break;
    }
    if (!session.active) {
        reply_status(f, wire::status::no_session);
        return;
    }
    handle_request(f);
}

} // namespace

void receive_all() {
    while (true) {
        size_t n = transport::read(rx_chunk, sizeof rx_chunk);
        if (n == 0) {
            return;
        }
        std::span<const uint8_t> in(rx_chunk, n);
        while (!in.empty()) {
            size_t taken = decoder.feed(in);
            in = in.subspan(taken);
            while (auto f = decoder.next()) {
                handle_frame(*f);
            }
            if (taken == 0 && decoder.buffered() == 0) {
                break; // cannot happen with a max_frame buffer; never spin on it
            }
        }
    }
}

// Sent records the host has not acknowledged for a while go again (an acknowledgement may have
// been lost, and the window would stay shut); the host skips the seq numbers it already has.
void check_resend() {
    const uint64_t now = agent_time_ns(); // read outside the lock (no hook is called under it)
    agent_lock lock;
    if (hits.unacknowledged() && now - last_ack_ns > resend_after_ns) {
        hits.rewind();
        last_ack_ns = now;
        hits_resent++;
    }
}

void check_lease() {
    if (!session.active || session.lease_ms == 0) {
        return;
    }
    uint64_t now = lease_clock_ns();
    if (now > session.last_frame_ns &&
        now - session.last_frame_ns > uint64_t(session.lease_ms) * 1'000'000) {
        end_session("lease expired");
    }
}

} // namespace agent

// The agent: bytes from the transport → frame decoder → request handlers → responses; the
// kernel's events and the hit ring → frames → transport. protocol/README.md is the contract,
// ruprobes/agent.h the kernel's side.
#include "agent/agent_internal.hpp"
#include "agent/aggregations.hpp"
#include "agent/event_queue.hpp"
#include "agent/fetch.hpp"
#include "agent/hit_frames.hpp"
#include "agent/hit_ring.hpp"
#include "agent/session.hpp"
#include "agent/tracepoints.hpp"
#include "agent/transport.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/ruprobes.h"

namespace agent {

alignas(8) uint8_t tx_frame[wire::max_frame];

namespace {

constexpr uint64_t poll_interval_ns = 10'000'000; // drain hits / check the lease every 10 ms
// 512 records = 64 KiB in flight. QEMU discards console bytes the host's socket does not take,
// so what is in flight must stay well below the socket's send buffer (208 KiB by default), which
// counts every write with its overhead (about 1 KiB for a small one): QEMU writes a hits frame
// in three writes, one per descriptor (header, records in the ring, trailer). With 1024 records
// in flight, frames were cut while the host was busy, and their records came only after the
// events that followed them (the go-back-N resend).
constexpr uint32_t hit_window = 512;
constexpr uint32_t kernel_capabilities =
    wire::capability::hit_batches | wire::capability::stop_mode | wire::capability::return_probes |
    wire::capability::memory_write | wire::capability::register_write |
    wire::capability::single_step | wire::capability::spawn | wire::capability::lease |
    wire::capability::word_checksum | wire::capability::seq_checked_hits |
    wire::capability::fetch_records;

constinit bool running = false;
constinit uint64_t boot_id = 0;
constinit agent_session session;
constinit hit_ring hits;
constinit event_queue events;
constinit uint64_t reported_hits_dropped = 0;
constinit uint64_t reported_events_dropped = 0;
constinit uint64_t last_ack_ns = 0; // the last hits_ack (or hello): progress of the host
constinit uint64_t hits_resent = 0; // times unacknowledged records were sent again
constexpr uint64_t resend_after_ns = 1'000'000'000;

uint8_t decoder_storage[wire::max_frame];
constinit wire::frame_decoder decoder(decoder_storage);
uint8_t rx_chunk[512];
constinit bool ready_sent = false; // kernel_ready went out (the first round)

// The clock of the host's lease: the host's own (the RTC), because under `-icount sleep=off`
// the guest's timer skips idle time and runs far ahead of the host's pings. The kernel's clock
// when there is no wall clock.
uint64_t lease_clock_ns() {
    uint64_t t = os_agent_wall_clock_ns();
    return t != 0 ? t : agent_time_ns();
}

void wake_agent() {
    os_agent_notify(RUPROBES_AGENT_NOTICE_WORK);
}

// The agent's lock (os_agent_lock) for a scope.
class agent_lock {
public:
    agent_lock() { os_agent_lock(); }
    ~agent_lock() { os_agent_unlock(); }
    agent_lock(const agent_lock&) = delete;
    agent_lock& operator=(const agent_lock&) = delete;
};

// ---- producers (trap and lifecycle context: never block) ------------------------------------

// Backpressure: while a host session is active and the ring is three quarters full, the kernel
// may hold a thread that makes hits (after its trap) until the agent ships and the host
// acknowledges, instead of letting it run on and lose records (RUPROBES_AGENT_NOTICE_HURRY).
constexpr uint32_t congested_records = hit_ring::capacity / 4 * 3;

bool ring_congested() {
    return session.active && hits.size() >= congested_records;
}

// Wakes the threads held for room once the ring has some.
void wake_if_room() {
    if (!ring_congested()) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_ROOM);
    }
}

// Queues `e` behind the hit records made so far (event_queue.hpp).
void queue_event(agent_event& e) {
    e.hit_mark = hits.next_seq();
    events.push(e);
}

// A record the full ring could not take: the loss goes into the event queue at its place in the
// sequence (consecutive drops at the same place make one event). When the queue is full too,
// send_drops_if_changed reports it once the queue has drained.
void note_hit_drop() {
    if (!events.empty() && events.back().type == wire::msg_type::drops &&
        events.back().hit_mark == hits.next_seq()) {
        events.back().hits_dropped = hits.dropped();
        return;
    }
    if (events.full()) {
        return;
    }
    agent_event e;
    e.type = wire::msg_type::drops;
    e.hits_dropped = hits.dropped();
    queue_event(e);
}

// What the agent does after a record was stored: wakes the agent thread or asks the kernel to
// run it first. Agent lock held; the notices go out after it is released.
struct after_push {
    bool wake = false;
    bool hurry = false;
};

after_push record_stored() {
    // Wake the agent when a record waits and none did before, not for every record: the agent
    // sends every record it can in a round and keeps running while any are sendable
    // (ruprobes_agent_poll returns 0), and an acknowledgement that opens the window wakes it
    // through the console's interrupt. Once a window's worth waits, ask the kernel to run the
    // agent before the trapping thread goes on, so that it ships before the ring overflows
    // (otherwise it runs at the next timer tick: a tick's hits can exceed the ring).
    const uint32_t unsent = hits.unsent();
    return after_push{.wake = unsent == 1,
                      .hurry = unsent % (hit_window / 2) == 0 || ring_congested()};
}

void notify(after_push a) {
    if (a.wake) {
        wake_agent();
    }
    if (a.hurry) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_HURRY);
    }
}

// The engine's record sink (uprobes_set_record_sink): the record is written once, by the
// engine, into the ring where it is shipped from. The agent's lock is held from reserve to
// commit (the engine only fills the record in between).
static_assert(sizeof(uprobes_hit_record) == sizeof(wire::hit_record) &&
              offsetof(uprobes_hit_record, pid) == offsetof(wire::hit_record, pid) &&
              offsetof(uprobes_hit_record, pc) == offsetof(wire::hit_record, pc) &&
              offsetof(uprobes_hit_record, probe_id) == offsetof(wire::hit_record, probe_id) &&
              offsetof(uprobes_hit_record, kind) == offsetof(wire::hit_record, kind) &&
              offsetof(uprobes_hit_record, flags) == offsetof(wire::hit_record, flags) &&
              offsetof(uprobes_hit_record, a) == offsetof(wire::hit_record, a) &&
              offsetof(uprobes_hit_record, sp) == offsetof(wire::hit_record, sp) &&
              offsetof(uprobes_hit_record, ra) == offsetof(wire::hit_record, ra) &&
              offsetof(uprobes_hit_record, ret) == offsetof(wire::hit_record, ret));

uprobes_hit_record* reserve_record(void*) {
    os_agent_lock();
    wire::hit_record* r = hits.reserve();
    if (r == nullptr) {
        note_hit_drop();
        os_agent_unlock();
        return nullptr;
    }
    return reinterpret_cast<uprobes_hit_record*>(r);
}

void commit_record(uprobes_hit_record*, void*) {
    hits.commit();
    const after_push a = record_stored();
    os_agent_unlock();
    notify(a);
}

// The engine's hit sink (a breakpoint trap, under the engine lock).
void on_hit(const uprobes_hit* hit, void*) {
    if (hit->cookie == tracepoint_cookie) // collected by the tracepoint's handler
        return;
    if (hit->cookie != 0) {              // an aggregation's hit: counted here, nothing is sent
        if (hit->cookie == fetch_cookie) // stored by the probe's handler with its data
            return;
        agent_lock lock;
        aggregate(*hit);
        return;
    }
    after_push a;
    {
        agent_lock lock;
        if (!hits.push(*hit)) {
            note_hit_drop();
            return;
        }
        a = record_stored();
    }
    notify(a);
}

} // namespace

// A hit with fetched data (fetch.cpp): the hit record and its continuation records.
alignas(8) constinit uint8_t fetch_scratch[wire::max_fetch_data];

void store_hit_with_data(const uprobes_hit& hit, uint32_t (*fill)(uint8_t* out, void* user),
                         void* user) {
    after_push a;
    {
        agent_lock lock;
        const uint32_t before = hits.unsent();
        const uint32_t len = fill(fetch_scratch, user);
        if (!hits.push_with_data(hit, fetch_scratch, len)) {
            note_hit_drop();
            return;
        }
        // As record_stored() for the records just stored: wake the agent when they are the
        // first waiting, hurry it when they cross a half window or the ring is congested.
        const uint32_t half = hit_window / 2;
        a = after_push{.wake = before == 0,
                       .hurry = before / half != hits.unsent() / half || ring_congested()};
    }
    notify(a);
}

namespace {

// Queues `e` under the agent's lock and wakes the agent.
void queue_and_wake(agent_event& e) {
    {
        agent_lock lock;
        queue_event(e);
    }
    wake_agent();
}

// ---- session -------------------------------------------------------------------------------

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
    if (hits.size() > hits.unsent() && now - last_ack_ns > resend_after_ns) {
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

// ---- outgoing events -----------------------------------------------------------------------

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

// The seq of the next record to send (the next one made when every record went). Agent lock.
uint64_t first_unsent_seq() {
    return hits.unsent() > 0 ? hits.unsent_at(0).seq : hits.next_seq();
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

// Sends one hits frame of at most `limit_seq - first` records while the host's credit window
// allows; records stay in the ring until the host acknowledges them. The frame is built in
// place in the transport's buffer (virtio: the one the device reads), the records copied once
// from the ring. False when nothing went.
bool send_hit_batch(uint64_t limit_seq) {
    const uint8_t flags = hit_frame_flags();
    uint32_t n;
    uint64_t first;
    const wire::hit_record* records;
    {
        agent_lock lock;
        if (hits.unsent() == 0) {
            return false;
        }
        first = hits.unsent_at(0).seq;
        uint64_t limit = hits.oldest_seq() + hit_window;
        if (limit_seq < limit) {
            limit = limit_seq;
        }
        if (first >= limit) {
            return false; // wait for the host's hits_ack, or for the event due first
        }
        uint64_t credit = limit - first;
        uint32_t max = wire::max_hits_per_frame;
        if (max > credit) {
            max = static_cast<uint32_t>(credit);
        }
        records = hits.unsent_run(max, &n);
    }
    if (flags == wire::frame_flag_seq_checked) {
        if (!send_hit_frame_in_place(first, records, n)) {
            transport::poll();
            if (!send_hit_frame_in_place(first, records, n)) {
                return false; // transmit buffers busy: try again on the next round
            }
        }
        agent_lock lock;
        hits.mark_sent(n);
        return true;
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
    build_hit_frame(out, first, records, n, flags);
    if (!transport::commit(len)) {
        return false;
    }
    agent_lock lock;
    hits.mark_sent(n);
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
    if (events.front().hit_mark > first_unsent_seq()) {
        return false;
    }
    *out = events.front();
    return true;
}

void pop_event() {
    agent_lock lock;
    events.pop();
}

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

// True when hit records wait and the window lets some go.
bool hits_sendable() {
    agent_lock lock;
    return hits.unsent() > 0 && hits.unsent_at(0).seq < hits.oldest_seq() + hit_window;
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

// One round: what the host sent, the lease, what goes to the host. Returns how long the agent
// may wait before the next round (0: more to send right away).
uint64_t serve_round() {
    if (!ready_sent) {
        ready_sent = true;
        send_ready();
    }
    transport::poll();
    receive_all();
    check_lease();
    if (session.active) {
        check_resend();
    }
    if (session.active) {
        send_in_order();
    } else {
        discard_events();
    }
    transport::flush();
    if (session.active && hits_sendable()) {
        return 0;
    }
    return poll_interval_ns;
}

} // namespace

bool send_frame(size_t len, bool must) {
    if (len == 0) {
        return false;
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (transport::write(tx_frame, len)) {
            return true;
        }
        transport::flush();
        transport::poll();
        if (!must) {
            return transport::write(tx_frame, len);
        }
        os_agent_wait(0);
    }
    return false;
}

void log(const char* text) {
    log(log_line().text(text));
}

void log(const log_line& line) {
    log_line full;
    full.text("agent: ").text(line.c_str());
    os_agent_log(full.c_str());
}

void sleep_for(uint64_t ns) {
    const uint64_t begin = agent_time_ns();
    for (uint64_t now = begin; now - begin < ns; now = agent_time_ns()) {
        os_agent_wait(ns - (now - begin));
    }
}

} // namespace agent

uint64_t agent_time_ns() {
    return os_agent_time_ns();
}

uint64_t agent_boot_id() {
    // splitmix64 of the kernel's clock and the host's wall clock: the kernel's clock alone is the
    // same on every boot under `-icount`, where it counts instructions.
    uint64_t z = (os_agent_time_ns() ^ os_agent_wall_clock_ns()) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z == 0 ? 1 : z;
}

// ---- the C ABI (ruprobes/agent.h) -------------------------------------------------------------

extern "C" int ruprobes_agent_init(const ruprobes_agent_config* config) {
    using namespace agent;
    if (config == nullptr || !transport::init(*config)) {
        return -1;
    }
    boot_id = config->boot_id != 0 ? config->boot_id : agent_boot_id();
    uprobes_set_hit_sink(on_hit, nullptr);
    uprobes_set_record_sink(reserve_record, commit_record, nullptr);
    running = true;
    return 0;
}

extern "C" void ruprobes_agent_run(void) {
    while (true) {
        os_agent_wait(ruprobes_agent_poll());
    }
}

extern "C" uint64_t ruprobes_agent_poll(void) {
    if (!agent::running) {
        return agent::poll_interval_ns;
    }
    return agent::serve_round();
}

extern "C" void ruprobes_agent_on_exec(uint32_t pid, uint32_t ppid, const char* path) {
    agent_event e;
    e.type = agent::wire::msg_type::exec;
    e.pid = pid;
    e.ppid = ppid;
    agent::str_copy(e.path, path != nullptr ? path : "", sizeof e.path);
    agent::queue_and_wake(e);
}

extern "C" void ruprobes_agent_on_fork(uint32_t, uint32_t child_pid) {
    agent::note_stop(child_pid, agent::wire::stop_reason::none); // a reused pid's old stop
}

extern "C" void ruprobes_agent_on_exit(uint32_t pid, int32_t status, int killed) {
    agent_event e;
    e.type = agent::wire::msg_type::exit;
    e.pid = pid;
    e.killed = killed != 0;
    e.status = status;
    agent::note_stop(pid, agent::wire::stop_reason::none);
    agent::queue_and_wake(e);
}

extern "C" void ruprobes_agent_on_stop(uint32_t pid, uint32_t tid, int reason, uint32_t probe_id,
                                       int signal) {
    namespace wire = agent::wire;
    agent_event e;
    e.type = wire::msg_type::stop;
    e.pid = pid;
    e.tid = tid;
    e.probe_id = probe_id;
    switch (reason) {
    case RUPROBES_AGENT_STOP_PROBE:
        e.stop_reason = uint8_t(wire::stop_reason::probe);
        break;
    case RUPROBES_AGENT_STOP_STEP:
        e.stop_reason = uint8_t(wire::stop_reason::step);
        break;
    case RUPROBES_AGENT_STOP_BREAKPOINT:
        e.stop_reason = uint8_t(wire::stop_reason::trap);
        break;
    case RUPROBES_AGENT_STOP_FAULT:
        e.stop_reason = uint8_t(wire::stop_reason::fault);
        break;
    default:
        e.stop_reason = uint8_t(wire::stop_reason::requested);
        break;
    }
    agent::note_stop(tid, wire::stop_reason(e.stop_reason), static_cast<uint8_t>(signal));
    agent::queue_and_wake(e);
}

extern "C" void ruprobes_agent_virtio_interrupt(void) {
    agent::transport::interrupt();
}

extern "C" int ruprobes_agent_congested(void) {
    return agent::ring_congested() ? 1 : 0;
}

extern "C" void ruprobes_agent_get_stats(ruprobes_agent_stats* out) {
    using namespace agent;
    agent_lock lock;
    *out = ruprobes_agent_stats{};
    out->host_connected = session.active ? 1 : 0;
    out->hits_unsent = hits.unsent();
    out->hits_dropped = hits.dropped();
    out->events_dropped = events.dropped();
    out->frames_rejected = decoder.stats().rejected_total();
}

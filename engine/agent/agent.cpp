// The agent thread: bytes from the console → frame decoder → request handlers → responses; the
// kernel's events and the hit ring → frames → console. protocol/README.md is the contract.
#include "agent/agent.hpp"

#include "agent/agent_internal.hpp"
#include "agent/event_queue.hpp"
#include "agent/hit_ring.hpp"
#include "agent/session.hpp"
#include "arch/riscv64/plic.hpp"
#include "arch/riscv64/timer.hpp"
#include "drivers/goldfish_rtc.hpp"
#include "drivers/virtio_console.hpp"
#include "lib/console.hpp"
#include "lib/string.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"

#include "ruprobes/ruprobes.h"

namespace agent {

alignas(8) uint8_t tx_frame[wire::max_frame];

namespace {

constexpr uint64_t poll_interval_ns = 10'000'000; // drain hits / check the lease every 10 ms
// 1024 records = 128 KiB in flight: below a unix socket's default send buffer (208 KiB), so QEMU
// never has to discard hit frames while the host keeps reading.
constexpr uint32_t hit_window = 1024;
constexpr uint32_t kernel_capabilities =
    wire::capability::hit_batches | wire::capability::stop_mode | wire::capability::return_probes |
    wire::capability::memory_write | wire::capability::register_write |
    wire::capability::single_step | wire::capability::spawn | wire::capability::lease |
    wire::capability::word_checksum;

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
char wake_channel; // the address the agent thread sleeps on

// The clock of the host's lease: the host's own (the RTC), because under `-icount sleep=off`
// the guest's timer skips idle time and runs far ahead of the host's pings. The guest timer when
// there is no RTC.
uint64_t lease_clock_ns() {
    uint64_t t = goldfish_rtc::now_ns();
    return t != 0 ? t : agent_time_ns();
}

void wake_agent() {
    wakeup(&wake_channel);
}

// ---- producers (trap and lifecycle context: never block) ------------------------------------

// Backpressure: while a host session is active and the ring is three quarters full, a thread
// that makes hits waits (after its trap) for the agent to ship and the host to acknowledge,
// instead of running on and losing records. Bounded: 200 ms of the host's clock per wait, so a
// host that stops reading costs drops, not a stalled program.
constexpr uint32_t congested_records = hit_ring::capacity / 4 * 3;
constexpr uint64_t max_backpressure_ns = 200'000'000;
char room_channel; // threads waiting for room in the ring sleep on it

bool ring_congested() {
    return session.active && hits.size() >= congested_records;
}

// The reschedule hook (scheduler.hpp), in the context of the thread that made the hits.
void after_hit_burst() {
    yield(); // the agent runs first
    if (!ring_congested()) {
        return;
    }
    const uint64_t begin = lease_clock_ns();
    while (ring_congested() && lease_clock_ns() - begin < max_backpressure_ns) {
        sleep_on(&room_channel, timer_now() + timer_ns_to_ticks(poll_interval_ns));
    }
}

// Wakes the threads waiting for room once the ring has some.
void wake_if_room() {
    if (!ring_congested()) {
        wakeup(&room_channel);
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

void on_hit(const uprobes_hit* hit, void*) {
    if (!hits.push(*hit)) {
        note_hit_drop();
        return;
    }
    // Wake the agent for the first record of each batch, not for every record; once a window's
    // worth waits, have the trapping thread give the hart up so that the agent ships before the
    // ring overflows (otherwise it runs at the next timer tick: a tick's hits can exceed the ring).
    const uint32_t unsent = hits.unsent();
    if (unsent % wire::max_hits_per_frame == 1) {
        wake_agent();
    }
    if (unsent % (hit_window / 2) == 0 || ring_congested()) {
        request_reschedule();
    }
}

void on_stopped(int pid, stop_reason reason, uint32_t probe_id, void*) {
    agent_event e;
    e.type = wire::msg_type::stop;
    e.pid = static_cast<uint32_t>(pid);
    e.probe_id = probe_id;
    switch (reason) {
    case stop_reason::probe:
        e.stop_reason = uint8_t(wire::stop_reason::probe);
        break;
    case stop_reason::step:
        e.stop_reason = uint8_t(wire::stop_reason::step);
        break;
    case stop_reason::breakpoint:
        e.stop_reason = uint8_t(wire::stop_reason::trap);
        break;
    case stop_reason::requested:
        e.stop_reason = uint8_t(wire::stop_reason::requested);
        break;
    case stop_reason::fault:
        e.stop_reason = uint8_t(wire::stop_reason::fault);
        break;
    }
    note_stop(pid, wire::stop_reason(e.stop_reason));
    queue_event(e);
    wake_agent();
}

void on_exec(int pid, const char* path, void*) {
    agent_event e;
    e.type = wire::msg_type::exec;
    e.pid = static_cast<uint32_t>(pid);
    process* p = find_process(pid);
    e.ppid = p != nullptr && p->parent != nullptr ? static_cast<uint32_t>(p->parent->pid) : 0;
    kstrlcpy(e.path, path, sizeof e.path);
    queue_event(e);
    wake_agent();
}

void on_exited(int pid, int wait_status, void*) {
    agent_event e;
    e.type = wire::msg_type::exit;
    e.pid = static_cast<uint32_t>(pid);
    e.killed = (wait_status & 0x7f) != 0;
    e.status = e.killed ? (wait_status & 0x7f) : ((wait_status >> 8) & 0xff);
    note_stop(pid, wire::stop_reason::none);
    queue_event(e);
    wake_agent();
}

constinit process_listener listener = {on_stopped, on_exec, on_exited, nullptr};

// ---- session -------------------------------------------------------------------------------

void end_session(const char* why) {
    session.active = false;
    wakeup(&room_channel);
    uint32_t resumed = resume_all_stopped();
    kprintf("agent: session ended (%s), %u stopped threads resumed\n", why, resumed);
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
        resume_all_stopped();
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
    hits.rewind(); // records sent on an earlier connection and not acknowledged go again
    last_ack_ns = agent_time_ns();
    set_process_listener(&listener);
    virtio_console::statistics cs = virtio_console::stats();
    kprintf("agent: host session %lx%s (console: %lu interrupts, %lu bytes in, %lu out; %lu "
            "frames rejected, %lu hit resends)\n",
            req->session_id, reset ? " (reset)" : "", cs.interrupts, cs.rx_bytes, cs.tx_bytes,
            decoder.stats().rejected_total(), hits_resent);
    reply(f, wire::hello_response{.status = 0,
                                  .version = wire::protocol_version,
                                  .capabilities = session.capabilities,
                                  .boot_id = boot_id,
                                  .time_ns = agent_time_ns(),
                                  .next_hit_seq = hits.oldest_seq(),
                                  .hits_dropped = hits.dropped(),
                                  .hit_window = hit_window,
                                  .max_frame = wire::max_frame,
                                  .stopped_threads = count_stopped()});
    reported_hits_dropped = hits.dropped();
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
            uint64_t before = hits.oldest_seq();
            hits.ack(ack->next_seq);
            wake_if_room();
            if (hits.oldest_seq() != before || hits.size() == 0) {
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
        size_t n = virtio_console::read(rx_chunk, sizeof rx_chunk);
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
    if (hits.size() > hits.unsent() && agent_time_ns() - last_ack_ns > resend_after_ns) {
        hits.rewind();
        last_ack_ns = agent_time_ns();
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
        send_stop_event(static_cast<int>(e.pid), wire::stop_reason(e.stop_reason), e.probe_id);
        return true;
    }
    if (e.type == wire::msg_type::exec) {
        len = wire::encode(
            tx_frame, 0,
            wire::exec_event{
                .pid = e.pid,
                .ppid = e.ppid,
                .path = wire::bytes(reinterpret_cast<const uint8_t*>(e.path), kstrlen(e.path)),
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
    if (!events.empty() ||
        (hits.dropped() == reported_hits_dropped && events.dropped() == reported_events_dropped)) {
        return;
    }
    size_t len =
        wire::encode(tx_frame, 0,
                     wire::drops_event{.hits_dropped = hits.dropped(),
                                       .next_seq = hits.next_seq(),
                                       .events_dropped = events.dropped(),
                                       .frames_rejected = decoder.stats().rejected_total()});
    if (send_frame(len, false)) {
        reported_hits_dropped = hits.dropped();
        reported_events_dropped = events.dropped();
    }
}

// The ring keeps each record in its wire layout (a little-endian kernel and a struct without
// holes but the reserved bytes: checked here), so a record goes into a frame with one copy
// instead of being encoded field by field.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
static_assert(sizeof(wire::hit_record) == wire::hit_record_size);
static_assert(offsetof(wire::hit_record, pid) == 16 && offsetof(wire::hit_record, pc) == 24 &&
              offsetof(wire::hit_record, probe_id) == 32 &&
              offsetof(wire::hit_record, kind) == 36 && offsetof(wire::hit_record, flags) == 37 &&
              offsetof(wire::hit_record, a) == 40 && offsetof(wire::hit_record, sp) == 104 &&
              offsetof(wire::hit_record, ret) == 120);
constexpr size_t hit_record_reserved = 38; // u16 reserved, zero on the wire

void put_hit_record(wire::byte_writer& w, const wire::hit_record& r) {
    size_t at = w.size();
    w.data(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&r), sizeof r));
    w.patch(at + hit_record_reserved, 0, 2);
}

// The seq of the next record to send (the next one made when every record went).
uint64_t first_unsent_seq() {
    return hits.unsent() > 0 ? hits.unsent_at(0).seq : hits.next_seq();
}

// Sends one hits batch of at most `limit - first` records while the host's credit window allows;
// records stay in the ring until the host acknowledges them. False when nothing went.
bool send_hit_batch(uint64_t limit_seq) {
    if (hits.unsent() == 0) {
        return false;
    }
    uint64_t first = hits.unsent_at(0).seq;
    uint64_t limit = hits.oldest_seq() + hit_window;
    if (limit_seq < limit) {
        limit = limit_seq;
    }
    if (first >= limit) {
        return false; // wait for the host's hits_ack, or for the event due first
    }
    uint64_t credit = limit - first;
    uint32_t n = hits.unsent();
    if (n > wire::max_hits_per_frame) {
        n = wire::max_hits_per_frame;
    }
    if (n > credit) {
        n = static_cast<uint32_t>(credit);
    }
    // The word checksum when the host takes it: the CRC-32 would cost more than the rest of
    // shipping the records (word_checksum.hpp).
    const uint8_t flags = (session.capabilities & wire::capability::word_checksum) != 0
                              ? wire::frame_flag_word_checksum
                              : 0;
    wire::frame_builder b(tx_frame, wire::hits_event::code, 0, flags);
    wire::write_fields(b.payload(), wire::hits_event{.first_seq = first, .count = uint16_t(n)});
    for (uint32_t i = 0; i < n; i++) {
        put_hit_record(b.payload(), hits.unsent_at(i));
    }
    if (!send_frame(b.finish(), false)) {
        return false; // transmit buffers busy: try again on the next round
    }
    hits.mark_sent(n);
    return true;
}

// Events and hit batches in causal order: an event goes once every record before its hit_mark
// went, and a batch stops at the mark of the event due next.
void send_in_order() {
    while (true) {
        if (!events.empty() && events.front().hit_mark <= first_unsent_seq()) {
            if (!send_event(events.front())) {
                return; // transmit buffers busy: the event keeps its place
            }
            events.pop();
            continue;
        }
        uint64_t limit = events.empty() ? ~uint64_t(0) : events.front().hit_mark;
        if (!send_hit_batch(limit)) {
            break;
        }
    }
    send_drops_if_changed();
}

// True when hit records wait and the window lets some go.
bool hits_sendable() {
    return hits.unsent() > 0 && hits.unsent_at(0).seq < hits.oldest_seq() + hit_window;
}

void agent_main(void*) {
    kprintf("agent: serving the host on the virtio console\n");
    send_frame(wire::encode(tx_frame, 0,
                            wire::kernel_ready_event{.version = wire::protocol_version,
                                                     .capabilities = kernel_capabilities,
                                                     .boot_id = boot_id,
                                                     .time_ns = agent_time_ns()}),
               false);
    virtio_console::flush();
    while (true) {
        virtio_console::poll();
        receive_all();
        check_lease();
        if (session.active) {
            check_resend();
        }
        if (session.active) {
            send_in_order();
        } else {
            // No host: nobody could resume a thread that stopped on a probe left by a host that
            // went away, so it continues at once; other events are lost (and counted).
            while (!events.empty()) {
                if (events.front().type == wire::msg_type::stop) {
                    resume_thread(static_cast<int>(events.front().pid));
                }
                if (events.front().type != wire::msg_type::drops) {
                    events.count_drop(); // a drop is in hits_dropped, reported at the hello
                }
                events.pop();
            }
        }
        virtio_console::flush();
        if (session.active && hits_sendable()) {
            yield(); // more to send right away
            continue;
        }
        sleep_on(&wake_channel, timer_now() + timer_ns_to_ticks(poll_interval_ns));
    }
}

} // namespace

bool send_frame(size_t len, bool must) {
    if (len == 0) {
        return false;
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (virtio_console::write(tx_frame, len)) {
            return true;
        }
        virtio_console::flush();
        virtio_console::poll();
        if (!must) {
            return virtio_console::write(tx_frame, len);
        }
        yield();
    }
    return false;
}

} // namespace agent

uint64_t agent_time_ns() {
    return timer_ticks_to_ns(timer_now());
}

uint64_t agent_boot_id() {
    // splitmix64 of the timer and the host's wall clock (the RTC): the timer alone is the same
    // on every boot under `-icount`, where it counts instructions.
    uint64_t z = (timer_now() ^ goldfish_rtc::now_ns()) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z == 0 ? 1 : z;
}

bool agent_start() {
    using namespace agent;
    if (!virtio_console::init()) {
        kprintf("agent: no virtio console, running without a host channel\n");
        return false;
    }
    boot_id = agent_boot_id();
    virtio_console::set_receive_callback(wake_agent);
    if (!irq_register(virtio_console::irq(), virtio_console::interrupt, nullptr)) {
        kprintf("agent: cannot register irq %u; polling only\n", virtio_console::irq());
    }
    uprobes_set_hit_sink(on_hit, nullptr);
    set_reschedule_hook(after_hit_burst);
    if (spawn_kernel_thread("agent", agent_main, nullptr) == nullptr) {
        kprintf("agent: cannot start the agent thread\n");
        return false;
    }
    running = true;
    return true;
}

bool agent_running() {
    return agent::running;
}

bool agent_host_connected() {
    return agent::session.active;
}

uint32_t agent_hits_unsent() {
    return agent::hits.unsent();
}

uint64_t agent_hits_dropped() {
    return agent::hits.dropped();
}

// main.cpp's device bring-up hook: the virtio console and its agent.
extern "C" void devices_init() {
    agent_start();
}

// The agent's producers, in trap and lifecycle context (they never block): the engine's hit and
// record sinks, which store hit records in the ring, and the kernel's lifecycle hooks
// (ruprobes_agent_on_*), which queue events behind them. The agent thread ships both
// (shipping.cpp).
#include "agent/agent_internal.hpp"
#include "agent/aggregations.hpp"
#include "agent/fetch.hpp"
#include "agent/tracepoints.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

void wake_agent() {
    os_agent_notify(RUPROBES_AGENT_NOTICE_WORK);
}

// Backpressure: while a host session is active and the ring is three quarters full, the kernel
// may hold a thread that makes hits (after its trap) until the agent ships and the host
// acknowledges, instead of letting it run on and lose records (RUPROBES_AGENT_NOTICE_HURRY).
constexpr uint32_t congested_records = hit_ring::capacity / 4 * 3;

} // namespace

bool ring_congested() {
    return session.active && hits.size() >= congested_records;
}

// Wakes the threads held for room once the ring has some.
void wake_if_room() {
    if (!ring_congested()) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_ROOM);
    }
}

namespace {

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

// commit_record when the agent is to be woken or hurried.
[[gnu::noinline]] void unlock_and_notify(after_push a) {
    os_agent_unlock();
    notify(a);
}

void commit_record(uprobes_hit_record*, void*) {
    // reserve() stored the record: what is left is the wake-up and the lock. Both ends are tail
    // calls, so the usual record (nothing to notify) costs no stack frame.
    const after_push a = record_stored();
    if (a.wake || a.hurry) {
        unlock_and_notify(a);
        return;
    }
    os_agent_unlock();
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

} // namespace

void install_sinks() {
    uprobes_set_hit_sink(on_hit, nullptr);
    uprobes_set_record_sink(reserve_record, commit_record, nullptr);
}

} // namespace agent

// ---- the kernel's hooks (ruprobes/agent.h) ---------------------------------------------------

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

extern "C" int ruprobes_agent_congested(void) {
    return agent::ring_congested() ? 1 : 0;
}

// The agent's producers, in trap and lifecycle context (they never block): the engine's hit and
// record sinks, which store hit records in the ring of the hart they run on (no lock), and the
// kernel's lifecycle hooks (ruprobes_agent_on_*), which queue events behind them. The agent thread
// ships both (shipping.cpp).
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

// Backpressure: while a host session is active and a hart's ring is three quarters full, the
// kernel may hold a thread that makes hits on it (after its trap) until the agent ships and the
// host acknowledges, instead of letting it run on and lose records (RUPROBES_AGENT_NOTICE_HURRY).
bool hart_congested(size_t hart) {
    return session.active && hits.ring_congested(hart);
}

} // namespace

bool ring_congested() {
    if (!session.active) {
        return false;
    }
    for (uint32_t k = 0; k < hits.harts(); k++) {
        if (hits.ring_congested(k)) {
            return true;
        }
    }
    return false;
}

// Wakes the threads held for room once the rings have some.
void wake_if_room() {
    if (!ring_congested()) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_ROOM);
    }
}

namespace {

// Queues `e` behind the hit records made so far (event_queue.hpp). Agent lock held.
void queue_event(agent_event& e) {
    e.hit_mark = hits.next_seq();
    events.push(e);
}

// A record a full ring could not take: the loss goes into the event queue at its place in the
// sequence (consecutive drops at the same place make one event). When the queue is full too,
// send_drops_if_changed reports it once the queue has drained. Agent lock held.
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

// The drop path of the trap (rare): the event queue is the agent's, under its lock.
[[gnu::noinline]] void note_hit_drop_locked() {
    agent_lock lock;
    note_hit_drop();
}

// After records were committed on a hart, `unsent` of them waiting in its ring: wake the agent
// when a record waits in this hart's ring and none did before, not for every record: the agent
// sends every record it can in a round and keeps running while any are sendable
// (ruprobes_agent_poll returns 0), and an acknowledgement that opens the window wakes it through
// the console's interrupt. (A record that waits for another hart's smaller seq is sent once that
// one is committed, and that hart's ring then wakes the agent: every record of it before that seq
// went. On several harts a commit that races the agent's send may miss a wake-up; the record then
// waits for the agent's next round, 10 ms at most.) Once each further half window waits, ask the
// kernel to run the agent before the trapping thread goes on, so that it ships before the ring
// overflows (otherwise it runs at the next timer tick: a tick's hits can exceed the ring).
[[gnu::noinline]] void notice_unsent(uint32_t unsent) {
    os_agent_notify(unsent == 1 ? RUPROBES_AGENT_NOTICE_WORK : RUPROBES_AGENT_NOTICE_HURRY);
}

// Whether notice_unsent has anything to do: one test of the usual record.
inline void after_commit(uint32_t unsent) {
    static_assert((hit_window / 2 & (hit_window / 2 - 1)) == 0);
    if (((unsent - 1) & (hit_window / 2 - 1)) == 0) [[unlikely]] {
        notice_unsent(unsent);
    }
}

// A reservation found its ring three quarters full: during a session, the kernel may hold the
// thread after its trap until the agent made room (ruprobes_agent_congested).
[[gnu::noinline]] void note_crowded() {
    if (session.active) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_HURRY);
    }
}

// The engine's record sink (uprobes_set_record_sink): the record is written once, by the
// engine, into this hart's ring, where it is shipped from. No lock: the ring is this hart's
// alone, and the engine fills the record between reserve and commit with interrupts off.
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

// The hart a hit runs on: 0 when the kernel said it has one hart.
constinit bool one_hart = false;

uint32_t current_hart() {
    return one_hart ? 0 : os_agent_hart_id();
}

// `one_hart`: the kernel has one hart, and the ring's constants replace the hart's lookup.
template <bool one_hart>
uprobes_hit_record* reserve_record(void*) {
    bool crowded = false;
    wire::hit_record* r = hits.reserve<one_hart>(one_hart ? 0 : os_agent_hart_id(), 1, &crowded);
    if (crowded) [[unlikely]] {
        if (r == nullptr) {
            note_hit_drop_locked();
            return nullptr;
        }
        note_crowded();
    }
    return reinterpret_cast<uprobes_hit_record*>(r);
}

template <bool one_hart>
void commit_record(uprobes_hit_record* r, void*) {
    // The ring is found from the record: no second os_agent_hart_id call.
    const size_t hart = one_hart ? 0 : hits.ring_of(r);
    // A tail call when there is a notice: the usual record needs no stack frame.
    after_commit(hits.commit<one_hart>(hart));
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
    const uint32_t hart = current_hart();
    hit_rings::fill f;
    if (!hits.push(hart, *hit, &f)) {
        note_hit_drop_locked();
        return;
    }
    if (f.crowded) {
        note_crowded();
    }
    after_commit(f.unsent);
}

} // namespace

// A hit with fetched data (fetch.cpp): the hit record and its continuation records.
alignas(8) constinit uint8_t fetch_scratch[wire::max_fetch_data];

void store_hit_with_data(const uprobes_hit& hit, uint32_t (*fill)(uint8_t* out, void* user),
                         void* user) {
    bool wake, hurry;
    const uint32_t hart = current_hart();
    {
        agent_lock lock; // fetch_scratch is shared by the harts
        const uint32_t before = hart < hit_rings::max_harts ? hits.ring_unsent(hart) : 0;
        const uint32_t len = fill(fetch_scratch, user);
        if (!hits.push_with_data(hart, hit, fetch_scratch, len)) {
            note_hit_drop();
            return;
        }
        // As after_commit() for the records just stored: wake the agent when they are the
        // first waiting, hurry it when they cross a half window or the ring is congested.
        const uint32_t half = hit_window / 2;
        wake = before == 0;
        hurry = before / half != hits.ring_unsent(hart) / half || hart_congested(hart);
    }
    if (wake) {
        wake_agent();
    }
    if (hurry) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_HURRY);
    }
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

void install_sinks(uint32_t harts) {
    hits.configure(harts);
    one_hart = hits.harts() == 1;
    uprobes_set_hit_sink(on_hit, nullptr);
    if (one_hart) {
        uprobes_set_record_sink(reserve_record<true>, commit_record<true>, nullptr);
    } else {
        uprobes_set_record_sink(reserve_record<false>, commit_record<false>, nullptr);
    }
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

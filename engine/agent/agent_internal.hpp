// Shared between the agent's files: sending frames and the state request handlers touch.
#pragma once

#include "agent/agent_lock.hpp"
#include "agent/agent_string.hpp"
#include "agent/event_queue.hpp"
#include "agent/hit_ring.hpp"
#include "agent/session.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/wire/codec.hpp"

namespace agent {

namespace wire = ruprobes::wire;

// The frame being built for sending (one at a time: the agent is one thread).
extern uint8_t tx_frame[wire::max_frame]; // 8-byte aligned (word-wise CRC and copies)

// Queues tx_frame[0..len) on the transport. `must` (responses): waits for room (os_agent_wait:
// the agent may wait; probe hits never do). Otherwise gives up when there is none.
bool send_frame(size_t len, bool must);

inline void reply_status(const wire::frame& f, int32_t code) {
    send_frame(wire::encode_status(tx_frame, f.type, f.request_id, code), true);
}

template <typename M>
void reply(const wire::frame& f, const M& m) {
    send_frame(wire::encode(tx_frame, f.request_id, m), true);
}

// Serves one request of a session (probes, processes, threads, registers, memory): always
// answers, with unsupported_request for types it does not know. requests.cpp.
void handle_request(const wire::frame& f);

// Session changes (protocol/README.md §5).
void remove_all_probes();
// Resumes every stopped user thread (os_agent_release_all); returns how many.
uint32_t resume_all_stopped();
// Resumes thread `tid` of `pid` if it is stopped.
void resume_thread(uint32_t pid, uint32_t tid);
uint32_t count_stopped();

// Why thread `tid` last stopped (thread_list), as the agent saw it, and the signal of a fault.
void note_stop(uint32_t tid, wire::stop_reason reason, uint8_t signal = 0);
wire::stop_reason last_stop_reason(uint32_t tid);
uint8_t last_stop_signal(uint32_t tid);
// Forgets every thread's stop (the kernel released them all).
void forget_stops();

// Sends a stop event for thread `tid` of `pid` (stopped) with its saved registers now.
void send_stop_event(uint32_t pid, uint32_t tid, wire::stop_reason reason, uint32_t probe_id);

// ---- the state of the agent's rounds (agent.cpp), shared by their parts -----------------------

// 512 records = 64 KiB in flight. QEMU discards console bytes the host's socket does not take,
// so what is in flight must stay well below the socket's send buffer (208 KiB by default), which
// counts every write with its overhead (about 1 KiB for a small one): QEMU writes a hits frame
// in three writes, one per descriptor (header, records in the ring, trailer). With 1024 records
// in flight, frames were cut while the host was busy, and their records came only after the
// events that followed them (the go-back-N resend). That holds only while frames are long: a
// frame per record or two (the harts' hits interleaved) would put hundreds of writes in flight,
// so short runs of several harts go together in one copied frame (shipping.cpp).
constexpr uint32_t hit_window = 512;
constexpr uint32_t kernel_capabilities =
    wire::capability::hit_batches | wire::capability::stop_mode | wire::capability::return_probes |
    wire::capability::memory_write | wire::capability::register_write |
    wire::capability::single_step | wire::capability::spawn | wire::capability::lease |
    wire::capability::word_checksum | wire::capability::seq_checked_hits |
    wire::capability::fetch_records;

extern agent_session session;
extern hit_rings hits;     // per hart: producers lock-free, the agent's side under its lock
extern event_queue events; // under the agent's lock
extern wire::frame_decoder decoder;    // frames from the host
extern uint64_t boot_id;               // kernel_ready, hello
extern uint64_t reported_hits_dropped; // the hits_dropped the host last heard of (hello, drops)

// producers.cpp: splits the hit records among `harts` rings (ruprobes_agent_config) and hands
// the engine its hit and record sinks (uprobes_set_*_sink).
void install_sinks(uint32_t harts);
// True while a host session is active and a hart's hit ring is three quarters full: the kernel
// may then hold a thread that makes hits (ruprobes_agent_congested).
bool ring_congested();
// Wakes the threads held for room once the ring has some.
void wake_if_room();

// host_session.cpp: the frames the host sent, served; the lease; the resend of records the host
// did not acknowledge in time.
void receive_all();
void check_lease();
void check_resend();

// shipping.cpp: kernel_ready (once); events and hit batches in causal order while a session is
// active, and whether hit records wait that the window lets go; without a session, the queued
// events discarded (stopped threads resumed).
void send_ready();
void send_in_order();
bool hits_sendable();
void discard_events();

// Logs "agent: <text>".
void log(const char* text);
void log(const log_line& line);

// Sleeps (os_agent_wait) until `ns` passed on os_agent_time_ns.
void sleep_for(uint64_t ns);

} // namespace agent

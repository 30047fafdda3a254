// Shared between the agent's files: sending frames and the state request handlers touch.
#pragma once

#include "agent/agent_string.hpp"

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

// Set by a request that resumed a thread: the round leaves its responses in the open transmit
// buffer, to go with what the thread causes next (a breakpoint stop comes within microseconds,
// and its response, hit record and stop event then reach the host in one write). The agent's
// next round sends them in any case, at the latest after its poll interval.
extern bool responses_wait_for_resumed_thread;

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

// Logs "agent: <text>".
void log(const char* text);
void log(const log_line& line);

// Sleeps (os_agent_wait) until `ns` passed on os_agent_time_ns.
void sleep_for(uint64_t ns);

} // namespace agent

// Shared between the agent's files: sending frames and the state request handlers touch.
#pragma once

#include "ruprobes/wire/codec.hpp"

namespace agent {

namespace wire = ruprobes::wire;

// The frame being built for sending (one at a time: the agent is one thread).
extern uint8_t tx_frame[wire::max_frame]; // 8-byte aligned (word-wise CRC and copies)

// Queues tx_frame[0..len) on the console. `must` (responses): waits for a transmit buffer (the
// agent thread may wait; probe hits never do). Otherwise gives up when none is free.
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
// Resumes every stopped user thread; returns how many.
uint32_t resume_all_stopped();
// Resumes `pid` if it is stopped.
void resume_thread(int pid);
uint32_t count_stopped();

// Why `pid` last stopped (thread_list), as the agent saw it.
void note_stop(int pid, wire::stop_reason reason);
wire::stop_reason last_stop_reason(int pid);

// Sends a stop event for `pid` (stopped) with its saved registers now.
void send_stop_event(int pid, wire::stop_reason reason, uint32_t probe_id);

} // namespace agent

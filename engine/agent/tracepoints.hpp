// gdb tracepoints in the kernel (protocol/README.md §3, tracepoint_add ... trace_frame_read): a
// probe whose hit, while tracing runs, appends a frame to the agent's trace buffer — the
// registers, the memory and the trace state variables its actions collect — and never stops
// the thread. The buffer has a fixed maximum size; when a frame finds no room, or a tracepoint
// reaches its pass count, tracing stops and trace_status says why. The host reads frames one by
// one with trace_frame_read.
#pragma once

#include "agent/agent_internal.hpp"

namespace agent {

// The cookie of every tracepoint probe: its hits are collected by its handler, nothing is sent.
inline constexpr uint64_t tracepoint_cookie = 1ull << 63;

// The requests.
void tracepoint_add(const wire::frame& f);
void trace_start(const wire::frame& f);
void trace_stop(const wire::frame& f);
void trace_status(const wire::frame& f);
void trace_frame_read(const wire::frame& f);

// A new host session that reset the kernel's state: the run ends and its frames are dropped
// (its tracepoints went with remove_all_probes).
void trace_reset();

// Probe `probe_id` was removed: if it was a tracepoint, its slot is free again.
void tracepoint_release(uint32_t probe_id);

} // namespace agent

// The messages of what the kernel collects at the hit and the host reads later: in-kernel
// aggregations and gdb tracepoints' trace buffer (protocol/README.md §3), in the style of
// messages.hpp, which includes this file at its end.
#pragma once

#include "ruprobes/wire/messages.hpp"

namespace ruprobes::wire {

// ---- aggregations --------------------------------------------------------------------------

struct aggregation_add_request {
    static constexpr uint16_t code = type_code(msg_type::aggregation_add);
    uint32_t pid = 0;
    uint8_t kind = 0;      // probe_kind
    uint8_t key = 0;       // aggregation_key
    uint8_t value = 0;     // aggregation_value
    uint8_t histogram = 0; // aggregation_histogram
    uint64_t address = 0;
    uint64_t linear_min = 0; // histogram linear (i64): buckets of `step` from min to max
    uint64_t linear_max = 0; // (i64)
    uint64_t linear_step = 0;
    bytes path;
    bytes condition;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.kind), s.field(m.key), s.field(m.value), s.field(m.histogram);
        s.field(m.address), s.field(m.linear_min), s.field(m.linear_max), s.field(m.linear_step);
        s.len16(m.path), s.len16(m.condition), s.zeros(4), s.data(m.path), s.data(m.condition);
    }
};

using aggregation_add_response = probe_id_response<msg_type::aggregation_add>;

struct aggregation_read_request {
    static constexpr uint16_t code = type_code(msg_type::aggregation_read);
    uint32_t probe_id = 0;
    uint32_t start = 0; // index of the first key wanted
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.probe_id), s.field(m.start);
    }
};

// The head of an aggregation_read response; `count` aggregation_entry follow.
struct aggregation_read_response {
    static constexpr uint16_t code = response_code(msg_type::aggregation_read);
    int32_t status = 0;
    uint32_t total = 0;   // keys
    uint32_t count = 0;   // keys in this page
    uint32_t buckets = 0; // histogram buckets per key (0: no histogram)
    uint64_t hits = 0;    // hits aggregated, dropped ones included
    uint64_t dropped = 0; // hits whose key found no room in the table
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.total), s.field(m.count), s.field(m.buckets), s.zeros(4), s.field(m.hits);
        s.field(m.dropped);
    }
};

// One key of an aggregation: its hits and the statistics of its value; `histogram` holds
// `buckets` little-endian u64 counts (README §3 says which values each bucket holds).
struct aggregation_entry {
    uint64_t key = 0;
    uint64_t count = 0;
    uint64_t sum = 0;
    uint64_t min = 0; // i64 (as every value: registers are signed)
    uint64_t max = 0; // i64
    bytes histogram;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.key), s.field(m.count), s.field(m.sum), s.field(m.min), s.field(m.max);
        s.len16(m.histogram), s.zeros(6), s.data(m.histogram);
    }
};

// ---- tracepoints ---------------------------------------------------------------------------

// A gdb tracepoint (README §3): a probe whose hits append a frame to the kernel's trace buffer
// while tracing runs. `registers`: bit i collects x_i, bit 32 pc (any bit: the whole register
// block). `condition` and `actions` are agent-expression lists (u16 length, bytecode; each).
struct tracepoint_add_request {
    static constexpr uint16_t code = type_code(msg_type::tracepoint_add);
    uint32_t pid = 0;
    uint32_t number = 0; // gdb's tracepoint number (frames carry it)
    uint64_t address = 0;
    uint64_t passcount = 0; // frames after which tracing stops; 0: no limit
    uint64_t registers = 0;
    bytes path;
    bytes condition;
    bytes actions;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.number), s.field(m.address), s.field(m.passcount);
        s.field(m.registers), s.len16(m.path), s.len16(m.condition), s.len16(m.actions);
        s.zeros(2), s.data(m.path), s.data(m.condition), s.data(m.actions);
    }
};
using tracepoint_add_response = probe_id_response<msg_type::tracepoint_add>;

// Empties the trace buffer, sets the trace state variables and starts collecting.
// `variables`: trace_variable_entry_size entries (u32 number, 4 zeros, u64 initial value).
struct trace_start_request {
    static constexpr uint16_t code = type_code(msg_type::trace_start);
    uint32_t buffer_size = 0; // bytes wanted; 0: the kernel's default; clamped to its limits
    bytes variables;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.buffer_size), s.len16(m.variables), s.zeros(2), s.data(m.variables);
    }
};

struct trace_start_response {
    static constexpr uint16_t code = response_code(msg_type::trace_start);
    int32_t status = 0;
    uint32_t buffer_size = 0; // the size in effect
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.buffer_size);
    }
};

// trace_stop and trace_status carry only reserved flags (0).
template <msg_type T>
struct trace_flags_request {
    static constexpr uint16_t code = type_code(T);
    uint32_t flags = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.flags);
    }
};
using trace_stop_request = trace_flags_request<msg_type::trace_stop>;
using trace_stop_response = status_response<msg_type::trace_stop>;
using trace_status_request = trace_flags_request<msg_type::trace_status>;

struct trace_status_response {
    static constexpr uint16_t code = response_code(msg_type::trace_status);
    int32_t status = 0;
    uint8_t running = 0;
    uint8_t stop_reason = 0;          // trace_stop_reason (when not running)
    uint32_t stopping_tracepoint = 0; // passcount, error: the tracepoint's number
    int32_t error_code = 0;           // error: the engine's error number
    uint32_t frames = 0;              // in the buffer
    uint32_t created = 0;             // since the start
    uint32_t buffer_size = 0;
    uint32_t buffer_free = 0;
    bytes variables; // current values: trace_variable_entry_size entries
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.running), s.field(m.stop_reason), s.zeros(2), s.field(m.stopping_tracepoint);
        s.field(m.error_code), s.field(m.frames), s.field(m.created), s.field(m.buffer_size);
        s.field(m.buffer_free), s.len16(m.variables), s.zeros(2), s.data(m.variables);
    }
};

struct trace_frame_read_request {
    static constexpr uint16_t code = type_code(msg_type::trace_frame_read);
    uint32_t number = 0; // from 0, in the order the frames were made
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.number);
    }
};

// One frame: its tracepoint and its blocks (trace_block_*, back to back).
struct trace_frame_read_response {
    static constexpr uint16_t code = response_code(msg_type::trace_frame_read);
    int32_t status = 0;
    uint32_t number = 0;
    uint32_t tracepoint = 0;
    bytes data;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.number), s.field(m.tracepoint), s.len32(m.data), s.data(m.data);
    }
};

} // namespace ruprobes::wire

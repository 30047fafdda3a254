// The vocabulary of the wire protocol (protocol/README.md §2-3): message type codes, status
// codes, capabilities, flags and the enumerations fields carry. messages.hpp has the messages.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "ruprobes/error.hpp"

namespace ruprobes::wire {

// Message types (README §3). Responses are `request | response_bit`.
enum class msg_type : uint16_t {
    hello = 0x0001,
    ping = 0x0002,
    hits_ack = 0x0003,
    probe_add = 0x0101,
    probe_remove = 0x0102,
    probe_list = 0x0103,
    aggregation_add = 0x0104,
    aggregation_read = 0x0105,
    tracepoint_add = 0x0106,
    trace_start = 0x0107,
    trace_stop = 0x0108,
    trace_status = 0x0109,
    trace_frame_read = 0x010A,
    process_list = 0x0201,
    process_spawn = 0x0202,
    process_kill = 0x0203,
    thread_list = 0x0301,
    thread_stop = 0x0302,
    thread_resume = 0x0303,
    thread_step = 0x0304,
    regs_get = 0x0401,
    regs_set = 0x0402,
    mem_read = 0x0403,
    mem_write = 0x0404,
    fp_regs_get = 0x0405,
    fp_regs_set = 0x0406,
    channel_test = 0x0501,
    kernel_ready = 0x4001,
    hits = 0x4002,
    drops = 0x4003,
    stop = 0x4004,
    exec = 0x4005,
    exit = 0x4006,
    filler = 0x4007,
};

inline constexpr uint16_t response_bit = 0x8000;

constexpr uint16_t type_code(msg_type t) {
    return static_cast<uint16_t>(t);
}
constexpr uint16_t response_code(msg_type t) {
    return static_cast<uint16_t>(type_code(t) | response_bit);
}
constexpr bool is_response(uint16_t type) {
    return (type & response_bit) != 0;
}
constexpr bool is_event(uint16_t type) {
    return type >= 0x4001 && type <= 0x7FFF;
}
// Requests that get a response (not the hits_ack notice).
constexpr bool is_request(uint16_t type) {
    return type >= 0x0001 && type <= 0x3FFF && type != type_code(msg_type::hits_ack);
}

// The fixed payload size of `type` (README §3), or nothing when the type is not in the spec.
// For a response type this is the size of its `status` field: error responses carry only that.
std::optional<size_t> fixed_payload_size(uint16_t type);

// A stable name for a type code ("hello", "hello_response", "hits", ...), "unknown" otherwise.
const char* type_name(uint16_t type);

// Status codes of responses: 0, the engine's ruprobes::error numbers 1..41, then these.
namespace status {
inline constexpr int32_t ok = 0;
inline constexpr int32_t unsupported_request = 100;
inline constexpr int32_t malformed = 101;
inline constexpr int32_t version_mismatch = 102;
inline constexpr int32_t no_session = 103;
inline constexpr int32_t no_such_process = 104;
inline constexpr int32_t no_such_thread = 105;
inline constexpr int32_t not_stopped = 106;
inline constexpr int32_t permission_denied = 107;
inline constexpr int32_t bad_address = 108;
inline constexpr int32_t busy = 109;
inline constexpr int32_t no_such_program = 110;
inline constexpr int32_t too_large = 111;
} // namespace status

// The status number of an engine error (README §2: passed through unchanged).
constexpr int32_t status_of(error e) {
    return static_cast<int32_t>(e);
}

// A stable name for a status code ("ok", "no_such_process", an engine error's name, ...).
const char* status_name(int32_t code);

namespace capability {
inline constexpr uint32_t hit_batches = 1u << 0;
inline constexpr uint32_t stop_mode = 1u << 1;
inline constexpr uint32_t return_probes = 1u << 2;
inline constexpr uint32_t memory_write = 1u << 3;
inline constexpr uint32_t register_write = 1u << 4;
inline constexpr uint32_t single_step = 1u << 5;
inline constexpr uint32_t spawn = 1u << 6;
inline constexpr uint32_t lease = 1u << 7;
inline constexpr uint32_t word_checksum = 1u << 8; // hits frames may carry the word checksum
// hits frames on a reliable transport (the virtio console) may be sequence-checked (README §1)
inline constexpr uint32_t seq_checked_hits = 1u << 9;
// probe_add takes a fetch list; hit records may be followed by continuation records (README §3)
inline constexpr uint32_t fetch_records = 1u << 10;
inline constexpr uint32_t all = (1u << 11) - 1;
} // namespace capability

inline constexpr uint32_t hello_flag_reset = 1u << 0;
inline constexpr uint32_t spawn_flag_stop_at_entry = 1u << 0;
// `cmdline` is the argument list, each argument followed by a NUL byte (empty arguments and
// arguments with spaces survive); without it, `cmdline` is split on spaces.
inline constexpr uint32_t spawn_flag_argv_list = 1u << 1;
inline constexpr size_t max_mem_chunk = 4032;
inline constexpr size_t hit_record_size = 128;
inline constexpr size_t max_hits_per_frame = 31;

enum class probe_kind : uint8_t { insn = 0, entry = 1, ret = 2 };
enum class probe_mode : uint8_t { trace = 0, stop = 1, aggregate = 2 };
// What an aggregation groups its hits by, and which value it sums and histograms (README §3,
// aggregation_add).
enum class aggregation_key : uint8_t {
    none = 0,
    pid = 1,
    tid = 2,
    arg0 = 3,
    ret = 11
};                                                                      // argN = 3+N
enum class aggregation_value : uint8_t { none = 0, arg0 = 1, ret = 9 }; // argN = 1+N
enum class aggregation_histogram : uint8_t { none = 0, log2 = 1, linear = 2 };
inline constexpr uint32_t aggregation_buckets = 64; // histogram buckets at most (log2: exactly)
// Tracepoints (README §3, tracepoint_add ... trace_frame_read): why tracing is not running.
enum class trace_stop_reason : uint8_t {
    not_run = 0,   // never started
    requested = 1, // trace_stop
    full = 2,      // the buffer had no room for a frame
    passcount = 3, // a tracepoint reached its pass count
    error = 4,     // an action failed (the error number is in trace_status_response)
};
// The blocks of a trace frame's data (README §3, trace_frame_read): a tag byte, then
inline constexpr uint8_t trace_block_registers = 'R'; // x0..x31, pc: 33 u64
inline constexpr uint8_t trace_block_memory = 'M';    // u64 address, u16 length, the bytes
inline constexpr uint8_t trace_block_variable = 'V';  // u32 number, u64 value
inline constexpr size_t trace_registers_block_size = 1 + 33 * 8;
inline constexpr size_t trace_variable_entry_size = 16; // u32 number, 4 zeros, u64 value
inline constexpr uint32_t max_trace_variables = 64;     // numbers 1..63
inline constexpr uint32_t max_trace_frame_data = 4000;  // one frame's blocks (fits one response)

enum class stop_reason : uint8_t {
    none = 0,
    probe = 1,
    step = 2,
    requested = 3,
    spawned = 4,
    trap = 5,
    fault = 6
};
enum class process_state : uint8_t { running = 0, stopped = 1, zombie = 2 };
enum class thread_state : uint8_t { running = 0, stopped = 1 };

using bytes = std::span<const uint8_t>;
using register_file = std::array<uint64_t, 32>;    // x0..x31
using fp_register_file = std::array<uint64_t, 32>; // f0..f31 (raw 64-bit, NaN-boxed singles)

} // namespace ruprobes::wire

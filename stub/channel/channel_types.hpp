// What the host client library (channel_client.hpp) hands out: the wire protocol's messages as
// owning host types, and the result of a request. No Asio here: any part of the daemon may
// include it.
#pragma once

#include "ruprobes/wire/messages.hpp"

#include <tl/expected.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ruprobes::channel {

namespace wire = ruprobes::wire;

// How a request ended.
enum class call_errc {
    ok = 0,
    kernel_status, // the kernel answered with a non-zero status (call_error::status)
    timeout,       // no answer before the deadline
    disconnected,  // the connection went away before the answer
    not_connected, // there was no connection to send on
    malformed,     // the answer did not decode
};

// A stable name for `e` ("timeout", ...).
const char* call_errc_name(call_errc e);

// Why a request failed.
struct call_error {
    call_errc errc = call_errc::malformed;
    int32_t status = 0; // the kernel's status (protocol/README.md §2) when errc == kernel_status
};

// The value of a request, or why it failed: the daemon's one result type (tl::expected), as the
// target model's outcome<T> (target_model/outcome.hpp).
template <typename T>
using call_result = tl::expected<T, call_error>;

// "timeout", or "kernel status no_such_process (104)".
std::string describe(const call_error& e);

// "ok", or describe(r.error()).
template <typename T>
std::string describe(const call_result<T>& r) {
    return r ? std::string("ok") : describe(r.error());
}

// The kernel's side of a successful hello (protocol/README.md §3, hello response) as the wire
// carries it, and what the client makes of it.
struct hello_info : wire::hello_response {
    bool rebooted = false; // boot_id differs from the previous hello of this client
};

struct probe_entry {
    uint32_t id = 0;
    uint32_t pid = 0;
    wire::probe_kind kind = wire::probe_kind::insn;
    wire::probe_mode mode = wire::probe_mode::trace;
    uint64_t address = 0;
    uint64_t hits = 0;
    std::string path;
};

// One key of an in-kernel aggregation and the whole table (aggregation_read, every page); the
// target model's too (target_model/target_types.hpp). log2 buckets: [0] below 0, [1] 0, [2 + n]
// 2^n..2^(n+1)-1 (the last: everything above); linear: [0] below min, [1 + i]
// min + i*step..min + (i+1)*step - 1, the last: max and above.
struct aggregation_row {
    uint64_t key = 0;
    uint64_t count = 0;
    uint64_t sum = 0;
    int64_t min = 0;
    int64_t max = 0;
    std::vector<uint64_t> buckets;
};
struct aggregation_table {
    uint32_t buckets = 0; // per row
    uint64_t hits = 0;    // every hit aggregated
    uint64_t dropped = 0; // hits whose key found no room in the kernel's table
    std::vector<aggregation_row> rows;
};

// The kernel's trace run (trace_status) and one frame of its buffer (trace_frame_read).
struct trace_status_info {
    bool running = false;
    wire::trace_stop_reason stop_reason = wire::trace_stop_reason::not_run;
    uint32_t stopping_tracepoint = 0;
    int32_t error_code = 0;
    uint32_t frames = 0;
    uint32_t created = 0;
    uint32_t buffer_size = 0;
    uint32_t buffer_free = 0;
    std::vector<std::pair<uint32_t, uint64_t>> variables; // (number, value)
};
struct trace_frame_info {
    uint32_t number = 0;
    uint32_t tracepoint = 0;
    std::vector<uint8_t> data; // blocks (ruprobes/wire/trace_frame.hpp)
};

struct process_entry {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    wire::process_state state = wire::process_state::running;
    uint16_t thread_count = 0;
    std::string path;
    std::string args;
};

struct thread_entry {
    uint32_t tid = 0;
    wire::thread_state state = wire::thread_state::running;
    wire::stop_reason stop_reason = wire::stop_reason::none;
    uint64_t pc = 0;
};

struct spawned_process {
    uint32_t pid = 0;
    uint32_t tid = 0;
};

struct register_values {
    wire::register_file x{};
    uint64_t pc = 0;
};

struct fp_register_values {
    wire::fp_register_file f{};
    uint64_t fcsr = 0;
};

struct stop_info {
    uint32_t pid = 0;
    uint32_t tid = 0;
    wire::stop_reason reason = wire::stop_reason::none;
    uint32_t probe_id = 0;
    register_values regs;
    int signal = 0; // Linux numbering (reason fault or trap), else 0
};

struct exec_info {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    std::string path;
    std::string args;
};

struct exit_info {
    uint32_t pid = 0;
    int32_t status = 0;
    bool killed = false;
};

// What the kernel reports after a channel_test (protocol/README.md, diagnostics).
struct channel_test_result {
    uint64_t frames = 0;
    uint64_t bytes = 0;
    uint64_t elapsed_ns = 0;
};

// Counters of one client over all its connections.
struct channel_stats {
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t frames_in = 0;
    uint64_t frames_out = 0;
    uint64_t hit_records = 0;       // hit records delivered (on_hits, on_fetched_hit)
    uint64_t fetch_records = 0;     // continuation records that carried fetched data
    uint64_t fetch_incomplete = 0;  // hits delivered without all their continuation records
    uint64_t fetch_stray = 0;       // continuation records that continued no hit (dropped)
    uint64_t seq_gaps = 0;          // records missing between consecutive batches (transport loss)
    uint64_t duplicate_records = 0; // records received again after a reconnect (not delivered)
    uint64_t hits_dropped = 0;      // the kernel's count (drops events / hello)
    uint64_t garbage_bytes = 0;     // decoder: skipped bytes
    uint64_t rejected_frames = 0;
    uint64_t timeouts = 0;
    uint64_t unmatched_responses = 0; // responses to no pending request (late after a timeout)
    uint64_t filler_frames = 0;       // channel_test filler events received
    uint64_t filler_bytes = 0;        // their wire size
    std::chrono::steady_clock::time_point last_filler{}; // when the last one arrived
};

} // namespace ruprobes::channel

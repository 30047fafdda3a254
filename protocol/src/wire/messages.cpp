// The message table of protocol/README.md §3: fixed payload sizes and names.
#include "ruprobes/wire/messages.hpp"

#include "ruprobes/wire/codec.hpp"

namespace ruprobes::wire {
namespace {

struct type_info {
    msg_type type;
    const char* name;
    const char* response_name; // nullptr: no response (notices, events)
    uint16_t fixed;            // fixed payload bytes of the request / event
};

constexpr type_info types[] = {
    {msg_type::hello, "hello", "hello_response", 24},
    {msg_type::ping, "ping", "ping_response", 8},
    {msg_type::hits_ack, "hits_ack", nullptr, 8},
    {msg_type::probe_add, "probe_add", "probe_add_response", 20},
    {msg_type::probe_remove, "probe_remove", "probe_remove_response", 4},
    {msg_type::probe_list, "probe_list", "probe_list_response", 4},
    {msg_type::aggregation_add, "aggregation_add", "aggregation_add_response", 48},
    {msg_type::aggregation_read, "aggregation_read", "aggregation_read_response", 8},
    {msg_type::tracepoint_add, "tracepoint_add", "tracepoint_add_response", 40},
    {msg_type::trace_start, "trace_start", "trace_start_response", 8},
    {msg_type::trace_stop, "trace_stop", "trace_stop_response", 4},
    {msg_type::trace_status, "trace_status", "trace_status_response", 4},
    {msg_type::trace_frame_read, "trace_frame_read", "trace_frame_read_response", 4},
    {msg_type::process_list, "process_list", "process_list_response", 4},
    {msg_type::process_spawn, "process_spawn", "process_spawn_response", 8},
    {msg_type::process_kill, "process_kill", "process_kill_response", 4},
    {msg_type::thread_list, "thread_list", "thread_list_response", 8},
    {msg_type::thread_stop, "thread_stop", "thread_stop_response", 8},
    {msg_type::thread_resume, "thread_resume", "thread_resume_response", 12},
    {msg_type::thread_step, "thread_step", "thread_step_response", 8},
    {msg_type::regs_get, "regs_get", "regs_get_response", 8},
    {msg_type::regs_set, "regs_set", "regs_set_response", 280},
    {msg_type::mem_read, "mem_read", "mem_read_response", 16},
    {msg_type::mem_write, "mem_write", "mem_write_response", 16},
    {msg_type::fp_regs_get, "fp_regs_get", "fp_regs_get_response", 8},
    {msg_type::fp_regs_set, "fp_regs_set", "fp_regs_set_response", 280},
    {msg_type::channel_test, "channel_test", "channel_test_response", 8},
    {msg_type::kernel_ready, "kernel_ready", nullptr, 24},
    {msg_type::hits, "hits", nullptr, 16},
    {msg_type::drops, "drops", nullptr, 32},
    {msg_type::stop, "stop", nullptr, 280},
    {msg_type::exec, "exec", nullptr, 12},
    {msg_type::exit, "exit", nullptr, 12},
    {msg_type::filler, "filler", nullptr, 8},
};

// Every response starts with `i32 status`; an error response is nothing else.
constexpr uint16_t status_size = 4;

} // namespace

std::optional<size_t> fixed_payload_size(uint16_t type) {
    bool response = is_response(type);
    auto base = static_cast<uint16_t>(type & ~response_bit);
    for (const type_info& t : types) {
        if (type_code(t.type) == base) {
            if (response) {
                if (t.response_name == nullptr) {
                    return std::nullopt;
                }
                return status_size;
            }
            return t.fixed;
        }
    }
    return std::nullopt;
}

const char* type_name(uint16_t type) {
    bool response = is_response(type);
    auto base = static_cast<uint16_t>(type & ~response_bit);
    for (const type_info& t : types) {
        if (type_code(t.type) == base) {
            if (!response) {
                return t.name;
            }
            return t.response_name ? t.response_name : "unknown";
        }
    }
    return "unknown";
}

const char* status_name(int32_t code) {
    switch (code) {
    case status::ok:
        return "ok";
    case status::unsupported_request:
        return "unsupported_request";
    case status::malformed:
        return "malformed";
    case status::version_mismatch:
        return "version_mismatch";
    case status::no_session:
        return "no_session";
    case status::no_such_process:
        return "no_such_process";
    case status::no_such_thread:
        return "no_such_thread";
    case status::not_stopped:
        return "not_stopped";
    case status::permission_denied:
        return "permission_denied";
    case status::bad_address:
        return "bad_address";
    case status::busy:
        return "busy";
    case status::no_such_program:
        return "no_such_program";
    case status::too_large:
        return "too_large";
    default:
        break;
    }
    // The engine's ruprobes::error numbers (base.hpp).
    return error_name(static_cast<error>(code));
}

size_t encode_status(std::span<uint8_t> out, uint16_t request_type, uint32_t request_id,
                     int32_t code) {
    frame_builder builder(out, static_cast<uint16_t>(request_type | response_bit), request_id);
    builder.payload().field(code);
    return builder.finish();
}

} // namespace ruprobes::wire

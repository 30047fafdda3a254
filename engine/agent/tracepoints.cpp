#include "agent/tracepoints.hpp"

#include "agent/agent_lock.hpp"
#include "agent/request_util.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

constexpr uint32_t max_tracepoints = 32;
constexpr size_t max_actions = 1024;             // bytes of one tracepoint's action list
constexpr size_t max_tracepoint_condition = 512; // bytes of its condition list
constexpr uint32_t max_buffer = 256 * 1024;      // the trace buffer's fixed maximum
constexpr uint32_t min_buffer = 1024;
constexpr uint32_t max_frames = 8192;
constexpr uint32_t frame_header = 8; // u32 data length, u32 tracepoint number

struct tracepoint {
    bool used = false;
    uint32_t probe_id = 0;
    uint32_t number = 0;
    uint64_t passcount = 0;
    uint64_t registers = 0;
    uint64_t frames = 0; // made since the start
    uint16_t condition_len = 0;
    uint16_t actions_len = 0;
    uint8_t condition[max_tracepoint_condition] = {};
    uint8_t actions[max_actions] = {};
};

// The buffer and the run. Written by the trap (collect) and read by the requests: both under
// the agent's lock.
struct trace_run {
    bool running = false;
    wire::trace_stop_reason stop_reason = wire::trace_stop_reason::not_run;
    uint32_t stopping_tracepoint = 0;
    int32_t error_code = 0;
    uint32_t size = max_buffer; // in effect for this run
    uint32_t used = 0;
    uint32_t frames = 0;
    uint32_t created = 0;
    uint64_t variables[wire::max_trace_variables] = {};
    bool defined[wire::max_trace_variables] = {};
    uint32_t offsets[max_frames] = {}; // of each frame's header in `buffer`
    alignas(8) uint8_t buffer[max_buffer] = {};
};

constinit tracepoint tracepoints[max_tracepoints];
constinit trace_run run;
// trace_status's variable entries (the agent is one thread).
constinit uint8_t status_variables[wire::max_trace_variables * wire::trace_variable_entry_size];

void put_le(uint8_t* at, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++)
        at[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t get_le(const uint8_t* at, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | at[i];
    return v;
}

// The frame being filled at a hit: its blocks go after run.used until commit.
struct frame_writer {
    uint32_t start = 0; // of the header
    uint32_t end = 0;   // of the data written so far
    bool no_room = false;
    bool too_large = false;

    uint8_t* reserve(size_t n) {
        if (end - start - frame_header + n > wire::max_trace_frame_data) {
            too_large = true;
            return nullptr;
        }
        if (end + n > run.size) {
            no_room = true;
            return nullptr;
        }
        uint8_t* at = run.buffer + end;
        end += static_cast<uint32_t>(n);
        return at;
    }
};

int collect_memory(void* user, uint64_t addr, const uint8_t* bytes, size_t len) {
    auto* w = static_cast<frame_writer*>(user);
    uint8_t* at = w->reserve(11 + len);
    if (at == nullptr)
        return 1;
    at[0] = wire::trace_block_memory;
    put_le(at + 1, addr, 8);
    put_le(at + 9, len, 2);
    for (size_t i = 0; i < len; i++)
        at[11 + i] = bytes[i];
    return 0;
}

int collect_variable(void* user, uint32_t number, uint64_t value) {
    auto* w = static_cast<frame_writer*>(user);
    uint8_t* at = w->reserve(13);
    if (at == nullptr)
        return 1;
    at[0] = wire::trace_block_variable;
    put_le(at + 1, number, 4);
    put_le(at + 5, value, 8);
    return 0;
}

void stop_run(wire::trace_stop_reason why, uint32_t tracepoint_number, int32_t error_code) {
    run.running = false;
    run.stop_reason = why;
    run.stopping_tracepoint = tracepoint_number;
    run.error_code = error_code;
}

// The handler of every tracepoint probe (in the trap, under the engine lock): one frame.
void collect(uprobes_trap_context* ctx, const uprobes_hit* hit, void* user) {
    const tracepoint& tp = *static_cast<const tracepoint*>(user);
    agent_lock lock;
    if (!run.running || !tp.used)
        return;
    if (tp.condition_len != 0 &&
        !uprobes_condition_holds(ctx, hit->pid, hit->tid, tp.condition, tp.condition_len))
        return;
    if (run.frames == max_frames || run.used + frame_header > run.size) {
        stop_run(wire::trace_stop_reason::full, 0, 0);
        return;
    }
    frame_writer w{.start = run.used, .end = run.used + frame_header};
    if (tp.registers != 0) {
        if (uint8_t* at = w.reserve(wire::trace_registers_block_size)) {
            at[0] = wire::trace_block_registers;
            for (int i = 0; i < 32; i++)
                put_le(at + 1 + 8 * i, ctx->x[i], 8);
            put_le(at + 1 + 8 * 32, ctx->pc, 8);
        }
    }
    int32_t failed = 0;
    uprobes_action_env env{.ctx = ctx,
                           .pid = hit->pid,
                           .tid = hit->tid,
                           .variables = run.variables,
                           .variable_count = wire::max_trace_variables,
                           .collect_memory = collect_memory,
                           .collect_variable = collect_variable,
                           .user = &w};
    for (size_t at = 0; at + 2 <= tp.actions_len && !w.no_room && !w.too_large;) {
        size_t len = get_le(tp.actions + at, 2);
        int r = uprobes_action_run(&env, tp.actions + at + 2, len);
        if (r < 0 && !w.no_room && !w.too_large) {
            failed = -r;
            break;
        }
        at += 2 + len;
    }
    if (w.no_room) {
        stop_run(wire::trace_stop_reason::full, 0, 0); // the frame is dropped: gdb's tfull
        return;
    }
    put_le(run.buffer + w.start, w.end - w.start - frame_header, 4);
    put_le(run.buffer + w.start + 4, tp.number, 4);
    run.offsets[run.frames++] = w.start;
    run.used = (w.end + 7) & ~7u;
    if (run.used > run.size)
        run.used = run.size;
    run.created++;
    tracepoint& counted = *static_cast<tracepoint*>(user);
    counted.frames++;
    if (w.too_large)
        stop_run(wire::trace_stop_reason::error, tp.number, wire::status::too_large);
    else if (failed != 0)
        stop_run(wire::trace_stop_reason::error, tp.number, failed);
    else if (tp.passcount != 0 && counted.frames >= tp.passcount)
        stop_run(wire::trace_stop_reason::passcount, tp.number, 0);
}

// Checks the framing of an expression list and each expression (the engine's validator).
bool valid_list(wire::bytes list) {
    return list.empty() || uprobes_condition_check(list.data(), list.size()) == 0;
}

} // namespace

void tracepoint_add(const wire::frame& f) {
    wire::tracepoint_add_request req;
    if (!parse(f, req))
        return;
    if (req.condition.size() > max_tracepoint_condition || req.actions.size() > max_actions) {
        reply_status(f, wire::status::too_large);
        return;
    }
    if (!valid_list(req.condition) || !valid_list(req.actions)) {
        reply_status(f, wire::status_of(ruprobes::error::expr_invalid));
        return;
    }
    tracepoint* tp = nullptr;
    {
        agent_lock lock;
        for (tracepoint& t : tracepoints) {
            if (!t.used && t.probe_id == 0) {
                tp = &t;
                tp->probe_id = UINT32_MAX; // reserved; `used` once its probe is armed
                break;
            }
        }
    }
    if (tp == nullptr) {
        reply_status(f, wire::status_of(ruprobes::error::no_space));
        return;
    }
    tp->number = req.number;
    tp->passcount = req.passcount;
    tp->registers = req.registers;
    tp->frames = 0;
    tp->condition_len = static_cast<uint16_t>(req.condition.size());
    for (size_t i = 0; i < req.condition.size(); i++)
        tp->condition[i] = req.condition[i];
    tp->actions_len = static_cast<uint16_t>(req.actions.size());
    for (size_t i = 0; i < req.actions.size(); i++)
        tp->actions[i] = req.actions[i];
    {
        agent_lock lock;
        tp->used = true; // hits find it from the first one on (none before: no probe yet)
    }
    uint32_t id = add_probe(f, probe_params{.pid = req.pid,
                                            .kind = uint8_t(wire::probe_kind::insn),
                                            .mode = uint8_t(wire::probe_mode::trace),
                                            .address = req.address,
                                            .path = req.path,
                                            .condition = {},
                                            .cookie = tracepoint_cookie,
                                            .handler = collect,
                                            .handler_user = tp});
    {
        agent_lock lock; // not around the reply: the transport takes the lock itself
        if (id == 0) {
            tp->used = false; // add_probe replied with the refusal
            tp->probe_id = 0;
            return;
        }
        tp->probe_id = id;
    }
    reply(f, wire::tracepoint_add_response{.status = 0, .probe_id = id});
}

void tracepoint_release(uint32_t probe_id) {
    agent_lock lock;
    for (tracepoint& t : tracepoints) {
        if (t.used && t.probe_id == probe_id) {
            t.used = false;
            t.probe_id = 0;
        }
    }
}

void trace_reset() {
    agent_lock lock;
    run.running = false;
    run.stop_reason = wire::trace_stop_reason::not_run;
    run.stopping_tracepoint = 0;
    run.error_code = 0;
    run.used = 0;
    run.frames = 0;
    run.created = 0;
    for (bool& d : run.defined)
        d = false;
}

void trace_start(const wire::frame& f) {
    wire::trace_start_request req;
    if (!parse(f, req))
        return;
    if (req.variables.size() % wire::trace_variable_entry_size != 0) {
        reply_status(f, wire::status::malformed);
        return;
    }
    for (size_t at = 0; at < req.variables.size(); at += wire::trace_variable_entry_size) {
        if (get_le(req.variables.data() + at, 4) >= wire::max_trace_variables) {
            reply_status(f, wire::status_of(ruprobes::error::expr_variable));
            return;
        }
    }
    uint32_t size = req.buffer_size == 0 ? max_buffer : req.buffer_size;
    size = size < min_buffer ? min_buffer : size > max_buffer ? max_buffer : size;
    {
        agent_lock lock;
        run.size = size;
        run.used = 0;
        run.frames = 0;
        run.created = 0;
        for (uint32_t i = 0; i < wire::max_trace_variables; i++) {
            run.variables[i] = 0;
            run.defined[i] = false;
        }
        for (size_t at = 0; at < req.variables.size(); at += wire::trace_variable_entry_size) {
            auto n = static_cast<uint32_t>(get_le(req.variables.data() + at, 4));
            run.variables[n] = get_le(req.variables.data() + at + 8, 8);
            run.defined[n] = true;
        }
        for (tracepoint& t : tracepoints)
            t.frames = 0;
        run.stop_reason = wire::trace_stop_reason::not_run;
        run.stopping_tracepoint = 0;
        run.error_code = 0;
        run.running = true;
    }
    reply(f, wire::trace_start_response{.status = 0, .buffer_size = size});
}

void trace_stop(const wire::frame& f) {
    wire::trace_stop_request req;
    if (!parse(f, req))
        return;
    {
        agent_lock lock;
        if (run.running)
            stop_run(wire::trace_stop_reason::requested, 0, 0);
    }
    reply_status(f, 0);
}

void trace_status(const wire::frame& f) {
    wire::trace_status_request req;
    if (!parse(f, req))
        return;
    size_t len = 0;
    {
        agent_lock lock; // the answer is built under the lock and sent after it
        wire::frame_builder b(tx_frame, wire::trace_status_response::code, f.request_id);
        uint8_t* vars = status_variables;
        uint32_t count = 0;
        for (uint32_t i = 0; i < wire::max_trace_variables; i++) {
            if (!run.defined[i])
                continue;
            uint8_t* e = vars + wire::trace_variable_entry_size * count++;
            put_le(e, i, 4);
            put_le(e + 4, 0, 4);
            put_le(e + 8, run.variables[i], 8);
        }
        wire::write_fields(b.payload(), wire::trace_status_response{
                                            .status = 0,
                                            .running = run.running ? uint8_t(1) : uint8_t(0),
                                            .stop_reason = uint8_t(run.stop_reason),
                                            .stopping_tracepoint = run.stopping_tracepoint,
                                            .error_code = run.error_code,
                                            .frames = run.frames,
                                            .created = run.created,
                                            .buffer_size = run.size,
                                            .buffer_free = run.size - run.used,
                                            .variables = wire::bytes(
                                                vars, wire::trace_variable_entry_size * count)});
        len = b.finish();
    }
    send_frame(len, true);
}

void trace_frame_read(const wire::frame& f) {
    wire::trace_frame_read_request req;
    if (!parse(f, req))
        return;
    size_t len = 0;
    {
        agent_lock lock;
        if (req.number < run.frames) {
            const uint8_t* head = run.buffer + run.offsets[req.number];
            auto data_len = static_cast<size_t>(get_le(head, 4));
            len = wire::encode(tx_frame, f.request_id,
                               wire::trace_frame_read_response{
                                   .status = 0,
                                   .number = req.number,
                                   .tracepoint = static_cast<uint32_t>(get_le(head + 4, 4)),
                                   .data = wire::bytes(head + frame_header, data_len)});
        }
    }
    if (len == 0) {
        reply_status(f, wire::status_of(ruprobes::error::not_found));
        return;
    }
    send_frame(len, true);
}

} // namespace agent

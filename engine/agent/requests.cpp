// The agent's request dispatch, its register and memory requests (protocol/README.md §3: user
// memory only — never the kernel's) and the stop events it sends.
#include "agent/aggregations.hpp"
#include "agent/debug_registers.hpp"
#include "agent/request_util.hpp"
#include "agent/tracepoints.hpp"

namespace agent {
namespace {

// ---- registers and memory ------------------------------------------------------------------

// fcsr: fflags in bits 4:0, frm in bits 7:5 (RISC-V unprivileged ISA, "F" extension, fcsr);
// the rest reads as zero.
constexpr uint64_t fcsr_bits = 0xff;

// The saved registers of the stopped thread a request names, into *regs and *tid; false after
// the error reply (no such thread, or it is not stopped).
bool requested_registers(const wire::frame& f, uint32_t pid, uint32_t tid_in, uint32_t* tid,
                         ruprobes_agent_regs* regs) {
    if (!requested_thread(f, pid, tid_in, tid)) {
        return false;
    }
    int r = os_agent_regs_get(pid, *tid, regs);
    if (r < 0) {
        reply_status(f, status_of_hook(r));
        return false;
    }
    return true;
}

constinit ruprobes_agent_regs regs_buf = {};

void regs_get(const wire::frame& f) {
    wire::regs_get_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_registers(f, req.pid, req.tid, &tid, &regs_buf)) {
        return;
    }
    wire::regs_get_response r{.status = 0};
    shown_registers(req.pid, tid, regs_buf.gp, r.x, r.pc);
    reply(f, r);
}

void regs_set(const wire::frame& f) {
    wire::regs_set_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_registers(f, req.pid, req.tid, &tid, &regs_buf)) {
        return;
    }
    write_shown_registers(req.pid, tid, regs_buf.gp, req.mask, req.x, req.pc);
    int r = os_agent_regs_set(req.pid, tid, &regs_buf, RUPROBES_AGENT_REGS_GP);
    reply_status(f, r < 0 ? status_of_hook(r) : 0);
}

void fp_regs_get(const wire::frame& f) {
    wire::fp_regs_get_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_registers(f, req.pid, req.tid, &tid, &regs_buf)) {
        return;
    }
    wire::fp_regs_get_response r{.status = 0};
    for (int i = 0; i < 32; i++) {
        r.f[i] = regs_buf.f[i];
    }
    r.fcsr = regs_buf.fcsr & fcsr_bits;
    reply(f, r);
}

void fp_regs_set(const wire::frame& f) {
    wire::fp_regs_set_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_registers(f, req.pid, req.tid, &tid, &regs_buf)) {
        return;
    }
    for (int i = 0; i < 32; i++) {
        if (req.mask & (1ull << i)) {
            regs_buf.f[i] = req.f[i];
        }
    }
    if (req.mask & (1ull << 32)) {
        regs_buf.fcsr = req.fcsr & fcsr_bits;
    }
    int r = os_agent_regs_set(req.pid, tid, &regs_buf, RUPROBES_AGENT_REGS_FP);
    reply_status(f, r < 0 ? status_of_hook(r) : 0);
}

void mem_read(const wire::frame& f) {
    wire::mem_read_request req;
    if (!parse(f, req)) {
        return;
    }
    if (req.length > wire::max_mem_chunk) {
        reply_status(f, wire::status::too_large);
        return;
    }
    static uint8_t data[wire::max_mem_chunk];
    int r = os_agent_mem_read(req.pid, req.address, data, req.length);
    if (r < 0) {
        reply_status(f, status_of_hook(r));
        return;
    }
    reply(f, wire::mem_read_response{.status = 0, .data = wire::bytes(data, req.length)});
}

void mem_write(const wire::frame& f) {
    wire::mem_write_request req;
    if (!parse(f, req)) {
        return;
    }
    if (req.data.size() > wire::max_mem_chunk) {
        reply_status(f, wire::status::too_large);
        return;
    }
    int r = os_agent_mem_write(req.pid, req.address, req.data.data(), req.data.size());
    reply_status(f, r < 0 ? status_of_hook(r) : 0);
}

} // namespace

void handle_request(const wire::frame& f) {
    switch (static_cast<wire::msg_type>(f.type)) {
    case wire::msg_type::probe_add:
        return probe_add(f);
    case wire::msg_type::probe_remove:
        return probe_remove(f);
    case wire::msg_type::probe_list:
        return probe_list(f);
    case wire::msg_type::aggregation_add:
        return aggregation_add(f);
    case wire::msg_type::aggregation_read:
        return aggregation_read(f);
    case wire::msg_type::tracepoint_add:
        return tracepoint_add(f);
    case wire::msg_type::trace_start:
        return trace_start(f);
    case wire::msg_type::trace_stop:
        return trace_stop(f);
    case wire::msg_type::trace_status:
        return trace_status(f);
    case wire::msg_type::trace_frame_read:
        return trace_frame_read(f);
    case wire::msg_type::process_list:
        return process_list(f);
    case wire::msg_type::process_spawn:
        return process_spawn_request(f);
    case wire::msg_type::process_kill:
        return process_kill_request(f);
    case wire::msg_type::thread_list:
        return thread_list(f);
    case wire::msg_type::thread_stop:
        return thread_stop_request(f);
    case wire::msg_type::thread_resume:
        return thread_resume_request(f);
    case wire::msg_type::thread_step:
        return thread_step_request(f);
    case wire::msg_type::regs_get:
        return regs_get(f);
    case wire::msg_type::regs_set:
        return regs_set(f);
    case wire::msg_type::fp_regs_get:
        return fp_regs_get(f);
    case wire::msg_type::fp_regs_set:
        return fp_regs_set(f);
    case wire::msg_type::mem_read:
        return mem_read(f);
    case wire::msg_type::mem_write:
        return mem_write(f);
    case wire::msg_type::channel_test:
        return channel_test(f);
    default:
        return reply_status(f, wire::status::unsupported_request);
    }
}

void send_stop_event(uint32_t pid, uint32_t tid, wire::stop_reason reason, uint32_t probe_id) {
    if (os_agent_regs_get(pid, tid, &regs_buf) < 0) {
        return; // resumed or gone meanwhile
    }
    wire::stop_event e{.pid = pid, .tid = tid, .reason = uint8_t(reason), .probe_id = probe_id};
    if (reason == wire::stop_reason::fault || reason == wire::stop_reason::trap) {
        e.signal = last_stop_signal(tid);
    }
    shown_registers(pid, tid, regs_buf.gp, e.x, e.pc);
    send_frame(wire::encode(tx_frame, 0, e), true);
}

} // namespace agent

// The agent's request dispatch, its register and memory requests (protocol/README.md §3: user
// memory only — never the kernel's) and the stop events it sends.
#include "agent/debug_registers.hpp"
#include "agent/request_util.hpp"

#include "mm/layout.hpp"
#include "proc/process_control.hpp"

namespace agent {
namespace {

// ---- registers and memory ------------------------------------------------------------------

// fcsr: fflags in bits 4:0, frm in bits 7:5 (RISC-V unprivileged ISA, "F" extension, fcsr);
// the rest reads as zero.
constexpr uint64_t fcsr_bits = 0xff;

// The saved registers of the stopped thread a request names, or nullptr after the error reply
// (no such thread, or it is not stopped).
trap_frame* requested_registers(const wire::frame& f, uint32_t pid, uint32_t tid) {
    process* p = requested_thread(f, pid, tid);
    if (p == nullptr) {
        return nullptr;
    }
    trap_frame* regs = thread_registers(p->pid);
    if (regs == nullptr) {
        reply_status(f, wire::status::not_stopped);
    }
    return regs;
}

void regs_get(const wire::frame& f) {
    wire::regs_get_request req;
    if (!parse(f, req)) {
        return;
    }
    trap_frame* regs = requested_registers(f, req.pid, req.tid);
    if (regs == nullptr) {
        return;
    }
    wire::regs_get_response r{.status = 0};
    shown_registers(static_cast<int>(req.pid), *regs, r.x, r.pc);
    reply(f, r);
}

void regs_set(const wire::frame& f) {
    wire::regs_set_request req;
    if (!parse(f, req)) {
        return;
    }
    trap_frame* regs = requested_registers(f, req.pid, req.tid);
    if (regs == nullptr) {
        return;
    }
    write_shown_registers(static_cast<int>(req.pid), *regs, req.mask, req.x, req.pc);
    reply_status(f, 0);
}

// The saved F/D registers of the stopped thread a request names, or nullptr after the error
// reply.
fp_state* requested_fp_registers(const wire::frame& f, uint32_t pid, uint32_t tid) {
    process* p = requested_thread(f, pid, tid);
    if (p == nullptr) {
        return nullptr;
    }
    fp_state* fp = thread_fp_registers(p->pid);
    if (fp == nullptr) {
        reply_status(f, wire::status::not_stopped);
    }
    return fp;
}

void fp_regs_get(const wire::frame& f) {
    wire::fp_regs_get_request req;
    if (!parse(f, req)) {
        return;
    }
    fp_state* fp = requested_fp_registers(f, req.pid, req.tid);
    if (fp == nullptr) {
        return;
    }
    wire::fp_regs_get_response r{.status = 0};
    for (int i = 0; i < 32; i++) {
        r.f[i] = fp->f[i];
    }
    r.fcsr = fp->fcsr & fcsr_bits;
    reply(f, r);
}

void fp_regs_set(const wire::frame& f) {
    wire::fp_regs_set_request req;
    if (!parse(f, req)) {
        return;
    }
    fp_state* fp = requested_fp_registers(f, req.pid, req.tid);
    if (fp == nullptr) {
        return;
    }
    for (int i = 0; i < 32; i++) {
        if (req.mask & (1ull << i)) {
            fp->f[i] = req.f[i];
        }
    }
    if (req.mask & (1ull << 32)) {
        fp->fcsr = req.fcsr & fcsr_bits;
    }
    reply_status(f, 0);
}

// Checks a memory request's range; answers and returns false when it is refused.
bool memory_range_ok(const wire::frame& f, uint32_t pid, uint64_t address, uint64_t length) {
    if (length > wire::max_mem_chunk) {
        reply_status(f, wire::status::too_large);
        return false;
    }
    if (user_process(pid) == nullptr) {
        reply_status(f, wire::status::no_such_process);
        return false;
    }
    if (length != 0 && !layout::in_user_window(address, length)) {
        reply_status(f, wire::status::permission_denied); // never the kernel's memory
        return false;
    }
    return true;
}

void mem_read(const wire::frame& f) {
    wire::mem_read_request req;
    if (!parse(f, req) || !memory_range_ok(f, req.pid, req.address, req.length)) {
        return;
    }
    static uint8_t data[wire::max_mem_chunk];
    if (req.length != 0) {
        long r = process_read_memory(static_cast<int>(req.pid), req.address, data, req.length);
        if (r < 0) {
            reply_status(f, status_of_errno(r));
            return;
        }
    }
    reply(f, wire::mem_read_response{.status = 0, .data = wire::bytes(data, req.length)});
}

void mem_write(const wire::frame& f) {
    wire::mem_write_request req;
    if (!parse(f, req) || !memory_range_ok(f, req.pid, req.address, req.data.size())) {
        return;
    }
    if (!req.data.empty()) {
        long r = process_write_memory(static_cast<int>(req.pid), req.address, req.data.data(),
                                      req.data.size());
        if (r < 0) {
            reply_status(f, status_of_errno(r));
            return;
        }
    }
    reply_status(f, 0);
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

void send_stop_event(int pid, wire::stop_reason reason, uint32_t probe_id) {
    trap_frame* regs = thread_registers(pid);
    if (regs == nullptr) {
        return; // resumed or gone meanwhile
    }
    wire::stop_event e{.pid = uint32_t(pid),
                       .tid = uint32_t(pid),
                       .reason = uint8_t(reason),
                       .probe_id = probe_id};
    if (reason == wire::stop_reason::fault || reason == wire::stop_reason::trap) {
        process* p = find_process(pid);
        e.signal = uint8_t(p != nullptr ? p->stop_signal : 0);
    }
    shown_registers(pid, *regs, e.x, e.pc);
    send_frame(wire::encode(tx_frame, 0, e), true);
}

} // namespace agent

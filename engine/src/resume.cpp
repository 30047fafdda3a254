// After a hit: the trap that ends an instruction stepped in the thread's out-of-line slot, resume
// after a stop, single-step (also out of the xol page) and the fault fix-up for out-of-line
// slots. The hit itself is in hit_path.cpp.
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "ruprobes/simulate.hpp"
#include "trap_info.hpp"

namespace ruprobes {

namespace {

// ecall and ebreak are executed by the kernel, not the engine: the system call is the kernel's
// to make, and running a program's own ebreak is delivering its breakpoint trap.
bool kernel_executes(const decoded_insn& insn) {
    return insn.cls == insn_class::refuse &&
           (insn.refusal == error::insn_ecall || insn.refusal == error::insn_ebreak);
}

bool is_lr(const decoded_insn& insn) {
    return insn.op == opcode::lr_w || insn.op == opcode::lr_d;
}

bool is_sc(const decoded_insn& insn) {
    return insn.op == opcode::sc_w || insn.op == opcode::sc_d;
}

// May run at another address: no pc-relative instruction, no control transfer, nothing the
// kernel must execute.
bool position_independent(const decoded_insn& insn) {
    switch (insn.op) {
    case opcode::auipc:
    case opcode::jal:
    case opcode::jalr:
    case opcode::beq:
    case opcode::bne:
    case opcode::blt:
    case opcode::bge:
    case opcode::bltu:
    case opcode::bgeu:
        return false;
    default:
        return insn.cls != insn_class::refuse;
    }
}

} // namespace

[[gnu::noinline]] int engine::xol_trap(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                                       uprobes_trap_info* info) {
    uint64_t offset = ctx->pc - proc.xol;
    if (offset == 0)
        return return_trap(proc, tid, ctx, info);
    thread_rec* t = find_thread(proc.pid, tid);
    // Only a slot that ends with an ebreak traps (one that jumps back has a jal there).
    if (t == nullptr || (t->xol != xol_state::probe_step && t->xol != xol_state::single_step) ||
        offset != uint64_t{t->xol_slot} * xol_slot_size + t->xol_length)
        return not_ours(info);
    xol_state state = t->xol;
    bool stop = state == xol_state::single_step || t->xol_stop_after;
    t->xol = xol_state::idle;
    t->xol_stop_after = false;
    uint64_t probed = t->xol_return_pc - t->xol_length;
    ctx->pc = t->xol_return_pc;
    if (state == xol_state::probe_step && t->xol_site != nil) {
        const site_rec& site = sites_[t->xol_site];
        if (site.program != nil && site.generation == t->xol_site_generation &&
            site.post_handlers != 0)
            run_post_handlers(proc, tid, site, probed, ctx);
    }
    int action = stop ? UPROBES_TRAP_STOP : UPROBES_TRAP_HANDLED;
    set_info(info, action);
    return action;
}

// A thread stopped (by the kernel, asynchronously) while its pc is in the xol page: single-step
// finishes what the engine started there, as one step of the program.
int engine::single_step_in_xol(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                               uprobes_trap_info* info) {
    uint64_t offset = ctx->pc - proc.xol;
    if (offset == 0) {
        // About to take the return trampoline: the step is the return itself.
        int action = return_trap(proc, tid, ctx, info);
        if (action == UPROBES_TRAP_NOT_OURS)
            return -static_cast<int>(error::not_ours);
        if (action == UPROBES_TRAP_HANDLED)
            set_info(info, UPROBES_TRAP_STOP);
        return UPROBES_TRAP_STOP;
    }
    thread_rec* t = find_thread(proc.pid, tid);
    if (t == nullptr || t->xol == xol_state::idle)
        return -static_cast<int>(error::not_ours);
    uint64_t slot_offset = uint64_t{t->xol_slot} * xol_slot_size;
    if (t->xol == xol_state::jumped) {
        // The instruction ran: the step is the slot's jal back to the program. (At the slot's
        // start single_step moved the thread back to the probed instruction.)
        if (offset != slot_offset + t->xol_length)
            return -static_cast<int>(error::not_ours);
        ctx->pc = t->xol_return_pc;
        t->xol = xol_state::idle;
        set_info(info, UPROBES_TRAP_STOP);
        return UPROBES_TRAP_STOP;
    }
    if (offset == slot_offset) {
        // The displaced instruction has not run yet: let it, and stop at the slot's ebreak.
        t->xol_stop_after = true;
        set_info(info, UPROBES_TRAP_HANDLED);
        return UPROBES_TRAP_HANDLED;
    }
    if (offset == slot_offset + t->xol_length) {
        t->xol_stop_after = true;
        return xol_trap(proc, tid, ctx, info);
    }
    return -static_cast<int>(error::not_ours);
}

result<decoded_insn> engine::program_insn(const process_rec& proc, uint64_t addr) {
    uint32_t bits = RUPROBES_TRY(peek_text(proc.pid, addr, 2));
    if ((bits & 3) == 3)
        bits = RUPROBES_TRY(peek_text(proc.pid, addr, 4));
    site_rec* site = lookup_site(proc.program, addr - proc.bias);
    if (site != nullptr && bits == breakpoint_for(site->insn.length))
        return site->insn;
    return decode_bits(bits);
}

int engine::step_lr_sc_sequence(process_rec& proc, uint32_t tid, const decoded_insn& lr,
                                uint64_t pc, uprobes_trap_context* ctx, uprobes_trap_info* info,
                                bool single_step) {
    uint8_t code[xol_slot_size];
    uint32_t length = lr.length;
    store_le(code, lr.raw, lr.length);
    bool complete = false;
    while (!complete) {
        // A resume stops at a breakpoint inside the sequence (a debugger stepping it its own
        // way, with breakpoints): then the lr runs alone.
        const site_rec* inside = lookup_site(proc.program, pc + length - proc.bias);
        if (!single_step && inside != nullptr && armed_for(*inside, proc.pid))
            return -1;
        result<decoded_insn> next = program_insn(proc, pc + length);
        if (!next.ok() || length + next->length + 4 > xol_slot_size ||
            !(is_sc(*next) || position_independent(*next)) || is_lr(*next))
            return -1;
        store_le(code + length, next->raw, next->length);
        length += next->length;
        complete = is_sc(*next);
    }
    result<thread_rec*> tr = thread_for(proc, tid);
    if (!tr.ok() || proc.xol == 0 || (*tr)->xol_slot == 0)
        return -1;
    thread_rec& t = **tr;
    uint64_t slot = proc.xol + uint64_t{t.xol_slot} * xol_slot_size;
    store_le(code + length, ebreak_bits, 4);
    t.xol_cached_raw = 0; // the slot holds a sequence, not one instruction
    if (os_text_poke(proc.pid, slot, code, length + 4) != 0) {
        counters_.faults++;
        set_info(info, UPROBES_TRAP_FAULT, error::port_failure, pc);
        return UPROBES_TRAP_FAULT;
    }
    os_icache_flush(proc.pid, slot, length + 4);
    t.xol = single_step ? xol_state::single_step : xol_state::probe_step;
    t.xol_length = static_cast<uint8_t>(length);
    t.xol_site = nil;
    t.xol_site_generation = 0;
    t.xol_return_pc = pc + length;
    ctx->pc = slot;
    counters_.out_of_line++;
    set_info(info, UPROBES_TRAP_HANDLED);
    return UPROBES_TRAP_HANDLED;
}

uint64_t engine::program_pc(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx) const {
    process_rec* proc = ready_ ? find_process(pid) : nullptr;
    uint64_t pc = ctx->pc;
    if (proc == nullptr || proc->xol == 0 || pc - proc->xol >= xol_page_size)
        return pc;
    const thread_rec* t = find_thread(pid, tid);
    if (t == nullptr)
        return pc;
    if (pc == proc->xol) {
        // The return the trampoline will make: the newest entry whose frame is still live.
        for (uint32_t i = t->depth; i-- > 0;) {
            if (t->stack[i].sp >= ctx->x[2])
                return t->stack[i].orig_ra;
        }
        return pc;
    }
    uint64_t slot = proc->xol + uint64_t{t->xol_slot} * xol_slot_size;
    if (t->xol == xol_state::idle)
        return pc;
    if (pc == slot)
        return t->xol_return_pc - t->xol_length; // the displaced instruction, not yet run
    if (pc == slot + t->xol_length)
        return t->xol_return_pc; // it ran (the ebreak or jal after it is next): the program is
                                 // at the next instruction
    return pc;
}

int engine::resume(uprobes_trap_context* ctx, uprobes_trap_info* info) {
    set_info(info, UPROBES_TRAP_HANDLED);
    if (!ready_)
        return UPROBES_TRAP_HANDLED;
    uint32_t pid = os_current_pid();
    process_rec* proc = find_process(pid);
    if (proc == nullptr || (proc->xol != 0 && ctx->pc - proc->xol < xol_page_size))
        return UPROBES_TRAP_HANDLED;
    thread_rec* t = find_thread(pid, os_current_tid());
    uint32_t stopped_on = nil;
    if (t != nullptr) {
        stopped_on = t->probe_stop_site;
        t->probe_stop_site = nil;
    }
    site_rec* site = lookup_site(proc->program, ctx->pc - proc->bias);
    if (site == nullptr || !armed_for(*site, pid))
        return UPROBES_TRAP_HANDLED;
    // Not on the site it stopped on (a debugger moved the pc, or a return probe stopped it): it
    // runs from here as after a single step to here, so this breakpoint is hit, not passed over.
    // (No thread record: none could be made at the stop, the table was full.)
    if (t != nullptr && stopped_on != static_cast<uint32_t>(site - sites_))
        return UPROBES_TRAP_HANDLED;
    result<uint32_t> now = peek_text(pid, ctx->pc, site->insn.length);
    if (!now.ok() || *now != breakpoint_for(site->insn.length))
        return UPROBES_TRAP_HANDLED;
    if (kernel_executes(site->insn))
        return -static_cast<int>(site->insn.refusal);
    if (is_lr(site->insn)) {
        int r = step_lr_sc_sequence(*proc, os_current_tid(), site->insn, ctx->pc, ctx, info, false);
        if (r >= 0)
            return r;
    }
    return execute_displaced_noinline(*proc, os_current_tid(), site->insn,
                                      static_cast<uint32_t>(site - sites_), ctx->pc, ctx, info,
                                      false);
}

int engine::single_step(uprobes_trap_context* ctx, uprobes_trap_info* info) {
    set_info(info, UPROBES_TRAP_STOP);
    if (!ready_)
        return -static_cast<int>(error::invalid_argument);
    uint32_t pid = os_current_pid();
    uint32_t tid = os_current_tid();
    process_rec* proc = find_process(pid);
    if (proc == nullptr)
        return -static_cast<int>(error::not_found);
    if (thread_rec* t = find_thread(pid, tid); t != nullptr)
        t->probe_stop_site = nil; // stepped from its stop: a later resume is from elsewhere
    uint64_t pc = ctx->pc;
    if (proc->xol != 0 && pc - proc->xol < xol_page_size) {
        // At the start of a slot that jumps back (no ebreak ends it), the thread stands on the
        // probed instruction, not yet run: it is stepped from there, as the program's.
        thread_rec* t = find_thread(pid, tid);
        if (t == nullptr || t->xol != xol_state::jumped ||
            pc != proc->xol + uint64_t{t->xol_slot} * xol_slot_size)
            return single_step_in_xol(*proc, tid, ctx, info);
        pc = t->xol_return_pc - t->xol_length;
        ctx->pc = pc;
        t->xol = xol_state::idle;
    }
    // The instruction the program has at pc: the saved original under an armed breakpoint.
    result<uint32_t> low = peek_text(pid, pc, 2);
    if (!low.ok())
        return -static_cast<int>(error::fault_fetch);
    uint32_t bits = *low;
    if ((bits & 3) == 3) {
        result<uint32_t> word = peek_text(pid, pc, 4);
        if (!word.ok())
            return -static_cast<int>(error::fault_fetch);
        bits = *word;
    }
    decoded_insn insn = decode_bits(bits);
    site_rec* site = lookup_site(proc->program, pc - proc->bias);
    if (site != nullptr && bits == breakpoint_for(site->insn.length))
        insn = site->insn;
    if (kernel_executes(insn))
        return -static_cast<int>(insn.refusal);
    if (is_lr(insn)) {
        int r = step_lr_sc_sequence(*proc, tid, insn, pc, ctx, info, true);
        if (r >= 0)
            return r;
    }
    // Every other instruction runs out of line, the refused classes included (CSR access,
    // fence.i, lr/sc; a privileged or illegal one faults there and uprobes_fixup_fault moves the
    // fault back to `pc`).
    return execute_displaced_noinline(*proc, tid, insn, nil, pc, ctx, info, true);
}

bool engine::fixup_fault(uprobes_trap_context* ctx) {
    if (!ready_)
        return false;
    uint32_t pid = os_current_pid();
    process_rec* proc = find_process(pid);
    if (proc == nullptr || proc->xol == 0 || ctx->pc - proc->xol >= xol_page_size)
        return false;
    thread_rec* t = find_thread(pid, os_current_tid());
    if (t == nullptr || t->xol == xol_state::idle)
        return false;
    // In a slot that jumps back the thread is in the slot only at its start or its jal, and
    // only the instruction at its start can fault.
    if (t->xol == xol_state::jumped && ctx->pc != proc->xol + uint64_t{t->xol_slot} * xol_slot_size)
        return false;
    ctx->pc = t->xol_return_pc - t->xol_length;
    t->xol = xol_state::idle;
    return true;
}

} // namespace ruprobes

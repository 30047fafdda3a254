// The simulated kernel's port of the probe engine, written against the public C ABI
// (ruprobes/ruprobes.h) only: the os_* hooks, the breakpoint trap, and what a kernel does before
// it resumes a thread the engine stopped. A second worked example beside the reference kernel's
// kernel-port/port/engine_port.cpp, of a different shape: the "hardware" is the engine's own
// simulator, user memory is host buffers, and every hook is a lookup in the process table.
#include "sim_kernel.hpp"

#include <vector>

namespace sim {

namespace {

process* live_process(uint32_t pid) {
    kernel* k = kernel::instance();
    process* p = k != nullptr ? k->find(pid) : nullptr;
    return p != nullptr && p->live() ? p : nullptr;
}

} // namespace

void execute_breakpoint(kernel& k, process& p) {
    uprobes_trap_info info = {};
    const int action = uprobes_trap_handler_thread(&p.regs, p.pid, p.pid, &info);
    if (action == UPROBES_TRAP_NOT_OURS) {
        // The program's own ebreak: a debugger hears of it, otherwise the process dies of it.
        if (k.debugger_listening()) {
            p.stop_signal = sig::trap;
            k.stop_self(p, stop_reason::breakpoint, 0);
            return;
        }
        k.fault(p, sig::trap, "breakpoint not placed by the probe engine");
        return;
    }
    k.apply_trap_action(p, action, info);
}

// Acts on what the engine said about a trap, resume or step of `p`. False when `p` must not
// run now (stopped or dead).
bool kernel::apply_trap_action(process& p, int action, const uprobes_trap_info& info) {
    switch (action) {
    case UPROBES_TRAP_HANDLED:
        return true;
    case UPROBES_TRAP_STOP:
        p.engine_resume_pending = info.probe_id != 0;
        stop_self(p, info.probe_id != 0 ? stop_reason::probe : stop_reason::step, info.probe_id);
        return false;
    case UPROBES_TRAP_FAULT:
        fault(p, sig::segv, "probed instruction faulted");
        return false;
    default:
        log("pid " + std::to_string(p.pid) +
            ": the probe engine could not execute the instruction");
        exit_process(p, sig::trap);
        return false;
    }
}

// The engine leaves ecall and the program's own ebreak to the kernel (uprobes_resume and
// uprobes_single_step return their refusal with the context untouched): executes it once.
bool kernel::execute_in_kernel(process& p, int refusal, bool step) {
    if (refusal == -UPROBES_E_INSN_ECALL) {
        p.regs.pc += 4;
        dispatch_syscall(*this, p);
        if (step && p.live()) {
            stop_self(p, stop_reason::step, 0);
        }
        return false;
    }
    if (debugger_listening()) {
        p.stop_signal = sig::trap;
        stop_self(p, stop_reason::breakpoint, 0);
        return false;
    }
    fault(p, sig::trap, "breakpoint not placed by the probe engine");
    return false;
}

bool kernel::prepare_to_run(process& p) {
    uprobes_trap_info info = {};
    if (p.step_pending) {
        p.step_pending = false;
        p.engine_resume_pending = false;
        const int r = uprobes_single_step(&p.regs, &info);
        if (r == -UPROBES_E_INSN_ECALL || r == -UPROBES_E_INSN_EBREAK) {
            return execute_in_kernel(p, r, true);
        }
        if (r < 0) {
            log("pid " + std::to_string(p.pid) + " cannot single-step: " + uprobes_error_name(r));
            stop_self(p, stop_reason::step, 0);
            return false;
        }
        return apply_trap_action(p, r, info);
    }
    if (p.engine_resume_pending) {
        p.engine_resume_pending = false;
        const int r = uprobes_resume(&p.regs);
        if (r == -UPROBES_E_INSN_ECALL || r == -UPROBES_E_INSN_EBREAK) {
            return execute_in_kernel(p, r, false);
        }
        return apply_trap_action(p, r, info);
    }
    return true;
}

} // namespace sim

// ---- the os_* hooks (ruprobes.h)
// ------------------------------------------------------------------

using sim::live_process;

extern "C" int os_copy_from_user(uint32_t pid, void* dst, uint64_t src, size_t len) {
    sim::process* p = live_process(pid);
    return p != nullptr && p->memory.read(src, dst, len, sim::perm::read) ? 0 : -1;
}

extern "C" int os_copy_to_user(uint32_t pid, uint64_t dst, const void* src, size_t len) {
    sim::process* p = live_process(pid);
    return p != nullptr && p->memory.write(dst, src, len, sim::perm::write) ? 0 : -1;
}

// Executable memory only (text and the xol page), whatever the write permission. Every process
// has its own copy of every page, so the poke reaches this process alone.
extern "C" int os_text_poke(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    sim::process* p = live_process(pid);
    return p != nullptr && len > 0 && len <= 16 && p->memory.write(addr, src, len, sim::perm::exec)
               ? 0
               : -1;
}

// The simulated CPU fetches every instruction from memory: no instruction cache to flush.
extern "C" void os_icache_flush(uint32_t, uint64_t, size_t) {}

extern "C" uint64_t os_xol_page(uint32_t pid) {
    return live_process(pid) != nullptr ? sim::layout::xol_page : 0;
}

extern "C" uint32_t os_current_pid(void) {
    sim::kernel* k = sim::kernel::instance();
    sim::process* p = k != nullptr ? k->current() : nullptr;
    return p != nullptr ? p->pid : 0;
}

extern "C" uint32_t os_current_tid(void) {
    return os_current_pid(); // one thread per process
}

extern "C" uint64_t os_time_ns(void) {
    return sim::monotonic_ns();
}

// One host thread runs the scheduler, the engine and the agent: nothing to lock.
extern "C" void os_uprobes_lock(void) {}
extern "C" void os_uprobes_unlock(void) {}

// Called without the engine lock: reading the program may take its time. The key is the image's
// address in the program store (one per program file, whatever path named it).
extern "C" int os_program_get(const char* path, uprobes_program_image* out) {
    sim::kernel* k = sim::kernel::instance();
    const sim::program_image* image =
        k != nullptr && path != nullptr ? k->programs().find(path) : nullptr;
    if (image == nullptr || image->text_end <= image->text_begin) {
        return -1;
    }
    auto* text = new std::vector<uint8_t>(image->text_end - image->text_begin);
    if (!sim::program_store::read(*image, image->text_begin, text->data(), text->size())) {
        delete text;
        return -1;
    }
    *out = uprobes_program_image{};
    out->key = reinterpret_cast<uint64_t>(image);
    out->text_begin = image->text_begin;
    out->text_end = image->text_end;
    out->text = text->data();
    out->port_cookie = text;
    return 0;
}

extern "C" void os_program_put(uprobes_program_image* image) {
    delete static_cast<std::vector<uint8_t>*>(image->port_cookie);
    image->port_cookie = nullptr;
}

extern "C" const char* os_current_exec_path(void) {
    sim::kernel* k = sim::kernel::instance();
    sim::process* p = k != nullptr ? k->current() : nullptr;
    return p != nullptr ? p->path.c_str() : "";
}

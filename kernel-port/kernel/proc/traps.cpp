#include "proc/traps.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/trap.hpp"
#include "lib/console.hpp"
#include "lib/panic.hpp"
#include "port/kernel_hooks.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "proc/syscalls.hpp"

namespace {

// The signal for a U-mode exception (Privileged v1.12 table 4.2).
int signal_for(uint64_t code) {
    switch (code) {
    case csr::cause::illegal_insn:
        return sig::ill;
    case csr::cause::breakpoint:
        return sig::trap;
    case csr::cause::insn_misaligned:
    case csr::cause::load_misaligned:
    case csr::cause::store_misaligned:
        return sig::bus;
    default:
        return sig::segv;
    }
}

void breakpoint_trap(process* p, const user_trap_event& e, trap_frame& frame) {
    if (!port_user_breakpoint(p, static_cast<uint32_t>(p->pid), frame)) {
        kill_for_fault(p, "breakpoint not placed by the probe engine", e.scause, e.stval,
                       sig::trap);
    }
    honour_reschedule_request(); // the agent, its hit ring filling, asked for the hart
}

void fault_trap(process* p, const user_trap_event& e, trap_frame& frame) {
    port_fixup_fault(p, frame);
    if (stop_for_fault(p, signal_for(e.code))) {
        kprintf("kernel: pid %d (%s) stopped for its debugger: %s (pc=%016lx tval=%016lx)\n",
                p->pid, p->name, csr::cause_name(e.code), frame.sepc, e.stval);
    } else {
        kill_for_fault(p, csr::cause_name(e.code), e.scause, e.stval, signal_for(e.code));
    }
}

} // namespace

void kill_for_fault(process* p, const char* reason, uint64_t scause, uint64_t stval, int signal) {
    kprintf("kernel: pid %d (%s) killed: %s (pc=%016lx cause=%lu tval=%016lx)\n", p->pid, p->name,
            reason, p->frame.sepc, scause, stval);
    process_exit(p, wait_status_signaled(signal));
}

void kernel_user_trap(const user_trap_event& e, trap_frame& frame) {
    process* p = current_process();
    switch (e.what) {
    case user_trap_event::kind::interrupt:
        if (e.preempt) {
            yield(); // round robin: the others (and a woken agent) run first
        }
        break;
    case user_trap_event::kind::syscall:
        syscall_dispatch(p, frame);
        break;
    case user_trap_event::kind::breakpoint:
        breakpoint_trap(p, e, frame);
        break;
    case user_trap_event::kind::fault:
        fault_trap(p, e, frame);
        break;
    }
    return_to_user(p);
}

extern "C" void return_to_user(process* p) {
    for (;;) {
        if (p->killed) {
            process_exit(p, wait_status_signaled(p->kill_signal));
        }
        if (p->stop_count > 0) {
            sched(); // the scheduler skips it until a debugger resumes it
            continue;
        }
        if (port_prepare_user_return(p)) {
            break;
        }
    }
    p->frame.kernel_sp = p->kernel_stack_top();
    user_return(&p->frame);
}

void kernel_fault_in_kernel(uint64_t scause, uint64_t stval, const trap_frame& frame) {
    process* p = current_process();
    kprintf("kernel panic: %s in the kernel (scause=%lu stval=%016lx) while running pid %d\n",
            csr::cause_name(scause), scause, stval, p != nullptr ? p->pid : 0);
    print_trap_frame(frame);
    panic("kernel_trap");
}

void kernel_unexpected_interrupt(uint64_t code, uint32_t irq) {
    if (irq != 0) {
        kprintf("plic: interrupt %u has no handler\n", irq);
    } else {
        kprintf("trap: unexpected interrupt %lu\n", code);
    }
}

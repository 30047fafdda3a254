#include "arch/riscv64/trap.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/plic.hpp"
#include "arch/riscv64/timer.hpp"
#include "lib/console.hpp"
#include "lib/panic.hpp"
#include "port/kernel_hooks.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "proc/syscalls.hpp"

extern "C" char trap_vector[];

namespace {

// The kill reason and signal for a U-mode exception (Privileged v1.12 table 4.2).
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

// Returns true when the caller may preempt: a timer tick, or a device interrupt (its handler may
// have woken a kernel thread, e.g. the agent on a host message, which then runs without waiting
// for the end of the time slice).
bool handle_interrupt(uint64_t code) {
    switch (code) {
    case csr::cause::supervisor_timer:
        timer_interrupt();
        return true;
    case csr::cause::supervisor_external:
        plic_dispatch();
        return true;
    case csr::cause::supervisor_software:
        csr::clear_sip(csr::sie_ssie);
        return false;
    default:
        kprintf("trap: unexpected interrupt %lu\n", code);
        return false;
    }
}

} // namespace

const char* csr::cause_name(uint64_t scause) {
    switch (scause) {
    case cause::insn_misaligned:
        return "instruction address misaligned";
    case cause::insn_access_fault:
        return "instruction access fault";
    case cause::illegal_insn:
        return "illegal instruction";
    case cause::breakpoint:
        return "breakpoint";
    case cause::load_misaligned:
        return "load address misaligned";
    case cause::load_access_fault:
        return "load access fault";
    case cause::store_misaligned:
        return "store address misaligned";
    case cause::store_access_fault:
        return "store access fault";
    case cause::ecall_user:
        return "ecall from U-mode";
    case cause::ecall_supervisor:
        return "ecall from S-mode";
    case cause::insn_page_fault:
        return "instruction page fault";
    case cause::load_page_fault:
        return "load page fault";
    case cause::store_page_fault:
        return "store page fault";
    default:
        return "unknown exception";
    }
}

void trap_init() {
    csr::write_sscratch(0);
    csr::write_stvec(reinterpret_cast<uint64_t>(trap_vector)); // direct mode: low bits 0
}

void kill_for_fault(process* p, const char* reason, uint64_t scause, uint64_t stval, int signal) {
    kprintf("kernel: pid %d (%s) killed: %s (pc=%016lx cause=%lu tval=%016lx)\n", p->pid, p->name,
            reason, p->frame.sepc, scause, stval);
    process_exit(p, wait_status_signaled(signal));
}

extern "C" void user_trap(trap_frame* frame) {
    process* p = current_process();
    const uint64_t scause = csr::read_scause();
    const uint64_t stval = csr::read_stval();
    const uint64_t code = scause & ~csr::scause_interrupt;
    if ((scause & csr::scause_interrupt) != 0) {
        if (handle_interrupt(code)) {
            yield(); // round robin: the others (and a woken agent) run first
        }
    } else if (code == csr::cause::ecall_user) {
        frame->sepc += 4; // ecall is always 32 bits
        syscall_dispatch(p, *frame);
    } else if (code == csr::cause::breakpoint) {
        if (!port_user_breakpoint(p, p->pid, *frame)) {
            kill_for_fault(p, "breakpoint not placed by the probe engine", scause, stval,
                           sig::trap);
        }
        honour_reschedule_request(); // the agent, its hit ring filling, asked for the hart
    } else {
        port_fixup_fault(p, *frame);
        if (stop_for_fault(p, signal_for(code))) {
            kprintf("kernel: pid %d (%s) stopped for its debugger: %s (pc=%016lx tval=%016lx)\n",
                    p->pid, p->name, csr::cause_name(code), frame->sepc, stval);
        } else {
            kill_for_fault(p, csr::cause_name(code), scause, stval, signal_for(code));
        }
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

extern "C" void kernel_trap(trap_frame* frame) {
    const uint64_t scause = csr::read_scause();
    if ((scause & csr::scause_interrupt) != 0) {
        handle_interrupt(scause & ~csr::scause_interrupt);
        return;
    }
    const uint64_t stval = csr::read_stval();
    process* p = current_process();
    kprintf("kernel panic: %s in the kernel (scause=%lu stval=%016lx) while running pid %d\n",
            csr::cause_name(scause), scause, stval, p != nullptr ? p->pid : 0);
    print_trap_frame(*frame);
    panic("kernel_trap");
}

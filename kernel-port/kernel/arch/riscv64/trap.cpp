#include "arch/riscv64/trap.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/plic.hpp"
#include "arch/riscv64/timer.hpp"

extern "C" char trap_vector[];

namespace {

// Serves the interrupt; true when the caller may preempt: a timer tick, or a device interrupt
// (its handler may have woken a kernel thread, e.g. the agent on a host message, which then runs
// without waiting for the end of the time slice).
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
        kernel_unexpected_interrupt(code, 0);
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

extern "C" void user_trap(trap_frame* frame) {
    user_trap_event e;
    e.scause = csr::read_scause();
    e.stval = csr::read_stval();
    e.code = e.scause & ~csr::scause_interrupt;
    if ((e.scause & csr::scause_interrupt) != 0) {
        e.what = user_trap_event::kind::interrupt;
        e.preempt = handle_interrupt(e.code);
    } else if (e.code == csr::cause::ecall_user) {
        e.what = user_trap_event::kind::syscall;
        frame->sepc += 4; // ecall is always 32 bits
    } else if (e.code == csr::cause::breakpoint) {
        e.what = user_trap_event::kind::breakpoint;
    } else {
        e.what = user_trap_event::kind::fault;
    }
    kernel_user_trap(e, *frame);
}

extern "C" void kernel_trap(trap_frame* frame) {
    const uint64_t scause = csr::read_scause();
    if ((scause & csr::scause_interrupt) != 0) {
        handle_interrupt(scause & ~csr::scause_interrupt);
        return;
    }
    kernel_fault_in_kernel(scause, csr::read_stval(), *frame);
}

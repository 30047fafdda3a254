// Trap handling, the architecture's half: the C++ side of trap_entry.S. It decodes a trap and
// serves the interrupts that are the hart's own (timer, PLIC); what a trap means for a process
// (system call, breakpoint, fault, preemption) is the kernel's decision, taken by the functions
// declared at the end, which the generic kernel implements (proc/traps.cpp). arch/ includes no
// other part of the kernel.
#pragma once

#include "arch/riscv64/trap_frame.hpp"

#include <stdint.h>

// Points stvec at trap_vector and marks the kernel as running (sscratch = 0). Call once.
void trap_init();

extern "C" {
// A trap from U-mode: `frame` is the current process's frame. Never returns to trap_entry.S.
[[noreturn]] void user_trap(trap_frame* frame);
// A trap from S-mode: interrupts are served; anything else is a kernel bug.
void kernel_trap(trap_frame* frame);
// trap_entry.S: restores `frame` and executes sret.
[[noreturn]] void user_return(trap_frame* frame);
}

// A trap from U-mode, decoded.
struct user_trap_event {
    enum class kind {
        interrupt,  // served already; `preempt`: the caller may switch (a tick, a device)
        syscall,    // ecall: frame.sepc already advanced past it
        breakpoint, // ebreak / c.ebreak
        fault,      // any other exception
    };
    kind what = kind::interrupt;
    bool preempt = false;
    uint64_t scause = 0;
    uint64_t code = 0; // scause without the interrupt bit
    uint64_t stval = 0;
};

// ---- implemented by the generic kernel -----------------------------------------------------

// Acts on a trap from U-mode and returns to U-mode (or runs others first). Never returns.
[[noreturn]] void kernel_user_trap(const user_trap_event& event, trap_frame& frame);
// An exception in S-mode: reports it with the registers and stops the kernel.
[[noreturn]] void kernel_fault_in_kernel(uint64_t scause, uint64_t stval, const trap_frame& frame);
// An interrupt nothing serves: `code` is scause's (without the interrupt bit); `irq` the PLIC's
// source for an external one (0 otherwise). For the log.
void kernel_unexpected_interrupt(uint64_t code, uint32_t irq);

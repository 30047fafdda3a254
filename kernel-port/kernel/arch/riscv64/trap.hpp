// Trap handling: the C++ side of trap_entry.S.
#pragma once

#include "arch/riscv64/trap_frame.hpp"

struct process;

// Points stvec at trap_vector and marks the kernel as running (sscratch = 0). Call once.
void trap_init();

extern "C" {
// A trap from U-mode: `frame` is the current process's frame. Handles it and returns to U-mode
// (or to another process first). Never returns to trap_entry.S.
[[noreturn]] void user_trap(trap_frame* frame);
// A trap from S-mode: interrupts (timer, PLIC) are served; anything else is a kernel bug and
// panics with the registers printed.
void kernel_trap(trap_frame* frame);
// Enters U-mode for `p` (the current process) after exiting it if it was killed and waiting while
// a debugger holds it stopped. Interrupts must be off.
[[noreturn]] void return_to_user(process* p);
// trap_entry.S: restores `frame` and executes sret.
[[noreturn]] void user_return(trap_frame* frame);
}

// Kills the current process for a fault it took in U-mode, logging
// "pid N (name) killed: <reason> (pc=... cause=... tval=...)".
[[noreturn]] void kill_for_fault(process* p, const char* reason, uint64_t scause, uint64_t stval,
                                 int signal);

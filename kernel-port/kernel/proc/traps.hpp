// Trap policy: what a trap from U-mode means for the process that took it (arch/riscv64/trap.hpp
// decodes the trap and calls kernel_user_trap, implemented here with the other functions arch
// declares for the kernel).
#pragma once

#include <stdint.h>

struct process;

extern "C" {
// Enters U-mode for `p` (the current process) after exiting it if it was killed and waiting while
// a debugger holds it stopped. Interrupts must be off.
[[noreturn]] void return_to_user(process* p);
}

// Kills the current process for a fault it took in U-mode, logging
// "pid N (name) killed: <reason> (pc=... cause=... tval=...)".
[[noreturn]] void kill_for_fault(process* p, const char* reason, uint64_t scause, uint64_t stval,
                                 int signal);

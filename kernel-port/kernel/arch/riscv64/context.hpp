// Kernel context switch and floating-point state: the callee-saved registers a thread keeps
// while it is switched out in the kernel (psABI: ra, sp, s0..s11), and the user's F/D registers.
#pragma once

#include <stdint.h>

struct switch_context {
    uint64_t ra;
    uint64_t sp;
    uint64_t s[12];
};

// The F and D registers and fcsr (RISC-V unprivileged ISA, chapters 11 and 12).
struct fp_state {
    uint64_t f[32];
    uint64_t fcsr;
};

extern "C" {
// Saves the current callee-saved registers into `from` and resumes the thread saved in `to`
// (it returns from its own switch_to call, or starts at `to->ra`).
void switch_to(switch_context* from, const switch_context* to);
// Stores / loads the F registers and fcsr. sstatus.FS must not be Off.
void fp_save(fp_state* state);
void fp_restore(const fp_state* state);
}

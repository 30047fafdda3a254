// The registers of an interrupted context, saved by trap_entry.S. For a user thread the frame
// lives in its process (sscratch points at it while the thread runs in U-mode); a kernel trap
// saves one on the current kernel stack.
#pragma once

#include <stddef.h>
#include <stdint.h>

struct trap_frame {
    uint64_t x[32];     // x0..x31 (x[0] is always 0, x[2] is sp), offsets 0..248
    uint64_t sepc;      // 256: pc of the trapping instruction (or of the next one to run)
    uint64_t sstatus;   // 264: sstatus at the trap (SPP, SPIE, FS)
    uint64_t kernel_sp; // 272: user frames only: the kernel stack to switch to on a trap
    uint64_t kernel_tp; // 280: user frames only: the hart_local of the hart running the thread

    uint64_t& ra() { return x[1]; }
    uint64_t& sp() { return x[2]; }
    uint64_t& a(int i) { return x[10 + i]; }
};

// trap_entry.S hard-codes these offsets.
static_assert(offsetof(trap_frame, sepc) == 256);
static_assert(offsetof(trap_frame, sstatus) == 264);
static_assert(offsetof(trap_frame, kernel_sp) == 272);
static_assert(offsetof(trap_frame, kernel_tp) == 280);
static_assert(sizeof(trap_frame) == 288);

// ABI register numbers (RISC-V psABI), for readable frame accesses.
namespace reg {
constexpr int ra = 1, sp = 2, gp = 3, tp = 4, t0 = 5, s0 = 8, a0 = 10, a1 = 11, a2 = 12, a3 = 13,
              a4 = 14, a5 = 15, a6 = 16, a7 = 17;
} // namespace reg

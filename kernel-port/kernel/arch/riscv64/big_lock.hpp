// The big kernel lock: a test-and-set spinlock a hart holds whenever it runs kernel code, with
// interrupts off. trap_entry.S takes it on a trap from U-mode and user_return releases it before
// sret; the scheduler's idle loop releases it around wfi. A thread switch (switch_to) keeps it:
// the hart holds it, whichever thread runs. Lock discipline: kernel-port/README.md, "SMP".
#pragma once

#include <stdint.h>

// Non-zero while a hart holds it (trap_entry.S stores the lock's own address as the value).
extern "C" uint32_t big_kernel_lock;

inline void big_lock_acquire() {
#if defined(__riscv)
    for (;;) {
        uint32_t busy;
        asm volatile("amoswap.w.aq %0, %2, %1"
                     : "=r"(busy), "+A"(big_kernel_lock)
                     : "r"(1)
                     : "memory");
        if (busy == 0) {
            return;
        }
        while (__atomic_load_n(&big_kernel_lock, __ATOMIC_RELAXED) != 0) {
            asm volatile(".insn i 0x0f, 0, x0, x0, 0x010"); // pause (Zihintpause; a fence hint)
        }
    }
#endif
}

inline void big_lock_release() {
#if defined(__riscv)
    asm volatile("amoswap.w.rl zero, zero, %0" : "+A"(big_kernel_lock) : : "memory");
#endif
}

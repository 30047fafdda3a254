// The big kernel lock: a spinlock a hart holds whenever it runs kernel code, with interrupts off.
// trap_entry.S takes it on a trap from U-mode and user_return releases it before sret; the
// scheduler's idle loop releases it around wfi. A thread switch (switch_to) keeps it: the hart
// holds it, whichever thread runs. Lock discipline: kernel-port/README.md, "SMP".
//
// The word is 0 when free, the lock's own address while held, and big_lock_contended while held
// with waiters asleep: a waiter spins a little, then sleeps in wfi until the release wakes it with
// an IPI. Under QEMU -icount the harts run in turn, so a waiter that only spun would burn its
// whole turn while the holder cannot run.
#pragma once

#include <stdint.h>

extern "C" {
extern uint64_t big_kernel_lock;
extern uint64_t big_lock_sleepers; // bit i: hart index i waits in wfi for the lock
// The slow paths (proc/smp.cpp): waits until this hart holds the lock (`seen`: the value the
// failed swap found), and wakes the sleeping waiters after a release that found them.
void big_lock_wait(uint64_t seen);
void big_lock_wake_sleepers();
}

constexpr uint64_t big_lock_contended = 1;

inline uint64_t big_lock_held_value() {
    return reinterpret_cast<uint64_t>(&big_kernel_lock);
}

inline void big_lock_acquire() {
#if defined(__riscv)
    uint64_t seen;
    asm volatile("amoswap.d.aq %0, %2, %1"
                 : "=r"(seen), "+A"(big_kernel_lock)
                 : "r"(big_lock_held_value())
                 : "memory");
    if (seen != 0) {
        big_lock_wait(seen);
    }
#endif
}

inline void big_lock_release() {
#if defined(__riscv)
    uint64_t seen;
    asm volatile("amoswap.d.rl %0, zero, %1" : "=r"(seen), "+A"(big_kernel_lock) : : "memory");
    if (seen == big_lock_contended) {
        big_lock_wake_sleepers();
    }
#endif
}

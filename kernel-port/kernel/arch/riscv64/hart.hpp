// Per-hart state. Each hart's `tp` points at its hart_local while it runs the kernel (entry.S for
// the boot hart, the hart_start opaque value for the others, the trap frame's `kernel_tp` on a
// trap from U-mode, where `tp` is the user's). The boot hart is index 0, whatever its hart id.
//
// Built for a host (the kernel's unit tests compile mm/), this_hart() is harts[0].
#pragma once

#include "arch/riscv64/context.hpp"

#include <stddef.h>
#include <stdint.h>

struct process;

constexpr uint32_t max_harts = 8;
constexpr size_t hart_stack_size = 16384;

// One cache line or more each (alignas): the lock-free hit path writes its hart's fields at every
// hit, and two harts must not share a line for it.
struct alignas(64) hart_local {
    uint64_t boot_sp = 0;              // 0: the stack a started hart begins on (entry.S)
    process* running = nullptr;        // current_process(); nullptr in the scheduler's loop
    uint64_t* active_root = nullptr;   // the page table in this hart's satp (mm/page_table.cpp)
    bool reschedule_requested = false; // request_reschedule() on this hart
    // In the engine's lock-free hit path (port_breakpoint_concurrent), without the big kernel
    // lock: os_agent_notify keeps its notices here (bit n: notice n) until the lock is taken.
    bool concurrent_trap = false;
    uint8_t deferred_notices = 0;
    bool idle = false;       // in the idle loop's wfi, not yet sent a wake-up (scheduler.cpp)
    uint32_t index = 0;      // 0 .. harts_online - 1
    uint64_t hartid = 0;     // the SBI's hart id
    uint64_t idle_ticks = 0; // timer ticks spent in wfi
    uint64_t timer_interrupts = 0;
    uint64_t user_slices = 0; // times the scheduler switched to a user process here
    // Breakpoint traps from U-mode the engine's lock-free hit path handled, and those that took
    // the big kernel lock (port_breakpoint_concurrent).
    uint64_t breakpoints_lock_free = 0;
    uint64_t breakpoints_locked = 0;
    switch_context scheduler_context = {};
};
static_assert(offsetof(hart_local, boot_sp) == 0, "entry.S loads the stack from offset 0");

// Every hart's state, harts[0..harts_online).
inline hart_local harts[max_harts];
inline uint32_t harts_online = 1;

#if defined(__riscv)
// Volatile: a thread may move to another hart across sched(), so the value is never reused.
inline hart_local* this_hart() {
    hart_local* h;
    asm volatile("mv %0, tp" : "=r"(h));
    return h;
}
inline void set_this_hart(hart_local* h) {
    asm volatile("mv tp, %0" : : "r"(h) : "memory");
}
#else
inline hart_local* this_hart() {
    return &harts[0];
}
inline void set_this_hart(hart_local*) {}
#endif

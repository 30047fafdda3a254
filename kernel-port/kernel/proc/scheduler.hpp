// Round-robin scheduling of the process table on every hart: each hart's scheduler loop runs any
// runnable, not-stopped process no other hart runs. The kernel is not preemptible: it runs with
// interrupts off under the big kernel lock (arch/riscv64/big_lock.hpp) and switches only in
// sched(); user code is preempted by each hart's timer.
#pragma once

#include "arch/riscv64/hart.hpp"
#include "proc/process.hpp"

// The process running on this hart (nullptr in the scheduler's own loop).
inline process* current_process() {
    return this_hart()->running;
}

// This hart's scheduler loop: runs runnable, not-stopped processes in turn; idles with wfi when
// there is none. Never returns.
[[noreturn]] void scheduler_run();

// Timer ticks during which every hart was idle (in wfi) since boot. Under `-icount` the guest
// clock counts the instructions the harts execute (in turn, with several), so elapsed ticks
// minus idle ticks is the number of instructions executed in between.
uint64_t scheduler_idle_ticks();

// Returns once `p` (stopped by the caller) runs on no other hart: kicks that hart (IPI) and
// sleeps until `p` has switched out. Immediate on one hart.
void wait_until_held(process* p);

// Asks the user trap path to run the reschedule hook (without one: to give up the hart) after
// the trap being handled: a producer in trap context whose consumer thread must run soon.
void request_reschedule();
// What the user trap path runs on such a request, set once at start-up (nullptr: yield()). It
// runs in the trapping thread's context, where it may sleep.
void set_reschedule_hook(void (*hook)());
// honour_reschedule_request's work once a request is pending.
void run_reschedule_request();
// The user trap path's part: runs the hook (or yields) when a request is pending on this hart.
// Inline: the breakpoint path tests one byte.
inline void honour_reschedule_request() {
    if (this_hart()->reschedule_requested) {
        run_reschedule_request();
    }
}

// Gives up the hart: the current process stays runnable.
void yield();

// Blocks the current process until wakeup(channel), or until timer_now() >= deadline when
// deadline != 0 (whichever comes first).
void sleep_on(const void* channel, uint64_t deadline = 0);

// A process became runnable: with several harts, wakes an idle one (IPI) so that it does not
// wait for its next tick. Inline: one load and a branch on one hart.
void wake_idle_hart();
inline void notify_runnable() {
    if (harts_online > 1) {
        wake_idle_hart();
    }
}

// Makes every process sleeping on `channel` runnable.
void wakeup(const void* channel);

// Makes `p` runnable if it sleeps on `channel`: wakeup() for a sleeper the caller knows.
void wakeup_process(process* p, const void* channel);

// Switches from the current process to the scheduler. The caller has set its state.
void sched();

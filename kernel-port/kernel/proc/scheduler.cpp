#include "proc/scheduler.hpp"

#include "arch/riscv64/big_lock.hpp"
#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/timer.hpp"
#include "lib/panic.hpp"
#include "proc/smp.hpp"

namespace {

// Harts in the idle loop's wfi, and time every hart spent there at once (several harts).
constinit uint32_t idle_harts = 0;
constinit uint64_t all_idle_since = 0;
constinit uint64_t all_idle_ticks = 0;

using reschedule_hook_fn = void (*)();
constinit reschedule_hook_fn reschedule_hook = nullptr;

// No sleeper's deadline comes before this (~0: none known); it may lie earlier than every
// deadline (a sleeper woken before its own), which costs one scan that finds nothing.
constinit uint64_t next_deadline = ~uint64_t{0};

// Wakes the sleepers whose deadline has passed. The scheduler's loop runs at every thread
// switch: the table is scanned only once the earliest deadline has come.
void wake_expired(uint64_t now) {
    if (now < next_deadline) {
        return;
    }
    uint64_t next = ~uint64_t{0};
    for (process *p = process_slots_begin(), *end = process_slots_end(); p != end; p++) {
        if (p->state != process_state::sleeping || p->wake_time == 0) {
            continue;
        }
        if (now >= p->wake_time) {
            p->state = process_state::runnable;
            p->channel = nullptr;
            p->wake_time = 0;
        } else if (p->wake_time < next) {
            next = p->wake_time;
        }
    }
    next_deadline = next;
}

// The next runnable, not stopped process after `from` in table order that no hart runs, or
// nullptr.
process* pick_next(process* from) {
    process* begin = process_slots_begin();
    process* end = process_slots_end();
    process* p = from == nullptr ? begin : from + 1;
    for (int i = 0; i < max_processes; i++, p++) {
        if (p == end) {
            p = begin;
        }
        if (p->state == process_state::runnable && p->stop_count == 0 && p->on_hart < 0) {
            return p;
        }
    }
    return nullptr;
}

// Runs `p` on this hart until it switches back. The user's F/D registers are swapped here,
// outside any trap path, so system calls and probe hits never pay for them.
void run(hart_local* h, process* p) {
    h->running = p;
    const int8_t index = static_cast<int8_t>(h->index);
    if (p->last_hart != index) {
        // Text written for it elsewhere with a local fence.i only (its out-of-line slots).
        csr::fence_i();
        p->last_hart = index;
    }
    p->on_hart = index;
    p->harts_run_on = static_cast<uint8_t>(p->harts_run_on | (1u << (index & 7)));
    const bool user = !p->kernel_thread;
    if (user) {
        activate_page_table(p->page_table); // kernel threads run on whichever table is active
        h->user_slices++;
        // A thread enters U-mode only through here and return_to_user on the same hart: its
        // next trap from U-mode finds this hart's state (exec keeps the field).
        p->frame.kernel_tp = reinterpret_cast<uint64_t>(h);
    }
    if (user) {
        csr::set_sstatus(csr::sstatus_fs_dirty);
        fp_restore(&p->fp);
    }
    switch_to(&h->scheduler_context, &p->context);
    if (user && p->state != process_state::zombie &&
        (p->frame.sstatus & csr::sstatus_fs_mask) == csr::sstatus_fs_dirty) {
        csr::set_sstatus(csr::sstatus_fs_dirty);
        fp_save(&p->fp);
        p->frame.sstatus = (p->frame.sstatus & ~csr::sstatus_fs_mask) | csr::sstatus_fs_clean;
    }
    p->on_hart = -1;
    h->running = nullptr;
    if (p->stop_count > 0) {
        wakeup(&p->on_hart); // wait_until_held (thread_stop) on another hart
    }
}

// No runnable process: wait for an interrupt without the big lock, then serve it with the lock.
// wfi wakes on a pending enabled interrupt even with sstatus.SIE off (Privileged v1.12 §3.3.3),
// so interrupts are taken only while the lock is held.
void idle(hart_local* h) {
    if (harts_online > 1) {
        // Another hart may free the table this one has in satp once the lock is released.
        activate_page_table(kernel_page_table());
    }
    const uint64_t idle_from = timer_now();
    h->idle = true;
    if (++idle_harts == harts_online) {
        all_idle_since = idle_from;
    }
    big_lock_release();
    asm volatile("wfi");
    big_lock_acquire();
    if (idle_harts-- == harts_online) {
        all_idle_ticks += timer_now() - all_idle_since;
    }
    h->idle = false;
    csr::interrupts_on();
    csr::interrupts_off();
    h->idle_ticks += timer_now() - idle_from;
}

} // namespace

void request_reschedule() {
    this_hart()->reschedule_requested = true;
}

void set_reschedule_hook(void (*hook)()) {
    reschedule_hook = hook;
}

void run_reschedule_request() {
    this_hart()->reschedule_requested = false;
    if (reschedule_hook != nullptr) {
        reschedule_hook();
    } else {
        yield();
    }
}

uint64_t scheduler_idle_ticks() {
    // One hart: the time around its wfi, as it always was. Several: only the time all were idle
    // (under -icount a halted hart executes nothing while another runs).
    return harts_online == 1 ? harts[0].idle_ticks : all_idle_ticks;
}

void scheduler_run() {
    hart_local* h = this_hart(); // the scheduler's loop never changes hart
    process* last = nullptr;
    for (;;) {
        wake_expired(timer_now());
        process* p = pick_next(last);
        if (p == nullptr) {
            idle(h); // take interrupts (timer, devices, IPIs) until something becomes runnable
            continue;
        }
        run(h, p);
        last = p;
    }
}

void sched() {
    process* p = current_process();
    if (p == nullptr) {
        panic("sched: no current process");
    }
    switch_to(&p->context, &this_hart()->scheduler_context);
}

void wait_until_held(process* p) {
    while (p->on_hart >= 0 && p != current_process()) {
        smp_kick(static_cast<uint32_t>(p->on_hart)); // it traps, sees its stop and switches out
        sleep_on(&p->on_hart, timer_now() + timer_ns_to_ticks(1'000'000));
    }
}

void yield() {
    sched();
}

void sleep_on(const void* channel, uint64_t deadline) {
    process* p = current_process();
    p->channel = channel;
    p->wake_time = deadline;
    if (deadline != 0 && deadline < next_deadline) {
        next_deadline = deadline;
    }
    p->state = process_state::sleeping;
    sched();
    p->channel = nullptr;
    p->wake_time = 0;
}

void wakeup(const void* channel) {
    for (process *p = process_slots_begin(), *end = process_slots_end(); p != end; p++) {
        wakeup_process(p, channel);
    }
}

void wakeup_process(process* p, const void* channel) {
    if (p->state == process_state::sleeping && p->channel == channel && channel != nullptr) {
        p->state = process_state::runnable;
        p->channel = nullptr;
        p->wake_time = 0;
        notify_runnable();
    }
}

void wake_idle_hart() {
    const uint32_t me = this_hart()->index;
    for (uint32_t i = 0; i < harts_online; i++) {
        if (i != me && harts[i].idle) {
            harts[i].idle = false; // the next process made runnable wakes another one
            smp_kick(i);
            return;
        }
    }
}

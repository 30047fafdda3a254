#include "proc/scheduler.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/timer.hpp"
#include "lib/panic.hpp"

namespace {

process* running = nullptr;
switch_context scheduler_context;
constinit uint64_t idle_ticks = 0;
using reschedule_hook_fn = void (*)();
constinit reschedule_hook_fn reschedule_hook = nullptr;

void wake_expired(uint64_t now) {
    for (process* p = process_slots_begin(); p != process_slots_end(); p++) {
        if (p->state == process_state::sleeping && p->wake_time != 0 && now >= p->wake_time) {
            p->state = process_state::runnable;
            p->channel = nullptr;
            p->wake_time = 0;
        }
    }
}

// The next runnable, not stopped process after `from` in table order, or nullptr.
process* pick_next(process* from) {
    process* begin = process_slots_begin();
    const int n = static_cast<int>(process_slots_end() - begin);
    const int start = from == nullptr ? 0 : static_cast<int>(from - begin) + 1;
    for (int i = 0; i < n; i++) {
        process* p = begin + (start + i) % n;
        if (p->state == process_state::runnable && p->stop_count == 0) {
            return p;
        }
    }
    return nullptr;
}

// Runs `p` until it switches back. The user's F/D registers are swapped here, outside any
// trap path, so system calls and probe hits never pay for them.
void run(process* p) {
    running = p;
    const bool user = !p->kernel_thread;
    if (user) {
        activate_page_table(p->page_table); // kernel threads run on whichever table is active
    }
    if (user) {
        csr::set_sstatus(csr::sstatus_fs_dirty);
        fp_restore(&p->fp);
    }
    switch_to(&scheduler_context, &p->context);
    if (user && p->state != process_state::zombie &&
        (p->frame.sstatus & csr::sstatus_fs_mask) == csr::sstatus_fs_dirty) {
        csr::set_sstatus(csr::sstatus_fs_dirty);
        fp_save(&p->fp);
        p->frame.sstatus = (p->frame.sstatus & ~csr::sstatus_fs_mask) | csr::sstatus_fs_clean;
    }
    running = nullptr;
}

} // namespace

constinit bool reschedule_requested = false;

void request_reschedule() {
    reschedule_requested = true;
}

void set_reschedule_hook(void (*hook)()) {
    reschedule_hook = hook;
}

void run_reschedule_request() {
    reschedule_requested = false;
    if (reschedule_hook != nullptr) {
        reschedule_hook();
    } else {
        yield();
    }
}

uint64_t scheduler_idle_ticks() {
    return idle_ticks;
}

process* current_process() {
    return running;
}

void scheduler_run() {
    process* last = nullptr;
    for (;;) {
        wake_expired(timer_now());
        process* p = pick_next(last);
        if (p == nullptr) {
            // Idle: take interrupts (timer, devices) until something becomes runnable.
            const uint64_t idle_from = timer_now();
            csr::interrupts_on();
            asm volatile("wfi");
            csr::interrupts_off();
            idle_ticks += timer_now() - idle_from;
            continue;
        }
        run(p);
        last = p;
    }
}

void sched() {
    process* p = running;
    if (p == nullptr) {
        panic("sched: no current process");
    }
    switch_to(&p->context, &scheduler_context);
}

void yield() {
    sched();
}

void sleep_on(const void* channel, uint64_t deadline) {
    process* p = running;
    p->channel = channel;
    p->wake_time = deadline;
    p->state = process_state::sleeping;
    sched();
    p->channel = nullptr;
    p->wake_time = 0;
}

void wakeup(const void* channel) {
    for (process* p = process_slots_begin(); p != process_slots_end(); p++) {
        wakeup_process(p, channel);
    }
}

void wakeup_process(process* p, const void* channel) {
    if (p->state == process_state::sleeping && p->channel == channel && channel != nullptr) {
        p->state = process_state::runnable;
        p->channel = nullptr;
        p->wake_time = 0;
    }
}

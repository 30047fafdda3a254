// The reference kernel's port of the agent (ruprobes/agent.h): the os_agent_* hooks over the
// kernel's process control, scheduler, timer and RTC; the virtio console found among QEMU virt's
// virtio-mmio slots, its PLIC interrupt; the agent thread. The only file that joins the agent
// library and the kernel.
#include "port/agent_port.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/hart.hpp"
#include "arch/riscv64/plic.hpp"
#include "arch/riscv64/timer.hpp"
#include "drivers/goldfish_rtc.hpp"
#include "lib/console.hpp"
#include "lib/panic.hpp"
#include "lib/string.hpp"
#include "mm/layout.hpp"
#include "proc/errno.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "proc/smp.hpp"
#include "programs.hpp"

#include "ruprobes/agent.h"

namespace {

// QEMU virt: 8 virtio-mmio transports at 0x10001000 + n * 0x1000, PLIC source n + 1. Kernel
// memory is identity-mapped (mm/layout.hpp): the DMA offset is 0.
constexpr uint64_t virtio_mmio_base = 0x1000'1000;
constexpr uint64_t virtio_mmio_stride = 0x1000;
constexpr int virtio_mmio_slots = 8;

constexpr uint64_t max_backpressure_ns = 1'000'000'000;
constexpr uint64_t backpressure_slice_ns = 10'000'000;

constinit bool running = false;
constinit bool work_pending = false; // an os_agent_notify(WORK) since the agent's last wait
char wake_channel;                   // the agent thread sleeps on it
process* agent_asleep = nullptr;     // the agent thread while it sleeps on wake_channel
char room_channel;                   // threads held for room in the hit ring sleep on it
constinit uint32_t room_waiters = 0; // how many: a notice of room wakes nobody without them
constinit bool lock_had_interrupts = false;
constinit sleeping_spinlock agent_spinlock; // os_agent_lock's: harts without the big lock take it

// The live user process `pid` (not a kernel thread, not a zombie), or nullptr.
process* user_process(uint32_t pid) {
    process* p = find_process(static_cast<int>(pid));
    if (p == nullptr || p->kernel_thread || p->state == process_state::zombie ||
        p->page_table == nullptr) {
        return nullptr;
    }
    return p;
}

// The thread (tid == pid: one per process) a hook names, or nullptr with *error set.
process* user_thread(uint32_t pid, uint32_t tid, int* error) {
    process* p = user_process(pid);
    if (p == nullptr) {
        *error = -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
        return nullptr;
    }
    if (tid != 0 && tid != pid) {
        *error = -RUPROBES_AGENT_E_NO_SUCH_THREAD;
        return nullptr;
    }
    return p;
}

int agent_error_of_errno(long r) {
    switch (-r) {
    case err::srch:
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    case err::perm:
        return -RUPROBES_AGENT_E_PERMISSION_DENIED;
    case err::fault:
        return -RUPROBES_AGENT_E_BAD_ADDRESS;
    case err::noent:
        return -RUPROBES_AGENT_E_NO_SUCH_PROGRAM;
    case err::inval:
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    default:
        return -RUPROBES_AGENT_E_BUSY;
    }
}

void resume_every_stop(process* p) {
    for (int guard = 0; p->stop_count > 0 && guard < 64; guard++) {
        thread_resume(p->pid, false);
    }
}

// ---- the kernel's process events -> the agent -------------------------------------------------

void on_stopped(int pid, stop_reason reason, uint32_t probe_id, void*) {
    int r = RUPROBES_AGENT_STOP_REQUESTED;
    switch (reason) {
    case stop_reason::probe:
        r = RUPROBES_AGENT_STOP_PROBE;
        break;
    case stop_reason::step:
        r = RUPROBES_AGENT_STOP_STEP;
        break;
    case stop_reason::breakpoint:
        r = RUPROBES_AGENT_STOP_BREAKPOINT;
        break;
    case stop_reason::fault:
        r = RUPROBES_AGENT_STOP_FAULT;
        break;
    case stop_reason::requested:
        break;
    }
    process* p = find_process(pid);
    int signal = p != nullptr ? p->stop_signal : 0;
    ruprobes_agent_on_stop(uint32_t(pid), uint32_t(pid), r, probe_id, signal);
}

void on_exec(int pid, const char* path, void*) {
    process* p = find_process(pid);
    uint32_t ppid = p != nullptr && p->parent != nullptr ? uint32_t(p->parent->pid) : 0;
    ruprobes_agent_on_exec(uint32_t(pid), ppid, path);
}

void on_exited(int pid, int wait_status, void*) {
    bool killed = (wait_status & 0x7f) != 0;
    ruprobes_agent_on_exit(
        uint32_t(pid), killed ? (wait_status & 0x7f) : ((wait_status >> 8) & 0xff), killed ? 1 : 0);
}

void on_forked(int parent_pid, int child_pid, void*) {
    ruprobes_agent_on_fork(uint32_t(parent_pid), uint32_t(child_pid));
}

constinit process_listener listener = {on_stopped, on_exec, on_exited, nullptr, on_forked};

// ---- backpressure (RUPROBES_AGENT_NOTICE_HURRY) -----------------------------------------------

// The host's clock (the RTC; the timer when there is none), as the agent's lease uses.
uint64_t host_clock_ns() {
    uint64_t t = goldfish_rtc::now_ns();
    return t != 0 ? t : timer_ticks_to_ns(timer_now());
}

// The reschedule hook (scheduler.hpp), in the context of the thread that made the hits: the
// agent runs first; while the ring stays congested, the thread waits for room, at most 1 s of
// the host's clock, so a host that stops reading costs drops, not a stalled program.
void after_hit_burst() {
    yield();
    if (!ruprobes_agent_congested()) {
        return;
    }
    const uint64_t begin = host_clock_ns();
    while (ruprobes_agent_congested() && host_clock_ns() - begin < max_backpressure_ns) {
        room_waiters++;
        sleep_on(&room_channel, timer_now() + timer_ns_to_ticks(backpressure_slice_ns));
        room_waiters--;
    }
}

// ---- the console interrupt and the agent thread -----------------------------------------------

void console_interrupt(uint32_t, void*) {
    ruprobes_agent_virtio_interrupt();
}

void agent_thread(void*) {
    ruprobes_agent_run();
}

} // namespace

bool agent_port_running() {
    return running;
}

// The harts, for the agent's per-hart hit rings: how many take hits (every hart online: main.cpp
// starts them before devices_init), and the one a trap runs on (its index in the hart table, read
// through tp). On one hart the agent keeps one ring and never calls os_agent_hart_id.
namespace {
static_assert(max_harts <= RUPROBES_AGENT_MAX_HARTS, "a hit ring for every hart");
uint32_t agent_harts() {
    return harts_online;
}
uint32_t current_hart_index() {
    return this_hart()->index;
}
} // namespace

// main.cpp's device bring-up hook: the virtio console and its agent.
extern "C" void devices_init() {
    for (int slot = 0; slot < virtio_mmio_slots; slot++) {
        ruprobes_agent_config config{};
        config.transport = RUPROBES_AGENT_TRANSPORT_VIRTIO_CONSOLE;
        config.harts = agent_harts();
        config.virtio_mmio_base = virtio_mmio_base + uint64_t(slot) * virtio_mmio_stride;
        config.virtio_dma_offset = 0;
        if (ruprobes_agent_init(&config) != 0) {
            continue;
        }
        const uint32_t irq = uint32_t(slot) + 1;
        kprintf("virtio-console: slot %d, irq %u\n", slot, irq);
        if (!irq_register(irq, console_interrupt, nullptr)) {
            kprintf("agent: cannot register irq %u; polling only\n", irq);
        }
        set_reschedule_hook(after_hit_burst);
        if (spawn_kernel_thread("agent", agent_thread, nullptr) == nullptr) {
            kprintf("agent: cannot start the agent thread\n");
            return;
        }
        running = true;
        return;
    }
    kprintf("agent: no virtio console, running without a host channel\n");
}

// ---- hooks: synchronisation, clock, log -------------------------------------------------------

extern "C" uint32_t os_agent_hart_id(void) {
    return current_hart_index();
}

// Interrupts off and a spinlock. The big kernel lock covers most callers (the agent thread, the
// hit sinks of a locked trap, the console interrupt, which the boot hart takes only while holding
// that lock; kernel-port/README.md, "SMP"), but not the record sink on the engine's lock-free hit
// path (port_breakpoint_concurrent), which takes this lock for a dropped record's notice.
extern "C" void os_agent_lock(void) {
    const bool had = csr::interrupts_off();
    if (__atomic_load_n(&agent_spinlock.holder, __ATOMIC_RELAXED) == this_hart()->index + 1) {
        panic("os_agent_lock: taken again by the hart that holds it (called from %p)",
              __builtin_return_address(0));
    }
    sleeping_lock_acquire(agent_spinlock);
    lock_had_interrupts = had;
}

extern "C" void os_agent_unlock(void) {
    const bool on = lock_had_interrupts;
    lock_had_interrupts = false;
    sleeping_lock_release(agent_spinlock);
    csr::interrupts_restore(on);
}

extern "C" void os_agent_notify(int notice) {
    hart_local* h = this_hart();
    if (h->concurrent_trap) {
        // The lock-free hit path, without the big kernel lock that a wake-up needs: the notice
        // waits until port_breakpoint_concurrent takes the lock, before the thread goes on.
        h->deferred_notices |= static_cast<uint8_t>(1u << (notice & 7));
        return;
    }
    switch (notice) {
    case RUPROBES_AGENT_NOTICE_WORK:
        // Once pending, the agent sees the work before it sleeps again (os_agent_wait), so only
        // the first notice wakes it, and it wakes the agent alone: no scan of the process table
        // (this runs in the trap that stores the first record of a batch).
        if (!work_pending) {
            work_pending = true;
            if (agent_asleep != nullptr) {
                wakeup_process(agent_asleep, &wake_channel);
            }
        }
        break;
    case RUPROBES_AGENT_NOTICE_HURRY:
        request_reschedule(); // after_hit_burst runs before the thread returns to U-mode
        break;
    case RUPROBES_AGENT_NOTICE_ROOM:
        // The agent gives this notice after every acknowledgement that leaves the rings with
        // room: the scan of the process table only when a thread waits.
        if (room_waiters != 0) {
            wakeup(&room_channel);
        }
        break;
    default:
        break;
    }
}

extern "C" void os_agent_wait(uint64_t timeout_ns) {
    if (timeout_ns == 0) {
        yield();
        return;
    }
    if (!work_pending) {
        agent_asleep = current_process();
        sleep_on(&wake_channel, timer_now() + timer_ns_to_ticks(timeout_ns));
        agent_asleep = nullptr;
    }
    work_pending = false;
}

extern "C" uint64_t os_agent_time_ns(void) {
    return timer_ticks_to_ns(timer_now());
}

extern "C" uint64_t os_agent_wall_clock_ns(void) {
    return goldfish_rtc::now_ns();
}

extern "C" void os_agent_log(const char* line) {
    kprintf("%s\n", line);
}

// The virtio transport is used: the byte channel hooks are never called.
extern "C" size_t os_agent_channel_read(uint8_t*, size_t) {
    return 0;
}

extern "C" int os_agent_channel_write(const uint8_t*, size_t) {
    return 0;
}

// ---- hooks: process control -------------------------------------------------------------------

extern "C" int os_agent_process_list(uint32_t start, ruprobes_agent_process* out, uint32_t max,
                                     uint32_t* total) {
    static process_info all[max_processes];
    const int n = list_processes(all, max_processes);
    uint32_t index = 0, written = 0;
    for (int i = 0; i < n; i++) {
        const process_info& p = all[i];
        if (p.kernel_thread) {
            continue;
        }
        if (index++ < start || written == max) {
            continue;
        }
        ruprobes_agent_process& e = out[written++];
        e = ruprobes_agent_process{};
        e.pid = uint32_t(p.pid);
        e.ppid = uint32_t(p.ppid);
        e.state = p.state == process_state::zombie ? RUPROBES_AGENT_PROCESS_ZOMBIE
                  : p.stopped                      ? RUPROBES_AGENT_PROCESS_STOPPED
                                                   : RUPROBES_AGENT_PROCESS_RUNNING;
        e.thread_count = 1;
        kstrlcpy(e.path, p.name, sizeof e.path);
    }
    *total = index;
    return int(written);
}

extern "C" int os_agent_process_spawn(int argc, const char* const* argv, uint32_t flags,
                                      uint32_t* pid) {
    if (argc < 1 || argc > max_exec_args || find_program(argv[0]) == nullptr) {
        return argc < 1 || argc > max_exec_args ? -RUPROBES_AGENT_E_BUSY
                                                : -RUPROBES_AGENT_E_NO_SUCH_PROGRAM;
    }
    long r = process_spawn(init_process(), argv[0], argc, argv);
    if (r < 0) {
        return agent_error_of_errno(r);
    }
    if ((flags & RUPROBES_AGENT_SPAWN_STOP_AT_ENTRY) != 0) {
        thread_stop(int(r)); // it has not run yet: stopped at its entry
    }
    *pid = uint32_t(r);
    return 0;
}

extern "C" int os_agent_process_kill(uint32_t pid, int signal) {
    if (user_process(pid) == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    long r = process_kill(int(pid), signal);
    return r < 0 ? agent_error_of_errno(r) : 0;
}

extern "C" int os_agent_thread_list(uint32_t pid, uint32_t start, ruprobes_agent_thread* out,
                                    uint32_t max, uint32_t* total) {
    process* p = user_process(pid);
    if (p == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    *total = 1;
    if (start > 0 || max == 0) {
        return 0;
    }
    out[0] = ruprobes_agent_thread{
        .tid = pid, .stopped = p->stop_count > 0 ? 1u : 0u, .pc = p->frame.sepc};
    return 1;
}

extern "C" int os_agent_thread_stop(uint32_t pid, uint32_t tid) {
    int error = 0;
    process* p = user_thread(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    if (p->stop_count > 0) {
        return 1;
    }
    long r = thread_stop(p->pid);
    return r < 0 ? agent_error_of_errno(r) : 0;
}

extern "C" int os_agent_thread_resume(uint32_t pid, uint32_t tid, int step) {
    int error = 0;
    process* p = user_thread(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    if (!step) {
        resume_every_stop(p);
        return 0;
    }
    if (p->stop_count == 0) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    long r = thread_resume(p->pid, true); // stops again with stop_reason::step
    return r < 0 ? agent_error_of_errno(r) : 0;
}

extern "C" uint32_t os_agent_release_all(void) {
    thread_untrace_all(); // no debugger is left to catch a fault
    uint32_t n = 0;
    for (process* p = process_slots_begin(); p != process_slots_end(); p++) {
        if (p->state == process_state::unused || p->kernel_thread || p->stop_count == 0) {
            continue;
        }
        resume_every_stop(p);
        n++;
    }
    return n;
}

extern "C" void os_agent_session_started(void) {
    set_process_listener(&listener);
}

extern "C" int os_agent_regs_get(uint32_t pid, uint32_t tid, ruprobes_agent_regs* out) {
    int error = 0;
    process* p = user_thread(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    const trap_frame* regs = thread_registers(p->pid);
    const fp_state* fp = thread_fp_registers(p->pid);
    if (regs == nullptr || fp == nullptr) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    // The trap frame starts with x[32] and sepc: the engine's context layout.
    static_assert(sizeof(out->gp) == 33 * sizeof(uint64_t));
    __builtin_memcpy(&out->gp, regs, sizeof out->gp);
    out->gp.x[0] = 0;
    for (int i = 0; i < 32; i++) {
        out->f[i] = fp->f[i];
    }
    out->fcsr = fp->fcsr;
    return 0;
}

extern "C" int os_agent_regs_set(uint32_t pid, uint32_t tid, const ruprobes_agent_regs* in,
                                 uint32_t which) {
    int error = 0;
    process* p = user_thread(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    trap_frame* regs = thread_registers(p->pid);
    fp_state* fp = thread_fp_registers(p->pid);
    if (regs == nullptr || fp == nullptr) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    if ((which & RUPROBES_AGENT_REGS_GP) != 0) {
        for (int i = 1; i < 32; i++) {
            regs->x[i] = in->gp.x[i];
        }
        regs->sepc = in->gp.pc;
    }
    if ((which & RUPROBES_AGENT_REGS_FP) != 0) {
        for (int i = 0; i < 32; i++) {
            fp->f[i] = in->f[i];
        }
        fp->fcsr = in->fcsr;
    }
    return 0;
}

// User memory only: the process must exist, and the range lie in the user window.
static int check_user_range(uint32_t pid, uint64_t addr, size_t len) {
    if (user_process(pid) == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (len != 0 && !layout::in_user_window(addr, len)) {
        return -RUPROBES_AGENT_E_PERMISSION_DENIED; // never the kernel's memory
    }
    return 0;
}

extern "C" int os_agent_mem_read(uint32_t pid, uint64_t addr, void* dst, size_t len) {
    int r = check_user_range(pid, addr, len);
    if (r < 0 || len == 0) {
        return r;
    }
    long got = process_read_memory(int(pid), addr, dst, len);
    return got < 0 ? agent_error_of_errno(got) : 0;
}

extern "C" int os_agent_mem_write(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    int r = check_user_range(pid, addr, len);
    if (r < 0 || len == 0) {
        return r;
    }
    long put = process_write_memory(int(pid), addr, src, len);
    return put < 0 ? agent_error_of_errno(put) : 0;
}

// The reference kernel's port of the engine: the os_* hooks of ruprobes.h and the calls the
// kernel makes into the engine (kernel_hooks.hpp). A worked example for other kernels; see
// kernel-port/README.md.
//
// Text poke: every process owns private copies of all its pages (exec loads the ELF into fresh
// frames, fork copies every page), so a breakpoint is written through the kernel's identity
// mapping of that process's physical frame (never through the user mapping, which is read-only
// text) and reaches no other process. A forked child starts with the parent's breakpoints in
// its copy; uprobes_on_fork keeps or restores them per probe.
#include "port/kernel_hooks.hpp"

#include "arch/riscv64/big_lock.hpp"
#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/hart.hpp"
#include "arch/riscv64/timer.hpp"
#include "lib/console.hpp"
#include "lib/string.hpp"
#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"
#include "mm/user_memory.hpp"
#include "proc/elf_loader.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "proc/smp.hpp"
#include "proc/syscalls.hpp"
#include "proc/traps.hpp"
#include "programs.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/ruprobes.h"

namespace {

// The engine's tables (uprobes_engine_init carves them out of this block).
constexpr size_t engine_memory_size = 4u << 20;
alignas(16) uint8_t engine_memory[engine_memory_size];
bool engine_ready = false;

bool profiling = false;
uint64_t profiled_traps = 0;
uint64_t profiled_ticks = 0;

static_assert(sizeof(uprobes_trap_context) == 33 * 8, "x[32] + pc");
static_assert(offsetof(trap_frame, sepc) == offsetof(uprobes_trap_context, pc),
              "the trap frame starts like the engine's context: passed without a copy");

uprobes_trap_context* context_of(trap_frame& frame) {
    return reinterpret_cast<uprobes_trap_context*>(&frame);
}

// The live user process `pid` (not a zombie, has memory), or nullptr.
process* user_process(uint32_t pid) {
    process* p = current_process(); // the hit path asks about the trapping process: no search
    if (p == nullptr || p->pid != static_cast<int>(pid)) {
        p = find_process(static_cast<int>(pid));
    }
    if (p == nullptr || p->kernel_thread || p->page_table == nullptr) {
        return nullptr;
    }
    return p;
}

// Stops the current thread for the debugger; it stays in return_to_user until resumed.
void stop_self(process* p, stop_reason reason, uint32_t probe_id) {
    p->stop_count++;
    notify_thread_stopped(p, reason, probe_id);
}

// Acts on what the engine said about a trap, resume or step of the current thread `p`.
// Returns false when the thread must not enter U-mode now (stopped, or it exits).
bool apply_action(process* p, int action, const uprobes_trap_info& info) {
    switch (action) {
    case UPROBES_TRAP_HANDLED:
        return true;
    case UPROBES_TRAP_STOP:
        p->engine_resume_pending = info.probe_id != 0;
        stop_self(p, info.probe_id != 0 ? stop_reason::probe : stop_reason::step, info.probe_id);
        return false;
    case UPROBES_TRAP_FAULT:
        // Reported like the fault the original instruction would have taken at the probed pc.
        kill_for_fault(p, "probed instruction faulted", csr::cause::breakpoint, info.fault_addr,
                       sig::segv);
    default:
        kill_for_fault(p, "probe engine could not execute the instruction", csr::cause::breakpoint,
                       p->frame.sepc, sig::trap);
    }
}

// os_text_poke for a poke no single store covers while another hart runs `p`: copies the page,
// patches the copy and switches the PTE to it (replace_user_frame flushes every hart's TLB
// before the old frame goes back).
bool patch_page_copy(process* p, uint64_t addr, const void* src, size_t len) {
    const uint64_t page = layout::page_round_down(addr);
    const uint64_t* slot = find_pte(p->page_table, page);
    void* copy = alloc_frame();
    if (slot == nullptr || copy == nullptr) {
        free_frame(copy);
        return false;
    }
    kmemcpy(copy, reinterpret_cast<void*>(pte::to_pa(*slot)), layout::page_size);
    kmemcpy(static_cast<uint8_t*>(copy) + (addr - page), src, len);
    return replace_user_frame(p->page_table, page, reinterpret_cast<uint64_t>(copy));
}

const embedded_program* program_named(const char* path) {
    return path != nullptr ? find_program(path) : nullptr;
}

} // namespace

bool port_breakpoint_direct = false; // engine_ready && !profiling

// ---- os_* hooks (ruprobes.h) ----------------------------------------------------------------

extern "C" int os_copy_from_user(uint32_t pid, void* dst, uint64_t src, size_t len) {
    process* p = user_process(pid);
    return p != nullptr && copy_from_user(p->page_table, dst, src, len) ? 0 : -1;
}

extern "C" int os_copy_to_user(uint32_t pid, uint64_t dst, const void* src, size_t len) {
    process* p = user_process(pid);
    return p != nullptr && copy_to_user(p->page_table, dst, src, len) ? 0 : -1;
}

extern "C" int os_text_poke(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    process* p = user_process(pid);
    if (p == nullptr || len == 0 || len > 16) {
        return -1;
    }
    // Executable user pages only: the text and the xol page.
    const uint64_t ends[2] = {addr, addr + len - 1};
    const uint64_t* first = nullptr;
    for (uint64_t va : ends) {
        const uint64_t* slot = find_pte(p->page_table, layout::page_round_down(va));
        if (!layout::in_user_window(va, 1) || slot == nullptr ||
            (*slot & (pte::u | pte::x)) != (pte::u | pte::x)) {
            return -1;
        }
        first = first == nullptr ? slot : first;
    }
    // A breakpoint or an original: one aligned store of its size, never a byte-wise copy, so a
    // hart running the process (in U-mode, without the big kernel lock) fetches the old
    // instruction or the new one (docs/porting.md, "SMP"); os_icache_flush then runs fence.i on
    // every hart. The frame through the kernel's identity map.
    const uint64_t frame = pte::to_pa(*first) + (addr - layout::page_round_down(addr));
    if (len == 2 && addr % 2 == 0) {
        uint16_t v;
        kmemcpy(&v, src, 2);
        *reinterpret_cast<volatile uint16_t*>(frame) = v;
        return 0;
    }
    if (len == 4 && addr % 4 == 0) {
        uint32_t v;
        kmemcpy(&v, src, 4);
        *reinterpret_cast<volatile uint32_t*>(frame) = v;
        return 0;
    }
    // A 32-bit instruction at 2 mod 4 while another hart runs the process (in U-mode): no single
    // aligned store covers it, so the page gets a patched copy, switched in with one PTE store
    // and a remote sfence.vma (docs/porting.md, "SMP").
    if (len == 4 && p->on_hart >= 0 && p != current_process() &&
        layout::page_round_down(addr) == layout::page_round_down(addr + 3)) {
        return patch_page_copy(p, addr, src, len) ? 0 : -1;
    }
    // Otherwise several stores: an out-of-line slot is written only for the thread that traps
    // into it (in the kernel), the trampoline before the process runs, and no hart runs the
    // process now (the big kernel lock keeps it off every hart until the poke returns). A
    // 32-bit site at 2 mod 4 that straddles a page while another hart runs the process is the
    // one case a fetch there could see half of it.
    return poke_user(p->page_table, addr, src, len) ? 0 : -1;
}

extern "C" void os_icache_flush(uint32_t pid, uint64_t addr, size_t) {
    csr::fence_i();
    // The trapping thread's own out-of-line slot (the hit path): a local fence.i is enough, as
    // the scheduler runs fence.i when a process moves to another hart. Any other text (a probe
    // armed or removed, possibly in a process running on another hart): every hart, before
    // returning.
    const process* p = current_process();
    if (p != nullptr && p->pid == static_cast<int>(pid) && p->xol_page != 0 &&
        layout::page_round_down(addr) == p->xol_page) {
        return;
    }
    smp_remote_fence_i();
}

extern "C" uint64_t os_xol_page(uint32_t pid) {
    const process* p = user_process(pid);
    return p != nullptr ? p->xol_page : 0;
}

extern "C" uint32_t os_current_pid(void) {
    process* p = current_process();
    return p != nullptr ? static_cast<uint32_t>(p->pid) : 0;
}

extern "C" uint32_t os_current_tid(void) {
    return os_current_pid(); // one thread per process
}

extern "C" uint64_t os_time_ns(void) {
    return timer_ticks_to_ns(timer_now());
}

// Nothing to lock: every engine call runs in kernel code, and a hart runs kernel code only while
// it holds the big kernel lock (arch/riscv64/big_lock.hpp; kernel-port/README.md, "SMP"), with
// interrupts off. No engine call sleeps, so the big lock is held from its start to its end.
extern "C" void os_uprobes_lock(void) {}
extern "C" void os_uprobes_unlock(void) {}

// Programs are ELF images embedded in the kernel: the key is the image's table entry (one per
// program, whatever path named it), the text is read in place (nothing to allocate or free).
// Called outside the engine lock; this kernel would not sleep here anyway.
extern "C" int os_program_get(const char* path, uprobes_program_image* out) {
    const embedded_program* prog = program_named(path);
    uint64_t begin = 0;
    uint64_t end = 0;
    if (prog == nullptr || !elf_text_range(prog->begin, prog->size(), begin, end)) {
        return -1;
    }
    const uint8_t* text = elf_file_bytes(prog->begin, prog->size(), begin, end - begin);
    if (text == nullptr) {
        return -1; // text in several segments, or not all in the file: not this kernel's ELFs
    }
    *out = uprobes_program_image{};
    out->key = reinterpret_cast<uint64_t>(prog);
    out->text_begin = begin;
    out->text_end = end;
    out->text = text;
    return 0;
}

extern "C" void os_program_put(uprobes_program_image*) {}

extern "C" const char* os_current_exec_path(void) {
    process* p = current_process();
    return p != nullptr ? p->name : "";
}

// ---- kernel -> engine -------------------------------------------------------------------------

bool port_init() {
    // Room for 12000 probes on as many sites (the benchmark arms 10,000), defaults elsewhere.
    uprobes_limits limits = {};
    limits.max_probes = 12000;
    limits.max_sites = 12000;
    const size_t need = uprobes_memory_required(&limits);
    if (need > engine_memory_size) {
        kprintf("port: the engine needs %zu bytes, %zu reserved\n", need, engine_memory_size);
        return false;
    }
    const int r = uprobes_engine_init(&limits, engine_memory, engine_memory_size);
    if (r != 0) {
        kprintf("port: uprobes_engine_init failed: %s\n", uprobes_error_name(r));
        return false;
    }
    engine_ready = true;
    port_breakpoint_direct = !profiling;
    kprintf("port: probe engine %s ready (%u probes, %zu bytes of tables)\n", ruprobes_version(),
            limits.max_probes, need);
    return true;
}

void port_process_exec_hook(process* p) {
    if (engine_ready) {
        // The kernel holds the image it just loaded: handed over, no os_program_get.
        uprobes_program_image image = {};
        image.key = reinterpret_cast<uint64_t>(program_named(p->name));
        image.text_begin = p->text_begin;
        image.text_end = p->text_end;
        const int r = uprobes_on_exec_image(static_cast<uint32_t>(p->pid), &image, p->name, 0);
        if (r != 0) {
            kprintf("port: pid %d runs unprobed: %s\n", p->pid, uprobes_error_name(r));
        }
    }
    notify_exec(p);
}

void port_process_fork_hook(process* parent, process* child) {
    if (!engine_ready) {
        return;
    }
    const auto pp = static_cast<uint32_t>(parent->pid);
    const auto cp = static_cast<uint32_t>(child->pid);
    const int r = uprobes_on_fork(pp, pp, cp, cp);
    if (r != 0) {
        kprintf("port: fork %d -> %d: %s\n", parent->pid, child->pid, uprobes_error_name(r));
    }
}

void port_process_exit_hook(process* p) {
    if (engine_ready) {
        const auto pid = static_cast<uint32_t>(p->pid);
        uprobes_on_thread_exit(pid, pid);
        uprobes_on_exit(pid);
    }
}

// What port_user_breakpoint does with anything but a plain HANDLED.
bool port_breakpoint_finish(process* p, int action, const uprobes_trap_info& info) {
    if (action == UPROBES_TRAP_NOT_OURS) {
        if (debugger_listening()) {
            p->stop_signal = sig::trap;
            stop_self(p, stop_reason::breakpoint, 0);
            return true;
        }
        return false;
    }
    apply_action(p, action, info);
    return true; // return_to_user holds a stopped thread
}

// After a lock-free hit that left work needing the big kernel lock (hart_local::deferred_notices,
// a reschedule request): takes the lock, does it, and leaves through return_to_user.
[[gnu::noinline, noreturn]] static void finish_lock_free_hit(hart_local* h) {
    process* p = h->running; // this thread's: `h` is stale once it yields (it may move harts)
    big_lock_acquire();
    const uint8_t notices = h->deferred_notices;
    h->deferred_notices = 0;
    for (int notice = 0; notice < 8; notice++) {
        if ((notices & (1u << notice)) != 0) {
            os_agent_notify(notice);
        }
    }
    honour_reschedule_request(); // as breakpoint_trap does after a hit
    return_to_user(p);
}

// The engine's lock-free hit path, called by trap_entry.S for a breakpoint from U-mode before
// the big kernel lock is taken, interrupts off. Returns 0 when the engine handled the hit alone
// (the thread goes back to U-mode without the lock), 1 when the trap takes the usual path (the
// lock, user_trap, port_user_breakpoint), and does not return when the hit left work that needs
// the lock (finish_lock_free_hit).
// Hits on different harts meet nowhere here but in the engine's atomic probe counter; the agent's
// record sink writes into this hart's ring, and what it would tell the kernel
// (os_agent_notify) waits in hart_local::deferred_notices until the lock is held. Nothing lives
// across the engine's call (the hart is `tp` again after it): the trap path's frame is small.
extern "C" int port_breakpoint_concurrent(trap_frame* frame) {
    hart_local* h = this_hart();
    const process* p = h->running;
    // A thread that must stop, die or finish a step first takes the usual path, which looks.
    if (!port_breakpoint_direct || p == nullptr || p->killed || p->stop_count > 0 ||
        p->step_pending || p->engine_resume_pending) {
        h->breakpoints_locked++;
        return 1;
    }
    h->concurrent_trap = true;
    const auto pid = static_cast<uint32_t>(p->pid);
    const int action = uprobes_trap_handler_concurrent(context_of(*frame), pid, pid, h->index);
    h = this_hart();
    h->concurrent_trap = false;
    if (action != UPROBES_TRAP_HANDLED) {
        h->breakpoints_locked++;
        return 1; // UPROBES_TRAP_RETRY: nothing was done
    }
    h->breakpoints_lock_free++;
    if (h->deferred_notices != 0 || h->reschedule_requested) {
        finish_lock_free_hit(h);
    }
    return 0;
}

// A writer (under the big kernel lock) waits for a hart to leave the engine's lock-free section:
// sleep until that hart's os_uprobes_section_left IPI or any interrupt (the engine looks again).
// Spinning would do on harts that run at once, but under QEMU -icount they run in turns, and a
// hart that spins can keep the one it waits for from running at all. The IPI is consumed here:
// this hart holds the big lock, so it waits for no release and no remote fence is asked of it.
// (A section that ends between the engine's look and the mark below sends no IPI: the next
// timer tick ends the wfi.)
constinit uint64_t section_waiters = 0; // bit i: hart index i sleeps in os_uprobes_wait_section

extern "C" void os_uprobes_wait_section(void) {
    const uint64_t me = uint64_t{1} << this_hart()->index;
    __atomic_fetch_or(&section_waiters, me, __ATOMIC_SEQ_CST);
    asm volatile("wfi");
    csr::clear_sip(csr::sie_ssie);
    __atomic_fetch_and(&section_waiters, ~me, __ATOMIC_SEQ_CST);
}

extern "C" void os_uprobes_section_left(void) {
    const uint64_t waiters = __atomic_load_n(&section_waiters, __ATOMIC_SEQ_CST);
    if (waiters != 0) {
        smp_kick_harts(waiters);
    }
}

// port_user_breakpoint while the benchmark profiles the engine, or before the engine is ready.
bool port_breakpoint_slow(process* p, trap_frame& frame) {
    uprobes_trap_info info = {};
    const uint64_t begin = timer_now();
    const auto pid = static_cast<uint32_t>(p->pid);
    const int action = engine_ready
                           ? uprobes_trap_handler_thread(context_of(frame), pid, pid, &info)
                           : static_cast<int>(UPROBES_TRAP_NOT_OURS);
    if (profiling) {
        profiled_ticks += timer_now() - begin;
        profiled_traps++;
    }
    return action == UPROBES_TRAP_HANDLED || port_breakpoint_finish(p, action, info);
}

void port_fixup_fault(process*, trap_frame& frame) {
    if (engine_ready) {
        uprobes_fixup_fault(context_of(frame));
    }
}

// The engine leaves ecall and the program's own ebreak to the kernel (uprobes_resume and
// uprobes_single_step return their refusal with the frame untouched): executes it once for the
// stopped thread `p`. Returns what port_prepare_user_return returns; `step`: stop after it.
static bool execute_in_kernel(process* p, int refusal, bool step) {
    if (refusal == -UPROBES_E_INSN_ECALL) {
        // Making the system call, with the thread's registers: the step ends after the ecall
        // (or never, for exit; in the new image, for execve).
        p->frame.sepc += 4;
        syscall_dispatch(p, p->frame);
        if (step) {
            stop_self(p, stop_reason::step, 0);
        }
        return false; // return_to_user looks at stops and kills again
    }
    // The program's ebreak: its breakpoint trap, as user_trap delivers it.
    if (debugger_listening()) {
        p->stop_signal = sig::trap;
        stop_self(p, stop_reason::breakpoint, 0);
        return false;
    }
    kill_for_fault(p, "breakpoint not placed by the probe engine", csr::cause::breakpoint,
                   p->frame.sepc, sig::trap);
}

bool port_prepare_user_return(process* p) {
    if (!engine_ready) {
        p->step_pending = false;
        p->engine_resume_pending = false;
        return true;
    }
    uprobes_trap_info info = {};
    if (p->step_pending) {
        p->step_pending = false;
        p->engine_resume_pending = false;
        const int r = uprobes_single_step(context_of(p->frame), &info);
        if (r == -UPROBES_E_INSN_ECALL || r == -UPROBES_E_INSN_EBREAK) {
            return execute_in_kernel(p, r, true);
        }
        if (r < 0) {
            kprintf("port: pid %d cannot single-step at %016lx: %s\n", p->pid, p->frame.sepc,
                    uprobes_error_name(r));
            stop_self(p, stop_reason::step, 0);
            return false;
        }
        return apply_action(p, r, info);
    }
    if (p->engine_resume_pending) {
        p->engine_resume_pending = false;
        const int r = uprobes_resume(context_of(p->frame));
        if (r == -UPROBES_E_INSN_ECALL || r == -UPROBES_E_INSN_EBREAK) {
            return execute_in_kernel(p, r, false);
        }
        return apply_action(p, r, info);
    }
    return true;
}

void port_profile(bool on) {
    profiling = on;
    port_breakpoint_direct = engine_ready && !on;
    profiled_traps = 0;
    profiled_ticks = 0;
}

void port_profile_read(uint64_t& traps, uint64_t& engine_ns) {
    traps = profiled_traps;
    engine_ns = timer_ticks_to_ns(profiled_ticks);
}

#include "proc/lifecycle.hpp"

#include "arch/riscv64/csr.hpp"
#include "lib/console.hpp"
#include "lib/panic.hpp"
#include "lib/string.hpp"
#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"
#include "mm/user_memory.hpp"
#include "port/kernel_hooks.hpp"
#include "proc/elf_loader.hpp"
#include "proc/errno.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "proc/smp.hpp"
#include "proc/traps.hpp"
#include "programs.hpp"

namespace {

process* init = nullptr;

// First code of a new user process (switch_to's `ret` lands here).
void user_process_start() {
    return_to_user(current_process());
}

// Maps the stack and the xol page (at `xol_page`) and writes argc/argv at the stack top:
//   sp -> argv[0] .. argv[argc-1], NULL, then the strings (psABI-like, no envp/auxv).
// Returns the user sp and the user address of argv, or false when out of memory.
bool build_stack(page_table_root pt, uint64_t xol_page, int argc, const char* const argv[],
                 uint64_t& sp, uint64_t& argv_va) {
    for (uint64_t va = layout::user_stack_bottom; va < layout::user_stack_top;
         va += layout::page_size) {
        void* frame = alloc_frame();
        if (frame == nullptr ||
            !map_page(pt, va, reinterpret_cast<uint64_t>(frame), pte::r | pte::w | pte::u)) {
            free_frame(frame);
            return false;
        }
    }
    void* xol = alloc_frame();
    if (xol == nullptr ||
        !map_page(pt, xol_page, reinterpret_cast<uint64_t>(xol), pte::r | pte::x | pte::u)) {
        free_frame(xol);
        return false;
    }
    uint64_t top = layout::user_stack_top;
    uint64_t pointers[max_exec_args + 1];
    for (int i = argc - 1; i >= 0; i--) {
        const size_t len = kstrlen(argv[i]) + 1;
        top -= len;
        if (!copy_to_user(pt, top, argv[i], len)) {
            return false;
        }
        pointers[i] = top;
    }
    pointers[argc] = 0;
    top &= ~uint64_t{15};
    top -= ((argc + 1) * sizeof(uint64_t) + 15) & ~uint64_t{15};
    if (!copy_to_user(pt, top, pointers, (argc + 1) * sizeof(uint64_t))) {
        return false;
    }
    sp = top;
    argv_va = top;
    return true;
}

} // namespace

long process_exec(process* p, const char* path, int argc, const char* const argv[]) {
    const embedded_program* program = find_program(path);
    if (program == nullptr) {
        return -err::noent;
    }
    if (argc < 0 || argc > max_exec_args) {
        return -err::too_big;
    }
    page_table_root pt = create_user_page_table();
    if (pt == nullptr) {
        return -err::nomem;
    }
    loaded_image image;
    if (const char* why = load_elf(pt, program->begin, program->size(), image)) {
        kprintf("exec %s: %s\n", path, why);
        destroy_user_page_table(pt);
        return kstrcmp(why, "out of memory") == 0 ? -err::nomem : -err::noexec;
    }
    uint64_t sp = 0;
    uint64_t argv_va = 0;
    // The xol page right after the image (no heap grows there): an out-of-line slot reaches the
    // text with a jal, so an out-of-line hit costs one trap.
    const uint64_t xol_page = layout::xol_page_after(image.image_end);
    if (!build_stack(pt, xol_page, argc, argv, sp, argv_va)) {
        destroy_user_page_table(pt);
        return -err::nomem;
    }

    page_table_root old = p->page_table;
    if (old != nullptr) {
        port_process_exit_hook(p); // the old image's probes and return stacks go away
    }
    p->page_table = pt;
    if (p == current_process()) {
        activate_page_table(pt);
    }
    destroy_user_page_table(old);

    kstrlcpy(p->name, path, sizeof(p->name));
    p->text_begin = image.text_begin;
    p->text_end = image.text_end;
    p->xol_page = xol_page;
    const uint64_t kernel_tp = p->frame.kernel_tp; // the hart running it (scheduler.cpp)
    p->frame = trap_frame{};
    p->frame.kernel_tp = kernel_tp;
    p->frame.sepc = image.entry;
    p->frame.sp() = sp;
    p->frame.a(0) = static_cast<uint64_t>(argc);
    p->frame.a(1) = argv_va;
    // Return to U-mode (SPP = 0) with interrupts on (SPIE) and the FPU usable (FS = Initial).
    p->frame.sstatus = csr::sstatus_spie | csr::sstatus_fs_initial;
    p->fp = fp_state{};
    port_process_exec_hook(p);
    return argc;
}

long process_spawn(process* parent, const char* path, int argc, const char* const argv[]) {
    process* p = allocate_process();
    if (p == nullptr) {
        return -err::again;
    }
    const long r = process_exec(p, path, argc, argv);
    if (r < 0) {
        release_process(p);
        return r;
    }
    p->parent = parent;
    p->context.ra = reinterpret_cast<uint64_t>(&user_process_start);
    p->context.sp = p->kernel_stack_top();
    p->state = process_state::runnable;
    notify_runnable();
    return p->pid;
}

long process_fork(process* parent) {
    process* child = allocate_process();
    if (child == nullptr) {
        return -err::again;
    }
    child->page_table = create_user_page_table();
    if (child->page_table == nullptr || !copy_user_pages(parent->page_table, child->page_table)) {
        destroy_user_page_table(child->page_table);
        release_process(child);
        return -err::nomem;
    }
    child->parent = parent;
    kstrlcpy(child->name, parent->name, sizeof(child->name));
    child->text_begin = parent->text_begin;
    child->text_end = parent->text_end;
    child->xol_page = parent->xol_page; // copied with the address space
    child->frame = parent->frame;
    child->frame.a(0) = 0;
    // The parent's F registers are live in the FPU: copy them as they are now.
    csr::set_sstatus(csr::sstatus_fs_dirty);
    fp_save(&child->fp);
    child->context.ra = reinterpret_cast<uint64_t>(&user_process_start);
    child->context.sp = child->kernel_stack_top();
    port_process_fork_hook(parent, child);
    notify_fork(parent, child);
    child->state = process_state::runnable;
    notify_runnable();
    return child->pid;
}

void process_exit(process* p, int wait_status) {
    if (p == init) {
        panic("init exited with status %d", wait_status);
    }
    if (!p->kernel_thread) {
        port_process_exit_hook(p);
        activate_page_table(kernel_page_table());
        destroy_user_page_table(p->page_table);
        p->page_table = nullptr;
    }
    bool orphaned_zombie = false;
    for (process* q = process_slots_begin(); q != process_slots_end(); q++) {
        if (q->state != process_state::unused && q->parent == p) {
            q->parent = init;
            orphaned_zombie |= q->state == process_state::zombie;
        }
    }
    if (orphaned_zombie) {
        wakeup(init);
    }
    p->wait_status = wait_status;
    p->state = process_state::zombie;
    notify_exit(p, wait_status);
    if (p->parent == nullptr) {
        p->parent = init;
    }
    wakeup(p->parent);
    sched();
    panic("process_exit: zombie %d ran again", p->pid);
}

long process_wait(process* parent, int pid, int* wait_status, bool nohang) {
    for (;;) {
        bool have_child = false;
        for (process* q = process_slots_begin(); q != process_slots_end(); q++) {
            if (q->state == process_state::unused || q->parent != parent ||
                (pid != -1 && q->pid != pid)) {
                continue;
            }
            have_child = true;
            if (q->state == process_state::zombie) {
                const long found = q->pid;
                if (wait_status != nullptr) {
                    *wait_status = q->wait_status;
                }
                release_process(q);
                return found;
            }
        }
        if (!have_child) {
            return -err::child;
        }
        if (nohang) {
            return 0;
        }
        if (parent->killed) {
            return -err::intr;
        }
        sleep_on(parent);
    }
}

long process_kill(int pid, int signal) {
    process* p = find_process(pid);
    if (p == nullptr) {
        return -err::srch;
    }
    if (p->kernel_thread) {
        return -err::perm;
    }
    if (p->state == process_state::zombie || p->killed) {
        return 0;
    }
    p->killed = true;
    p->kill_signal = signal;
    p->stop_count = 0;
    if (p->on_hart >= 0) {
        smp_kick(static_cast<uint32_t>(p->on_hart)); // in U-mode on another hart: trap now
    }
    if (p->state == process_state::sleeping) {
        p->state = process_state::runnable;
        p->channel = nullptr;
        p->wake_time = 0;
        notify_runnable();
    }
    return 0;
}

process* init_process() {
    return init;
}

void set_init_process(process* p) {
    init = p;
}

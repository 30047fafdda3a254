#include "proc/process_control.hpp"

#include "lib/string.hpp"
#include "proc/errno.hpp"
#include "proc/scheduler.hpp"
#include "proc/smp.hpp"

#include "ruprobes/ruprobes.h"

namespace {

const process_listener* listener = nullptr;

// The user process `pid`, or nullptr (kernel threads and zombies have no user state).
process* user_process(int pid) {
    process* p = find_process(pid);
    if (p == nullptr || p->kernel_thread || p->state == process_state::zombie ||
        p->page_table == nullptr) {
        return nullptr;
    }
    return p;
}

} // namespace

int list_processes(process_info* out, int max) {
    int n = 0;
    for (process* p = process_slots_begin(); p != process_slots_end() && n < max; p++) {
        if (p->state == process_state::unused) {
            continue;
        }
        process_info& i = out[n++];
        i.pid = p->pid;
        i.ppid = p->parent != nullptr ? p->parent->pid : 0;
        i.state = p->state;
        i.kernel_thread = p->kernel_thread;
        i.stopped = p->stop_count > 0;
        kstrlcpy(i.name, p->name, sizeof(i.name));
    }
    return n;
}

long process_read_memory(int pid, uint64_t va, void* dst, size_t len) {
    if (user_process(pid) == nullptr) {
        return -err::srch;
    }
    return uprobes_read_memory(static_cast<uint32_t>(pid), va, dst, len) == 0 ? 0 : -err::fault;
}

long process_write_memory(int pid, uint64_t va, const void* src, size_t len) {
    if (user_process(pid) == nullptr) {
        return -err::srch;
    }
    return uprobes_write_memory(static_cast<uint32_t>(pid), va, src, len) == 0 ? 0 : -err::fault;
}

long thread_stop(int pid) {
    process* p = find_process(pid);
    if (p == nullptr) {
        return -err::srch;
    }
    if (p->kernel_thread) {
        return -err::perm;
    }
    p->stop_count++;
    p->traced = true;
    wait_until_held(p); // running on another hart: its registers are not in its frame yet
    return 0;
}

bool stop_for_fault(process* p, int signal) {
    if (!p->traced || !debugger_listening()) {
        return false;
    }
    p->stop_signal = signal;
    p->stop_count++;
    notify_thread_stopped(p, stop_reason::fault, 0);
    return true;
}

void thread_untrace_all() {
    for (process* p = process_slots_begin(); p != process_slots_end(); p++) {
        p->traced = false;
    }
}

long thread_resume(int pid, bool step) {
    process* p = find_process(pid);
    if (p == nullptr) {
        return -err::srch;
    }
    if (p->kernel_thread) {
        return -err::perm;
    }
    if (p->stop_count == 0) {
        return -err::inval;
    }
    if (step) {
        p->stop_count = 0;
        p->step_pending = true;
    } else {
        p->stop_count--;
    }
    if (p->stop_count == 0) {
        notify_runnable();
    }
    return 0;
}

trap_frame* thread_registers(int pid) {
    process* p = user_process(pid);
    if (p == nullptr || p->stop_count == 0) {
        return nullptr;
    }
    return &p->frame;
}

fp_state* thread_fp_registers(int pid) {
    process* p = user_process(pid);
    if (p == nullptr || p->stop_count == 0 || p->on_hart >= 0) {
        return nullptr;
    }
    return &p->fp;
}

const process_listener* set_process_listener(const process_listener* l) {
    const process_listener* previous = listener;
    listener = l;
    return previous;
}

void notify_thread_stopped(process* p, stop_reason reason, uint32_t probe_id) {
    if (listener != nullptr && listener->stopped != nullptr) {
        listener->stopped(p->pid, reason, probe_id, listener->context);
    }
}

void notify_exec(process* p) {
    if (listener != nullptr && listener->exec != nullptr) {
        listener->exec(p->pid, p->name, listener->context);
    }
}

void notify_exit(process* p, int wait_status) {
    if (listener != nullptr && listener->exited != nullptr) {
        listener->exited(p->pid, wait_status, listener->context);
    }
}

void notify_fork(process* parent, process* child) {
    if (listener != nullptr && listener->forked != nullptr) {
        listener->forked(parent->pid, child->pid, listener->context);
    }
}

bool debugger_listening() {
    return listener != nullptr && listener->stopped != nullptr;
}

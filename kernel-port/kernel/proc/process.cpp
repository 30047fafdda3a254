#include "proc/process.hpp"

#include "lib/string.hpp"
#include "proc/lifecycle.hpp"
#include "proc/scheduler.hpp"

namespace {

process table[max_processes];
alignas(16) uint8_t kernel_stacks[max_processes][kernel_stack_size];
int next_pid = 1;

// First code of a new kernel thread (switch_to's `ret` lands here).
void kernel_thread_start() {
    process* p = current_process();
    p->thread_entry(p->thread_arg);
    process_exit(p, 0);
}

} // namespace

void process_table_init() {
    for (int i = 0; i < max_processes; i++) {
        table[i] = process{};
        table[i].kernel_stack = kernel_stacks[i];
    }
}

process* find_process(int pid) {
    for (process& p : table) {
        if (p.state != process_state::unused && p.pid == pid) {
            return &p;
        }
    }
    return nullptr;
}

process* allocate_process() {
    for (int i = 0; i < max_processes; i++) {
        if (table[i].state == process_state::unused && table[i].pid == 0) {
            table[i] = process{};
            table[i].kernel_stack = kernel_stacks[i];
            table[i].pid = next_pid++;
            table[i].state = process_state::embryo;
            return &table[i];
        }
    }
    return nullptr;
}

void release_process(process* p) {
    uint8_t* stack = p->kernel_stack;
    *p = process{};
    p->kernel_stack = stack;
}

process* process_slots_begin() {
    return table;
}
process* process_slots_end() {
    return table + max_processes;
}

process* spawn_kernel_thread(const char* name, void (*entry)(void*), void* arg) {
    process* p = allocate_process();
    if (p == nullptr) {
        return nullptr;
    }
    p->kernel_thread = true;
    kstrlcpy(p->name, name, sizeof(p->name));
    p->parent = current_process();
    p->thread_entry = entry;
    p->thread_arg = arg;
    p->context.ra = reinterpret_cast<uint64_t>(&kernel_thread_start);
    p->context.sp = p->kernel_stack_top();
    p->state = process_state::runnable;
    return p;
}

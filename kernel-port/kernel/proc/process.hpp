// The process table. One thread per process (tid == pid). A process is either a user process
// (its own Sv39 table, registers in `frame`) or a kernel thread (init, drivers' workers).
#pragma once

#include "arch/riscv64/context.hpp"
#include "arch/riscv64/trap_frame.hpp"
#include "mm/page_table.hpp"

#include <stddef.h>
#include <stdint.h>

constexpr int max_processes = 64;
constexpr size_t kernel_stack_size = 16384;
constexpr size_t process_name_size = 32;

enum class process_state : uint8_t {
    unused,
    embryo,   // allocated, being set up (exec, fork): not scheduled yet
    runnable, // ready, or running (see current_process())
    sleeping, // blocked on `channel` or until `wake_time`
    zombie,   // exited, waiting for its parent's wait
};

// Linux-compatible signal numbers used as kill reasons and in wait statuses.
namespace sig {
constexpr int ill = 4, trap = 5, bus = 7, kill = 9, segv = 11;
}

struct process {
    int pid = 0;
    process_state state = process_state::unused;
    bool kernel_thread = false;
    bool killed = false; // exits (with kill_signal) the next time it would return to U-mode
    int kill_signal = 0;
    int stop_count = 0; // > 0: held by a debugger; not scheduled while in the kernel
    bool engine_resume_pending = false; // stopped on a stop-mode probe: uprobes_resume first
    bool step_pending = false;          // resumed for one single step
    bool traced = false;   // a debugger on the host stopped it once: a fault stops it (see below)
    int8_t on_hart = -1;   // the hart (index) running it now, -1: none (scheduler.cpp)
    int8_t last_hart = -1; // the hart it ran on last
    uint8_t harts_run_on = 0; // bit i: it ran on hart i (a report for the SMP self-test)
    int stop_signal = 0;      // the signal of its last fault or breakpoint stop (Linux numbering)
    process* parent = nullptr;
    char name[process_name_size] = {}; // program path ("/bin/fib") or kernel thread name

    page_table_root page_table = nullptr; // user processes only
    trap_frame frame = {};                // saved user registers while not in U-mode
    fp_state fp = {};                     // saved F/D registers while switched out
    switch_context context = {};
    uint8_t* kernel_stack = nullptr;

    uint64_t text_begin = 0; // the program's executable range (first/last R+X PT_LOAD)
    uint64_t text_end = 0;
    uint64_t xol_page = 0; // the engine's xol page (layout::xol_page_after), 0: none

    const void* channel = nullptr; // sleeping on this
    uint64_t wake_time = 0;        // sleeping until this `time` value (0: no deadline)
    int wait_status = 0;           // Linux encoding: exit code << 8, or the killing signal

    void (*thread_entry)(void*) = nullptr; // kernel threads
    void* thread_arg = nullptr;

    uint64_t kernel_stack_top() const {
        return reinterpret_cast<uint64_t>(kernel_stack) + kernel_stack_size;
    }
};

// Sets up the table. Call once before anything else here.
void process_table_init();

// The process with `pid`, or nullptr (unused slots and zombies' pids too).
process* find_process(int pid);

// A fresh slot with a new pid and its kernel stack, in state `embryo` until the caller makes it
// runnable; nullptr when the table is full.
process* allocate_process();

// Releases a slot (after its page table was destroyed).
void release_process(process* p);

// Iteration over the table (slots include unused ones).
process* process_slots_begin();
process* process_slots_end();

// Starts a kernel thread running `entry(arg)` as a child of the current process (or with no
// parent during boot). nullptr when the table is full.
process* spawn_kernel_thread(const char* name, void (*entry)(void*), void* arg);

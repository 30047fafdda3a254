// Process and thread control for the host agent (and any other kernel-side debugger): list
// processes, read/write their memory as the program sees it, stop/resume/step a thread, access
// its saved registers, and hear about stops, execs and exits. One thread per process: tid == pid.
//
// All functions run in kernel context (a kernel thread such as the agent, or a trap handler),
// never concurrently with each other (under the big kernel lock, no preemption in the kernel).
// A thread another hart runs in U-mode is not held until it traps: thread_stop waits for that.
#pragma once

#include "arch/riscv64/trap_frame.hpp"
#include "proc/process.hpp"

#include <stddef.h>
#include <stdint.h>

struct process_info {
    int pid;
    int ppid; // 0: none
    process_state state;
    bool kernel_thread;
    bool stopped;                 // held by thread_stop or a stop-mode probe
    char name[process_name_size]; // "/bin/fib" or the kernel thread's name
};

// Fills out[0..max) with the live processes (not unused slots), in table order. Returns the
// number written.
int list_processes(process_info* out, int max);

// Reads `len` bytes of user process `pid` at `va` as the program sees them (original bytes under
// armed breakpoints). 0, -ESRCH (no such user process) or -EFAULT (unmapped).
long process_read_memory(int pid, uint64_t va, void* dst, size_t len);

// Writes `len` bytes into user process `pid` at `va`, text included (a breakpoint's saved
// original is updated instead of the breakpoint). Only user memory of that process can be
// written, never the kernel's. 0, -ESRCH or -EFAULT.
long process_write_memory(int pid, uint64_t va, const void* src, size_t len);

// Why a thread stopped.
enum class stop_reason : uint8_t {
    requested,  // thread_stop
    probe,      // a stop-mode probe fired (probe_id says which)
    step,       // a single step finished
    breakpoint, // an ebreak that is not the engine's, while a debugger listens (see below)
    fault,      // a fault of a traced process (process::stop_signal says which signal)
};

// Stops user thread `pid` where it is: it runs no more user code until thread_resume. Stops
// nest (a count). Called right after process_spawn, it holds the new process at its entry point
// before its first instruction. The process becomes traced: from now on, while a listener is
// installed, a fault stops it (stop_for_fault) instead of killing it, until thread_untrace_all.
// 0, -ESRCH or -EPERM (kernel thread).
long thread_stop(int pid);

// A user fault of `p` (current) with `signal` (Linux numbering), frame.sepc at the faulting
// instruction: when `p` is traced and a listener is installed, stops it with stop_reason::fault
// and returns true (the debugger then resumes it, kills it with the signal, or steps it);
// false: the caller kills it.
bool stop_for_fault(process* p, int signal);

// No process is traced any more (the debugger went away).
void thread_untrace_all();

// Releases one stop of `pid` (all of them when `step`); with `step`, the thread executes exactly
// one instruction of its original program and stops again with stop_reason::step (stepping an
// ecall makes the system call; an instruction that cannot be stepped stops again in place).
// 0, -ESRCH, -EPERM, or -EINVAL when it was not stopped.
long thread_resume(int pid, bool step);

// The saved user registers of stopped thread `pid` (x0..x31, sepc = pc), writable: the thread
// resumes with them. nullptr when there is no such user thread or it is not stopped.
trap_frame* thread_registers(int pid);

// The saved F/D registers and fcsr of stopped thread `pid`, writable: the thread resumes with
// them. A stopped thread is switched out, so these are its current values (the scheduler saves
// them on every switch away from a thread whose sstatus.FS is Dirty and loads them before it
// runs). nullptr as for thread_registers.
fp_state* thread_fp_registers(int pid);

// Events for the agent. Each runs in the context that caused it, must not block, and must not
// call back into the probe engine.
struct process_listener {
    // A thread stopped by itself (probe, step, breakpoint). `pid` stays stopped until resumed.
    void (*stopped)(int pid, stop_reason reason, uint32_t probe_id, void* context);
    // A process started running a program (spawn or execve).
    void (*exec)(int pid, const char* path, void* context);
    // A process exited with a Linux wait status.
    void (*exited)(int pid, int wait_status, void* context);
    void* context;
    // `parent_pid` forked `child_pid` (before the child runs).
    void (*forked)(int parent_pid, int child_pid, void* context) = nullptr;
};

// Installs the listener (nullptr removes it) and returns the previous one. While a listener with
// `stopped` is installed, an ebreak that is not the engine's stops the thread
// (stop_reason::breakpoint) instead of killing it.
const process_listener* set_process_listener(const process_listener* listener);

// Kernel-internal notifications (lifecycle and trap code call these).
void notify_thread_stopped(process* p, stop_reason reason, uint32_t probe_id);
void notify_exec(process* p);
void notify_exit(process* p, int wait_status);
void notify_fork(process* parent, process* child);
// True when stray breakpoints should stop the thread for a debugger instead of killing it.
bool debugger_listening();

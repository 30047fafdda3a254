// The simulated kernel: processes made of host memory (address_space) and a register file,
// run one quantum of instructions at a time, round robin, by the engine's own instruction
// simulator (cpu.cpp); system calls of the user runtime (syscalls.cpp); breakpoint traps handed to
// the probe engine through its public C ABI (engine_port.cpp); and the process control a
// debugger agent needs (stop, resume, step, registers, memory, events).
//
// One host thread runs everything (the scheduler, the engine, the agent's polling), so nothing
// here locks. There is one kernel per host process: the engine is global, and its os_* hooks
// find the kernel through kernel::instance().
#pragma once

#include "address_space.hpp"
#include "program_store.hpp"

#include "ruprobes/ruprobes.h"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

// Linux errno values returned (negated) by system calls and control functions.
namespace err {
constexpr long perm = 1, noent = 2, srch = 3, too_big = 7, noexec = 8, child = 10, again = 11,
               nomem = 12, fault = 14, inval = 22, nosys = 38;
}

// Linux signal numbers used as kill reasons and in wait statuses.
namespace sig {
constexpr int ill = 4, trap = 5, kill = 9, segv = 11;
}

// Processes (zombies included) the kernel holds at most: spawn and fork fail with EAGAIN beyond.
constexpr size_t max_processes = 64;

// The user address space layout (the reference kernel's, so programs and tools see the same).
namespace layout {
constexpr uint64_t stack_top = 0x7fff'0000;
constexpr uint64_t stack_size = 32 * address_space::page_size;
constexpr uint64_t xol_page = 0x7fff'e000;
} // namespace layout

enum class process_state : uint8_t {
    runnable, // ready to run (unless stopped)
    waiting,  // in wait4 for a child: runs the ecall again when a child exits
    sleeping, // until wake_ns (nanosleep)
    zombie,   // exited; waits for its parent's wait4 (or is reaped when it has none)
};

// Why a thread stopped.
enum class stop_reason : uint8_t {
    requested,  // stop()
    probe,      // a stop-mode probe fired (probe_id says which)
    step,       // a single step finished
    breakpoint, // an ebreak that is not the engine's, while a debugger listens
    fault,      // a fault of a traced process (stop_signal says which)
};

// One process with one thread (tid == pid).
struct process {
    uint32_t pid = 0;
    uint32_t ppid = 0; // 0: none (started by the kernel or the debugger; reaped at exit)
    std::string path;  // "/bin/fib"
    process_state state = process_state::runnable;
    uprobes_trap_context regs = {}; // x0..x31 and pc: the engine's context, passed as it is
    address_space memory;
    int stop_count = 0;                 // > 0: held (not run) until resumed
    bool engine_resume_pending = false; // stopped on a stop-mode probe: uprobes_resume first
    bool step_pending = false;          // resumed for one single step
    bool traced = false; // stopped by a debugger once: faults stop it instead of killing it
    int stop_signal = 0; // the signal of the last fault or breakpoint stop
    int kill_signal = 0; // > 0: killed; exits before it runs again
    uint64_t wake_ns = 0;
    int wait_status = 0; // Linux encoding: exit code << 8, or the killing signal
    uint64_t instructions = 0;
    std::array<uint64_t, 33> fp =
        {}; // f0..f31 and fcsr: kept for a debugger (the simulated CPU has no FPU)

    bool stopped() const { return stop_count > 0; }
    bool live() const { return state != process_state::zombie; }
};

// Events for a debugger agent. Each runs inside the kernel call that caused it and must not call
// back into the kernel's process control.
struct process_listener {
    std::function<void(uint32_t pid, stop_reason reason, uint32_t probe_id)> stopped;
    std::function<void(uint32_t pid, uint32_t ppid, const std::string& path)> exec;
    std::function<void(uint32_t parent_pid, uint32_t child_pid)> forked;
    std::function<void(uint32_t pid, int wait_status)> exited;
};

struct kernel_config {
    std::string programs_dir;  // host directory of the user programs (/bin/<name>)
    uint32_t quantum = 10'000; // instructions a process runs before the next one's turn
    std::function<void(std::string_view)> console; // what programs write (default: stdout)
    std::function<void(std::string_view)> log;     // the kernel's own messages (default: stderr)
};

class kernel {
public:
    // Starts the engine (uprobes_engine_init) and becomes kernel::instance(). Throws
    // std::runtime_error when the engine does not start or another kernel exists.
    explicit kernel(kernel_config config);
    ~kernel();
    kernel(const kernel&) = delete;
    kernel& operator=(const kernel&) = delete;

    static kernel* instance();

    // ---- processes --------------------------------------------------------------------------
    // Starts `path` with `argv` (argv[0] included) as a child of `ppid` (0: none). With
    // `stopped`, it is held at its first instruction (and traced). The new pid, or -errno.
    long spawn(const std::string& path, const std::vector<std::string>& argv, uint32_t ppid = 0,
               bool stopped = false);
    // Kills `pid` with `signal`: it runs no further instruction and exits, stopped or not, before
    // the scheduler picks the next process (not inside this call, as a kernel delivers a signal
    // on the way back to user mode). 0 or -errno.
    long kill(uint32_t pid, int signal);
    // A process that is not reaped (zombies included), or nullptr.
    process* find(uint32_t pid);
    // The live processes in pid order.
    std::vector<const process*> processes() const;
    // The children of `ppid`, zombies included.
    std::vector<process*> children(uint32_t ppid);
    // Forgets zombie `p` (its parent's wait4 collected it).
    void reap(process& p);
    size_t live_count() const;
    // The process running now (inside a quantum), or nullptr.
    process* current() { return current_; }

    // ---- scheduling --------------------------------------------------------------------------
    // Wakes sleepers whose time came, runs the next runnable process (round robin) for one
    // quantum, reaps orphaned zombies. False when no process could run.
    bool run_next();
    // The earliest wake-up time of a sleeping process (os_time_ns clock), or 0 when none.
    uint64_t next_wake_ns() const;

    // ---- process control for a debugger
    // ---------------------------------------------------------- Holds `pid` where it is (stops
    // nest); it becomes traced. 0, -ESRCH.
    long stop(uint32_t pid);
    // Releases one stop of `pid` (every one with `step`, which then runs exactly one
    // instruction of the original program and stops again with stop_reason::step).
    // 0, -ESRCH, -EINVAL (not stopped).
    long resume(uint32_t pid, bool step);
    // The registers of stopped process `pid` (writable: it resumes with them); nullptr when it
    // does not exist or is not stopped.
    uprobes_trap_context* registers(uint32_t pid);
    // Reads / writes user memory as the program sees it (through the engine's memory views).
    long read_memory(uint32_t pid, uint64_t addr, void* dst, size_t len);
    long write_memory(uint32_t pid, uint64_t addr, const void* src, size_t len);
    // Installs the listener (nullptr removes it).
    void set_listener(const process_listener* listener) { listener_ = listener; }
    // While a debugger is present, an ebreak that is not the engine's stops the thread, and a
    // traced process that faults stops instead of dying.
    void set_debugger_present(bool present) { debugger_present_ = present; }
    // Every process is untraced (the debugger went away).
    void untrace_all();

    program_store& programs() { return programs_; }
    void console_write(std::string_view text) { config_.console(text); }
    // Writes one line to the kernel log ("simkernel: " + text).
    void log(const std::string& text);

    // ---- used by the CPU, system calls and the engine port ----------------------------------
    // Ends `p` with `wait_status` (exit code << 8 or a signal).
    void exit_process(process& p, int wait_status);
    // A fault of `p` (at regs.pc): stops it when traced and a debugger listens, kills it
    // otherwise. `why` goes to the kernel log.
    void fault(process& p, int signal, const std::string& why);
    // Stops `p` by itself (probe, step, breakpoint) and tells the listener.
    void stop_self(process& p, stop_reason reason, uint32_t probe_id);
    // Replaces the image of `p` by `path` with `argv` (execve). argc, or -errno (p unchanged).
    long exec(process& p, const std::string& path, const std::vector<std::string>& argv);
    // A copy of `parent` (fork); the child's pid or -errno.
    long fork(process& parent);
    bool debugger_listening() const { return debugger_present_; }
    // Ends the current quantum after this instruction (sched_yield).
    void yield() { yield_ = true; }

private:
    void run_quantum(process& p);
    // Before `p` runs again after a stop: finishes the probe's instruction (uprobes_resume) or
    // makes the requested single step. False when `p` must not run now.
    bool prepare_to_run(process& p);
    bool execute_in_kernel(process& p, int refusal, bool step);
    bool apply_trap_action(process& p, int action, const uprobes_trap_info& info);
    void reap_orphans();
    // Ends every process with a pending kill.
    void deliver_kills();

    kernel_config config_;
    program_store programs_;
    std::map<uint32_t, std::unique_ptr<process>> table_;
    uint32_t next_pid_ = 1;
    uint32_t last_run_ = 0;
    process* current_ = nullptr;
    bool yield_ = false;
    const process_listener* listener_ = nullptr;
    bool debugger_present_ = false;
    void* engine_memory_ = nullptr;

    friend void execute_breakpoint(kernel& k, process& p);
};

// The kernel's clock: CLOCK_MONOTONIC in ns (os_time_ns, sleeps, clock_gettime, the agent).
uint64_t monotonic_ns();

// The breakpoint trap of `p` (ebreak or c.ebreak at p.regs.pc) as a kernel's trap handler takes
// it: into the probe engine (engine_port.cpp).
void execute_breakpoint(kernel& k, process& p);

// Runs up to `budget` instructions of `p` (cpu.cpp); returns how many ran. Stops early when `p`
// stops, blocks, exits or yields.
uint64_t run_instructions(kernel& k, process& p, uint64_t budget, const bool& yield_flag);

// Executes the system call of `p` (a7 and a0..a5; pc already past the ecall) (syscalls.cpp).
void dispatch_syscall(kernel& k, process& p);

} // namespace sim

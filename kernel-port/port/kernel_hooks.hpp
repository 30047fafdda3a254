// What the reference kernel calls into its port of the engine (kernel-port/port/). These are the
// "two calls" of a port (boot and the breakpoint trap) plus the process lifecycle events and the
// debugger's stop/resume/step, which need the engine in the stopped thread's own context.
#pragma once

#include <stdint.h>

#include "ruprobes/ruprobes.h"

struct process;
struct trap_frame;

// Boot: hands the engine its memory and starts it. Returns false when it cannot start (the
// kernel then runs without probes).
bool port_init();

// A user process got a new image (spawn or execve): arm the probes registered for its program.
void port_process_exec_hook(process* p);

// `child` is a copy of `parent` (fork): its text holds the parent's armed breakpoints; the engine
// keeps those that apply to the child and restores the original bytes of the others.
void port_process_fork_hook(process* parent, process* child);

// The image of `p` goes away (exit or exec): drop its per-thread engine state.
void port_process_exit_hook(process* p);

// The out-of-line parts of port_user_breakpoint (engine_port.cpp): whether it may go straight
// to the engine (engine ready, not profiling), the call for the other case, and what it does
// with any result but HANDLED.
extern bool port_breakpoint_direct;
bool port_breakpoint_slow(process* p, trap_frame& frame);
bool port_breakpoint_finish(process* p, int action, const uprobes_trap_info& info);

// A U-mode ebreak/c.ebreak at frame.sepc of process `p`. True when it is handled (an engine hit,
// or a stop for a debugger; the frame says where to resume); false for a breakpoint the kernel
// must kill for. Inline in the trap path: a plain hit costs the engine's public C call and
// nothing else. It is uprobes_trap_handler_locked: this kernel's engine lock is empty (the big
// kernel lock, held by every hart running kernel code, covers every engine call; see
// os_uprobes_lock), so the trap path holds it already.
// The trap frame starts with x[32] and sepc: the engine's context.
inline bool port_user_breakpoint(process* p, uint32_t pid, trap_frame& frame) {
    if (!port_breakpoint_direct) {
        return port_breakpoint_slow(p, frame);
    }
    uprobes_trap_info info; // the engine fills every field, whatever the result
    const int action = uprobes_trap_handler_locked(reinterpret_cast<uprobes_trap_context*>(&frame),
                                                   pid, pid, &info); // tid == pid
    return action == UPROBES_TRAP_HANDLED || port_breakpoint_finish(p, action, info);
}

// A U-mode fault other than a breakpoint is about to be reported: if the thread was executing an
// out-of-line slot, moves frame.sepc back to the probed address the program knows.
void port_fixup_fault(process* p, trap_frame& frame);

// Last step before `p` (current, not stopped) enters U-mode: finishes a stop on a probe
// (uprobes_resume) or starts a requested single step. False when `p` stopped again or was killed
// (the caller loops).
bool port_prepare_user_return(process* p);

// Profiling of the breakpoint path for the benchmark: while on, port_user_breakpoint adds the
// time spent inside the engine to a counter (two extra `time` reads per trap).
void port_profile(bool on);
// Breakpoint traps and ns spent in the engine (the trap handler call) since port_profile(true).
void port_profile_read(uint64_t& traps, uint64_t& engine_ns);

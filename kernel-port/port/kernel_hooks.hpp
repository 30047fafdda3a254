// What the reference kernel calls into its port of the engine (kernel-port/port/). These are the
// "two calls" of a port (boot and the breakpoint trap) plus the process lifecycle events.
#pragma once

struct process;
struct trap_frame;

// Boot: hands the engine its memory and starts it. Returns false when it cannot start (the
// kernel then runs without probes).
bool port_init();

// A user process got a new image (spawn or execve): arm the probes registered for its program.
void port_process_exec_hook(process* p);

// `child` is a copy of `parent` (fork): its text holds the parent's armed breakpoints; keep those
// that apply to the child, restore the original bytes of the others, copy per-thread state.
void port_process_fork_hook(process* parent, process* child);

// The image of `p` goes away (exit or exec): drop its per-thread engine state.
void port_process_exit_hook(process* p);

// A U-mode ebreak/c.ebreak at frame.sepc. True when the engine placed it and handled the hit
// (the frame then says where to resume); false for a breakpoint that is not the engine's.
bool port_user_breakpoint(process* p, trap_frame& frame);

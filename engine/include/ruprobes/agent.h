/*
 * ruprobes agent: the C ABI of libruprobes_agent.a, the in-kernel side of ruprobesd.
 *
 * The agent serves the wire protocol (protocol/README.md) to the host daemon: probes through the
 * engine (ruprobes.h), processes, threads, registers and memory through the process-control hooks
 * below, hit records and stop/exec/exit events back to the host. A kernel (C, C++ or Rust) that
 * already links libruprobes_engine.a links this library too and
 *   1. defines the hooks declared in the second half of this file (os_agent_*),
 *   2. calls ruprobes_agent_init() once, after uprobes_engine_init(), with the transport it
 *      chose: the bundled virtio-console driver or its own byte channel (a UART, a socket),
 *   3. reports exec, fork, exit and thread stops (ruprobes_agent_on_*),
 *   4. runs the agent: a kernel thread whose body is ruprobes_agent_run(), or calls to
 *      ruprobes_agent_poll() from a context of its choice.
 * docs/porting.md ("The agent") is the checklist; kernel-port/port/agent_port.cpp is the
 * reference kernel's port.
 *
 * Contexts used in the contracts below:
 *   agent context   inside ruprobes_agent_run() or ruprobes_agent_poll(): neither the engine's
 *                   lock nor the agent's lock is held. Hooks called here may sleep exactly when
 *                   the context the kernel runs the agent in may sleep (always, for a thread).
 *   event context   wherever the kernel calls ruprobes_agent_on_*, and the engine's hit sink (a
 *                   breakpoint trap, under the engine lock): must not sleep.
 *   interrupt       the kernel's interrupt handler for the virtio console.
 *
 * Memory: the agent allocates nothing. Its state is static: about 2.3 MiB of .data and .bss
 * (2 MiB of it the hit-record ring, 150 KiB the probe table), 145 KiB more with the virtio
 * transport (its queues' buffers), all in the kernel image.
 */
#ifndef RUPROBES_AGENT_H
#define RUPROBES_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "ruprobes/ruprobes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------------------------- */

/*
 * Errors the process-control hooks return (negated): the wire protocol's status numbers
 * (protocol/README.md §2), passed to the host unchanged.
 */
enum ruprobes_agent_error {
    RUPROBES_AGENT_OK = 0,
    RUPROBES_AGENT_E_NO_SUCH_PROCESS = 104,   /* no such user process (kernel threads included) */
    RUPROBES_AGENT_E_NO_SUCH_THREAD = 105,    /* the process has no such thread */
    RUPROBES_AGENT_E_NOT_STOPPED = 106,       /* the thread must be stopped for this */
    RUPROBES_AGENT_E_PERMISSION_DENIED = 107, /* e.g. an address outside user memory */
    RUPROBES_AGENT_E_BAD_ADDRESS = 108,       /* user memory not mapped / not accessible */
    RUPROBES_AGENT_E_BUSY = 109,              /* out of resources, try again later */
    RUPROBES_AGENT_E_NO_SUCH_PROGRAM = 110,   /* spawn: no program at that path */
};

/* How the agent reaches the host. */
enum ruprobes_agent_transport {
    /* The bundled virtio-console driver (virtio 1.1 §5.3, modern virtio-mmio): the kernel gives
     * the device's MMIO base and calls ruprobes_agent_virtio_interrupt() from its handler. */
    RUPROBES_AGENT_TRANSPORT_VIRTIO_CONSOLE = 1,
    /* The kernel's own channel: os_agent_channel_read / os_agent_channel_write. */
    RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL = 2,
};

struct ruprobes_agent_config {
    uint32_t transport; /* enum ruprobes_agent_transport */
    /* The harts that may take hits, at most RUPROBES_AGENT_MAX_HARTS: the agent splits its hit
     * records among that many rings, one per hart. 1: a kernel on one hart; the agent then never
     * calls os_agent_hart_id and keeps one ring of all the records. 0: RUPROBES_AGENT_MAX_HARTS.
     * The first successful ruprobes_agent_init decides. */
    uint32_t harts;
    /* VIRTIO_CONSOLE: the kernel virtual address of the device's virtio-mmio registers (mapped
     * uncached, as the kernel maps devices). The driver checks it is a version-2 console. */
    uint64_t virtio_mmio_base;
    /* VIRTIO_CONSOLE: what to add to a kernel virtual address of the agent's (static) buffers to
     * get the address the device uses (0 when the kernel image is identity-mapped). */
    int64_t virtio_dma_offset;
    /* A number that differs on every boot (the host tells a reboot from a reconnection by it).
     * 0: the agent derives one from os_agent_time_ns() and os_agent_wall_clock_ns(). */
    uint64_t boot_id;
};

/* Why a thread stopped (ruprobes_agent_on_stop). */
enum ruprobes_agent_stop_reason {
    RUPROBES_AGENT_STOP_REQUESTED = 0,  /* os_agent_thread_stop */
    RUPROBES_AGENT_STOP_PROBE = 1,      /* a stop-mode probe (UPROBES_TRAP_STOP with a probe id) */
    RUPROBES_AGENT_STOP_STEP = 2,       /* a single step (os_agent_thread_resume) finished */
    RUPROBES_AGENT_STOP_BREAKPOINT = 3, /* an ebreak that is not the engine's (NOT_OURS) */
    RUPROBES_AGENT_STOP_FAULT = 4,      /* a fault of a traced thread; `signal` says which */
};

/* One user process (os_agent_process_list). Kernel threads are never listed. */
struct ruprobes_agent_process {
    uint32_t pid;
    uint32_t ppid; /* 0: none */
    uint8_t state; /* enum ruprobes_agent_process_state */
    uint8_t reserved[3];
    uint32_t thread_count;
    char path[64]; /* the program, NUL-terminated (display only) */
};
enum ruprobes_agent_process_state {
    RUPROBES_AGENT_PROCESS_RUNNING = 0, /* runnable or sleeping */
    RUPROBES_AGENT_PROCESS_STOPPED = 1, /* every thread stopped */
    RUPROBES_AGENT_PROCESS_ZOMBIE = 2,  /* exited, not reaped yet */
};

/* One thread of a process (os_agent_thread_list). */
struct ruprobes_agent_thread {
    uint32_t tid;
    uint32_t stopped; /* 1: held by a stop (os_agent_thread_stop or ruprobes_agent_on_stop) */
    uint64_t pc;      /* its saved user pc (meaningful when stopped) */
};

/* The registers of a stopped thread (os_agent_regs_get / os_agent_regs_set). */
struct ruprobes_agent_regs {
    struct uprobes_trap_context gp; /* x0..x31 and pc, the engine's layout */
    uint64_t f[32];                 /* f0..f31, raw 64-bit */
    uint64_t fcsr;                  /* fflags (bits 4:0) and frm (7:5) */
};
#define RUPROBES_AGENT_REGS_GP 0x1u /* x1..x31 and pc */
#define RUPROBES_AGENT_REGS_FP 0x2u /* f0..f31 and fcsr */

/* os_agent_process_spawn flags. */
#define RUPROBES_AGENT_SPAWN_STOP_AT_ENTRY 0x1u
/* The most arguments (argv[0] included) the agent passes to os_agent_process_spawn. */
#define RUPROBES_AGENT_MAX_ARGS 16

/* The most harts whose hits the agent records: os_agent_hart_id() returns less. */
#define RUPROBES_AGENT_MAX_HARTS 8

/* os_agent_notify events. */
enum ruprobes_agent_notice {
    /* The agent has work (bytes received, an event or hit records queued). Thread mode: make
     * the agent thread runnable (end its os_agent_wait). Poll mode: poll soon. */
    RUPROBES_AGENT_NOTICE_WORK = 1,
    /* A breakpoint trap produced hit records faster than the agent ships them (half a credit
     * window unsent, or the ring three quarters full during a session). Called from the hit sink
     * (event context, engine lock held). The kernel should let the agent run before the
     * trapping thread continues, and may hold that thread (sleeping, outside every lock) while
     * ruprobes_agent_congested() stays true, for a bounded time. Ignoring it is correct:
     * records are then dropped (and counted) when the ring is full. */
    RUPROBES_AGENT_NOTICE_HURRY = 2,
    /* The hit ring has room again (agent context): wake threads held for HURRY. */
    RUPROBES_AGENT_NOTICE_ROOM = 3,
};

/* Counters for the kernel's own diagnostics and benchmarks. */
struct ruprobes_agent_stats {
    uint32_t host_connected;  /* 1 while a host session is active */
    uint32_t hits_unsent;     /* hit records in the ring not sent yet */
    uint64_t hits_dropped;    /* records dropped since boot (the ring was full) */
    uint64_t events_dropped;  /* stop/exec/exit events lost (queue full, or no host) */
    uint64_t frames_rejected; /* frames from the host that failed to decode */
};

/* ---- calls the kernel makes -------------------------------------------------------------- */

/*
 * Starts the agent with `config`: the transport (for VIRTIO_CONSOLE: resets and sets up the
 * device) and the engine's hit sink (uprobes_set_hit_sink). Call once, after
 * uprobes_engine_init(), before ruprobes_agent_run/poll and before any ruprobes_agent_on_*.
 * Returns 0, or -1 when the transport is unusable (no console at that address, the device refused
 * the features): the kernel then runs without a host channel (nothing else is needed).
 */
int ruprobes_agent_init(const struct ruprobes_agent_config* config);

/*
 * The agent thread's body (thread mode): serves the host forever, calling os_agent_wait()
 * between rounds. Never returns. Call it from a kernel thread that may sleep.
 */
void ruprobes_agent_run(void);

/*
 * One round of the agent (poll mode): reads what the host sent and answers it, checks the lease,
 * sends queued events and hit records. Agent context. Returns the ns after which it wants the
 * next call at the latest (0: more is ready now); call it sooner after os_agent_notify(WORK).
 */
uint64_t ruprobes_agent_poll(void);

/*
 * VIRTIO_CONSOLE only: the console's interrupt, from the kernel's handler (interrupt context;
 * the kernel acknowledges its interrupt controller, e.g. the PLIC claim, itself). Acknowledges the
 * device, takes received bytes and returned transmit buffers, calls os_agent_notify(WORK).
 */
void ruprobes_agent_virtio_interrupt(void);

/*
 * Process events (event context: never sleeps, takes the agent's lock briefly, calls
 * os_agent_notify). Each is queued behind the hit records made before it, so the host sees
 * records and events in the order they happened.
 */
/* `pid` now runs program `path` (spawn or execve), child of `ppid` (0: none). After
 * uprobes_on_exec, before the process runs. */
void ruprobes_agent_on_exec(uint32_t pid, uint32_t ppid, const char* path);
/* `parent_pid` forked `child_pid` (before the child runs): the child starts with no stop
 * history (pids may be reused). */
void ruprobes_agent_on_fork(uint32_t parent_pid, uint32_t child_pid);
/* `pid` exited: with exit code `status`, or, when `killed` is 1, killed by signal `status`. */
void ruprobes_agent_on_exit(uint32_t pid, int32_t status, int killed);
/*
 * Thread `tid` of `pid` stopped by itself (enum ruprobes_agent_stop_reason; not for
 * os_agent_thread_stop, which the agent reports itself) and stays stopped until
 * os_agent_thread_resume or os_agent_release_all: `probe_id` for STOP_PROBE, `signal` (Linux
 * numbering) for STOP_FAULT and STOP_BREAKPOINT (SIGTRAP = 5). The host is sent its registers
 * (os_agent_regs_get, from agent context). Without a host session the agent resumes the thread.
 */
void ruprobes_agent_on_stop(uint32_t pid, uint32_t tid, int reason, uint32_t probe_id, int signal);

/* 1 while a host session is active and a hart's hit ring is three quarters full (see
 * RUPROBES_AGENT_NOTICE_HURRY). Any context; takes no lock. */
int ruprobes_agent_congested(void);

/* Copies the agent's counters into *out. Any context but interrupt. */
void ruprobes_agent_get_stats(struct ruprobes_agent_stats* out);

/* ---- hooks: the kernel defines these ----------------------------------------------------- */

/* -- synchronisation, clock, log (every mode) -- */

/*
 * The agent's lock: guards its event queue and the agent's side of the hit rings (event context
 * vs agent context) and the virtio driver's state (interrupt vs agent context). A plain traced
 * hit takes no lock (its hart's ring is written by that hart alone, see os_agent_hart_id); a
 * dropped record, an aggregation, a tracepoint or a fetching probe takes it in the trap. Called
 * from every context, interrupt and event context included (the hit sink holds the engine lock:
 * order engine lock -> agent lock). Must exclude the console interrupt on this hart (disable
 * interrupts, saving their state) and, on SMP, other harts (a spinlock). Never taken recursively,
 * never held across another hook call or an engine call; held for a few hundred instructions at
 * most. A kernel with one hart that never runs kernel code with interrupts on may leave both empty.
 */
void os_agent_lock(void);
void os_agent_unlock(void);

/*
 * The hart (CPU) this code runs on, below the config's `harts` (and RUPROBES_AGENT_MAX_HARTS): the
 * agent keeps one hit ring per hart, written by that hart's trap path without a lock. Called from
 * the engine's record and hit sinks, in the breakpoint trap with interrupts off; must be cheap (a
 * field of the per-hart data behind `tp` or `sscratch`), take no lock and return the same id for
 * the whole hit: the thread must not move to another hart between a hit's trap entry and its
 * return. Two harts must never return the same id. Not called when the config says one hart
 * (`harts` 1). An id out of range loses the record (counted as dropped).
 */
uint32_t os_agent_hart_id(void);

/* See enum ruprobes_agent_notice. Any context (interrupt, event, agent); must not sleep, must not
 * call back into the agent or the engine. */
void os_agent_notify(int notice);

/*
 * Agent context, thread mode (and inside long requests in poll mode): blocks the agent until
 * os_agent_notify(WORK) or until `timeout_ns` passed, whichever is first; a WORK notice that came
 * since the last wait ends it at once. `timeout_ns` 0: give other runnable threads a turn and
 * return. In poll mode, where the agent must not sleep, it may return at once.
 */
void os_agent_wait(uint64_t timeout_ns);

/* A monotonic clock in ns, the same as the engine's os_time_ns() (hit records' time base). Any
 * context, no sleep. */
uint64_t os_agent_time_ns(void);

/* The host's wall clock in ns (an RTC), 0 when there is none. Times the host's lease: under QEMU
 * `-icount` the guest clock skips idle time and runs ahead of the host. Agent context, and
 * once in ruprobes_agent_init (for the boot id). */
uint64_t os_agent_wall_clock_ns(void);

/* One line (no newline) for the kernel's log, e.g. "agent: host session 1f2e (reset)". Agent
 * context. */
void os_agent_log(const char* line);

/* -- transport: BYTE_CHANNEL only (a VIRTIO_CONSOLE kernel need not define them) -- */

/* Copies up to `max` received bytes into `dst`; returns how many (0: none now). Never waits.
 * Agent context. */
size_t os_agent_channel_read(uint8_t* dst, size_t max);

/* Sends the `len` bytes (one whole wire frame, at most 4096) or nothing: 1 when they were taken,
 * 0 when the channel has no room now (the agent retries, waiting in between with os_agent_wait).
 * May busy-wait for a short while (a UART's FIFO); agent context. */
int os_agent_channel_write(const uint8_t* src, size_t len);

/* -- process control (agent context; every `pid` may name anything, check it) -- */

/*
 * Fills out[0..max) with the user processes from the `start`-th on (a stable order, e.g. the
 * process table's), sets *total to how many exist, returns how many were written.
 */
int os_agent_process_list(uint32_t start, struct ruprobes_agent_process* out, uint32_t max,
                          uint32_t* total);

/*
 * Starts program argv[0] with `argc` arguments `argv` (1 <= argc <= RUPROBES_AGENT_MAX_ARGS,
 * NUL-terminated strings) as a
 * new user process; with RUPROBES_AGENT_SPAWN_STOP_AT_ENTRY its thread is stopped before its
 * first instruction (as os_agent_thread_stop), and the agent reports that stop. The kernel calls
 * ruprobes_agent_on_exec for it as for any exec. Sets *pid; returns 0 or
 * -RUPROBES_AGENT_E_NO_SUCH_PROGRAM / -E_BUSY.
 */
int os_agent_process_spawn(int argc, const char* const* argv, uint32_t flags, uint32_t* pid);

/* Ends user process `pid` with signal `signal` (Linux numbering; 9 = SIGKILL) as if it received
 * it with no handler: at once (calling ruprobes_agent_on_exit from inside the hook is allowed)
 * or when it would next run, also when it is stopped. 0 or -E_NO_SUCH_PROCESS /
 * -E_PERMISSION_DENIED. */
int os_agent_process_kill(uint32_t pid, int signal);

/*
 * Fills out[0..max) with the threads of user process `pid` from the `start`-th on, sets *total,
 * returns how many were written, or -E_NO_SUCH_PROCESS. (max 0 checks that `pid` exists.)
 */
int os_agent_thread_list(uint32_t pid, uint32_t start, struct ruprobes_agent_thread* out,
                         uint32_t max, uint32_t* total);

/*
 * Stops thread `tid` of `pid` (0: the process's first thread) where it is: it runs no more user
 * code until resumed. From now on a fault of that thread (and any ebreak that is not the
 * engine's) becomes ruprobes_agent_on_stop instead of killing it, until os_agent_release_all.
 * Returns 0 (stopped now), 1 (it was stopped already: nothing changed), or -E_NO_SUCH_PROCESS /
 * -E_NO_SUCH_THREAD.
 */
int os_agent_thread_stop(uint32_t pid, uint32_t tid);

/*
 * Resumes stopped thread `tid` of `pid` (every stop it holds). A thread stopped by the engine
 * (UPROBES_TRAP_STOP) resumes through uprobes_resume. With `step` 1 it executes one instruction
 * of its original program (uprobes_single_step) and stops again: ruprobes_agent_on_stop(STEP).
 * Returns 0 (a thread that was not stopped: 0 and nothing happens, unless `step`), or
 * -E_NO_SUCH_PROCESS / -E_NO_SUCH_THREAD / -E_NOT_STOPPED (step of a running thread).
 */
int os_agent_thread_resume(uint32_t pid, uint32_t tid, int step);

/*
 * The host went away: no thread is traced any more (faults kill again), every stopped user
 * thread is resumed as by os_agent_thread_resume. Returns how many were resumed.
 */
uint32_t os_agent_release_all(void);

/*
 * A host session began: from now on a stray ebreak of any user thread, and a fault of a thread
 * that was stopped once (os_agent_thread_stop), stop it (ruprobes_agent_on_stop) instead of
 * ending it. Called at every session start (the state never goes back).
 */
void os_agent_session_started(void);

/*
 * The registers of stopped thread `tid` of `pid` as saved when it stopped (raw: the agent
 * translates xol and trampoline addresses with uprobes_program_pc/ra). 0, or -E_NO_SUCH_PROCESS /
 * -E_NO_SUCH_THREAD / -E_NOT_STOPPED.
 */
int os_agent_regs_get(uint32_t pid, uint32_t tid, struct ruprobes_agent_regs* out);

/* Writes the registers `which` (RUPROBES_AGENT_REGS_GP / _FP) of stopped thread `tid` of `pid`:
 * it resumes with them (x0 ignored). Errors as os_agent_regs_get. */
int os_agent_regs_set(uint32_t pid, uint32_t tid, const struct ruprobes_agent_regs* in,
                      uint32_t which);

/*
 * Reads / writes `len` (<= 4032; 0 only checks `pid`) bytes of user process `pid` at `addr` as
 * the program sees them: through uprobes_read_memory / uprobes_write_memory, so breakpoints stay
 * invisible. Never the kernel's memory: an address range outside user space is
 * -E_PERMISSION_DENIED. 0, or -E_NO_SUCH_PROCESS / -E_PERMISSION_DENIED / -E_BAD_ADDRESS.
 */
int os_agent_mem_read(uint32_t pid, uint64_t addr, void* dst, size_t len);
int os_agent_mem_write(uint32_t pid, uint64_t addr, const void* src, size_t len);

#ifdef __cplusplus
}
#endif

#endif

/*
 * ruprobes engine: the C ABI a kernel links against.
 *
 * A kernel (C, C++ or Rust) needs only this header and libruprobes_engine.a. It
 *   1. defines the port hooks declared at the end of this file (os_*),
 *   2. calls uprobes_engine_init() once with a block of memory it hands over,
 *   3. calls the lifecycle hooks (uprobes_on_exec/fork/thread_exit/exit),
 *   4. routes every breakpoint trap taken in U-mode to uprobes_trap_handler().
 * engine/README.md describes each call and each hook with its contract and a porting guide.
 *
 * Errors: functions returning int return 0 (or a non-negative value) on success and the negative
 * of an enum uprobes_error value on failure. The numbers are stable (they cross the wire protocol).
 *
 * Concurrency: every uprobes_* entry point takes the port's lock (os_uprobes_lock) and calls the
 * port hooks that touch processes while holding it; handlers, conditions and the hit sink run
 * under it too and must not call back into the engine. The hooks that reach the kernel's program
 * images (os_program_get/os_program_put) are called with the lock NOT held and may sleep; every
 * other hook is called under it and must not sleep. Each hook's comment below says when it is
 * called; docs/porting.md has the same as a table.
 *
 * Compile with optimisation (-O1, -O2, -O3, -Os or -Og; the library refuses -O0): the stack each
 * entry point needs at each level is measured by CI and listed in docs/porting.md ("Stack").
 */
#ifndef RUPROBES_RUPROBES_H
#define RUPROBES_RUPROBES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------------------------- */

/*
 * The registers of a user thread at a trap, as the engine reads and writes them. The layout is
 * fixed so that a kernel whose trap frame starts with the same 33 doublewords passes a pointer to
 * its own frame (zero copy):
 *
 *   offset   0: x[0]   ignored on input, never written (x0 is hard-wired zero)
 *   offset   8: x[1]   ra
 *   offset  16: x[2]   sp
 *   ...          x[n]  at offset 8*n
 *   offset 248: x[31]  t6
 *   offset 256: pc     the pc of the trapping ebreak on entry; where the thread resumes on exit
 *
 * The engine only touches these 33 doublewords; anything the kernel keeps after them is its own.
 */
struct uprobes_trap_context {
    uint64_t x[32];
    uint64_t pc;
};

/* Probe kinds (the seed's probe types). */
enum uprobes_kind {
    UPROBES_KIND_INSN = 0,  /* an instruction probe: fires when the instruction is reached */
    UPROBES_KIND_ENTRY = 1, /* a function-entry probe: as INSN, at a function's first instruction */
    UPROBES_KIND_RETURN = 2, /* a function-return probe: fires when the function returns (a0) */
};

/* What a probe does when it fires. */
enum uprobes_mode {
    UPROBES_MODE_TRACE = 0, /* run handlers, emit a hit record, keep going */
    UPROBES_MODE_STOP = 1,  /* as TRACE, then the kernel stops the thread (a debugger breakpoint) */
};

/* Matches every process in uprobes_probe_spec.pid. */
#define UPROBES_ANY_PID 0u

/* Error codes: the same numbers as ruprobes::error in ruprobes/base.hpp. */
enum uprobes_error {
    UPROBES_OK = 0,
    UPROBES_E_INSN_ECALL = 1,
    UPROBES_E_INSN_EBREAK = 2,
    UPROBES_E_INSN_CSR = 3,
    UPROBES_E_INSN_PRIVILEGED = 4,
    UPROBES_E_INSN_FENCE_I = 5,
    UPROBES_E_INSN_LR_SC = 6,
    UPROBES_E_INSN_ILLEGAL = 7,
    UPROBES_E_ADDR_MISALIGNED = 8,
    UPROBES_E_ADDR_NOT_BOUNDARY = 9,
    UPROBES_E_ADDR_OUTSIDE_TEXT = 10,
    UPROBES_E_NO_SPACE = 20,
    UPROBES_E_NOT_FOUND = 21,
    UPROBES_E_ALREADY_EXISTS = 22,
    UPROBES_E_TEXT_CHANGED = 23,
    UPROBES_E_INVALID_ARGUMENT = 24,
    UPROBES_E_FAULT_LOAD = 30,
    UPROBES_E_FAULT_STORE = 31,
    UPROBES_E_FAULT_FETCH = 32,
    UPROBES_E_NOT_OURS = 40,
    UPROBES_E_PORT_FAILURE = 41,
    UPROBES_E_EXPR_INVALID = 50,
    UPROBES_E_EXPR_UNSUPPORTED = 51,
    UPROBES_E_EXPR_STACK = 52,
    UPROBES_E_EXPR_DIVIDE_BY_ZERO = 53,
    UPROBES_E_EXPR_BUDGET = 54,
    UPROBES_E_EXPR_REGISTER = 55,
    UPROBES_E_EXPR_FAULT = 56,
    UPROBES_E_EXPR_VARIABLE = 57,
};

/* A short stable name for an error code ("insn_ecall", ...); accepts negative values too. */
const char* uprobes_error_name(int error);

/* One probe firing, as given to handlers and to the hit sink. */
struct uprobes_hit {
    uint32_t probe_id; /* the id uprobe_register returned */
    uint8_t kind;      /* enum uprobes_kind */
    uint8_t mode;      /* enum uprobes_mode */
    uint16_t flags;    /* UPROBES_HIT_* */
    uint32_t pid;
    uint32_t tid;
    uint64_t pc;      /* the probed address (for RETURN: the function entry address) */
    uint64_t time_ns; /* os_time_ns() at the trap */
    uint64_t a[8];    /* a0..a7 at the trap (for RETURN: at the return) */
    uint64_t sp;
    uint64_t ra;        /* for RETURN: the address the function returns to */
    uint64_t retval;    /* RETURN only: a0 at the return */
    uint64_t cookie;    /* uprobes_probe_spec.cookie */
    uint64_t hit_count; /* hits of this probe so far, this one included */
};
#define UPROBES_HIT_RETURN_VALUE 0x1u /* retval is valid */

/*
 * A probe handler. Runs in the trap, under the engine lock, with the registers of the thread
 * (which it may change: the thread resumes with them). `handler` runs before the displaced
 * instruction executes, `post_handler` after it (INSN/ENTRY only). For RETURN probes `handler`
 * runs at the return, with ctx->pc already set to the return address.
 */
typedef void (*uprobes_handler_fn)(struct uprobes_trap_context* ctx, const struct uprobes_hit* hit,
                                   void* user);
/* A condition: the probe fires only when it returns non-zero (no handler, no record, no stop). */
typedef int (*uprobes_condition_fn)(const struct uprobes_trap_context* ctx,
                                    const struct uprobes_hit* hit, void* user);
/* The hit sink: receives every hit record (the kernel's agent queues them for the host). */
typedef void (*uprobes_hit_sink_fn)(const struct uprobes_hit* hit, void* user);

/*
 * A compact hit record, laid out as the wire protocol's (protocol/README.md §3, 128 bytes,
 * little-endian): what a record sink stores. `seq` is the sink's; `reserved` is 0.
 */
struct uprobes_hit_record {
    uint64_t seq;
    uint64_t time_ns;
    uint32_t pid;
    uint32_t tid;
    uint64_t pc;
    uint32_t probe_id;
    uint8_t kind;  /* enum uprobes_kind */
    uint8_t flags; /* bit 0: ret is valid */
    uint16_t reserved;
    uint64_t a[8];
    uint64_t sp;
    uint64_t ra;
    uint64_t ret;
};

/*
 * A record sink: the engine writes a hit's record straight into the sink's storage, once.
 * `reserve` returns room for one record (with its seq filled in) or NULL (the sink counted the
 * record as dropped); `commit` publishes it. The engine calls commit right after a successful
 * reserve, with nothing else in between but filling the record. Used for the hits of trace-mode
 * entry and instruction probes with no handler and a cookie of 0 on the engine's hot path, and
 * for the returns of a trace-mode return probe with no handler, condition or pid filter and a
 * cookie of 0 that is its site's only return probe (kind RETURN, flags bit 0, ret = a0); every
 * other hit goes to the hit sink.
 */
typedef struct uprobes_hit_record* (*uprobes_record_reserve_fn)(void* user);
typedef void (*uprobes_record_commit_fn)(struct uprobes_hit_record* record, void* user);

/*
 * A program image, as the kernel hands it to the engine: from os_program_get (registration by
 * path, uprobes_on_exec), or directly in uprobe_register_image / uprobes_on_exec_image. Always
 * outside the engine lock: the engine copies what it keeps (the key, the range) and reads `text`
 * only during the call it was given to.
 */
struct uprobes_program_image {
    uint64_t key;        /* the kernel's identity of the program, never 0: an inode number, the
                            address of the loaded image... Two paths naming one program (a link,
                            "prog" and "/prog") must give one key: probes are per key. */
    uint64_t text_begin; /* link-time range [text_begin, text_end) of its executable code */
    uint64_t text_end;
    const void* text;  /* the bytes of that range in kernel memory (needed to register probes:
                          the engine decodes them; may be NULL at exec, where it is not read) */
    void* port_cookie; /* the port's own (e.g. the buffer os_program_put frees); not read */
};

/* Everything a probe can say; zero-initialise and fill what you need. */
struct uprobes_probe_spec {
    const char* path; /* the program ("/bin/hello"), resolved to a key by os_program_get; with
                         uprobe_register_image only the name shown by uprobe_iterate */
    uint64_t addr;    /* link-time virtual address of the instruction in that program */
    uint8_t kind;     /* enum uprobes_kind */
    uint8_t mode;     /* enum uprobes_mode */
    uint32_t pid;     /* UPROBES_ANY_PID or the only process the probe fires in */
    uprobes_handler_fn handler;
    uprobes_handler_fn post_handler;
    uprobes_condition_fn condition;
    void* user;      /* passed to handler, post_handler and condition */
    uint64_t cookie; /* copied into every hit record (e.g. the host's probe number) */
};

/* Capacities, fixed at init. Zero in a field selects its default (in brackets). */
struct uprobes_limits {
    uint32_t max_probes;    /* consumers (registered probes) [1024] */
    uint32_t max_sites;     /* distinct (program, address) pairs [max_probes] */
    uint32_t max_programs;  /* programs with probes or processes [32] */
    uint32_t max_processes; /* processes known to the engine [64] */
    uint32_t max_threads;   /* threads with engine state (return stack, out-of-line step) [128] */
    uint32_t max_return_depth; /* return-stack entries per thread, >= 64 [64] */
};

/* Counters and pool usage, for tests, benchmarks and the host's status view. */
struct uprobes_stats {
    struct uprobes_limits limits; /* the capacities in effect */
    uint32_t probes_used, sites_used, programs_used, processes_used, threads_used;
    uint32_t reserved;
    uint64_t traps;          /* uprobes_trap_handler calls */
    uint64_t hits;           /* probe hits reported (all kinds) */
    uint64_t not_ours;       /* traps that were not the engine's */
    uint64_t simulated;      /* displaced instructions executed by simulation */
    uint64_t out_of_line;    /* displaced instructions executed in an out-of-line slot */
    uint64_t return_hits;    /* trampoline hits that returned from a probed function */
    uint64_t return_skipped; /* returns not reported because a return stack was full */
    uint64_t return_dropped; /* return-stack entries dropped because longjmp skipped them */
    uint64_t faults;         /* displaced instructions that faulted */
    uint64_t lookups;        /* site lookups done by the hit path */
    uint64_t lookup_slots;   /* hash slots examined by those lookups (lookup_slots/lookups ~ 1) */
};

/* What uprobes_trap_handler tells the kernel to do. */
enum uprobes_trap_action {
    UPROBES_TRAP_HANDLED = 0,  /* resume the thread with ctx (pc updated) */
    UPROBES_TRAP_NOT_OURS = 1, /* not the engine's ebreak: deliver it as the kernel would */
    UPROBES_TRAP_STOP = 2,     /* stop the thread (stop-mode probe or finished step); ctx valid */
    UPROBES_TRAP_FAULT = 3,    /* the displaced instruction faulted: see uprobes_trap_info */
    UPROBES_TRAP_RETRY = 4,    /* uprobes_trap_handler_concurrent only: nothing was done; call a
                                  handler that takes the engine's lock */
};

/* The most harts uprobes_trap_handler_concurrent takes hits on (hart indexes 0 .. this - 1). */
#define UPROBES_MAX_HARTS 8

/* Details of a uprobes_trap_handler_ex result. */
struct uprobes_trap_info {
    int32_t action;      /* enum uprobes_trap_action */
    int32_t error;       /* FAULT: UPROBES_E_FAULT_LOAD/STORE/FETCH */
    uint64_t fault_addr; /* FAULT: the address the instruction accessed (stval) */
    uint32_t probe_id;   /* STOP: the stop-mode probe that fired (0 for a finished step) */
    uint32_t reserved;
};

/* ---- engine setup ------------------------------------------------------------------------ */

/* The engine's version as "major.minor.patch". */
const char* ruprobes_version(void);

/* Bytes of memory uprobes_engine_init needs for `limits` (NULL: defaults). */
size_t uprobes_memory_required(const struct uprobes_limits* limits);

/*
 * Initialises the engine with `limits` (NULL: defaults), carving every table out of `memory`
 * (`size` bytes, 16-byte aligned, at least uprobes_memory_required(limits)). The engine never
 * allocates anything else. Calling it again forgets every probe and process.
 * Returns 0, -UPROBES_E_INVALID_ARGUMENT (bad limits, misaligned memory) or -UPROBES_E_NO_SPACE.
 */
int uprobes_engine_init(const struct uprobes_limits* limits, void* memory, size_t size);

/* Installs the hit sink (NULL to remove); `user` is passed back to it. */
void uprobes_set_hit_sink(uprobes_hit_sink_fn sink, void* user);

/* Installs a record sink (both NULL to remove); `user` is passed back to it. */
void uprobes_set_record_sink(uprobes_record_reserve_fn reserve, uprobes_record_commit_fn commit,
                             void* user);

/* Copies counters and pool usage into *out. */
void uprobes_get_stats(struct uprobes_stats* out);

/* ---- probes ------------------------------------------------------------------------------ */

/*
 * The seed's call: an instruction/entry/return probe (type: enum uprobes_kind) in trace mode on
 * every process of `path` at link-time address `addr`. Same as uprobe_register_spec with those
 * fields. Returns the probe id (> 0) or a negative error.
 */
int uprobe_register(const char* path, uint64_t addr, uprobes_handler_fn handler,
                    uprobes_handler_fn post_handler, int type);

/*
 * Registers a probe. Validates the site (inside the program's text, on an instruction boundary,
 * an instruction that may be displaced: see the UPROBES_E_INSN_* / ADDR_* errors), then arms it
 * in every running process of the program the probe applies to, and remembers it so that every
 * later uprobes_on_exec of the program arms it too. Several probes may share one site.
 * The program is spec->path resolved by os_program_get (called before the engine lock is taken,
 * os_program_put after it is released): probes registered under two paths of one program (one
 * key) are probes of that one program.
 * Returns the probe id (> 0) or a negative error (-UPROBES_E_NO_SPACE when a pool is full,
 * -UPROBES_E_NOT_FOUND for an unknown program, -UPROBES_E_PORT_FAILURE when a hook failed).
 * Probe ids are not sequential: an id encodes a pool slot and a generation.
 */
int uprobe_register_spec(const struct uprobes_probe_spec* spec);

/*
 * As uprobe_register_spec, for the program `image` the kernel hands over (os_program_get is not
 * called; spec->path, which may be NULL, is kept for display). For a kernel that already holds the
 * image, e.g. a shell command registering on a running program.
 */
int uprobe_register_image(const struct uprobes_probe_spec* spec,
                          const struct uprobes_program_image* image);

/*
 * Removes probe `id`. When it was the last probe on its site, the original bytes are written back
 * in every process of the program. Returns 0, -UPROBES_E_NOT_FOUND, or -UPROBES_E_TEXT_CHANGED
 * when a process's bytes under the breakpoint were no longer the breakpoint (they are left alone
 * there; the probe is removed anyway).
 */
int uprobe_unregister(int id);

/* Hits of probe `id` so far, or a negative error. */
int64_t uprobe_hit_count(int id);

/* ---- conditions: GDB agent expressions (ruprobes/agent_expr.hpp) ----------------------- */

/*
 * A condition list is one or more GDB agent expressions, each a u16 little-endian length then
 * its bytecode (what gdb sends in `Z0,addr,kind;X len,bytes...`). uprobes_condition_check
 * validates one without running it: 0, or -UPROBES_E_EXPR_INVALID / -UPROBES_E_EXPR_UNSUPPORTED.
 */
int uprobes_condition_check(const uint8_t* list, size_t len);

/*
 * Evaluates a condition list for thread registers `ctx` of thread `tid` of process `pid` (user
 * memory read through os_copy_from_user, each evaluation bounded; the pseudo-registers
 * 0x1000 and 0x1001 read `pid` and `tid`). Returns 1 when any expression is non-zero
 * or fails to evaluate (a debugger must hear of the hit), 0 when every one is 0. Takes no lock
 * and touches no engine state: made to be called from a probe's uprobes_condition_fn.
 */
int uprobes_condition_holds(const struct uprobes_trap_context* ctx, uint32_t pid, uint32_t tid,
                            const uint8_t* list, size_t len);

/*
 * A tracepoint action: one agent expression run for its effects (trace, trace_quick, trace16,
 * tracenz collect memory, tracev collects a variable, setv sets one) over thread registers `ctx`
 * of thread `tid` of process `pid`, user memory read through os_copy_from_user. `variables[n]`
 * is trace state variable n (n < variable_count); the collectors may be NULL (nothing is
 * recorded) and return non-zero to refuse (the run then ends with -UPROBES_E_NO_SPACE).
 */
struct uprobes_action_env {
    const struct uprobes_trap_context* ctx;
    uint32_t pid;
    uint32_t tid;
    uint64_t* variables;
    uint32_t variable_count;
    int (*collect_memory)(void* user, uint64_t addr, const uint8_t* bytes, size_t len);
    int (*collect_variable)(void* user, uint32_t number, uint64_t value);
    void* user;
};

/*
 * Reads `len` bytes of user memory of process `pid` at `addr` into `dst` through
 * os_copy_from_user, with the process's read permissions and the raw bytes (an armed breakpoint
 * reads as its ebreak). Takes no lock and touches no engine state: made for a probe's handler,
 * which runs under the engine lock (uprobes_read_memory takes it). 0, -UPROBES_E_FAULT_LOAD when
 * any byte is not readable, or -UPROBES_E_INVALID_ARGUMENT.
 */
int uprobes_read_user(uint32_t pid, uint64_t addr, void* dst, size_t len);

/* Runs expression `code` (its bytecode, without a length prefix): 0, or a negative error
 * (-UPROBES_E_EXPR_*, -UPROBES_E_NO_SPACE). Takes no lock, touches no engine state. */
int uprobes_action_run(const struct uprobes_action_env* env, const uint8_t* code, size_t len);

/* What uprobe_iterate reports about one registered probe. */
struct uprobes_probe_info {
    int32_t id;
    uint8_t kind, mode; /* enum uprobes_kind, enum uprobes_mode */
    uint16_t reserved;
    uint32_t pid; /* UPROBES_ANY_PID or the filter */
    uint32_t reserved2;
    uint64_t addr;   /* link-time address */
    uint64_t cookie; /* as registered */
    uint64_t hits;
    char path[64]; /* the program, NUL-terminated */
};

/*
 * Walks the registered probes (e.g. to list them, or to re-synchronise a host after it
 * reconnected): start with *cursor = 0; each call fills *out with the next probe and returns 1,
 * or returns 0 when there are no more. Probes registered or removed during a walk may or may not
 * be seen; every probe present throughout is seen exactly once.
 */
int uprobe_iterate(uint32_t* cursor, struct uprobes_probe_info* out);

/* ---- process lifecycle (the kernel calls these) ------------------------------------------ */

/*
 * Process `pid` now runs the program `image` (its key and text range; text may be NULL), known as
 * `path` (for display; may be NULL), loaded with `load_bias` added to every link-time address (0
 * for static executables). Call after the new image and its xol page are mapped and before the
 * process runs, without holding a lock the port's hooks take. Forgets the pid's previous state,
 * writes the return trampoline into its xol page and arms every probe of the program (of its
 * key). Returns 0 or a negative error (-UPROBES_E_NO_SPACE when the process or program pool is
 * full: the process then runs unprobed).
 */
int uprobes_on_exec_image(uint32_t pid, const struct uprobes_program_image* image, const char* path,
                          uint64_t load_bias);

/*
 * uprobes_on_exec_image for the image os_program_get(path) gives (called before the engine lock
 * is taken, os_program_put after). An unknown path: the pid's previous state is forgotten and
 * -UPROBES_E_NOT_FOUND returned (the process runs unprobed).
 */
int uprobes_on_exec(uint32_t pid, const char* path, uint64_t load_bias);

/*
 * The seed's per-exec call: uprobes_on_exec(os_current_pid(), os_current_exec_path(), 0).
 * Only kernels that use it need to define os_current_exec_path.
 */
int uprobes_init(void);

/*
 * Process `parent_pid` forked `child_pid`, whose memory (text with breakpoints and xol page
 * included) is a copy of the parent's; thread `parent_tid` continues as `child_tid`. The child
 * inherits the parent's program and that thread's return stack. Call before the child runs.
 * Returns 0 or a negative error.
 */
int uprobes_on_fork(uint32_t parent_pid, uint32_t parent_tid, uint32_t child_pid,
                    uint32_t child_tid);

/* Thread `tid` of `pid` exited: frees its return stack and out-of-line slot. */
void uprobes_on_thread_exit(uint32_t pid, uint32_t tid);

/* Process `pid` exited (or is about to exec something unknown): frees everything it held. */
void uprobes_on_exit(uint32_t pid);

/* ---- traps ------------------------------------------------------------------------------- */

/*
 * Handles a breakpoint trap (scause 3) taken in U-mode by the current thread (os_current_pid /
 * os_current_tid). ctx->pc is the address of the trapping ebreak. Returns an enum
 * uprobes_trap_action: HANDLED (resume with ctx), NOT_OURS (pc and registers untouched), STOP
 * (stop the thread; on resume call uprobes_resume first) or FAULT (see uprobes_trap_handler_ex).
 */
int uprobes_trap_handler(struct uprobes_trap_context* ctx);

/* As uprobes_trap_handler, and fills *info (may be NULL) with the details. */
int uprobes_trap_handler_ex(struct uprobes_trap_context* ctx, struct uprobes_trap_info* info);

/*
 * As uprobes_trap_handler_ex for thread `tid` of process `pid`, which the kernel already knows
 * on its breakpoint path: the engine does not call os_current_pid / os_current_tid. `pid` and
 * `tid` must be those of the thread that trapped (what those hooks would return).
 */
int uprobes_trap_handler_thread(struct uprobes_trap_context* ctx, uint32_t pid, uint32_t tid,
                                struct uprobes_trap_info* info);

/*
 * As uprobes_trap_handler_thread for a kernel that already holds the engine's lock on its
 * breakpoint path (it called os_uprobes_lock, or its lock is empty: one hart and no concurrency
 * inside the kernel) and releases it after the call: the engine takes no lock itself. `ctx` and
 * `info` must not be NULL. The trap path's cheapest entry: no lock calls inside the engine, so
 * the handler keeps the few registers it needs (measured in BENCHMARKS.md).
 */
int uprobes_trap_handler_locked(struct uprobes_trap_context* ctx, uint32_t pid, uint32_t tid,
                                struct uprobes_trap_info* info);

/*
 * The hit path without the engine's lock, for a kernel on several harts: as
 * uprobes_trap_handler_thread, called WITHOUT os_uprobes_lock held, on hart `hart`
 * (0 .. UPROBES_MAX_HARTS - 1, one index per hart, stable while the call runs), with interrupts
 * off. Harts run it at the same time as each other and as every locked engine call: it reads the
 * tables under a per-hart marker that the engine's writers wait for before they change anything
 * (a registration, an exec or exit, a thread's first record), so it never sees a table half
 * written and never takes a lock. It handles the common hits: a site whose one INSN/ENTRY
 * consumer is in trace mode (its handler, its record into the record sink or the hit sink, or
 * its count) and whose instruction the engine simulates inline or steps in the thread's
 * out-of-line slot that holds it already; a RETURN probe's entry push for a thread that has its
 * record; the return, unless a stop-mode RETURN probe applies. It returns UPROBES_TRAP_HANDLED
 * (resume with ctx) or UPROBES_TRAP_RETRY: nothing changed (ctx, tables, hit counts; the lookup
 * statistics may count the lookup twice), and the kernel calls uprobes_trap_handler_thread (or
 * _locked) for the same trap. Handlers, conditions, the hit sink and the record sink then run on
 * several harts at once without the engine's lock: they must not wait for anything the lock's
 * holder may hold (the agent's sinks take only os_agent_lock, after the engine lock in the lock
 * order; os_agent_notify must not sleep). `ctx` must not be NULL.
 */
int uprobes_trap_handler_concurrent(struct uprobes_trap_context* ctx, uint32_t pid, uint32_t tid,
                                    uint32_t hart);

/*
 * Before resuming a thread that uprobes_trap_handler stopped: if it stopped on a probe and its pc
 * is still that probe's address, executes the displaced instruction (no handlers run again) so
 * that the thread does not hit the same breakpoint again. Returns an enum uprobes_trap_action
 * like the trap handler (HANDLED in the common case), or, for a stop-mode probe on an `ecall` or
 * on the program's own `ebreak`, -UPROBES_E_INSN_ECALL / -UPROBES_E_INSN_EBREAK with ctx
 * untouched: the kernel executes that instruction itself (makes the system call with the
 * thread's registers, pc advanced by 4 / delivers the program's breakpoint trap).
 */
int uprobes_resume(struct uprobes_trap_context* ctx);

/* As uprobes_resume, and fills *info (may be NULL): a FAULT's address, as for the trap handler. */
int uprobes_resume_ex(struct uprobes_trap_context* ctx, struct uprobes_trap_info* info);

/*
 * Single-steps the current thread by one instruction of its original program (breakpoints are
 * looked through; no handlers run). A thread stopped inside the xol page (in its out-of-line slot,
 * or at the return trampoline) finishes that instead (at the start of a slot that jumps back, the
 * instruction not yet run, the step is that instruction's, run again from the probed address).
 * Returns UPROBES_TRAP_STOP when the step is complete (ctx advanced: report the stop),
 * UPROBES_TRAP_HANDLED when the step runs out of line (resume the thread; its next trap ends with
 * UPROBES_TRAP_STOP), UPROBES_TRAP_FAULT (see info), or -UPROBES_E_INSN_ECALL /
 * -UPROBES_E_INSN_EBREAK for an `ecall` / `ebreak` (ctx untouched: the kernel executes it, as for
 * uprobes_resume). Every other instruction steps out of line, CSR access, fence.i and lr/sc
 * included; a privileged or illegal one faults in the slot (call uprobes_fixup_fault as for any
 * fault).
 */
int uprobes_single_step(struct uprobes_trap_context* ctx, struct uprobes_trap_info* info);

/*
 * Call before reporting any other fault of a user thread: if the thread was executing an
 * out-of-line slot, moves ctx->pc back to the probed address and forgets the step, so the fault
 * is reported where the program sees it. Returns 1 when ctx was changed, 0 otherwise.
 */
int uprobes_fixup_fault(struct uprobes_trap_context* ctx);

/*
 * The pc to show a debugger for thread `tid` of `pid` whose registers are *ctx (it need not be the
 * current thread): ctx->pc, except inside the xol page, where the thread stands for a program
 * address: in its out-of-line slot, the probed instruction (not yet run) or the one after it (run);
 * at the return trampoline, the address the function returns to.
 */
uint64_t uprobes_program_pc(uint32_t pid, uint32_t tid, const struct uprobes_trap_context* ctx);

/*
 * The ra to show a debugger for thread `tid` of `pid`: ctx->x[1], or, when a return probe put the
 * trampoline there, the real return address it stands for.
 */
uint64_t uprobes_program_ra(uint32_t pid, uint32_t tid, const struct uprobes_trap_context* ctx);

/*
 * A debugger writes `ra` as the ra of thread `tid` of `pid` whose registers are *ctx: when a return
 * probe put the trampoline in ctx->x[1], the pending return now goes to `ra` (the probe still
 * fires) and 1 is returned, ctx left as it is; otherwise 0 (the caller writes ctx->x[1] itself).
 */
int uprobes_set_program_ra(uint32_t pid, uint32_t tid, const struct uprobes_trap_context* ctx,
                           uint64_t ra);

/* ---- memory views for debuggers ---------------------------------------------------------- */

/*
 * Reads `len` bytes of process `pid` at `addr` as the program would see them without probes: the
 * original bytes under armed breakpoints, and the real return address in every aligned doubleword
 * that holds the return trampoline in a stack frame of a pending return probe (so debuggers
 * unwind through probed functions). Returns 0 or a negative error (-UPROBES_E_FAULT_LOAD if
 * unmapped).
 */
int uprobes_read_memory(uint32_t pid, uint64_t addr, void* dst, size_t len);

/*
 * Writes `len` bytes into process `pid` at `addr` (text included, through os_text_poke where a
 * site is armed): bytes under an armed breakpoint update the saved original instead, so the
 * breakpoint stays and the new instruction runs when it is hit. Returns 0 or a negative error.
 */
int uprobes_write_memory(uint32_t pid, uint64_t addr, const void* src, size_t len);

/* ---- conformance self-test (a port runs it at boot) --------------------------------------- */

/* What the port gives uprobes_conformance_run: one program and two callbacks. */
struct uprobes_conformance_port {
    const char* path;    /* the program, as probes name it ("/bin/fib") */
    const char* command; /* what start() runs: that program with its arguments ("/bin/fib 15") */
    uint64_t function;   /* link-time address of a function's first instruction (no load bias) */
    uint64_t calls;      /* how many times one run of `command` calls it; it then exits with 0 */
    void* user;          /* passed to the callbacks */
    /* Starts `command`: returns its pid (> 0) or a negative value. The process must not run user
     * code before run() is called for it (probes are registered in between). */
    int64_t (*start)(void* user, const char* command);
    /* Lets process `pid` run, after resuming it (uprobes_resume in its context) if the engine
     * stopped it: returns 1 when the engine stops it again (UPROBES_TRAP_STOP), 0 when it exits
     * (*status: its exit status), negative when neither happens in reasonable time. */
    int (*run)(void* user, int64_t pid, int* status);
};

/* What uprobes_conformance_run saw. */
struct uprobes_conformance_report {
    uint64_t entry_hits;  /* entry-probe hits over one run (must be `calls`) */
    uint64_t return_hits; /* return-probe hits over the same run (must be `calls`) */
    uint32_t stops;       /* stops of the stop-mode probe (must be 1) */
    int32_t failed_check; /* 0, or the first check that failed (see uprobes_conformance_run) */
};

/*
 * The engine's conformance self-test, for a port to run at boot, with no lock held, from a
 * thread that may sleep: checks 1-4: an entry and a return probe on `function`, registered
 * before start() (armed at exec), count exactly `calls` hits each over one run, which exits with
 * 0, and unregister cleanly; checks 5-9: a stop-mode probe registered on the started process
 * (armed in a live process) stops it at `function` with the breakpoint in its text, unregistering
 * while it is stopped restores the original bytes there (as os_program_get gives them), and the
 * resumed process runs to its end with 0 and no other stop. Returns 0 when all pass, the number
 * of the first failed check otherwise (also in *out), -UPROBES_E_INVALID_ARGUMENT for an
 * incomplete `port`. Every probe it registers is unregistered before it returns.
 */
int uprobes_conformance_run(const struct uprobes_conformance_port* port,
                            struct uprobes_conformance_report* out);

/* ---- port hooks: the kernel defines these ------------------------------------------------ */
/*
 * "Under the lock": called between os_uprobes_lock and os_uprobes_unlock, from the trap path or an
 * engine call; must not sleep, block on I/O or take a lock the kernel holds around engine calls.
 * "Outside the lock": the engine holds nothing; may sleep. docs/porting.md has the table.
 */

/* Copies `len` bytes from user address `src` of process `pid` into kernel memory `dst`, with the
 * process's user read permissions. Returns 0, or non-zero if any byte is not readable.
 * Under the lock (trap path: simulated loads; probe arming, memory views, conditions): must not
 * sleep, so a page that is not resident fails instead of being faulted in. */
int os_copy_from_user(uint32_t pid, void* dst, uint64_t src, size_t len);

/* Copies `len` bytes from kernel memory `src` to user address `dst` of process `pid`, with the
 * process's user write permissions (a store to read-only text must fail). 0 or non-zero, all or
 * nothing. Under the lock (trap path: simulated stores, return probes), must not sleep. */
int os_copy_to_user(uint32_t pid, uint64_t dst, const void* src, size_t len);

/* Writes `len` (<= 16) bytes into process `pid`'s executable memory at `addr` (its text or its
 * xol page), whatever the user permissions, affecting that process only. 0 or non-zero.
 * Breakpoints and restored originals are len 2 or 4 at an even address, and another hart may be
 * running the process: never copy them byte by byte. len 2, and len 4 at a 4-aligned address: one
 * aligned store of that size. len 4 at an address that is 2 mod 4 cannot be one store: write it
 * while no other hart runs the process, or into a copy of the page swapped in with one PTE store
 * (docs/porting.md, "SMP"). Out-of-line slots (len 6 or 8) and the return trampoline (len 4) are
 * written where no other thread executes. Under the lock (registration, exec, fork, memory
 * writes, the trap path), must not sleep. */
int os_text_poke(uint32_t pid, uint64_t addr, const void* src, size_t len);

/* Makes instruction fetches of process `pid` see earlier os_text_poke writes to [addr, addr+len):
 * fence.i on this hart, and on every other hart that may run the process (a remote fence.i, e.g.
 * SBI remote_fence_i) before returning. Under the lock, after every poke; must not sleep (it may
 * wait for other harts' acknowledgements). */
void os_icache_flush(uint32_t pid, uint64_t addr, size_t len);

/* The user address of process `pid`'s xol page: 4096 bytes, user-executable, not user-writable
 * ideally, mapped by the kernel at exec (before uprobes_on_exec) and copied by the kernel at fork
 * with the rest of the address space (before uprobes_on_fork). 0 if the process has none (then
 * return probes and out-of-line steps are unavailable there). Within +-1 MiB of the program's text
 * (a jal's reach), an out-of-line hit costs one trap: the slot jumps back to the program instead
 * of ending with an ebreak. Under the lock (exec, fork). */
uint64_t os_xol_page(uint32_t pid);

/* The pid and tid of the thread running on this hart (the one that trapped). Under the lock, from
 * uprobes_trap_handler, uprobes_trap_handler_ex, uprobes_resume(_ex), uprobes_single_step and
 * uprobes_fixup_fault only, and (the pid, without the lock) from uprobes_init;
 * uprobes_trap_handler_thread takes them as arguments, every other call names the process. */
uint32_t os_current_pid(void);
uint32_t os_current_tid(void);

/* A monotonic clock in nanoseconds. Under the lock, once per hit that builds a record. */
uint64_t os_time_ns(void);

/* The engine's lock: taken around every uprobes_* call (except uprobes_condition_holds and
 * uprobes_trap_handler_locked, whose caller holds it, and around only the middle part of the
 * calls that reach os_program_get); never taken recursively.
 * Usable from the trap path: a spinlock with interrupts off on SMP. A kernel without concurrency
 * (one hart, no preemption inside the kernel) may leave both empty. */
void os_uprobes_lock(void);
void os_uprobes_unlock(void);

/* Optional (the engine has weak defaults that do nothing), for a kernel that calls
 * uprobes_trap_handler_concurrent: while a writer (any engine call that changes the tables, under
 * the engine's lock, interrupts off) waits for a hart to leave the lock-free hit path, it calls
 * os_uprobes_wait_section() in a loop; a hart that leaves the path while a writer may wait calls
 * os_uprobes_section_left(). With the defaults the writer spins, which is enough when every hart
 * runs at once; a kernel whose harts may run in turns (QEMU -icount runs them from one thread, and
 * a hart that spins can keep the one it waits for from running) sleeps in wait_section until
 * section_left wakes it (an IPI to the other harts), or until any interrupt: the loop looks again.
 * Neither may take a lock. */
void os_uprobes_wait_section(void);
void os_uprobes_section_left(void);

/* Resolves program `path` to its image: fills *out (key, text range, text bytes: see struct
 * uprobes_program_image). Returns 0, or non-zero for an unknown program. OUTSIDE the lock, may
 * sleep (read the text from a file system, allocate a buffer): from uprobe_register(_spec) and
 * uprobes_on_exec, before they take the lock. Every successful call is paired with one
 * os_program_put once the engine is done with the bytes. */
int os_program_get(const char* path, struct uprobes_program_image* out);

/* Releases what os_program_get handed over (e.g. frees the text buffer). OUTSIDE the lock, may
 * sleep. */
void os_program_put(struct uprobes_program_image* image);

/* Only for uprobes_init(): the path of the program the current process just exec'ed. Called
 * outside the lock, before os_program_get. */
const char* os_current_exec_path(void);

#ifdef __cplusplus
}
#endif

#endif

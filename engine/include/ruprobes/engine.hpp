// The uprobe engine: probe registry, arming, the hit path, return probes and process state, all
// in fixed pools carved at init from memory the kernel hands over. The C ABI (ruprobes.h) drives
// one global instance of this class; C++ kernels and the host tests may use it directly.
//
// Data structures (capacities from uprobes_limits):
//   programs   array, looked up by the kernel's key (registration and exec only); the path is
//              only the name shown for it
//   sites      one per (program, link-time address) with at least one probe; the decoded
//              original instruction lives here; hash (program, address) -> site: O(1) on hits
//   site_hot   per site, one 64-byte line with what a hit reads (key, compact instruction, and
//              the consumer when there is exactly one plain probe), derived from the site and
//              its probes by refresh_hot(); the hash table (site_index.hpp) holds 8-byte slots
//   probes     consumers of a site (a singly linked list per site), ids stable until unregister;
//              hit counts in a dense array beside them (probe_hits_)
//   processes  one per pid running a known program; hash pid -> process: O(1) on hits
//   threads    created on demand (return probes, out-of-line steps); hash (pid, tid) -> thread;
//              each owns `max_return_depth` return-stack entries and one slot of the xol page
// Nothing on the hit path allocates or walks a list whose length grows with the number of
// probes: a hit costs two hash lookups plus the work for the consumers of that one site.
#pragma once

#include "ruprobes/base.hpp"
#include "ruprobes/insn.hpp"
#include "ruprobes/open_table.hpp"
#include "ruprobes/ruprobes.h"
#include "ruprobes/site_index.hpp"

namespace ruprobes {

inline constexpr uint32_t nil = 0xffffffffu;
inline constexpr size_t max_path_length = 63; // bytes of a program path, without the NUL
inline constexpr uint64_t xol_page_size = 4096;
inline constexpr uint64_t xol_none_base = ~uint64_t{0} - xol_page_size + 1;
inline constexpr uint64_t xol_slot_size = 16; // instruction (2 or 4) + ebreak (4), padded
inline constexpr uint32_t xol_slots = static_cast<uint32_t>(xol_page_size / xol_slot_size);
inline constexpr uint32_t checkpoints_per_program = 32;

struct program_rec {
    uint64_t key = 0;                    // the kernel's identity of the program; 0: free
    char path[max_path_length + 1] = {}; // the name shown for it (uprobe_iterate)
    uint32_t site_head = nil;            // sites of the program (site_rec::next_in_program)
    uint32_t process_head = nil;         // processes running it (process_rec::next_in_program)
    // Instruction-boundary checkpoints over the text, filled by the first validation:
    // checkpoint[i] is the first boundary at or after text_begin + i * stride.
    uint64_t text_begin = 0, text_end = 0, stride = 0;
    uint64_t checkpoint[checkpoints_per_program] = {};
    bool checkpoints_valid = false;
};

struct site_rec {
    uint32_t program = nil; // nil: free
    uint32_t next_in_program = nil;
    uint32_t probe_head = nil;  // probes on this site (probe_rec::next_in_site)
    uint32_t consumers = 0;     // probes on this site
    uint32_t any_pid = 0;       // of which without a pid filter
    uint32_t post_handlers = 0; // of which with a post_handler (INSN/ENTRY)
    uint32_t generation = 0;    // bumped at each reuse of the record
    uint64_t addr = 0;          // link-time address
    decoded_insn insn;          // the original instruction (insn.raw, insn.length)
    // The site's only RETURN probe when it is for every pid, in trace mode, with no condition,
    // no handler and a cookie of 0 (refresh_hot): a return then writes its record into the
    // record sink, as an entry hit does (return_trap). nil: the return walks the probe list.
    uint32_t return_ring = nil;
    uint32_t return_ring_id = 0; // that probe's id
};

struct probe_rec {
    int32_t id = 0; // 0: free
    uint32_t site = nil;
    uint32_t next_in_site = nil;
    uint32_t pid = 0; // UPROBES_ANY_PID or the only pid it fires in
    uint8_t kind = 0, mode = 0;
    uprobes_handler_fn handler = nullptr;
    uprobes_handler_fn post_handler = nullptr;
    uprobes_condition_fn condition = nullptr;
    void* user = nullptr;
    uint64_t cookie = 0;
};

// Whether probe `p` fires in process `pid` (no pid filter, or that pid).
inline bool applies(const probe_rec& p, uint32_t pid) {
    return p.pid == UPROBES_ANY_PID || p.pid == pid;
}

// How a hit on a site runs (site_hot::path).
// (simple is 0: the hit path tests it first, against zero.)
enum class hot_path : uint8_t {
    simple,      // plain, with no pid filter, in trace mode, on an instruction run inline
    general,     // the consumer list over the probe records (site_hit)
    plain,       // one INSN/ENTRY consumer, from the hot line alone (plain_hit)
    with_return, // at most one such consumer and a RETURN probe for every pid (plain_hit too)
};

// The hit path's copy of a site (one cache line; a derived cache of site_rec and its probes,
// rewritten by refresh_hot() whenever they change). Unless `path` is general the hit needs
// nothing but this line (and a hit counter, and with a return probe the thread's return stack):
// the site has at most one INSN/ENTRY consumer, without condition or post-handler, whose fields
// are copied here (`entry`), and at most one RETURN probe, for every pid (`returns`).
// The first doubleword of a uprobes_hit (probe id, kind, mode, flags), kept in this form in the
// hot line so that a hit record gets it with one load and one store (hit_word: GCC's
// may_alias, the store into the record is a store of a doubleword, not of eight bytes).
struct alignas(8) hit_head {
    uint32_t probe_id = 0;
    uint8_t kind = 0, mode = 0;
    uint16_t flags = 0;
};
static_assert(sizeof(hit_head) == 8 && __builtin_offsetof(uprobes_hit, pid) == 8);
using hit_word [[gnu::may_alias]] = uint64_t;

// What a hot line's consumer fields describe (site_hot::entry).
enum class hot_entry : uint8_t {
    none,  // no INSN/ENTRY consumer
    plain, // an INSN/ENTRY consumer
    ring,  // one whose hits the record sink takes when there is one: no handler, cookie 0, trace
};

struct site_hot {
    uint64_t addr = 0;         // link-time address; with program, the lookup key
    uint32_t program = nil;    // nil: free
    uint32_t probe_offset = 0; // entry: the consumer's hit counter, 8 * its pool index
    uprobes_handler_fn handler = nullptr;
    void* user = nullptr;
    uint64_t cookie = 0;
    hit_head head;    // the consumer's id, kind and mode (flags 0)
    uint32_t pid = 0; // the consumer's pid filter
    // fast: the displaced instruction's fields (see decoded_insn), but the opcode in one byte,
    // registers as byte offsets into uprobes_trap_context::x (8 * n), and fence for an
    // operation writing x0.
    int32_t imm = 0;
    uint8_t op = 0;
    uint8_t rd = 0, rs1 = 0, rs2 = 0, length = 0;
    bool fast = false; // op is one the hit path runs inline (RV64I without memory access)
    hot_path path = hot_path::general;
    hot_entry entry = hot_entry::none; // what the consumer fields above describe
};
static_assert(sizeof(site_hot) == 64, "one cache line per site");

struct process_rec {
    uint32_t pid = 0;
    bool used = false;
    uint32_t program = nil;
    uint32_t next_in_program = nil;
    uint32_t thread_head = nil;
    uint64_t bias = 0;
    uint64_t xol = 0; // user address of the xol page, 0: none
    // Where the hit path looks for the xol page: xol, or with none the top page of the address
    // space, which no user pc reaches, so that `pc - xol_trap_base < xol_page_size` alone says
    // "in the xol page" (set_xol).
    uint64_t xol_trap_base = xol_none_base;
    uint64_t xol_used[xol_slots / 64] = {}; // slot bitmap; slot 0 is the return trampoline
};

// Sets the xol page of `p` (0: none) and the hit path's base for it.
void set_xol(process_rec& p, uint64_t page);

// One pending function return: what the ra hijack replaced.
struct return_entry {
    uint64_t orig_ra = 0;
    uint64_t sp = 0;       // sp at function entry; the return happens with the same sp
    uint64_t entry_pc = 0; // the function's probed address (user address)
    uint32_t site = nil;
    uint32_t site_generation = 0;
};

// What a thread's out-of-line slot is doing. probe_step and single_step: the slot ends with an
// ebreak that brings the thread back through xol_trap (two traps per hit). jumped: the slot ends
// with a `jal x0` back to the instruction after the probed one and no trap ends it (one trap per
// hit); the thread is in the slot only while its pc is the slot's start (the instruction not yet
// run) or its jal (run), and it has left when its pc is anywhere else.
enum class xol_state : uint8_t { idle, probe_step, single_step, jumped };

struct thread_rec {
    uint32_t pid = 0, tid = 0;
    bool used = false;
    uint32_t process = nil;
    uint32_t next_in_process = nil;
    uint32_t xol_slot = 0; // 0: none yet (slot 0 is the trampoline)
    xol_state xol = xol_state::idle;
    bool xol_stop_after = false; // a single-step asked to stop when the slot finishes
    uint8_t xol_length = 0;
    bool xol_cached_jump = false; // the slot ends with a jal to xol_return_pc, not an ebreak
    uint32_t xol_cached_raw = 0;  // what the slot holds now (0: unknown)
    uint32_t xol_site = nil, xol_site_generation = 0;
    uint64_t xol_return_pc = 0; // where the thread resumes after the slot
    return_entry* stack = nullptr;
    uint32_t depth = 0;
    // The site whose probe stopped the thread (nil: none, or a return probe): uprobes_resume
    // executes a displaced instruction only when the thread still stands on that site (a
    // debugger may have moved it, and a return stands on no site).
    uint32_t probe_stop_site = nil;
};

struct pid_slot {
    using key_type = uint32_t;
    uint32_t pid;
    uint32_t process; // nil: empty
    static uint64_t hash(const key_type& k) { return mix64(k); }
    bool empty() const { return process == nil; }
    void clear() { process = nil; }
    bool matches(const key_type& k) const { return pid == k; }
    key_type key() const { return pid; }
};

struct thread_slot {
    struct key_type {
        uint32_t pid, tid;
    };
    uint32_t pid, tid;
    uint32_t thread; // nil: empty
    uint32_t pad;
    static uint64_t hash(const key_type& k) { return mix64(uint64_t{k.pid} << 32 | k.tid); }
    bool empty() const { return thread == nil; }
    void clear() { thread = nil; }
    bool matches(const key_type& k) const { return pid == k.pid && tid == k.tid; }
    key_type key() const { return {pid, tid}; }
};

// The most harts the lock-free hit path serves (uprobes_trap_handler_concurrent).
inline constexpr uint32_t max_harts = UPROBES_MAX_HARTS;

// What one hart counts on the lock-free hit path (stats() adds them up): uprobes_stats' fields
// of the same names, and fast_hits as engine::fast_hits_.
struct hart_counters {
    uint64_t fast_hits = 0;
    uint64_t traps = 0, hits = 0, simulated = 0, out_of_line = 0, lookups = 0, lookup_slots = 0;
    uint64_t return_hits = 0, return_dropped = 0, return_skipped = 0;
};

// A trap and its site lookup of one slot, counted in a hart's counters.
inline void count_trap_lookup(hart_counters& c) {
    c.traps++;
    c.lookups++;
    c.lookup_slots++;
}

// One hart's part of the engine for the hits it takes without the lock: whether it is reading
// the tables now, its caches of the last process, site and thread (checked by key, as the
// engine's own), and its counters. Only that hart writes it, but for in_section, which writers
// read.
struct alignas(64) hart_rec {
    uint64_t in_section = 0; // 1 while the hart reads the tables (begin_write waits for 0)
    process_rec* last_process = nullptr;
    const site_hot* last_hot = nullptr;
    thread_rec* last_thread = nullptr;
    hart_counters counters;
};

class engine {
public:
    constexpr engine() = default;

    // Fills defaults into `limits` and checks them; invalid_argument if unusable.
    static result<uprobes_limits> effective_limits(const uprobes_limits* limits);
    // Bytes init() needs for `limits`.
    static size_t memory_required(const uprobes_limits& limits);
    // Carves every table out of `memory` and forgets all state. See uprobes_engine_init.
    result<void> init(const uprobes_limits* limits, void* memory, size_t size);

    void set_record_sink(uprobes_record_reserve_fn reserve, uprobes_record_commit_fn commit,
                         void* user) {
        const bool both = reserve != nullptr && commit != nullptr;
        record_reserve_ = both ? reserve : nullptr;
        record_commit_ = both ? commit : nullptr;
        record_user_ = both ? user : nullptr;
    }
    void set_hit_sink(uprobes_hit_sink_fn sink, void* user) {
        sink_ = sink;
        sink_user_ = user;
    }
    void stats(uprobes_stats* out) const;

    // Probes (registry + arming, arming.cpp). register_probe returns the id.
    // `image` is the program (the kernel's key, its text); spec.path only names it.
    result<int32_t> register_probe(const uprobes_probe_spec& spec,
                                   const uprobes_program_image& image);
    result<void> unregister_probe(int32_t id);
    result<uint64_t> hit_count(int32_t id) const;
    // The next probe at or after pool index *cursor (see uprobe_iterate).
    bool iterate(uint32_t* cursor, uprobes_probe_info* out) const;

    // Lifecycle (processes.cpp).
    result<void> on_exec(uint32_t pid, const uprobes_program_image& image, const char* path,
                         uint64_t bias);
    result<void> on_fork(uint32_t parent_pid, uint32_t parent_tid, uint32_t child_pid,
                         uint32_t child_tid);
    void on_thread_exit(uint32_t pid, uint32_t tid);
    void on_exit(uint32_t pid);

    // Traps (hit_path.cpp, return_probes.cpp).
    int trap(uprobes_trap_context* ctx, uprobes_trap_info* info);
    // trap() for thread `tid` of process `pid`, which the caller names
    // (uprobes_trap_handler_thread). Unlike every other member it takes the port lock itself.
    int trap_thread(uint32_t pid, uint32_t tid, uprobes_trap_context* ctx, uprobes_trap_info* info);
    // trap_thread() for a caller that holds the port lock already: the body of
    // uprobes_trap_handler_locked, inline in hit_path.cpp only; `info` must not be null.
    int trap_locked(uint32_t pid, uint32_t tid, uprobes_trap_context* ctx, uprobes_trap_info* info);
    // trap_thread() without the lock, on hart `hart`: HANDLED for the hits it can take alone,
    // else RETRY with nothing changed (uprobes_trap_handler_concurrent; concurrent_hit.cpp).
    int trap_concurrent(uint32_t pid, uint32_t tid, uint32_t hart, uprobes_trap_context* ctx);
    // Brackets every change to what trap_concurrent() reads (the C ABI's writers, a new thread
    // record): begin_write() waits until no hart reads the tables and keeps new readers out
    // until the matching end_write(). Nested brackets are one. Under the engine's lock.
    void begin_write();
    void end_write();
    int resume(uprobes_trap_context* ctx, uprobes_trap_info* info);
    int single_step(uprobes_trap_context* ctx, uprobes_trap_info* info);
    bool fixup_fault(uprobes_trap_context* ctx);
    uint64_t program_pc(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx) const;
    uint64_t program_ra(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx) const;
    bool set_program_ra(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx, uint64_t ra);

    // Memory views (memory_view.cpp).
    result<void> read_memory(uint32_t pid, uint64_t addr, uint8_t* dst, size_t len);
    result<void> write_memory(uint32_t pid, uint64_t addr, const uint8_t* src, size_t len);

private:
    // registry.cpp
    probe_rec* probe_by_id(int32_t id) const;
    // The program of `key`, created (named `path`, which may be null) if new.
    result<uint32_t> find_or_add_program(uint64_t key, const char* path);
    uint32_t find_program(uint64_t key) const;
    void release_program(uint32_t program);
    // The instruction at `addr`; with `stop_only` (a stop-mode INSN/ENTRY probe) every class is
    // accepted, else the decoder's refusals apply.
    result<decoded_insn> validate_site(program_rec& prog, const uprobes_program_image& image,
                                       uint64_t addr, bool stop_only);
    result<void> fill_checkpoints(program_rec& prog, const uprobes_program_image& image);
    site_rec* lookup_site(uint32_t program, uint64_t addr);
    uint32_t find_site(uint32_t program, uint64_t addr);
    uint32_t find_site_uncounted(uint32_t program, uint64_t addr);
    const site_hot* find_hot(uint32_t program, uint64_t addr, uint64_t* beyond_home);
    void refresh_hot(uint32_t site);
    bool armed_for(const site_rec& site, uint32_t pid) const;

    // arming.cpp
    result<void> arm(const process_rec& proc, const site_rec& site);
    result<void> arm_all(const process_rec& proc, const program_rec& prog);
    result<void> disarm(const process_rec& proc, const site_rec& site);

    // processes.cpp
    process_rec* find_process(uint32_t pid) const;
    thread_rec* find_thread(uint32_t pid, uint32_t tid) const;
    thread_rec* find_thread_in_table(uint32_t pid, uint32_t tid) const;
    result<thread_rec*> thread_for(process_rec& proc, uint32_t tid);
    result<thread_rec*> new_thread(process_rec& proc, uint32_t tid);
    void free_thread(thread_rec& t);
    void free_process(process_rec& p);
    result<uint32_t> alloc_xol_slot(process_rec& proc);
    void take_slot_of(process_rec& proc, thread_rec& t, const thread_rec& from);

    // hit_path.cpp, return_probes.cpp
    int trap_body(uint32_t pid, uint32_t tid, uprobes_trap_context* ctx, uprobes_trap_info* info);
    int missing_site(uint32_t pid, uint64_t pc, uprobes_trap_info* info);
    int stop_at_probe(process_rec& proc, uint32_t tid, uint32_t site_slot, uint64_t pc,
                      uint32_t probe_id, uprobes_trap_context* ctx, uprobes_trap_info* info);
    int site_hit(process_rec& proc, uint32_t tid, site_rec& site, uprobes_trap_context* ctx,
                 uprobes_trap_info* info);
    uint32_t fire_consumers(process_rec& proc, uint32_t tid, const site_rec& site, uint64_t pc,
                            uprobes_trap_context* ctx, bool& hijack);
    void count_trap();
    template <hot_path path>
    int plain_hit(process_rec& proc, uint32_t tid, const site_hot& h, uint64_t pc,
                  uprobes_trap_context* ctx, uprobes_trap_info* info);
    // What hot_entry_fire() reports: the consumer is a stop-mode probe; a handler ran (and may
    // have moved the pc).
    static constexpr unsigned fired_stop = 1, fired_handler = 2;
    unsigned hot_entry_fire(const site_hot& h, process_rec& proc, uint32_t tid, uint64_t pc,
                            uprobes_trap_context* ctx);
    void hijack_return(process_rec& proc, uint32_t tid, uint32_t site_slot,
                       uprobes_trap_context* ctx);
    void hijack_return_lookup(process_rec& proc, uint32_t tid, uint32_t site_slot,
                              uprobes_trap_context* ctx);
    int execute_displaced_call(process_rec& proc, uint32_t tid, uint32_t site_slot,
                               uprobes_trap_context* ctx, uprobes_trap_info* info);
    int execute_displaced_rest(process_rec& proc, uint32_t tid, uint32_t site_slot,
                               uprobes_trap_context* ctx, uprobes_trap_info* info);
    int execute_displaced(process_rec& proc, uint32_t tid, const decoded_insn& insn,
                          uint32_t site_slot, uint64_t pc, uprobes_trap_context* ctx,
                          uprobes_trap_info* info, bool single_step);
    int step_out_of_line(process_rec& proc, uint32_t tid, const decoded_insn& insn,
                         uint32_t site_slot, uint64_t pc, uprobes_trap_context* ctx,
                         uprobes_trap_info* info, bool single_step);
    bool slot_jumps(const process_rec& proc, const thread_rec& t, uint32_t site_slot, uint64_t pc,
                    bool single_step) const;
    static bool slot_holds(const thread_rec& t, const decoded_insn& insn, uint64_t pc, bool jump);
    static uint32_t slot_key(const decoded_insn& insn);
    template <typename Counters>
    int enter_slot(process_rec& proc, thread_rec& t, const decoded_insn& insn, uint32_t site_slot,
                   uint64_t pc, bool jump, bool single_step, uprobes_trap_context* ctx,
                   uprobes_trap_info* info, Counters& counters);
    // execute_displaced() as a real call (it is always_inline), for resume.cpp: resume after a
    // stop, single-step.
    int execute_displaced_noinline(process_rec& proc, uint32_t tid, const decoded_insn& insn,
                                   uint32_t site_slot, uint64_t pc, uprobes_trap_context* ctx,
                                   uprobes_trap_info* info, bool single_step);
    int xol_trap(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                 uprobes_trap_info* info);
    int single_step_in_xol(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                           uprobes_trap_info* info);
    // The original instruction of the program at `addr` (the saved one under a breakpoint).
    result<decoded_insn> program_insn(const process_rec& proc, uint64_t addr);
    // An lr at `pc` whose sequence up to its sc fits the thread's slot: runs lr..sc there as one
    // step, without a trap in between (a trap clears the reservation, so an sc stepped on its
    // own always fails). HANDLED, FAULT, or -1 when the sequence does not fit or is not plain,
    // or (a resume, not a step) a breakpoint is armed inside it.
    int step_lr_sc_sequence(process_rec& proc, uint32_t tid, const decoded_insn& lr, uint64_t pc,
                            uprobes_trap_context* ctx, uprobes_trap_info* info, bool single_step);
    void run_post_handlers(const process_rec& proc, uint32_t tid, const site_rec& site, uint64_t pc,
                           uprobes_trap_context* ctx);
    void push_return(process_rec& proc, uint32_t tid, uint32_t site_slot,
                     uprobes_trap_context* ctx);
    template <typename Counters>
    void push_onto(const process_rec& proc, thread_rec& t, uint32_t site_slot,
                   uprobes_trap_context* ctx, Counters& counters);
    int return_trap(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                    uprobes_trap_info* info);
    int return_trap_inline(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                           uprobes_trap_info* info);
    int return_trap_lookup(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                           uprobes_trap_info* info);
    int pop_return(process_rec& proc, uint32_t tid, thread_rec& t, uprobes_trap_context* ctx,
                   uprobes_trap_info* info);
    template <typename Counters>
    int return_record(uint32_t pid, uint32_t tid, const site_rec& site, uint64_t entry_pc,
                      uprobes_trap_context* ctx, uprobes_trap_info* info, Counters& counters);
    template <typename Counters>
    int fire_returns(process_rec& proc, uint32_t tid, thread_rec& t, const return_entry& entry,
                     uprobes_trap_context* ctx, uprobes_trap_info* info, Counters& counters);
    bool returns_stop(const site_rec& site, uint32_t pid) const;
    uint64_t saved_return_address(const process_rec& proc, uint64_t slot) const;
    return_entry* ra_entry(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx) const;
    void fill_hit(uprobes_hit& hit, uint32_t probe, uint32_t pid, uint32_t tid, uint64_t pc,
                  const uprobes_trap_context* ctx, uint64_t now) const;
    void emit(const uprobes_hit& hit) const {
        if (sink_ != nullptr)
            sink_(&hit, sink_user_);
    }
    int not_ours(uprobes_trap_info* info);

    // concurrent_hit.cpp
    bool enter_section(hart_rec& hr);
    void leave_section(hart_rec& hr);
    int leave(hart_rec& hr, int action);
    int concurrent_dispatch(process_rec& proc, uint32_t tid, hart_rec& hr,
                            uprobes_trap_context* ctx);
    int concurrent_find_process(uint32_t pid, uint32_t tid, hart_rec& hr,
                                uprobes_trap_context* ctx);
    int concurrent_site_or_thread(process_rec& proc, uint32_t tid, hart_rec& hr, const site_hot& h,
                                  uprobes_trap_context* ctx);
    int concurrent_site(process_rec& proc, uint32_t tid, hart_rec& hr, const site_hot* line,
                        uprobes_trap_context* ctx);
    int concurrent_thread_site(process_rec& proc, uint32_t tid, hart_rec& hr, const site_hot& h,
                               uprobes_trap_context* ctx);
    int concurrent_return(process_rec& proc, uint32_t tid, hart_rec& hr, uprobes_trap_context* ctx);
    thread_rec* concurrent_thread(const process_rec& proc, uint32_t tid, hart_rec& hr) const;
    int concurrent_return_list(process_rec& proc, uint32_t tid, hart_rec& hr, thread_rec& t,
                               uint32_t depth, uprobes_trap_context* ctx);

    uprobes_limits limits_ = {};
    bool ready_ = false;

    program_rec* programs_ = nullptr;
    site_rec* sites_ = nullptr;
    probe_rec* probes_ = nullptr;
    process_rec* processes_ = nullptr;
    thread_rec* threads_ = nullptr;
    return_entry* return_entries_ = nullptr;
    site_hot* hot_ = nullptr;        // parallel to sites_
    uint64_t* probe_hits_ = nullptr; // parallel to probes_

    site_index site_table_;
    open_table<pid_slot> process_table_;
    open_table<thread_slot> thread_table_;

    // Free lists (through site_rec::next_in_program, probe_rec::next_in_site, ...).
    uint32_t free_sites_ = nil, free_probes_ = nil, free_processes_ = nil, free_threads_ = nil;
    uint32_t programs_used_ = 0, sites_used_ = 0, probes_used_ = 0, processes_used_ = 0,
             threads_used_ = 0;
    uint32_t id_generation_ = 0;
    process_rec* last_process_ = nullptr; // the process of the last trap (a process_table_ cache)
    // The last hit's site (a site_table_ cache, checked by key).
    const site_hot* last_hot_ = nullptr;
    // Site lookups of the hit path, one slot each (the last-site line or the table's home slot;
    // the slots beyond it are in counters_.lookup_slots); stats() adds them in.
    uint64_t hit_lookups_ = 0;
    // Hits whose one plain consumer fired and whose instruction ran inline: one counter for a
    // trap, a lookup of one slot, a hit and a simulation (stats() adds them).
    uint64_t fast_hits_ = 0;
    mutable thread_rec* last_thread_ = nullptr; // the last thread find_thread found (a cache)
    // The lock-free hit path: one record per hart, and the writers' sequence (odd while one
    // changes the tables) with their nesting depth.
    hart_rec harts_[max_harts] = {};
    uint64_t write_seq_ = 0;
    uint32_t write_depth_ = 0;

    uprobes_hit_sink_fn sink_ = nullptr;
    void* sink_user_ = nullptr;
    uprobes_record_reserve_fn record_reserve_ = nullptr;
    uprobes_record_commit_fn record_commit_ = nullptr;
    void* record_user_ = nullptr;
    uprobes_stats counters_ = {};
};

// Counts a probe's hit in its counter (probe_hits_): one atomic add, since harts without the
// engine's lock count the same probe (uprobes_trap_handler_concurrent). Returns the new count.
[[gnu::always_inline]] inline uint64_t count_hit(uint64_t* counter) {
    return __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

// The instance behind the C ABI (c_abi.cpp). Kernels use the C functions, which take the port
// lock; the engine's own tests look at its state through this object.
extern engine c_abi_engine;

// The registers a record carries, from the trap's context: a0..a7, sp, ra, spelled out (a loop
// here becomes a memcpy call, slow in a kernel with a byte-wise memcpy). `Record` is
// uprobes_hit_record (the record sink's) or uprobes_hit.
template <typename Record>
[[gnu::always_inline]] inline void store_record_registers(Record* r,
                                                          const uprobes_trap_context* ctx) {
    r->a[0] = ctx->x[10];
    r->a[1] = ctx->x[11];
    r->a[2] = ctx->x[12];
    r->a[3] = ctx->x[13];
    r->a[4] = ctx->x[14];
    r->a[5] = ctx->x[15];
    r->a[6] = ctx->x[16];
    r->a[7] = ctx->x[17];
    r->sp = ctx->x[2];
    r->ra = ctx->x[1];
}

// A hit record of probe `id` at `pc` (inline, field by field, no memset: it runs for every hit
// that a handler, condition or sink wants). hit_count is the caller's.
inline void fill_hit_record(uprobes_hit& hit, int32_t id, uint8_t kind, uint8_t mode,
                            uint64_t cookie, uint32_t pid, uint32_t tid, uint64_t pc,
                            const uprobes_trap_context* ctx, uint64_t now) {
    hit.probe_id = static_cast<uint32_t>(id);
    hit.kind = kind;
    hit.mode = mode;
    hit.flags = 0;
    hit.pid = pid;
    hit.tid = tid;
    hit.pc = pc;
    hit.time_ns = now;
    store_record_registers(&hit, ctx);
    hit.retval = 0;
    hit.cookie = cookie;
}

// fill_hit_record() for the consumer of a hot line: the first doubleword copied as it is.
inline void fill_hit_record(uprobes_hit& hit, const hit_head& head, uint64_t cookie, uint32_t pid,
                            uint32_t tid, uint64_t pc, const uprobes_trap_context* ctx,
                            uint64_t now) {
    fill_hit_record(hit, static_cast<int32_t>(head.probe_id), 0, 0, cookie, pid, tid, pc, ctx, now);
    *reinterpret_cast<hit_word*>(&hit) = *reinterpret_cast<const hit_word*>(&head);
}

// A hit record for the probe at pool index `probe` at `pc`, with its current hit count.
inline void engine::fill_hit(uprobes_hit& hit, uint32_t probe, uint32_t pid, uint32_t tid,
                             uint64_t pc, const uprobes_trap_context* ctx, uint64_t now) const {
    const probe_rec& p = probes_[probe];
    fill_hit_record(hit, p.id, p.kind, p.mode, p.cookie, pid, tid, pc, ctx, now);
    hit.hit_count = probe_hits_[probe];
}

// The record of thread `tid` of `pid`, or nullptr. The thread found last is usually the one asked
// for again (entry then return of the same thread, the two traps of an out-of-line step): its
// hash lookup is skipped.
inline thread_rec* engine::find_thread(uint32_t pid, uint32_t tid) const {
    thread_rec* last = last_thread_;
    if (last != nullptr && last->pid == pid && last->tid == tid && last->used)
        return last;
    return find_thread_in_table(pid, tid);
}

// The record of thread `tid` of `proc`, created (with an xol slot) on first use; no_space when
// the thread pool is full. Always inline: one frame less on the trap path at every level.
[[gnu::always_inline]] inline result<thread_rec*> engine::thread_for(process_rec& proc,
                                                                     uint32_t tid) {
    if (thread_rec* t = find_thread(proc.pid, tid))
        return t;
    return new_thread(proc, tid);
}

// The index of the site of `program` at link-time address `addr`, or nil: the hit path's O(1)
// lookup (one table slot, then the key in the site's hot line).
inline uint32_t engine::find_site(uint32_t program, uint64_t addr) {
    if (!ready_)
        return nil;
    counters_.lookups++;
    counters_.lookup_slots++;
    return find_site_uncounted(program, addr);
}

// find_site() without counting the lookup and its first slot (the hit path counts them with the
// trap). Only while the engine is ready.
[[gnu::always_inline]] inline uint32_t engine::find_site_uncounted(uint32_t program,
                                                                   uint64_t addr) {
    const site_hot* hot = hot_;
    return site_table_.find(
        site_index::hash(program, addr),
        [=](uint32_t s) { return hot[s].addr == addr && hot[s].program == program; },
        &counters_.lookup_slots);
}

// The hit path's lookup: the hot line of the site of `program` at `addr`, or nullptr, uncounted
// as find_site_uncounted(). Out of line: the trap's frame keeps neither the key nor the match
// (the trap path's stack budget at -Og, docs/porting.md "Stack").
[[gnu::noinline]] inline const site_hot* engine::find_hot(uint32_t program, uint64_t addr,
                                                          uint64_t* beyond_home) {
    const site_hot* hot = hot_;
    return site_table_.find_as(
        site_index::hash(program, addr),
        [=](uint32_t s) { return hot[s].addr == addr && hot[s].program == program; },
        [=](uint32_t s) { return s != site_index::empty ? &hot[s] : nullptr; }, beyond_home);
}

// The site of `program` at link-time address `addr`, or nullptr.
inline site_rec* engine::lookup_site(uint32_t program, uint64_t addr) {
    uint32_t s = find_site(program, addr);
    return s != nil ? &sites_[s] : nullptr;
}

} // namespace ruprobes

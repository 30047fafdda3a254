// The hit path without the engine's lock (uprobes_trap_handler_concurrent), for kernels on
// several harts: hits on different harts take no lock and share no counter but the probe's own
// (an atomic add).
//
// Readers and writers. A hart reads the tables (processes, sites and their hot lines, threads)
// only inside a section: it raises its hart_rec::in_section, then checks that no writer is in the
// tables (write_seq_ even and unchanged). Every change to those tables is bracketed by
// begin_write()/end_write() under the engine's lock: begin_write makes write_seq_ odd, so that no
// new section starts, then waits until every hart's in_section is 0. A section is short and
// never waits for anything, so a writer waits a few hundred instructions at most; a section
// never sees a table while it changes, so it needs no validation afterwards, and whatever it did
// (a record, a count, a return pushed) happened before the change, as with the lock. A hart that
// cannot start a section, or finds anything the section does not handle, changes nothing and
// answers UPROBES_TRAP_RETRY: the kernel runs the locked handler for the same trap.
//
// Inside a section: the hart's own caches of the last process, site and thread (hart_rec, checked
// by key like the engine's), its own counters (stats() adds them), the probe's hit counter
// (atomic), the record sink (the agent's per-hart ring) and the trapping thread's own return
// stack, which no other hart touches while the thread runs here.
#include "hot_line.hpp"
#include "return_stack.hpp"
#include "ruprobes/engine.hpp"
#include "trap_info.hpp"

namespace ruprobes {

namespace {

constexpr int retry() {
    return UPROBES_TRAP_RETRY;
}

} // namespace

void engine::begin_write() {
    if (write_depth_++ != 0)
        return;
    __atomic_store_n(&write_seq_, write_seq_ + 1, __ATOMIC_RELAXED);
    // The odd sequence before the markers are read: a hart that raises its marker after this
    // sees the odd sequence and leaves (enter_section's fence is the other half).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (hart_rec& h : harts_) {
        while (__atomic_load_n(&h.in_section, __ATOMIC_ACQUIRE) != 0)
            os_uprobes_wait_section(); // until a section ends (os_uprobes_section_left)
    }
}

void engine::end_write() {
    if (--write_depth_ != 0)
        return;
    // Release: the tables are written before a section may start again.
    __atomic_store_n(&write_seq_, write_seq_ + 1, __ATOMIC_RELEASE);
}

// The marker's store (release; raising it needs no order of its own, the fence after it gives
// it) and the sequence's first load (acquire). On RISC-V GCC 12 makes every atomic store an
// amoswap and an acquire load a load and a fence: there a plain store after a release fence,
// and a plain load, whose order the fences around them give. Elsewhere (the host tests, which
// ThreadSanitizer checks: it does not model fences alone) the atomic forms.
[[gnu::always_inline]] inline void set_marker(hart_rec& hr, uint64_t value) {
#if defined(__riscv)
    __atomic_thread_fence(__ATOMIC_RELEASE);
    *static_cast<volatile uint64_t*>(&hr.in_section) = value;
#else
    __atomic_store_n(&hr.in_section, value, __ATOMIC_RELEASE);
#endif
}

[[gnu::always_inline]] inline uint64_t load_sequence(const uint64_t& seq) {
#if defined(__riscv)
    return __atomic_load_n(&seq, __ATOMIC_RELAXED);
#else
    return __atomic_load_n(&seq, __ATOMIC_ACQUIRE);
#endif
}

// Lowers the hart's marker (release: everything the section read and wrote is done before a
// writer goes on), and wakes a writer that may wait for it: begin_write made the sequence odd,
// then looked at the marker (the fence orders this store before this load, as begin_write's
// orders its store before its loads).
[[gnu::always_inline]] inline void engine::leave_section(hart_rec& hr) {
    set_marker(hr, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if ((__atomic_load_n(&write_seq_, __ATOMIC_RELAXED) & 1) != 0)
        os_uprobes_section_left();
}

// leave_section(), then `action`: every return from inside a section.
[[gnu::always_inline]] inline int engine::leave(hart_rec& hr, int action) {
    leave_section(hr);
    return action;
}

// Raises the hart's marker when no writer is in the tables; false (marker down) otherwise.
[[gnu::always_inline]] inline bool engine::enter_section(hart_rec& hr) {
    // Acquire, though the fence below orders everything after the second look, which must see
    // the same sequence (on RISC-V it is a plain load: set_marker).
    const uint64_t seq = load_sequence(write_seq_);
    if ((seq & 1) != 0)
        return false;
    set_marker(hr, 1);
    // The marker before the second look at the sequence (begin_write's fence is the other half).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&write_seq_, __ATOMIC_RELAXED) == seq)
        return true;
    leave_section(hr); // the writer that came in between may wait for this marker
    return false;
}

// Every path out of a section lowers the marker itself, so that the trap's few paths are tail
// calls, each with one frame: this dispatch is a leaf (the usual hit finds its process and site
// in the hart's caches), the lookups that miss are out of line.
[[gnu::always_inline]] inline int engine::trap_concurrent(uint32_t pid, uint32_t tid, uint32_t hart,
                                                          uprobes_trap_context* ctx) {
    if (hart >= max_harts)
        return retry();
    hart_rec& hr = harts_[hart];
    if (!enter_section(hr))
        return retry();
    process_rec* proc = hr.last_process;
    if (proc == nullptr || proc->pid != pid || !proc->used)
        return concurrent_find_process(pid, tid, hr, ctx);
    return concurrent_dispatch(*proc, tid, hr, ctx);
}

// The trapping process is `proc`: its site through the hart's cache, or the trampoline.
[[gnu::always_inline]] inline int engine::concurrent_dispatch(process_rec& proc, uint32_t tid,
                                                              hart_rec& hr,
                                                              uprobes_trap_context* ctx) {
    const uint64_t pc = ctx->pc;
    const site_hot* h = hr.last_hot;
    if (h != nullptr && h->addr == pc - proc.bias && h->program == proc.program)
        return concurrent_site_or_thread(proc, tid, hr, *h, ctx);
    if (pc - proc.xol_trap_base < xol_page_size) {
        if (pc == proc.xol)
            return concurrent_return(proc, tid, hr, ctx);
        return leave(hr, retry()); // the end of an out-of-line step
    }
    return concurrent_site(proc, tid, hr, nullptr, ctx); // it looks the site up
}

// trap_concurrent() for a process other than the hart's last one.
[[gnu::noinline]] int engine::concurrent_find_process(uint32_t pid, uint32_t tid, hart_rec& hr,
                                                      uprobes_trap_context* ctx) {
    process_rec* proc = ready_ ? find_process(pid) : nullptr;
    if (proc == nullptr)
        return leave(hr, retry());
    hr.last_process = proc;
    return concurrent_dispatch(*proc, tid, hr, ctx);
}

// The thread's record if it has one (the section creates none), through the hart's cache.
[[gnu::always_inline]] inline thread_rec*
engine::concurrent_thread(const process_rec& proc, uint32_t tid, hart_rec& hr) const {
    thread_rec* t = hr.last_thread;
    if (t != nullptr && t->pid == proc.pid && t->tid == tid && t->used)
        return t;
    thread_slot* s = thread_table_.find({proc.pid, tid}, &hr.counters.lookup_slots);
    if (s == nullptr)
        return nullptr;
    hr.last_thread = &threads_[s->thread];
    return hr.last_thread;
}

// Whether a hit on the site of `h` fires its consumer in `proc`; for a consumer the lock-free
// path does not run (not trace mode), retries.
[[gnu::always_inline]] inline bool consumer_fires(const site_hot& h, const process_rec& proc) {
    return h.entry != hot_entry::none &&
           (h.path == hot_path::simple || h.pid == UPROBES_ANY_PID || h.pid == proc.pid);
}

// Whether the lock-free path takes a hit on the site of `h` in `proc`: one plain consumer (not
// hot_path general) that, when it fires there (`fires`), is in trace mode.
[[gnu::always_inline]] inline bool takes_site(const site_hot& h, const process_rec& proc,
                                              bool& fires) {
    fires = consumer_fires(h, proc);
    return h.path != hot_path::general && (!fires || h.head.mode == UPROBES_MODE_TRACE);
}

// The site's hit: concurrent_site() when its instruction runs inline and no return is pushed (no
// thread record needed), else concurrent_thread_site(). Each is a tail call with its own frame.
[[gnu::always_inline]] inline int engine::concurrent_site_or_thread(process_rec& proc, uint32_t tid,
                                                                    hart_rec& hr, const site_hot& h,
                                                                    uprobes_trap_context* ctx) {
    if (h.fast && h.path != hot_path::with_return)
        return concurrent_site(proc, tid, hr, &h, ctx);
    return concurrent_thread_site(proc, tid, hr, h, ctx);
}

// trap_body() for a site with one plain consumer in trace mode (hot_path simple or plain: its
// handler, record or count) whose instruction runs inline: the usual hit, from the hot line, the
// probe's counter and the consumer alone. A stop, a condition or more consumers (hot_path general)
// retry before anything changes. With `line` null the site is not the hart's last one: it is
// looked up here, in this frame (a hit spread over many sites costs one lookup more, no call
// level more), and a site that needs the thread's record goes on to concurrent_thread_site().
[[gnu::noinline]] int engine::concurrent_site(process_rec& proc, uint32_t tid, hart_rec& hr,
                                              const site_hot* line, uprobes_trap_context* ctx) {
    if (line == nullptr) {
        // The table's home slot inline (find_hot's lookup without its call), beyond it out of
        // line: a hit spread over many sites costs a hash and one slot more.
        const uint64_t addr = ctx->pc - proc.bias;
        const uint32_t program = proc.program;
        const site_hot* hot = hot_;
        line = site_table_.find_as(
            site_index::hash(program, addr),
            [=](uint32_t s) { return hot[s].addr == addr && hot[s].program == program; },
            [=](uint32_t s) { return s != site_index::empty ? &hot[s] : nullptr; },
            &hr.counters.lookup_slots);
        if (line == nullptr)
            return leave(hr, retry());
        hr.last_hot = line;
        if (!line->fast || line->path == hot_path::with_return)
            return concurrent_thread_site(proc, tid, hr, *line, ctx);
    }
    const site_hot& h = *line;
    bool fires;
    if (!takes_site(h, proc, fires))
        return leave(hr, retry());
    const uint64_t pc = ctx->pc;
    const unsigned fired = fires ? hot_entry_fire(h, proc, tid, pc, ctx) : 0;
    if ((fired & fired_handler) == 0 || ctx->pc == pc) {
        ctx->pc = simulate_from_hot_line(h, pc, ctx->x);
        if (fires) {
            hr.counters.fast_hits++; // a trap, a lookup of one slot, a hit and a simulation
        } else {
            hr.counters.simulated++;
            count_trap_lookup(hr.counters);
        }
    } else { // the handler moved the thread: the instruction is skipped
        hr.counters.hits++;
        count_trap_lookup(hr.counters);
    }
    return leave(hr, UPROBES_TRAP_HANDLED);
}

// concurrent_site() for a hit that needs the thread's record: a RETURN probe's push
// (hot_path with_return), or a step in the thread's out-of-line slot, which must hold the
// instruction already. A thread without its record, or a slot to write, retries.
[[gnu::noinline]] int engine::concurrent_thread_site(process_rec& proc, uint32_t tid, hart_rec& hr,
                                                     const site_hot& h, uprobes_trap_context* ctx) {
    bool fires;
    if (!takes_site(h, proc, fires))
        return leave(hr, retry());
    const uint64_t pc = ctx->pc;
    const auto site_slot = static_cast<uint32_t>(&h - hot_);
    thread_rec* t = proc.xol != 0 ? concurrent_thread(proc, tid, hr) : nullptr;
    if (t == nullptr)
        return leave(hr, retry());
    bool jump = false;
    if (!h.fast) {
        const decoded_insn& insn = sites_[site_slot].insn;
        if (insn.cls != insn_class::out_of_line || t->xol_slot == 0)
            return leave(hr, retry());
        jump = slot_jumps(proc, *t, site_slot, pc, false);
        if (!slot_holds(*t, insn, pc, jump))
            return leave(hr, retry());
    }
    // From here on the hit is taken.
    const unsigned fired = fires ? hot_entry_fire(h, proc, tid, pc, ctx) : 0;
    if (h.path == hot_path::with_return)
        push_onto(proc, *t, site_slot, ctx, hr.counters);
    if (fires)
        hr.counters.hits++;
    count_trap_lookup(hr.counters);
    if ((fired & fired_handler) != 0 && ctx->pc != pc)
        return leave(hr, UPROBES_TRAP_HANDLED); // the handler moved the thread: skipped
    if (h.fast) {
        ctx->pc = simulate_from_hot_line(h, pc, ctx->x);
        hr.counters.simulated++;
        return leave(hr, UPROBES_TRAP_HANDLED);
    }
    return leave(hr, enter_slot(proc, *t, sites_[site_slot].insn, site_slot, pc, jump, false, ctx,
                                nullptr, hr.counters));
}

// The trap on the trampoline, as pop_return() does it: the return's record into the record sink
// here, the list of RETURN probes in concurrent_return_list().
[[gnu::noinline]] int engine::concurrent_return(process_rec& proc, uint32_t tid, hart_rec& hr,
                                                uprobes_trap_context* ctx) {
    thread_rec* t = concurrent_thread(proc, tid, hr);
    if (t == nullptr)
        return leave(hr, retry());
    uint32_t depth;
    const return_entry* e = returning_entry(*t, ctx->x[2], depth);
    if (e == nullptr)
        return leave(hr, retry());
    const site_rec* site = nullptr;
    if (e->site != nil) {
        const site_rec& s = sites_[e->site];
        if (s.program != nil && s.generation == e->site_generation) {
            if (s.return_ring == nil || record_reserve_ == nullptr)
                return concurrent_return_list(proc, tid, hr, *t, depth, ctx);
            site = &s;
        }
    }
    const uint64_t entry_pc = e->entry_pc;
    hr.counters.traps++;
    pop_to(*t, depth, ctx, hr.counters);
    if (site != nullptr)
        return leave(hr, return_record(proc.pid, tid, *site, entry_pc, ctx, nullptr, hr.counters));
    return leave(hr, UPROBES_TRAP_HANDLED);
}

// concurrent_return() for a site whose RETURN probes fire from their list (conditions, handlers,
// the hit sink), unless one of them stops the thread (that retries, the stack untouched). Out of
// line: the usual return keeps a small frame.
[[gnu::noinline]] int engine::concurrent_return_list(process_rec& proc, uint32_t tid, hart_rec& hr,
                                                     thread_rec& t, uint32_t depth,
                                                     uprobes_trap_context* ctx) {
    const return_entry& e = t.stack[depth];
    if (returns_stop(sites_[e.site], proc.pid))
        return leave(hr, retry());
    hr.counters.traps++;
    pop_to(t, depth, ctx, hr.counters);
    return leave(hr, fire_returns(proc, tid, t, e, ctx, nullptr, hr.counters));
}

} // namespace ruprobes

// The defaults of the two optional hooks (ruprobes.h): a writer spins, and nobody is woken.
extern "C" [[gnu::weak]] void os_uprobes_wait_section(void) {}
extern "C" [[gnu::weak]] void os_uprobes_section_left(void) {}

extern "C" int uprobes_trap_handler_concurrent(struct uprobes_trap_context* ctx, uint32_t pid,
                                               uint32_t tid, uint32_t hart) {
    // No uprobes_trap_info: the kernel needs none for HANDLED or RETRY (the engine's shared
    // pieces get a null one, and their set_info() folds away).
    return ruprobes::c_abi_engine.trap_concurrent(pid, tid, hart, ctx);
}

// Return probes: at a function entry the return address (ra) is replaced by the trampoline, an
// ebreak at the start of the process's xol page; the replaced ra goes onto the thread's return
// stack with the entry sp. When the function returns, the thread traps on the trampoline: the
// engine pops the matching entry, reports a0 as the return value and resumes at the real ra.
//
// The sp recorded at entry identifies the frame: a function returns with the sp it was entered
// with (psABI: sp is callee-saved). Entries with a smaller sp than the current one belong to
// frames that are gone (longjmp, exceptions): they are dropped, counted in return_dropped, both
// at the trampoline and at the next entry (so abandoned frames never fill the stack).
// A full stack (max_return_depth) leaves the ra alone and counts the call in return_skipped:
// deep recursion loses reports for its innermost calls, never the thread's real return addresses.
//
// The push and the pop are in return_stack.hpp, inline in the hit path.
#include "return_stack.hpp"
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "trap_info.hpp"

namespace ruprobes {

// The trap on the trampoline, for xol_trap() and single_step_in_xol() (trap_body inlines it).
int engine::return_trap(process_rec& proc, uint32_t tid, uprobes_trap_context* ctx,
                        uprobes_trap_info* info) {
    return return_trap_inline(proc, tid, ctx, info);
}

// hijack_return() for a thread other than the last one found.
[[gnu::noinline]] void engine::hijack_return_lookup(process_rec& proc, uint32_t tid,
                                                    uint32_t site_slot, uprobes_trap_context* ctx) {
    push_return(proc, tid, site_slot, ctx);
}

// return_trap() for a thread other than the last one found.
[[gnu::noinline]] int engine::return_trap_lookup(process_rec& proc, uint32_t tid,
                                                 uprobes_trap_context* ctx,
                                                 uprobes_trap_info* info) {
    thread_rec* t = find_thread_in_table(proc.pid, tid);
    if (t == nullptr)
        return not_ours(info);
    return pop_return(proc, tid, *t, ctx, info);
}

// The RETURN probes of the site of `e` fire, for the return of thread `t` (already popped, pc
// and ra set to the real return address): conditions, handlers, hit records, a stop. Out of
// line: its hit record stays off the stack of the return that goes to the record sink. Hits are
// counted in `counters` (the engine's, or a hart's on the lock-free path, which calls it only
// when no stop-mode RETURN probe applies: returns_stop()).
template <typename Counters>
[[gnu::noinline]] int engine::fire_returns(process_rec& proc, uint32_t tid, thread_rec& t,
                                           const return_entry& entry, uprobes_trap_context* ctx,
                                           uprobes_trap_info* info, Counters& counters) {
    const return_entry e = entry; // the popped slot is free: a copy
    const site_rec& site = sites_[e.site];
    uint32_t stop_probe = 0;
    uint64_t now = os_time_ns();
    uprobes_hit hit;
    for (uint32_t i = site.probe_head; i != nil; i = probes_[i].next_in_site) {
        probe_rec& p = probes_[i];
        if (p.kind != UPROBES_KIND_RETURN || (p.pid != UPROBES_ANY_PID && p.pid != proc.pid))
            continue;
        fill_hit(hit, i, proc.pid, tid, e.entry_pc, ctx, now);
        uint64_t& hits = probe_hits_[i];
        hit.hit_count = hits + 1;
        hit.ra = e.orig_ra;
        hit.retval = ctx->x[10];
        hit.flags |= UPROBES_HIT_RETURN_VALUE;
        if (p.condition != nullptr && p.condition(ctx, &hit, p.user) == 0)
            continue;
        count_hit(&hits);
        counters.hits++;
        if (p.handler != nullptr)
            p.handler(ctx, &hit, p.user);
        emit(hit);
        if (p.mode == UPROBES_MODE_STOP && stop_probe == 0)
            stop_probe = static_cast<uint32_t>(p.id);
    }
    if (stop_probe == 0) {
        set_info(info, UPROBES_TRAP_HANDLED);
        return UPROBES_TRAP_HANDLED;
    }
    t.probe_stop_site = nil; // at the return address, which no probe stopped on
    set_info(info, UPROBES_TRAP_STOP, error::ok, 0, stop_probe);
    return UPROBES_TRAP_STOP;
}

template int engine::fire_returns(process_rec&, uint32_t, thread_rec&, const return_entry&,
                                  uprobes_trap_context*, uprobes_trap_info*, uprobes_stats&);
template int engine::fire_returns(process_rec&, uint32_t, thread_rec&, const return_entry&,
                                  uprobes_trap_context*, uprobes_trap_info*, hart_counters&);

// Whether a stop-mode RETURN probe of `site` applies to `pid`: its return stops the thread.
bool engine::returns_stop(const site_rec& site, uint32_t pid) const {
    for (uint32_t i = site.probe_head; i != nil; i = probes_[i].next_in_site) {
        const probe_rec& p = probes_[i];
        if (p.kind == UPROBES_KIND_RETURN && p.mode == UPROBES_MODE_STOP && applies(p, pid))
            return true;
    }
    return false;
}

// The return address a trampoline value stands for when a debugger finds it in a saved-ra slot at
// stack address `slot` of `proc`: the slot lies in the frame of the entry with the smallest entry
// sp above it (nearest over all threads); of a tail-call chain sharing that sp, the oldest entry
// holds the real address. 0 when no entry matches.
uint64_t engine::saved_return_address(const process_rec& proc, uint64_t slot) const {
    uint64_t best_sp = ~uint64_t{0};
    uint64_t ra = 0;
    for (uint32_t t = proc.thread_head; t != nil; t = threads_[t].next_in_process) {
        const thread_rec& th = threads_[t];
        for (uint32_t i = 0; i < th.depth; i++) {
            const return_entry& e = th.stack[i];
            if (e.sp > slot && e.sp < best_sp) {
                best_sp = e.sp;
                ra = e.orig_ra;
            }
        }
    }
    return ra;
}

// The pending entry the trampoline in ctx->x[1] stands for (see program_ra), or nullptr.
return_entry* engine::ra_entry(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx) const {
    process_rec* proc = ready_ ? find_process(pid) : nullptr;
    if (proc == nullptr || proc->xol == 0 || ctx->x[1] != proc->xol)
        return nullptr;
    thread_rec* t = find_thread(pid, tid);
    if (t == nullptr)
        return nullptr;
    // The newest live entry (sp at or above the current one), then down a tail-call chain.
    uint32_t i = t->depth;
    while (i > 0 && t->stack[i - 1].sp < ctx->x[2])
        i--;
    if (i == 0)
        return nullptr;
    i--;
    while (i > 0 && t->stack[i].orig_ra == proc->xol && t->stack[i - 1].sp == t->stack[i].sp)
        i--;
    return &t->stack[i];
}

uint64_t engine::program_ra(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx) const {
    const return_entry* e = ra_entry(pid, tid, ctx);
    return e != nullptr ? e->orig_ra : ctx->x[1];
}

bool engine::set_program_ra(uint32_t pid, uint32_t tid, const uprobes_trap_context* ctx,
                            uint64_t ra) {
    return_entry* e = ra_entry(pid, tid, ctx);
    if (e == nullptr)
        return false;
    e->orig_ra = ra; // the function returns there, through the trampoline: the probe still fires
    return true;
}

} // namespace ruprobes

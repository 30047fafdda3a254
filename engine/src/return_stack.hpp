// The hot halves of a return probe (return_probes.cpp has the design and the rest): the push of
// the return address at the function's entry and the pop at the trampoline, with the return's
// record, inline in the hit paths (hit_path.cpp): their own frames would cost an entry+return
// pair more than their bodies.
#pragma once

#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "trap_info.hpp"

namespace ruprobes {

// The entry of the frame returning now, with stack pointer `sp`, on thread `t`'s return stack:
// the topmost whose sp is at or above it (those above it are of frames that are gone). `depth`
// is the entry's index; nullptr when no entry is left (depth 0).
[[gnu::always_inline]] inline const return_entry* returning_entry(const thread_rec& t, uint64_t sp,
                                                                  uint32_t& depth) {
    for (depth = t.depth; depth > 0;) {
        const return_entry* e = &t.stack[--depth];
        if (e->sp >= sp)
            return e;
    }
    return nullptr;
}

// Pops thread `t`'s return stack down to the entry at `depth` (returning_entry's; those above it
// are dropped) and moves the thread to the real return address: pc and ra both hold it, as if
// the function's `ret` had used it. The popped entry stays where it is until the next push.
// Counted in `counters` (the engine's, or a hart's on the lock-free path).
template <typename Counters>
[[gnu::always_inline]] inline void pop_to(thread_rec& t, uint32_t depth, uprobes_trap_context* ctx,
                                          Counters& counters) {
    const uint64_t ra = t.stack[depth].orig_ra;
    const uint32_t dropped = t.depth - depth - 1;
    if (dropped != 0) // seldom: a frame left without its return (longjmp, an exception)
        counters.return_dropped += dropped;
    t.depth = depth;
    counters.return_hits++;
    ctx->pc = ra;
    ctx->x[1] = ra;
}

// Pushes the return of the function entered at ctx->pc onto thread `t`'s return stack and
// points ra at the trampoline. Calls nothing.
// Drops and skips are counted in `counters` (the engine's, or a hart's on the lock-free path).
template <typename Counters>
[[gnu::always_inline]] inline void engine::push_onto(const process_rec& proc, thread_rec& t,
                                                     uint32_t site_slot, uprobes_trap_context* ctx,
                                                     Counters& counters) {
    // Entries whose frames cannot be live any more go first. A live caller frame has an sp above
    // the current one, or equal to it only in a tail-call chain (ra is then the trampoline): a
    // function that makes a call saves ra and so has a frame of its own.
    const uint64_t sp = ctx->x[2];
    const uint64_t ra = ctx->x[1];
    const bool chained = ra == proc.xol;
    uint32_t depth = t.depth;
    while (depth > 0 && (t.stack[depth - 1].sp < sp || (!chained && t.stack[depth - 1].sp == sp))) {
        depth--;
        counters.return_dropped++;
    }
    if (depth >= limits_.max_return_depth) {
        t.depth = depth;
        counters.return_skipped++;
        return;
    }
    return_entry& e = t.stack[depth];
    t.depth = depth + 1;
    e.orig_ra = ra;
    e.sp = sp;
    e.entry_pc = ctx->pc;
    e.site = site_slot;
    e.site_generation = sites_[site_slot].generation;
    ctx->x[1] = proc.xol; // the trampoline
}

// push_onto() for thread `tid` of `proc` (its record created on first use); a process without
// an xol page, or a full thread pool, leaves ra alone and counts the return as skipped.
[[gnu::always_inline]] inline void engine::push_return(process_rec& proc, uint32_t tid,
                                                       uint32_t site_slot,
                                                       uprobes_trap_context* ctx) {
    if (proc.xol == 0) {
        counters_.return_skipped++;
        return;
    }
    result<thread_rec*> tr = thread_for(proc, tid);
    if (!tr.ok()) {
        counters_.return_skipped++;
        return;
    }
    push_onto(proc, **tr, site_slot, ctx, counters_);
}

// push_return() for the site at `site_slot`, on the entry hit path: the thread found last is
// usually this one (it trapped last), and then nothing is called.
[[gnu::always_inline]] inline void engine::hijack_return(process_rec& proc, uint32_t tid,
                                                         uint32_t site_slot,
                                                         uprobes_trap_context* ctx) {
    thread_rec* t = last_thread_;
    if (proc.xol != 0 && t != nullptr && t->pid == proc.pid && t->tid == tid && t->used) {
        push_onto(proc, *t, site_slot, ctx, counters_);
        return;
    }
    hijack_return_lookup(proc, tid, site_slot, ctx);
}

// The trap on the trampoline: pops the thread's entry for this frame and hands the return to
// its consumers. The thread found last is usually this one (its entry trapped last): then its
// hash lookup is skipped.
[[gnu::always_inline]] inline int engine::return_trap_inline(process_rec& proc, uint32_t tid,
                                                             uprobes_trap_context* ctx,
                                                             uprobes_trap_info* info) {
    thread_rec* t = last_thread_;
    if (t != nullptr && t->pid == proc.pid && t->tid == tid && t->used)
        return pop_return(proc, tid, *t, ctx, info);
    return return_trap_lookup(proc, tid, ctx, info);
}

// Pops the entry of the frame returning now from thread `t`'s stack (dropping those of frames
// that are gone), moves the thread to the real return address and fires the return.
[[gnu::always_inline]] inline int engine::pop_return(process_rec& proc, uint32_t tid, thread_rec& t,
                                                     uprobes_trap_context* ctx,
                                                     uprobes_trap_info* info) {
    uint32_t depth;
    const return_entry* e = returning_entry(t, ctx->x[2], depth);
    if (e == nullptr) {
        counters_.return_dropped += t.depth; // every entry: none is this frame's
        t.depth = 0;
        return not_ours(info); // no pending return for this frame: not a return we made
    }
    pop_to(t, depth, ctx, counters_); // nothing below pushes: *e stays
    if (e->site != nil) {
        const site_rec& site = sites_[e->site];
        if (site.program != nil && site.generation == e->site_generation) {
            // Its only RETURN probe writes records (refresh_hot): into the record sink.
            if (site.return_ring != nil && record_reserve_ != nullptr)
                return return_record(proc.pid, tid, site, e->entry_pc, ctx, info, counters_);
            return fire_returns(proc, tid, t, *e, ctx, info, counters_);
        }
    }
    set_info(info, UPROBES_TRAP_HANDLED);
    return UPROBES_TRAP_HANDLED;
}

// The return of `site`'s record-writing RETURN probe (site_rec::return_ring) fires: its record
// goes into the record sink once, as an entry hit's does (hot_entry_fire), with the return's
// fields (pc the function's entry, ra the real return address, ret a0). The hit is counted in
// `counters` (the engine's, or a hart's on the lock-free path).
template <typename Counters>
[[gnu::always_inline]] inline int
engine::return_record(uint32_t pid, uint32_t tid, const site_rec& site, uint64_t entry_pc,
                      uprobes_trap_context* ctx, uprobes_trap_info* info, Counters& counters) {
    count_hit(&probe_hits_[site.return_ring]);
    counters.hits++;
    const uint32_t probe_id = site.return_ring_id;
    if (uprobes_hit_record* r = record_reserve_(record_user_); r != nullptr) {
        r->time_ns = os_time_ns();
        *reinterpret_cast<hit_word*>(&r->pid) = uint64_t(pid) | uint64_t(tid) << 32;
        r->pc = entry_pc;
        // probe_id, kind, flags (ret valid), reserved 0: one store.
        *reinterpret_cast<hit_word*>(&r->probe_id) = uint64_t(probe_id) |
                                                     uint64_t(UPROBES_KIND_RETURN) << 32 |
                                                     uint64_t(UPROBES_HIT_RETURN_VALUE) << 40;
        store_record_registers(r, ctx);
        r->ret = ctx->x[10];
        record_commit_(r, record_user_);
    }
    set_info(info, UPROBES_TRAP_HANDLED);
    return UPROBES_TRAP_HANDLED;
}

} // namespace ruprobes

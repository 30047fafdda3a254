// The hit path: breakpoint trap -> O(1) lookup -> handlers -> displaced instruction (simulated,
// or stepped in the thread's out-of-line slot). What follows a hit (the out-of-line slot's
// trap, resume after a stop, single-step, fault fix-up) is in resume.cpp.
#include "hot_line.hpp"
#include "return_stack.hpp"
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "ruprobes/simulate.hpp"
#include "trap_info.hpp"

namespace ruprobes {

namespace {

// The simulator works on uprobes_trap_context::x in place (x0..x31, x[0] neither
// read nor written): no copy of the trap context on a hit.
static_assert(sizeof(uprobes_trap_context::x) == 32 * sizeof(uint64_t));

// `jal x0, offset` (Unprivileged ISA v20191213 ch. 2.5: imm[20|10:1|11|19:12], rd, 1101111),
// for an even offset within +-jal_reach.
constexpr uint32_t jal_x0(uint64_t offset) {
    const auto imm = static_cast<uint32_t>(offset);
    return (imm & 0x100000) << 11 | (imm & 0x7fe) << 20 | (imm & 0x800) << 9 | (imm & 0xff000) |
           0x6f;
}
static_assert(jal_x0(8) == 0x0080006fu && jal_x0(uint64_t(-4)) == 0xffdff06fu);

} // namespace

int engine::not_ours(uprobes_trap_info* info) {
    counters_.not_ours++;
    set_info(info, UPROBES_TRAP_NOT_OURS);
    return UPROBES_TRAP_NOT_OURS;
}

// Counts a trap and its site lookup: one slot examined (the last-site line or the table's home
// slot; find_hot counted the slots beyond it). stats() adds hit_lookups_ to both.
[[gnu::always_inline]] inline void engine::count_trap() {
    counters_.traps++;
    hit_lookups_++;
}

// A hit on a site with one plain consumer (hot_path::plain), or at most one and a return probe
// for every pid (hot_path::with_return: the return is hijacked after the entry consumer fired,
// before a stop, as site_hit() does it): everything comes from the site's hot line `h` and the
// probe's hit counter; no hit record is built unless a handler or the sink takes it. Behaves
// exactly as site_hit() would for that site. The common case (the consumer fires, the
// instruction runs inline) counts one counter besides the probe's: fast_hits_, which stats()
// adds to traps, hits, simulated and the lookups (one slot each). `path` is the line's: for
// hot_path::simple (no pid filter, trace mode, an inline instruction, no return probe) those are
// not tested; each path is its own copy, so that a plain hit tests nothing about returns.
template <hot_path path>
[[gnu::always_inline]] inline int
engine::plain_hit(process_rec& proc, uint32_t tid, const site_hot& h, uint64_t pc,
                  uprobes_trap_context* ctx, uprobes_trap_info* info) {
    constexpr bool simple = path == hot_path::simple;
    constexpr bool with_return = path == hot_path::with_return;
    if (simple || ((!with_return || h.entry != hot_entry::none) &&
                   (h.pid == UPROBES_ANY_PID || h.pid == proc.pid))) {
        const unsigned fired = hot_entry_fire(h, proc, tid, pc, ctx);
        const bool stop = (fired & fired_stop) != 0 && !simple;
        if (with_return)
            hijack_return(proc, tid, static_cast<uint32_t>(&h - hot_), ctx);
        if ((simple || (!stop && h.fast)) && ((fired & fired_handler) == 0 || ctx->pc == pc)) {
            ctx->pc = simulate_from_hot_line(h, pc, ctx->x);
            fast_hits_++;
            set_info(info, UPROBES_TRAP_HANDLED);
            return UPROBES_TRAP_HANDLED;
        }
        counters_.hits++;
        count_trap();
        if (stop)
            return stop_at_probe(proc, tid, static_cast<uint32_t>(&h - hot_), pc, h.head.probe_id,
                                 ctx, info);
        if (ctx->pc != pc) {
            set_info(info, UPROBES_TRAP_HANDLED);
            return UPROBES_TRAP_HANDLED;
        }
    } else {
        count_trap();
        if (with_return)
            hijack_return(proc, tid, static_cast<uint32_t>(&h - hot_), ctx);
    }
    if (h.fast) {
        ctx->pc = simulate_from_hot_line(h, pc, ctx->x);
        counters_.simulated++;
        set_info(info, UPROBES_TRAP_HANDLED);
        return UPROBES_TRAP_HANDLED;
    }
    return execute_displaced_call(proc, tid, static_cast<uint32_t>(&h - hot_), ctx, info);
}

// The body of trap(), trap_thread() and trap_locked(), inlined into each (no extra call level).
// Every path counts the trap (counters_.traps, or fast_hits_ in plain_hit).
[[gnu::always_inline]] inline int
engine::trap_body(uint32_t pid, uint32_t tid, uprobes_trap_context* ctx, uprobes_trap_info* info) {
    // The process that trapped last usually traps again: skip its hash lookup. last_process_ is
    // set only while the engine is ready (init clears it first) and cleared when its record is
    // freed, so it needs neither test.
    process_rec* proc = last_process_;
    if (proc == nullptr || proc->pid != pid) {
        if (!ready_)
            return not_ours(info);
        proc = find_process(pid);
        if (proc == nullptr) {
            counters_.traps++;
            return not_ours(info);
        }
        last_process_ = proc;
    }
    uint64_t pc = ctx->pc;
    // The site that trapped last usually traps again: its hot line holds the key, so a match
    // there is the table's answer (a freed site's line has program nil) without the hash. A
    // site lies in the program's text, never in the xol page: a match needs no xol test.
    const uint64_t addr = pc - proc->bias;
    const site_hot* h = last_hot_;
    if (__builtin_expect(h == nullptr || h->addr != addr || h->program != proc->program, 0)) {
        if (pc - proc->xol_trap_base < xol_page_size) {
            counters_.traps++;
            // The trampoline (the page's first instruction) straight to its handler.
            if (pc == proc->xol)
                return return_trap_inline(*proc, tid, ctx, info);
            return xol_trap(*proc, tid, ctx, info);
        }
        h = find_hot(proc->program, addr, &counters_.lookup_slots);
        if (h == nullptr) {
            counters_.traps++;
            counters_.lookups++;
            counters_.lookup_slots++;
            return missing_site(pid, pc, info);
        }
        last_hot_ = h;
    }
    // Either way the lookup counts as one slot examined (plain_hit, count_trap).
    if (h->path == hot_path::simple)
        return plain_hit<hot_path::simple>(*proc, tid, *h, pc, ctx, info);
    if (h->path == hot_path::plain)
        return plain_hit<hot_path::plain>(*proc, tid, *h, pc, ctx, info);
    if (h->path == hot_path::with_return)
        return plain_hit<hot_path::with_return>(*proc, tid, *h, pc, ctx, info);
    count_trap();
    return site_hit(*proc, tid, sites_[h - hot_], ctx, info);
}

// A breakpoint trap at `pc` where the process has no site (out of line: it keeps its registers
// out of the hit path's frame). A breakpoint removed between the trap and the lookup: run the
// instruction again; otherwise it is not the engine's.
[[gnu::noinline]] int engine::missing_site(uint32_t pid, uint64_t pc, uprobes_trap_info* info) {
    result<uint32_t> now = peek_text(pid, pc, 2);
    if (now.ok() && *now != c_ebreak_bits && (*now & 3) != 3) {
        set_info(info, UPROBES_TRAP_HANDLED);
        return UPROBES_TRAP_HANDLED;
    }
    result<uint32_t> word = peek_text(pid, pc, 4);
    if (now.ok() && (*now & 3) == 3 && word.ok() && *word != ebreak_bits) {
        set_info(info, UPROBES_TRAP_HANDLED);
        return UPROBES_TRAP_HANDLED;
    }
    return not_ours(info);
}

int engine::trap(uprobes_trap_context* ctx, uprobes_trap_info* info) {
    return trap_body(os_current_pid(), os_current_tid(), ctx, info);
}

[[gnu::always_inline]] inline int engine::trap_locked(uint32_t pid, uint32_t tid,
                                                      uprobes_trap_context* ctx,
                                                      uprobes_trap_info* info) {
    if (info == nullptr)
        __builtin_unreachable(); // the contract: set_info's test folds away
    return trap_body(pid, tid, ctx, info);
}

int engine::trap_thread(uint32_t pid, uint32_t tid, uprobes_trap_context* ctx,
                        uprobes_trap_info* info) {
    // The lock is taken here rather than by the C function, which then tail-calls this one.
    os_uprobes_lock();
    int action = trap_body(pid, tid, ctx, info);
    os_uprobes_unlock();
    return action;
}

// execute_displaced() for the site's own instruction, out of line: keeps the registers it needs
// out of plain_hit's frame. An out-of-line instruction whose slot is ready costs no frame here.
[[gnu::noinline]] int engine::execute_displaced_call(process_rec& proc, uint32_t tid,
                                                     uint32_t site_slot, uprobes_trap_context* ctx,
                                                     uprobes_trap_info* info) {
    const site_rec& site = sites_[site_slot];
    const decoded_insn& insn = site.insn;
    if (insn.cls == insn_class::out_of_line) {
        // The common case: the thread (the last one found) has its slot, and the slot already
        // holds what this step needs. No call, so no frame: the step is a few stores.
        thread_rec* t = last_thread_;
        const uint64_t pc = ctx->pc;
        if (t != nullptr && t->pid == proc.pid && t->tid == tid && t->used && t->xol_slot != 0) {
            const bool jump = slot_jumps(proc, *t, site_slot, pc, false);
            if (slot_holds(*t, insn, pc, jump))
                return enter_slot(proc, *t, insn, site_slot, pc, jump, false, ctx, info, counters_);
        }
    }
    return execute_displaced_rest(proc, tid, site_slot, ctx, info); // a tail call
}

// execute_displaced_call() past its slot-cache test: whatever calls out (the simulator, writing
// the slot) has its frame here.
[[gnu::noinline]] int engine::execute_displaced_rest(process_rec& proc, uint32_t tid,
                                                     uint32_t site_slot, uprobes_trap_context* ctx,
                                                     uprobes_trap_info* info) {
    const decoded_insn& insn = sites_[site_slot].insn;
    if (insn.cls != insn_class::simulate) // straight to the slot, without simulate()'s frame
        return step_out_of_line(proc, tid, insn, site_slot, ctx->pc, ctx, info, false);
    return execute_displaced(proc, tid, insn, site_slot, ctx->pc, ctx, info, false);
}

// The consumers of `site` that apply to `proc` fire (conditions, handlers, hit records) for a
// trap at `pc`. Returns the first stop-mode probe that fired (0: none); `hijack`: a return
// probe applies. Out of line: its hit record is off the stack before the displaced instruction
// runs (the trap path stays within its stack budget, docs/porting.md "Stack").
[[gnu::noinline]] uint32_t engine::fire_consumers(process_rec& proc, uint32_t tid,
                                                  const site_rec& site, uint64_t pc,
                                                  uprobes_trap_context* ctx, bool& hijack) {
    uint64_t now = 0;
    bool have_now = false;
    uint32_t stop_probe = 0;
    uprobes_hit hit;
    for (uint32_t i = site.probe_head; i != nil; i = probes_[i].next_in_site) {
        probe_rec& p = probes_[i];
        if (!applies(p, proc.pid))
            continue;
        if (p.kind == UPROBES_KIND_RETURN) {
            hijack = true; // its handler runs at the return
            continue;
        }
        // The record only for someone who reads it.
        bool record = p.condition != nullptr || p.handler != nullptr || sink_ != nullptr;
        if (record) {
            if (!have_now) {
                now = os_time_ns(); // one time stamp for every consumer of the trap
                have_now = true;
            }
            fill_hit(hit, i, proc.pid, tid, pc, ctx, now);
            hit.hit_count++;
            if (p.condition != nullptr && p.condition(ctx, &hit, p.user) == 0)
                continue;
        }
        count_hit(&probe_hits_[i]);
        counters_.hits++;
        if (p.handler != nullptr)
            p.handler(ctx, &hit, p.user);
        if (record)
            emit(hit);
        if (p.mode == UPROBES_MODE_STOP && stop_probe == 0)
            stop_probe = static_cast<uint32_t>(p.id);
    }
    return stop_probe;
}

// The thread stops on the breakpoint at `pc`, the displaced instruction not yet run;
// uprobes_resume runs it if the thread is still there then. Out of line: the hit paths' frames
// do not pay for it.
[[gnu::noinline]] int engine::stop_at_probe(process_rec& proc, uint32_t tid, uint32_t site_slot,
                                            uint64_t pc, uint32_t probe_id,
                                            uprobes_trap_context* ctx, uprobes_trap_info* info) {
    ctx->pc = pc;
    if (result<thread_rec*> t = thread_for(proc, tid); t.ok())
        (*t)->probe_stop_site = site_slot;
    set_info(info, UPROBES_TRAP_STOP, error::ok, 0, probe_id);
    return UPROBES_TRAP_STOP;
}

[[gnu::noinline]] int engine::site_hit(process_rec& proc, uint32_t tid, site_rec& site,
                                       uprobes_trap_context* ctx, uprobes_trap_info* info) {
    uint64_t pc = ctx->pc;
    bool hijack = false;
    uint32_t stop_probe = fire_consumers(proc, tid, site, pc, ctx, hijack);
    if (hijack)
        push_return(proc, tid, static_cast<uint32_t>(&site - sites_), ctx);
    if (stop_probe != 0)
        return stop_at_probe(proc, tid, static_cast<uint32_t>(&site - sites_), pc, stop_probe, ctx,
                             info);
    if (ctx->pc != pc) {
        // A handler redirected the thread: the displaced instruction is skipped.
        set_info(info, UPROBES_TRAP_HANDLED);
        return UPROBES_TRAP_HANDLED;
    }
    return execute_displaced(proc, tid, site.insn, static_cast<uint32_t>(&site - sites_), pc, ctx,
                             info, false);
}

// Runs the original instruction of `site` for a thread stopped at `pc` (the breakpoint): by
// simulation when the decoder classes it so (one trap in all), else in the thread's xol slot
// (step_out_of_line: one trap when the slot can jump back, else two).
[[gnu::always_inline]] inline int
engine::execute_displaced(process_rec& proc, uint32_t tid, const decoded_insn& insn,
                          uint32_t site_slot, uint64_t pc, uprobes_trap_context* ctx,
                          uprobes_trap_info* info, bool single_step) {
    if (insn.cls == insn_class::simulate) {
        if (site_slot != nil && hot_[site_slot].fast) {
            // `insn` is the site's own instruction (every caller passing a site index passes
            // it): run it inline from the hot line.
            ctx->pc = simulate_from_hot_line(hot_[site_slot], pc, ctx->x);
        } else {
            // The simulator works on the context's registers in place (no copy in or out; on a
            // fault it changes nothing).
            user_memory mem(proc.pid);
            sim_fault fault;
            result<uint64_t> next = simulate(insn, pc, ctx->x, mem, &fault);
            if (!next.ok()) {
                counters_.faults++;
                set_info(info, UPROBES_TRAP_FAULT, next.err(), fault.addr);
                return UPROBES_TRAP_FAULT;
            }
            ctx->pc = *next;
        }
        counters_.simulated++;
        if (!single_step && site_slot != nil && sites_[site_slot].post_handlers != 0)
            run_post_handlers(proc, tid, sites_[site_slot], pc, ctx);
        int action = single_step ? UPROBES_TRAP_STOP : UPROBES_TRAP_HANDLED;
        set_info(info, action);
        return action;
    }

    return step_out_of_line(proc, tid, insn, site_slot, pc, ctx, info, single_step);
}

[[gnu::noinline]] int
engine::execute_displaced_noinline(process_rec& proc, uint32_t tid, const decoded_insn& insn,
                                   uint32_t site_slot, uint64_t pc, uprobes_trap_context* ctx,
                                   uprobes_trap_info* info, bool single_step) {
    return execute_displaced(proc, tid, insn, site_slot, pc, ctx, info, single_step);
}

// The out-of-line half of execute_displaced: the thread's slot in the process's xol page holds
// the instruction, then either a `jal x0` to the instruction after the probed one, when nothing
// has to run once it ran (no single-step, no post handler on the site) and the jal reaches
// (+-1 MiB): the thread goes back to the program with no second trap; or an ebreak, and the
// second trap comes back through xol_trap.
int engine::step_out_of_line(process_rec& proc, uint32_t tid, const decoded_insn& insn,
                             uint32_t site_slot, uint64_t pc, uprobes_trap_context* ctx,
                             uprobes_trap_info* info, bool single_step) {
    // A stop-mode site on the program's own ebreak that did not stop (its probe does not apply
    // to this process): the trap is the program's, pc untouched.
    if (insn.cls == insn_class::refuse && insn.refusal == error::insn_ebreak)
        return not_ours(info);
    result<thread_rec*> tr = thread_for(proc, tid);
    if (!tr.ok() || proc.xol == 0 || (*tr)->xol_slot == 0) {
        counters_.faults++;
        set_info(info, UPROBES_TRAP_FAULT, tr.ok() ? error::no_space : tr.err(), pc);
        return UPROBES_TRAP_FAULT;
    }
    thread_rec& t = **tr;
    const bool jump = slot_jumps(proc, t, site_slot, pc, single_step);
    if (!slot_holds(t, insn, pc, jump)) {
        const uint64_t slot = proc.xol + uint64_t{t.xol_slot} * xol_slot_size;
        uint8_t bytes[8];
        store_le(bytes, insn.raw, insn.length);
        store_le(bytes + insn.length, jump ? jal_x0(pc - slot) : ebreak_bits, 4);
        if (os_text_poke(proc.pid, slot, bytes, insn.length + 4u) != 0) {
            t.xol_cached_raw = 0;
            counters_.faults++;
            set_info(info, UPROBES_TRAP_FAULT, error::port_failure, pc);
            return UPROBES_TRAP_FAULT;
        }
        os_icache_flush(proc.pid, slot, insn.length + 4u);
        t.xol_cached_raw = slot_key(insn);
        t.xol_cached_jump = jump;
        t.xol_return_pc = pc + insn.length; // the jal's target (enter_slot sets it anyway)
    }
    return enter_slot(proc, t, insn, site_slot, pc, jump, single_step, ctx, info, counters_);
}

void engine::run_post_handlers(const process_rec& proc, uint32_t tid, const site_rec& site,
                               uint64_t pc, uprobes_trap_context* ctx) {
    uprobes_hit hit;
    uint64_t now = 0;
    for (uint32_t i = site.probe_head; i != nil; i = probes_[i].next_in_site) {
        const probe_rec& p = probes_[i];
        if (p.post_handler == nullptr || p.kind == UPROBES_KIND_RETURN || !applies(p, proc.pid))
            continue;
        if (now == 0)
            now = os_time_ns();
        fill_hit(hit, i, proc.pid, tid, pc, ctx, now);
        p.post_handler(ctx, &hit, p.user);
    }
}

} // namespace ruprobes

// The C ABI's trap handler for a caller that holds the engine's lock (ruprobes.h), here rather
// than in c_abi.cpp so that the hit path is its body: no call level of its own.
extern "C" int uprobes_trap_handler_locked(struct uprobes_trap_context* ctx, uint32_t pid,
                                           uint32_t tid, struct uprobes_trap_info* info) {
    // The engine's address as a value the compiler does not know, so that it stays in a
    // register for the calls out of the hit path instead of being formed again before each.
    ruprobes::engine* e = &ruprobes::c_abi_engine;
    asm("" : "+r"(e));
    return e->trap_locked(pid, tid, ctx, info);
}

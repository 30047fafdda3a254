// The hot line's inline pieces that both hit paths use: the locked one (hit_path.cpp) and the
// lock-free one (concurrent_hit.cpp): the consumer's firing and the displaced instruction run
// from the line.
#pragma once

#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "ruprobes/simulate.hpp"
#include "trap_info.hpp"

namespace ruprobes {

// The register at byte offset `off` (8 * its number) of the context's x[].
[[gnu::always_inline]] inline uint64_t& reg_at(uint64_t* x, uint8_t off) {
    return *reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(x) + off);
}

// Registers as a site's hot line names them: byte offsets into the context's x[] (registry.cpp,
// refresh_hot), for simulate_register_only(). x0 (offset 0) reads as zero; refresh_hot turns an
// operation that writes x0 into fence (it changes nothing else), so write() stores
// unconditionally and only a jump's link tests for x0.
struct hot_offsets {
    [[gnu::always_inline]] static uint64_t read(uint64_t* x, unsigned off) {
        return off != 0 ? reg_at(x, static_cast<uint8_t>(off)) : 0;
    }
    [[gnu::always_inline]] static void write(uint64_t* x, unsigned off, uint64_t v) {
        reg_at(x, static_cast<uint8_t>(off)) = v;
    }
    [[gnu::always_inline]] static void link(uint64_t* x, unsigned off, uint64_t v) {
        if (off != 0)
            reg_at(x, static_cast<uint8_t>(off)) = v;
    }
};

// Runs the displaced instruction of a site whose hot line says `fast` (a register_only()
// instruction) on the context's registers in place, with the simulator's own definition of it;
// returns the next pc. None of these instructions touches memory, so none can fault.
[[gnu::always_inline]] inline uint64_t simulate_from_hot_line(const site_hot& h, uint64_t pc,
                                                              uint64_t* x) {
    return simulate_register_only<hot_offsets>(static_cast<opcode>(h.op), x, h.rd, h.rs1, h.rs2,
                                               static_cast<uint64_t>(int64_t{h.imm}), pc,
                                               pc + h.length);
}

// The hot line's entry-side consumer fires: counts the hit in the probe's counter (the caller
// counts it in counters_.hits or fast_hits_), and builds the hit record only when a handler or
// the sink takes it. Returns fired_stop when the consumer is a stop-mode probe, fired_handler
// when a handler ran (only a handler sees the context, so only then may the pc have moved).
[[gnu::always_inline]] inline unsigned engine::hot_entry_fire(const site_hot& h, process_rec& proc,
                                                              uint32_t tid, uint64_t pc,
                                                              uprobes_trap_context* ctx) {
    unsigned fired = h.head.mode == UPROBES_MODE_STOP ? fired_stop : 0;
    // The probe's counter at byte offset h.probe_offset (8 * its pool index).
    // Atomic: harts without the engine's lock count the same probe (concurrent_hit.cpp).
    uint64_t count = count_hit(
        reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(probe_hits_) + h.probe_offset));
    // The record sink first (the traced hit: one byte of the line and the sink's pointer tested),
    // then the handler and the hit sink, or the hit sink alone.
    if (h.entry == hot_entry::ring && record_reserve_ != nullptr) {
        // The record written once, where the sink keeps it.
        uprobes_hit_record* r = record_reserve_(record_user_);
        if (r != nullptr) {
            r->time_ns = os_time_ns();
            *reinterpret_cast<hit_word*>(&r->pid) = uint64_t(proc.pid) | uint64_t(tid) << 32;
            r->pc = pc;
            // probe_id, kind, flags 0, reserved 0: one store.
            *reinterpret_cast<hit_word*>(&r->probe_id) =
                uint64_t(h.head.probe_id) | uint64_t(h.head.kind) << 32;
            store_record_registers(r, ctx);
            r->ret = 0;
            record_commit_(r, record_user_);
        }
    } else if (h.handler != nullptr) {
        fired |= fired_handler;
        // The time first: nothing read from the hot line has to live across the call.
        uint64_t now = os_time_ns();
        uprobes_hit hit;
        fill_hit_record(hit, h.head, h.cookie, proc.pid, tid, pc, ctx, now);
        hit.hit_count = count;
        h.handler(ctx, &hit, h.user);
        emit(hit);
    } else if (sink_ != nullptr) {
        uint64_t now = os_time_ns();
        uprobes_hit hit;
        fill_hit_record(hit, h.head, h.cookie, proc.pid, tid, pc, ctx, now);
        hit.hit_count = count;
        emit(hit);
    }
    return fired;
}

// How far a `jal x0` reaches (+-1 MiB): a slot ends with one back to the program when the
// instruction after the probed one is within it.
inline constexpr uint64_t jal_reach = uint64_t{1} << 20;

// Whether thread `t`'s slot ends with a jal back for a step of the instruction at `pc`: nothing
// has to run once it ran (not a single step, no post handler on the site) and the jal at
// slot + length reaches pc + length, with the offset pc - slot (even: both are).
[[gnu::always_inline]] inline bool engine::slot_jumps(const process_rec& proc, const thread_rec& t,
                                                      uint32_t site_slot, uint64_t pc,
                                                      bool single_step) const {
    const uint64_t slot = proc.xol + uint64_t{t.xol_slot} * xol_slot_size;
    return !single_step && site_slot != nil && sites_[site_slot].post_handlers == 0 &&
           pc - slot + jal_reach < 2 * jal_reach;
}

// Whether thread `t`'s slot already holds `insn` followed by the ending `jump` says, for the
// instruction at `pc` (a jal: to pc + length). xol_return_pc is the target of the jal the slot
// holds while xol_cached_jump is set (every writer of the slot sets both, or clears the key).
[[gnu::always_inline]] inline bool engine::slot_holds(const thread_rec& t, const decoded_insn& insn,
                                                      uint64_t pc, bool jump) {
    return t.xol_cached_raw == slot_key(insn) && t.xol_cached_jump == jump &&
           (!jump || t.xol_return_pc == pc + insn.length);
}

// What xol_cached_raw holds for a slot holding `insn`: never 0 (a 32-bit instruction has its low
// bits set, a 16-bit one has bit 31 set here).
[[gnu::always_inline]] inline uint32_t engine::slot_key(const decoded_insn& insn) {
    return insn.raw ^ (uint32_t{insn.length} << 30);
}

// Thread `t` steps the instruction at `pc` in its slot, which holds it: the state the slot's
// end (xol_trap), a debugger's view and a fault fix-up look at, then the pc. Counted in
// `counters` (the engine's, or a hart's on the lock-free path).
template <typename Counters>
[[gnu::always_inline]] inline int
engine::enter_slot(process_rec& proc, thread_rec& t, const decoded_insn& insn, uint32_t site_slot,
                   uint64_t pc, bool jump, bool single_step, uprobes_trap_context* ctx,
                   uprobes_trap_info* info, Counters& counters) {
    t.xol = single_step ? xol_state::single_step : jump ? xol_state::jumped : xol_state::probe_step;
    t.xol_length = insn.length;
    t.xol_site = site_slot;
    t.xol_site_generation = site_slot != nil ? sites_[site_slot].generation : 0;
    t.xol_return_pc = pc + insn.length;
    ctx->pc = proc.xol + uint64_t{t.xol_slot} * xol_slot_size;
    counters.out_of_line++;
    set_info(info, UPROBES_TRAP_HANDLED);
    return UPROBES_TRAP_HANDLED;
}

} // namespace ruprobes

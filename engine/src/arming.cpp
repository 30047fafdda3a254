// Registering and unregistering probes, and writing/restoring breakpoints in processes.
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"

namespace ruprobes {

// Writes the breakpoint over `site` in `proc`. The bytes there must be the original instruction
// (a fresh exec) or already the breakpoint (a forked copy); anything else means the text is not
// what the probe was validated against, and it is left alone (text_changed).
result<void> engine::arm(const process_rec& proc, const site_rec& site) {
    uint64_t at = proc.bias + site.addr;
    uint8_t length = site.insn.length;
    uint32_t current = RUPROBES_TRY(peek_text(proc.pid, at, length));
    uint32_t bp = breakpoint_for(length);
    if (current == bp)
        return {};
    if (current != site.insn.raw)
        return error::text_changed;
    return poke_text(proc.pid, at, bp, length);
}

// Writes the original instruction back over `site` in `proc` if the breakpoint is still there;
// text_changed (and nothing written) if the bytes are something else.
result<void> engine::disarm(const process_rec& proc, const site_rec& site) {
    uint64_t at = proc.bias + site.addr;
    uint8_t length = site.insn.length;
    uint32_t current = RUPROBES_TRY(peek_text(proc.pid, at, length));
    if (current == site.insn.raw)
        return {};
    if (current != breakpoint_for(length))
        return error::text_changed;
    return poke_text(proc.pid, at, site.insn.raw, length);
}

namespace {

// Up to 16 bytes of one process's text, read once, patched in place and written back once.
struct text_window {
    uint64_t base = 0;
    uint32_t len = 0; // 0: empty
    bool dirty = false;
    uint8_t bytes[16] = {};

    bool covers(uint64_t at, uint8_t n) const {
        return len != 0 && at >= base && at + n <= base + len;
    }
};

} // namespace

// Writes the breakpoints of every site of `prog` that applies to `proc` (at exec), with the
// checks of arm() for each site, but sites that follow each other in the program's list and lie in
// the same aligned 16 bytes of text share one os_copy_from_user and one os_text_poke (probes
// registered in address order, the common case for dense probe sets, arm 4 to 8 per call).
// Returns the first failure (text_changed for a site whose bytes are neither the original nor
// the breakpoint, port_failure for a poke) after trying every site.
result<void> engine::arm_all(const process_rec& proc, const program_rec& prog) {
    error failure = error::ok;
    auto note = [&failure](error e) {
        if (failure == error::ok)
            failure = e;
    };
    text_window w;
    auto flush = [&]() {
        if (w.dirty) {
            if (os_text_poke(proc.pid, w.base, w.bytes, w.len) != 0)
                note(error::port_failure);
            else
                os_icache_flush(proc.pid, w.base, w.len);
        }
        w.len = 0;
        w.dirty = false;
    };
    // The window never leaves the program's text as validation saw it (prog.text_begin/end).
    const uint64_t text_lo = proc.bias + prog.text_begin, text_hi = proc.bias + prog.text_end;
    for (uint32_t s = prog.site_head; s != nil; s = sites_[s].next_in_program) {
        const site_rec& site = sites_[s];
        if (!armed_for(site, proc.pid))
            continue;
        const uint64_t at = proc.bias + site.addr;
        const uint8_t n = site.insn.length;
        if (!w.covers(at, n)) {
            flush();
            uint64_t lo = at & ~uint64_t{15};
            uint64_t hi = lo + 16;
            lo = lo < text_lo ? text_lo : lo;
            hi = hi > text_hi ? text_hi : hi;
            if (at < lo || at + n > hi ||
                os_copy_from_user(proc.pid, w.bytes, lo, static_cast<size_t>(hi - lo)) != 0) {
                // Across the window's edge, or not readable as a block: this site alone.
                result<void> r = arm(proc, site);
                if (!r.ok())
                    note(r.err());
                continue;
            }
            w.base = lo;
            w.len = static_cast<uint32_t>(hi - lo);
        }
        uint8_t* p = w.bytes + (at - w.base);
        uint32_t current = load_le(p, n);
        if (current == breakpoint_for(n))
            continue;
        if (current != site.insn.raw) {
            note(error::text_changed); // left alone, as arm() does
            continue;
        }
        store_le(p, breakpoint_for(n), n);
        w.dirty = true;
    }
    flush();
    if (failure != error::ok)
        return failure;
    return {};
}

result<int32_t> engine::register_probe(const uprobes_probe_spec& spec,
                                       const uprobes_program_image& image) {
    if (!ready_)
        return error::invalid_argument;
    if (spec.kind > UPROBES_KIND_RETURN || spec.mode > UPROBES_MODE_STOP)
        return error::invalid_argument;
    if (free_probes_ == nil)
        return error::no_space;
    uint32_t program = RUPROBES_TRY(find_or_add_program(image.key, spec.path));
    program_rec& prog = programs_[program];

    site_rec* site = lookup_site(program, spec.addr);
    uint32_t site_slot = nil;
    bool new_site = site == nullptr;
    bool stop_only = spec.mode == UPROBES_MODE_STOP && spec.kind != UPROBES_KIND_RETURN;
    if (!new_site && site->insn.cls == insn_class::refuse && !stop_only) {
        release_program(program);
        return site->insn.refusal; // trace probes keep their refusals on a breakpoint's site
    }
    if (new_site) {
        result<decoded_insn> insn = validate_site(prog, image, spec.addr, stop_only);
        if (!insn.ok() || free_sites_ == nil) {
            release_program(program);
            return insn.ok() ? error::no_space : insn.err();
        }
        site_slot = free_sites_;
        site = &sites_[site_slot];
        free_sites_ = site->next_in_program;
        uint32_t generation = site->generation + 1;
        *site = site_rec{};
        site->generation = generation;
        site->program = program;
        site->addr = spec.addr;
        site->insn = *insn;
        site->next_in_program = prog.site_head;
        prog.site_head = site_slot;
        sites_used_++;
        refresh_hot(site_slot);
        RUPROBES_TRY_VOID(
            site_table_.insert(ruprobes::site_index::hash(program, spec.addr), site_slot));
    } else {
        site_slot = static_cast<uint32_t>(site - sites_);
        for (uint32_t i = site->probe_head; i != nil; i = probes_[i].next_in_site) {
            const probe_rec& q = probes_[i];
            if (q.kind == spec.kind && q.mode == spec.mode && q.pid == spec.pid &&
                q.handler == spec.handler && q.post_handler == spec.post_handler &&
                q.condition == spec.condition && q.user == spec.user && q.cookie == spec.cookie)
                return error::already_exists;
        }
    }

    // Which processes gain the breakpoint with this probe: remember them before linking it.
    uint32_t probe_index = free_probes_;
    probe_rec& p = probes_[probe_index];
    free_probes_ = p.next_in_site;
    uint32_t generation = id_generation_++ % (0x7ffffffeu / limits_.max_probes);
    p = probe_rec{};
    p.id = static_cast<int32_t>(1 + probe_index + limits_.max_probes * generation);
    p.site = site_slot;
    p.pid = spec.pid;
    p.kind = spec.kind;
    p.mode = spec.mode;
    p.handler = spec.handler;
    p.post_handler = spec.post_handler;
    p.condition = spec.condition;
    p.user = spec.user;
    p.cookie = spec.cookie;
    probe_hits_[probe_index] = 0;
    probes_used_++;

    error failure = error::ok;
    for (uint32_t i = prog.process_head; i != nil; i = processes_[i].next_in_program) {
        const process_rec& proc = processes_[i];
        if (armed_for(*site, proc.pid))
            continue; // already armed by another probe
        if (spec.pid != UPROBES_ANY_PID && spec.pid != proc.pid)
            continue;
        result<void> r = arm(proc, *site);
        if (!r.ok() && r.err() != error::text_changed)
            failure = r.err();
    }
    p.next_in_site = site->probe_head;
    site->probe_head = probe_index;
    site->consumers++;
    if (spec.pid == UPROBES_ANY_PID)
        site->any_pid++;
    if (spec.post_handler != nullptr && spec.kind != UPROBES_KIND_RETURN)
        site->post_handlers++;
    refresh_hot(site_slot);
    if (failure != error::ok) {
        (void)unregister_probe(p.id);
        return failure;
    }
    return p.id;
}

result<void> engine::unregister_probe(int32_t id) {
    probe_rec* p = probe_by_id(id);
    if (p == nullptr)
        return error::not_found;
    uint32_t probe_index = static_cast<uint32_t>(p - probes_);
    uint32_t site_slot = p->site;
    site_rec& site = sites_[site_slot];
    uint32_t program = site.program;
    program_rec& prog = programs_[program];

    // Unlink first: armed_for() then answers for the remaining probes.
    uint32_t* link = &site.probe_head;
    while (*link != probe_index)
        link = &probes_[*link].next_in_site;
    *link = p->next_in_site;
    site.consumers--;
    if (p->pid == UPROBES_ANY_PID)
        site.any_pid--;
    if (p->post_handler != nullptr && p->kind != UPROBES_KIND_RETURN)
        site.post_handlers--;
    refresh_hot(site_slot);

    error outcome = error::ok;
    for (uint32_t i = prog.process_head; i != nil; i = processes_[i].next_in_program) {
        const process_rec& proc = processes_[i];
        bool before = applies(*p, proc.pid) || armed_for(site, proc.pid);
        if (!before || armed_for(site, proc.pid))
            continue;
        result<void> r = disarm(proc, site);
        if (!r.ok() && outcome == error::ok)
            outcome = r.err();
    }

    *p = probe_rec{};
    probe_hits_[probe_index] = 0;
    p->next_in_site = free_probes_;
    free_probes_ = probe_index;
    probes_used_--;

    if (site.consumers == 0) {
        site_table_.erase(ruprobes::site_index::hash(program, site.addr), site_slot);
        uint32_t* s = &prog.site_head;
        while (*s != site_slot)
            s = &sites_[*s].next_in_program;
        *s = site.next_in_program;
        uint32_t generation = site.generation;
        site = site_rec{};
        site.generation = generation;
        site.next_in_program = free_sites_;
        free_sites_ = site_slot;
        refresh_hot(site_slot);
        sites_used_--;
        release_program(program);
    }
    if (outcome != error::ok)
        return outcome;
    return {};
}

} // namespace ruprobes

// Processes and threads: the lifecycle hooks (exec, fork, thread exit, exit), thread records and
// xol slots.
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"

namespace ruprobes {

void set_xol(process_rec& p, uint64_t page) {
    p.xol = page;
    p.xol_trap_base = page != 0 ? page : xol_none_base;
}

namespace {

static_assert(sizeof(thread_rec) == 64, "a new field of thread_rec: reset it in reset_thread");

// A free thread record, its return stack kept. Field by field: `t = thread_rec{}` builds the
// temporary on the stack at low optimisation levels, on the trap path (new_thread).
void reset_thread(thread_rec& t) {
    t.pid = 0;
    t.tid = 0;
    t.used = false;
    t.process = nil;
    t.next_in_process = nil;
    t.xol_slot = 0;
    t.xol = xol_state::idle;
    t.xol_stop_after = false;
    t.xol_length = 0;
    t.xol_cached_jump = false;
    t.xol_cached_raw = 0;
    t.xol_site = nil;
    t.xol_site_generation = 0;
    t.xol_return_pc = 0;
    t.depth = 0;
    t.probe_stop_site = nil;
}

} // namespace

process_rec* engine::find_process(uint32_t pid) const {
    pid_slot* s = process_table_.find(pid);
    return s != nullptr ? &processes_[s->process] : nullptr;
}

thread_rec* engine::find_thread_in_table(uint32_t pid, uint32_t tid) const {
    thread_slot* s = thread_table_.find({pid, tid});
    if (s == nullptr)
        return nullptr;
    last_thread_ = &threads_[s->thread];
    return last_thread_;
}

result<uint32_t> engine::alloc_xol_slot(process_rec& proc) {
    for (uint32_t word = 0; word < xol_slots / 64; word++) {
        uint64_t used = proc.xol_used[word] | (word == 0 ? 1u : 0u); // slot 0: trampoline
        if (used == ~uint64_t{0})
            continue;
        // A plain scan: std::countr_one would need libgcc's __ctzdi2 without Zbb.
        uint32_t bit = 0;
        while ((used >> bit) & 1)
            bit++;
        proc.xol_used[word] |= uint64_t{1} << bit;
        return word * 64 + bit;
    }
    return error::no_space;
}

// Thread `t` of `proc` takes over the slot of `from` (a thread of the process `proc` was forked
// from, whose xol page it copied), with what the slot holds and where `from` stands in it.
void engine::take_slot_of(process_rec& proc, thread_rec& t, const thread_rec& from) {
    if (t.xol_slot != 0)
        proc.xol_used[t.xol_slot / 64] &= ~(uint64_t{1} << (t.xol_slot % 64));
    proc.xol_used[from.xol_slot / 64] |= uint64_t{1} << (from.xol_slot % 64);
    t.xol_slot = from.xol_slot;
    t.xol = from.xol;
    t.xol_stop_after = from.xol_stop_after;
    t.xol_length = from.xol_length;
    t.xol_cached_jump = from.xol_cached_jump;
    t.xol_cached_raw = from.xol_cached_raw;
    t.xol_site = from.xol_site;
    t.xol_site_generation = from.xol_site_generation;
    t.xol_return_pc = from.xol_return_pc;
}

// The record of thread `tid` of `proc`, created on first use (return probes, out-of-line steps).
// Its xol slot is assigned when the process has an xol page. Fails with no_space when the thread
// pool is full.
// A new record for thread `tid` of `proc` (thread_for's slow half: the thread has none yet).
result<thread_rec*> engine::new_thread(process_rec& proc, uint32_t tid) {
    if (free_threads_ == nil)
        return error::no_space;
    // The thread table changes: no hart may read it meanwhile (from a trap path, which the C
    // ABI's writers do not bracket).
    begin_write();
    uint32_t index = free_threads_;
    thread_rec* t = &threads_[index];
    free_threads_ = t->next_in_process;
    reset_thread(*t);
    t->pid = proc.pid;
    t->tid = tid;
    t->used = true;
    t->process = static_cast<uint32_t>(&proc - processes_);
    if (proc.xol != 0) {
        result<uint32_t> slot = alloc_xol_slot(proc);
        t->xol_slot = slot.ok() ? *slot : 0;
    }
    t->next_in_process = proc.thread_head;
    proc.thread_head = index;
    threads_used_++;
    (void)thread_table_.insert({proc.pid, tid, index, 0});
    end_write();
    return t;
}

void engine::free_thread(thread_rec& t) {
    uint32_t index = static_cast<uint32_t>(&t - threads_);
    process_rec& proc = processes_[t.process];
    uint32_t* link = &proc.thread_head;
    while (*link != index)
        link = &threads_[*link].next_in_process;
    *link = t.next_in_process;
    if (t.xol_slot != 0)
        proc.xol_used[t.xol_slot / 64] &= ~(uint64_t{1} << (t.xol_slot % 64));
    thread_table_.erase({t.pid, t.tid});
    if (last_thread_ == &t)
        last_thread_ = nullptr;
    reset_thread(t);
    t.next_in_process = free_threads_;
    free_threads_ = index;
    threads_used_--;
}

void engine::free_process(process_rec& p) {
    while (p.thread_head != nil)
        free_thread(threads_[p.thread_head]);
    uint32_t index = static_cast<uint32_t>(&p - processes_);
    program_rec& prog = programs_[p.program];
    uint32_t* link = &prog.process_head;
    while (*link != index)
        link = &processes_[*link].next_in_program;
    *link = p.next_in_program;
    uint32_t program = p.program;
    process_table_.erase(p.pid);
    if (last_process_ == &p)
        last_process_ = nullptr;
    p = process_rec{};
    p.next_in_program = free_processes_;
    free_processes_ = index;
    processes_used_--;
    release_program(program);
}

result<void> engine::on_exec(uint32_t pid, const uprobes_program_image& image, const char* path,
                             uint64_t bias) {
    if (!ready_)
        return error::invalid_argument;
    if (process_rec* old = find_process(pid))
        free_process(*old);
    if (free_processes_ == nil)
        return error::no_space;
    uint32_t program = RUPROBES_TRY(find_or_add_program(image.key, path));
    uint32_t index = free_processes_;
    process_rec& p = processes_[index];
    free_processes_ = p.next_in_program;
    p = process_rec{};
    p.pid = pid;
    p.used = true;
    p.program = program;
    p.bias = bias;
    set_xol(p, os_xol_page(pid));
    p.next_in_program = programs_[program].process_head;
    programs_[program].process_head = index;
    processes_used_++;
    (void)process_table_.insert({pid, index});

    error failure = error::ok;
    if (p.xol != 0) {
        // The return trampoline: an ebreak at the start of the page.
        result<void> r = poke_text(pid, p.xol, ebreak_bits, 4);
        if (!r.ok())
            failure = r.err();
    }
    result<void> r = arm_all(p, programs_[program]);
    if (!r.ok() && failure == error::ok)
        failure = r.err();
    if (failure != error::ok)
        return failure;
    return {};
}

result<void> engine::on_fork(uint32_t parent_pid, uint32_t parent_tid, uint32_t child_pid,
                             uint32_t child_tid) {
    if (!ready_)
        return error::invalid_argument;
    process_rec* parent = find_process(parent_pid);
    if (parent == nullptr)
        return {}; // the parent runs nothing the engine knows: neither does the child
    if (process_rec* old = find_process(child_pid))
        free_process(*old);
    if (free_processes_ == nil)
        return error::no_space;
    uint32_t index = free_processes_;
    process_rec& c = processes_[index];
    free_processes_ = c.next_in_program;
    c = process_rec{};
    c.pid = child_pid;
    c.used = true;
    c.program = parent->program;
    c.bias = parent->bias;
    set_xol(c, os_xol_page(child_pid));
    program_rec& prog = programs_[c.program];
    c.next_in_program = prog.process_head;
    prog.process_head = index;
    processes_used_++;
    (void)process_table_.insert({child_pid, index});

    // The child's text is a copy of the parent's: breakpoints that only the parent's pid filter
    // wanted go away in the child.
    error failure = error::ok;
    for (uint32_t s = prog.site_head; s != nil; s = sites_[s].next_in_program) {
        if (armed_for(sites_[s], parent_pid) && !armed_for(sites_[s], child_pid)) {
            result<void> r = disarm(c, sites_[s]);
            if (!r.ok() && failure == error::ok)
                failure = r.err();
        }
    }
    if (c.xol != 0) {
        result<void> r = poke_text(child_pid, c.xol, ebreak_bits, 4);
        if (!r.ok() && failure == error::ok)
            failure = r.err();
    }
    // The forking thread's pending returns: its copy returns through the same frames.
    thread_rec* pt = find_thread(parent_pid, parent_tid);
    if (pt != nullptr && pt->depth > 0) {
        result<thread_rec*> ct = thread_for(c, child_tid);
        if (!ct.ok())
            return ct.err();
        for (uint32_t i = 0; i < pt->depth; i++)
            (*ct)->stack[i] = pt->stack[i];
        (*ct)->depth = pt->depth;
    }
    // And its out-of-line step, if any: the child's xol page is a copy of the parent's, so its
    // copy of the thread stands in the same slot (a kernel forking a thread whose pc is there).
    if (pt != nullptr && pt->xol != xol_state::idle && pt->xol_slot != 0 && c.xol == parent->xol) {
        if (result<thread_rec*> ct = thread_for(c, child_tid); ct.ok())
            take_slot_of(c, **ct, *pt);
    }
    if (failure != error::ok)
        return failure;
    return {};
}

void engine::on_thread_exit(uint32_t pid, uint32_t tid) {
    if (!ready_)
        return;
    if (thread_rec* t = find_thread(pid, tid))
        free_thread(*t);
}

void engine::on_exit(uint32_t pid) {
    if (!ready_)
        return;
    if (process_rec* p = find_process(pid))
        free_process(*p);
}

} // namespace ruprobes

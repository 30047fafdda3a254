// Engine setup: limits, the layout of the memory block the kernel hands over, counters.
#include "ruprobes/engine.hpp"

namespace ruprobes {

namespace {

constexpr size_t block_align = 16;
constexpr size_t hot_align = 64; // site_hot records each fill one cache line

size_t align_up(size_t n) {
    return (n + block_align - 1) & ~(block_align - 1);
}

// Where each table lives inside the block; computed the same way for sizing and for carving.
struct layout {
    size_t programs, sites, hot, probes, probe_hits, processes, threads, returns, site_slots,
        pid_slots, thread_slots, total;
};

layout compute_layout(const uprobes_limits& l) {
    layout o = {};
    size_t at = 0;
    auto take = [&at](size_t bytes) {
        size_t here = at;
        at += align_up(bytes);
        return here;
    };
    o.programs = take(sizeof(program_rec) * l.max_programs);
    o.sites = take(sizeof(site_rec) * l.max_sites);
    // One cache line per site: room to round the start up to a 64-byte boundary at init.
    o.hot = take(sizeof(site_hot) * l.max_sites + hot_align - block_align);
    o.probes = take(sizeof(probe_rec) * l.max_probes);
    o.probe_hits = take(sizeof(uint64_t) * l.max_probes);
    o.processes = take(sizeof(process_rec) * l.max_processes);
    o.threads = take(sizeof(thread_rec) * l.max_threads);
    o.returns = take(sizeof(return_entry) * l.max_threads * size_t{l.max_return_depth});
    o.site_slots = take(sizeof(site_index::slot) * site_index::slots_for(l.max_sites));
    o.pid_slots = take(sizeof(pid_slot) * open_table<pid_slot>::slots_for(l.max_processes));
    o.thread_slots = take(sizeof(thread_slot) * open_table<thread_slot>::slots_for(l.max_threads));
    o.total = at;
    return o;
}

template <typename T>
T* at_offset(void* base, size_t offset) {
    return reinterpret_cast<T*>(static_cast<uint8_t*>(base) + offset);
}

} // namespace

result<uprobes_limits> engine::effective_limits(const uprobes_limits* limits) {
    uprobes_limits l = limits != nullptr ? *limits : uprobes_limits{};
    if (l.max_probes == 0)
        l.max_probes = 1024;
    if (l.max_sites == 0)
        l.max_sites = l.max_probes;
    if (l.max_programs == 0)
        l.max_programs = 32;
    if (l.max_processes == 0)
        l.max_processes = 64;
    if (l.max_threads == 0)
        l.max_threads = 128;
    if (l.max_return_depth == 0)
        l.max_return_depth = 64;
    // Ids are 1 + index + max_probes * generation and must stay positive ints; tables index
    // with uint32_t and reserve nil.
    constexpr uint32_t cap = 1u << 24;
    if (l.max_probes > cap || l.max_sites > cap || l.max_programs > cap || l.max_processes > cap ||
        l.max_threads > cap || l.max_return_depth < 64 || l.max_return_depth > 1u << 16)
        return error::invalid_argument;
    return l;
}

size_t engine::memory_required(const uprobes_limits& limits) {
    return compute_layout(limits).total;
}

result<void> engine::init(const uprobes_limits* limits, void* memory, size_t size) {
    ready_ = false;
    last_process_ = nullptr; // the hit path trusts a non-null last_process_ without ready_
    last_hot_ = nullptr;
    uprobes_limits l = RUPROBES_TRY(effective_limits(limits));
    if (memory == nullptr || reinterpret_cast<uintptr_t>(memory) % block_align != 0)
        return error::invalid_argument;
    layout o = compute_layout(l);
    if (size < o.total)
        return error::no_space;

    limits_ = l;
    programs_ = at_offset<program_rec>(memory, o.programs);
    sites_ = at_offset<site_rec>(memory, o.sites);
    uintptr_t hot_at = reinterpret_cast<uintptr_t>(memory) + o.hot;
    hot_ = reinterpret_cast<site_hot*>((hot_at + hot_align - 1) & ~uintptr_t{hot_align - 1});
    probes_ = at_offset<probe_rec>(memory, o.probes);
    probe_hits_ = at_offset<uint64_t>(memory, o.probe_hits);
    processes_ = at_offset<process_rec>(memory, o.processes);
    threads_ = at_offset<thread_rec>(memory, o.threads);
    return_entries_ = at_offset<return_entry>(memory, o.returns);

    for (uint32_t i = 0; i < l.max_programs; i++)
        programs_[i] = program_rec{};
    free_sites_ = nil;
    for (uint32_t i = l.max_sites; i-- > 0;) {
        sites_[i] = site_rec{};
        hot_[i] = site_hot{};
        sites_[i].next_in_program = free_sites_;
        free_sites_ = i;
    }
    free_probes_ = nil;
    for (uint32_t i = l.max_probes; i-- > 0;) {
        probes_[i] = probe_rec{};
        probe_hits_[i] = 0;
        probes_[i].next_in_site = free_probes_;
        free_probes_ = i;
    }
    free_processes_ = nil;
    for (uint32_t i = l.max_processes; i-- > 0;) {
        processes_[i] = process_rec{};
        processes_[i].next_in_program = free_processes_;
        free_processes_ = i;
    }
    free_threads_ = nil;
    for (uint32_t i = l.max_threads; i-- > 0;) {
        threads_[i] = thread_rec{};
        threads_[i].stack = return_entries_ + size_t{i} * l.max_return_depth;
        threads_[i].next_in_process = free_threads_;
        free_threads_ = i;
    }
    site_table_.attach(at_offset<site_index::slot>(memory, o.site_slots),
                       site_index::slots_for(l.max_sites));
    process_table_.attach(at_offset<pid_slot>(memory, o.pid_slots),
                          open_table<pid_slot>::slots_for(l.max_processes));
    thread_table_.attach(at_offset<thread_slot>(memory, o.thread_slots),
                         open_table<thread_slot>::slots_for(l.max_threads));

    programs_used_ = sites_used_ = probes_used_ = processes_used_ = threads_used_ = 0;
    id_generation_ = 0;
    last_process_ = nullptr;
    last_hot_ = nullptr;
    hit_lookups_ = 0;
    fast_hits_ = 0;
    last_thread_ = nullptr;
    counters_ = uprobes_stats{};
    for (hart_rec& h : harts_) { // no hart reads the tables now (the caller's begin_write)
        h.last_process = nullptr;
        h.last_hot = nullptr;
        h.last_thread = nullptr;
        h.counters = hart_counters{};
    }
    ready_ = true;
    return {};
}

void engine::stats(uprobes_stats* out) const {
    *out = counters_;
    // The hit path's lookups, one slot each (the slots beyond the first are in lookup_slots).
    out->lookups += hit_lookups_ + fast_hits_;
    out->lookup_slots += hit_lookups_ + fast_hits_;
    out->traps += fast_hits_;
    out->hits += fast_hits_;
    out->simulated += fast_hits_;
    for (const hart_rec& h : harts_) { // the lock-free hit path's counts (concurrent_hit.cpp)
        const hart_counters& c = h.counters;
        out->traps += c.traps + c.fast_hits;
        out->hits += c.hits + c.fast_hits;
        out->simulated += c.simulated + c.fast_hits;
        out->out_of_line += c.out_of_line;
        out->lookups += c.lookups + c.fast_hits;
        out->lookup_slots += c.lookup_slots + c.fast_hits;
        out->return_hits += c.return_hits;
        out->return_dropped += c.return_dropped;
        out->return_skipped += c.return_skipped;
    }
    out->limits = limits_;
    out->probes_used = probes_used_;
    out->sites_used = sites_used_;
    out->programs_used = programs_used_;
    out->processes_used = processes_used_;
    out->threads_used = threads_used_;
}

} // namespace ruprobes

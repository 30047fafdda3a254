#include "target_model/target_model.hpp"

#include "target_model/host_step.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <type_traits>

namespace ruprobes::target {

target_model::target_model(target_backend& backend) : backend_(backend) {
    backend_.set_event_sink([this](const target_event& event) { on_event(event); });
}

target_model::~target_model() {
    backend_.set_event_sink({});
}

task<target_status> target_model::status() {
    status_ = co_await backend_.status();
    co_return status_;
}

task<outcome<std::vector<process_info>>> target_model::list_processes() {
    auto list = co_await backend_.list_processes();
    if (list) {
        for (const auto& p : *list)
            processes_[p.pid] = p;
    }
    co_return list;
}

task<outcome<process_info>> target_model::process(pid_type pid) {
    if (auto it = processes_.find(pid); it != processes_.end())
        co_return it->second;
    auto list = co_await list_processes();
    if (!list)
        co_return tl::unexpected(list.error());
    if (auto it = processes_.find(pid); it != processes_.end())
        co_return it->second;
    co_return fail(target_errc::no_such_process, "no process " + std::to_string(pid));
}

task<outcome<process_info>> target_model::spawn(std::vector<std::string> argv, bool stopped) {
    if (argv.empty() || argv[0].empty())
        co_return fail(target_errc::invalid_argument, "spawn: empty argv");
    auto info = co_await backend_.spawn(std::move(argv), stopped);
    if (info)
        processes_[info->pid] = *info;
    co_return info;
}

task<outcome<void>> target_model::kill(pid_type pid) {
    co_return co_await backend_.kill(pid);
}

task<outcome<void>> target_model::attach(pid_type pid) {
    auto info = co_await process(pid);
    if (!info)
        co_return tl::unexpected(info.error());
    co_return co_await stop(thread_id{pid, 0});
}

task<outcome<std::vector<thread_info>>> target_model::list_threads(pid_type pid) {
    // Threads only come and go with exec/exit (one thread per process in the reference
    // kernel): the list is cached until then; the states come from the stops the model saw.
    auto it = threads_.find(pid);
    if (it == threads_.end()) {
        auto list = co_await backend_.list_threads(pid);
        if (!list)
            co_return tl::unexpected(list.error());
        it = threads_.insert_or_assign(pid, std::move(*list)).first;
    }
    std::vector<thread_info> out = it->second;
    for (auto& t : out)
        t.state = stops_.contains(t.id) ? thread_state::stopped : thread_state::running;
    co_return out;
}

task<outcome<void>> target_model::stop(thread_id thread) {
    bool unsent = std::any_of(unsent_registers_.begin(), unsent_registers_.end(),
                              [&](const auto& u) { return u.first.pid == thread.pid; });
    if (unsent && thread.tid == 0)
        (void)co_await list_threads(thread.pid); // repeat_host_steps needs them all
    if (unsent && repeat_host_steps(thread))
        co_return outcome<void>{};
    auto w = co_await send_unsent_registers(thread);
    if (!w)
        co_return w;
    co_return co_await backend_.stop(thread);
}

bool target_model::repeat_host_steps(thread_id thread) {
    // The kernel answers a stop request for a stopped thread with its stop event again. For a
    // thread stepped on the host that is the step's stop, which only the model has.
    std::vector<stop_event> again;
    for (const auto& [id, stop] : stops_) {
        if (id.pid != thread.pid || (thread.tid != 0 && id.tid != thread.tid))
            continue;
        if (!unsent_registers_.contains(id))
            return false;
        again.push_back(stop);
    }
    if (thread.tid == 0) { // every thread of the process, not only the stopped ones
        auto it = threads_.find(thread.pid);
        if (it == threads_.end() || it->second.size() != again.size())
            return false;
    }
    for (const auto& stop : again)
        on_event(stop);
    return !again.empty();
}

std::vector<std::pair<thread_id, stop_event>> target_model::take_stops(thread_id thread) {
    std::vector<std::pair<thread_id, stop_event>> taken;
    for (auto it = stops_.begin(); it != stops_.end();) {
        bool match =
            it->first.pid == thread.pid && (thread.tid == 0 || it->first.tid == thread.tid);
        if (match) {
            taken.emplace_back(it->first, std::move(it->second));
            it = stops_.erase(it);
        } else {
            ++it;
        }
    }
    return taken;
}

task<outcome<void>> target_model::resume(thread_id thread, int signal) {
    // The thread runs from now on: its stop is history before the kernel even answers (the
    // next stop event may arrive before the reply). A refused resume puts the stops back.
    auto taken = take_stops(thread);
    auto r = co_await send_registers_and_resume(thread, taken, false, signal);
    if (!r) {
        for (auto& [id, stop] : taken)
            stops_.try_emplace(id, std::move(stop));
    }
    co_return r;
}

task<outcome<void>> target_model::step(thread_id thread) {
    auto taken = take_stops(thread);
    auto r = co_await send_registers_and_resume(thread, taken, true, 0);
    if (!r) {
        for (auto& [id, stop] : taken)
            stops_.try_emplace(id, std::move(stop));
    }
    co_return r;
}

task<outcome<void>>
target_model::send_registers_and_resume(thread_id thread,
                                        const std::vector<std::pair<thread_id, stop_event>>& taken,
                                        bool step, int signal) {
    std::vector<std::pair<thread_id, registers>> unsent;
    for (const auto& [id, stop] : taken) {
        if (auto it = unsent_registers_.find(id); it != unsent_registers_.end())
            unsent.emplace_back(id, it->second);
    }
    // All but the last are written alone; the last goes in one batch with the resume.
    for (size_t i = 0; i + 1 < unsent.size(); i++) {
        auto w = co_await backend_.write_registers(unsent[i].first, unsent[i].second);
        if (!w)
            co_return w;
        unsent_registers_.erase(unsent[i].first);
    }
    if (unsent.empty()) {
        // (No co_await inside ?: — g++ 12 miscompiles it.)
        if (step)
            co_return co_await backend_.step(thread);
        co_return co_await backend_.resume(thread, signal);
    }
    const auto& [last, regs] = unsent.back();
    auto r = co_await backend_.write_registers_then_resume(last, regs, thread, step, signal);
    if (r.registers_written)
        unsent_registers_.erase(last);
    co_return r.resumed;
}

task<outcome<void>> target_model::send_unsent_registers(thread_id thread) {
    std::vector<std::pair<thread_id, registers>> unsent;
    for (const auto& [id, regs] : unsent_registers_) {
        if (id.pid == thread.pid && (thread.tid == 0 || id.tid == thread.tid))
            unsent.emplace_back(id, regs);
    }
    for (const auto& [id, regs] : unsent) {
        auto w = co_await backend_.write_registers(id, regs);
        if (!w)
            co_return w;
        unsent_registers_.erase(id);
    }
    co_return outcome<void>{};
}

bool target_model::step_on_host(thread_id thread, std::span<const uint8_t> text) {
    auto it = stops_.find(thread);
    if (it == stops_.end() ||
        (it->second.reason != stop_reason::breakpoint && it->second.reason != stop_reason::step) ||
        memory_written_.contains(thread.pid))
        return false;
    auto after = host_step(it->second.regs, text);
    if (!after)
        return false;
    // The stop the kernel would report after stepping it: reason step, SIGTRAP, no probe. The
    // F/D registers are untouched by the instructions host_step runs.
    stop_event stop;
    stop.thread = thread;
    stop.reason = stop_reason::step;
    stop.signal = gdb_signal::sigtrap;
    stop.regs = *after;
    stop.fp = it->second.fp;
    unsent_registers_[thread] = *after;
    on_event(stop);
    return true;
}

task<outcome<registers>> target_model::read_registers(thread_id thread) {
    // A stopped thread's registers are the ones its stop event carried (kept up to date by
    // write_registers): no round trip to the kernel.
    if (auto it = stops_.find(thread); it != stops_.end())
        co_return it->second.regs;
    co_return co_await backend_.read_registers(thread);
}

task<outcome<void>> target_model::write_registers(thread_id thread, const registers& regs) {
    auto r = co_await backend_.write_registers(thread, regs);
    if (r) {
        unsent_registers_.erase(thread); // every register was written
        if (auto it = stops_.find(thread); it != stops_.end())
            it->second.regs = regs;
    }
    co_return r;
}

task<outcome<fp_registers>> target_model::read_fp_registers(thread_id thread) {
    if (auto it = stops_.find(thread); it != stops_.end() && it->second.fp)
        co_return *it->second.fp;
    const uint64_t stops_before = stop_events_;
    auto r = co_await backend_.read_fp_registers(thread);
    if (r && stop_events_ == stops_before) {
        // Kept only with the stop the values were read in (no stop arrived meanwhile).
        if (auto it = stops_.find(thread); it != stops_.end())
            it->second.fp = *r;
    }
    co_return r;
}

task<outcome<void>> target_model::write_fp_registers(thread_id thread, const fp_registers& regs) {
    auto r = co_await backend_.write_fp_registers(thread, regs);
    if (r) {
        if (auto it = stops_.find(thread); it != stops_.end())
            it->second.fp = regs;
    }
    co_return r;
}

std::optional<stop_event> target_model::last_stop(thread_id thread) const {
    if (auto it = stops_.find(thread); it != stops_.end())
        return it->second;
    return std::nullopt;
}

std::optional<stop_event> target_model::any_stop(pid_type pid) const {
    auto it = stops_.lower_bound(thread_id{pid, 0});
    if (it != stops_.end() && it->first.pid == pid)
        return it->second;
    return std::nullopt;
}

task<outcome<std::vector<uint8_t>>> target_model::read_memory(pid_type pid, uint64_t addr,
                                                              uint64_t len) {
    co_return co_await backend_.read_memory(pid, addr, len);
}

task<outcome<void>> target_model::write_memory(pid_type pid, uint64_t addr,
                                               std::vector<uint8_t> bytes) {
    memory_written_.insert(pid); // even when it fails: part of it may have been written
    co_return co_await backend_.write_memory(pid, addr, std::move(bytes));
}

task<outcome<probe_id>> target_model::insert_breakpoint(pid_type pid, uint64_t addr,
                                                        client_id owner,
                                                        std::vector<uint8_t> condition) {
    auto key = std::make_pair(pid, addr);
    if (auto it = breakpoints_.find(key);
        it != breakpoints_.end() && it->second.condition == condition) {
        it->second.owners.insert(owner);
        co_return it->second.id;
    }
    auto info = co_await process(pid);
    if (!info)
        co_return tl::unexpected(info.error());
    if (addr < info->load_bias)
        co_return fail(target_errc::bad_address, "address below the program's load base");
    probe_spec spec{info->program, addr - info->load_bias, probe_kind::insn, probe_mode::stop, pid,
                    condition};
    auto kernel_id = co_await backend_.add_probe(spec);
    if (!kernel_id)
        co_return tl::unexpected(kernel_id.error());
    auto it = breakpoints_.find(key);
    // Another insert of the same site may have completed while we waited.
    if (it != breakpoints_.end() && it->second.condition == condition) {
        it->second.owners.insert(owner);
        (void)co_await backend_.remove_probe(*kernel_id);
        co_return it->second.id;
    }
    probe_id id = map_kernel_id(*kernel_id);
    if (it != breakpoints_.end()) {
        // A new condition for the site: the new probe is armed, the old one goes.
        auto owners = std::move(it->second.owners);
        probe_id old = it->second.id;
        owners.insert(owner);
        breakpoints_[key] = breakpoint{id, std::move(owners), std::move(condition)};
        probes_[id] = probe_info{id, spec, 0};
        probes_.erase(old);
        if (auto old_kernel_id = unmap(old)) {
            auto r = co_await backend_.remove_probe(*old_kernel_id);
            if (!r)
                spdlog::warn("replacing the condition at {:#x}: {}", addr, r.error().message);
        }
        co_return id;
    }
    breakpoints_[key] = breakpoint{id, {owner}, std::move(condition)};
    probes_[id] = probe_info{id, spec, 0};
    co_return id;
}

task<outcome<void>> target_model::remove_breakpoint(pid_type pid, uint64_t addr, client_id owner) {
    auto it = breakpoints_.find(std::make_pair(pid, addr));
    if (it == breakpoints_.end() || !it->second.owners.contains(owner))
        co_return fail(target_errc::no_such_probe, "no breakpoint there");
    it->second.owners.erase(owner);
    if (!it->second.owners.empty())
        co_return outcome<void>{};
    probe_id id = it->second.id;
    breakpoints_.erase(it);
    probes_.erase(id);
    auto kernel_id = unmap(id);
    if (!kernel_id)
        co_return outcome<void>{}; // never armed in this kernel (it restarted)
    co_return co_await backend_.remove_probe(*kernel_id);
}

task<void> target_model::remove_breakpoints_of(client_id owner) {
    std::vector<std::pair<pid_type, uint64_t>> mine;
    for (const auto& [key, bp] : breakpoints_) {
        if (bp.owners.contains(owner))
            mine.push_back(key);
    }
    for (const auto& [pid, addr] : mine) {
        auto r = co_await remove_breakpoint(pid, addr, owner);
        if (!r)
            spdlog::warn("removing breakpoint {:#x} of pid {}: {}", addr, pid, r.error().message);
    }
}

std::optional<probe_id> target_model::breakpoint_at(pid_type pid, uint64_t addr) const {
    if (auto it = breakpoints_.find(std::make_pair(pid, addr)); it != breakpoints_.end())
        return it->second.id;
    return std::nullopt;
}

std::optional<probe_info> target_model::probe(probe_id id) const {
    if (auto it = probes_.find(id); it != probes_.end())
        return it->second;
    return std::nullopt;
}

bool target_model::claim(pid_type pid, client_id owner) {
    auto [it, inserted] = owners_.emplace(pid, owner);
    return inserted || it->second == owner;
}

void target_model::release(pid_type pid, client_id owner) {
    if (auto it = owners_.find(pid); it != owners_.end() && it->second == owner)
        owners_.erase(it);
}

std::optional<client_id> target_model::owner_of(pid_type pid) const {
    if (auto it = owners_.find(pid); it != owners_.end())
        return it->second;
    return std::nullopt;
}

void target_model::forget_process(pid_type pid) {
    processes_.erase(pid);
    memory_written_.erase(pid);
    for (auto it = unsent_registers_.begin(); it != unsent_registers_.end();)
        it = it->first.pid == pid ? unsent_registers_.erase(it) : std::next(it);
    threads_.erase(pid);
    for (auto it = stops_.begin(); it != stops_.end();)
        it = it->first.pid == pid ? stops_.erase(it) : std::next(it);
    // Breakpoints of a dead process die with it (the kernel drops pid-filtered probes on exit).
    for (auto it = breakpoints_.begin(); it != breakpoints_.end();) {
        if (it->first.first == pid) {
            probes_.erase(it->second.id);
            unmap(it->second.id);
            it = breakpoints_.erase(it);
        } else {
            ++it;
        }
    }
}

probe_id target_model::map_kernel_id(probe_id kernel_id) {
    probe_id id = next_probe_++;
    kernel_ids_[id] = kernel_id;
    model_ids_[kernel_id] = id;
    return id;
}

std::optional<probe_id> target_model::unmap(probe_id id) {
    auto it = kernel_ids_.find(id);
    if (it == kernel_ids_.end())
        return std::nullopt;
    probe_id kernel_id = it->second;
    kernel_ids_.erase(it);
    model_ids_.erase(kernel_id);
    return kernel_id;
}

task<void> target_model::deliver_signal(thread_id thread, int signal) {
    std::weak_ptr<bool> alive = alive_;
    auto r = co_await resume(thread, signal);
    if (alive.expired())
        co_return;
    if (!r)
        spdlog::debug("delivering signal {} to pid {}: {}", signal, thread.pid, r.error().message);
}

task<void> target_model::release_orphans() {
    std::weak_ptr<bool> alive = alive_;
    auto probes = std::move(orphan_probes_);
    auto threads = std::move(orphan_threads_);
    orphan_probes_.clear();
    orphan_threads_.clear();
    for (probe_id kernel_id : probes) {
        auto r = co_await backend_.remove_probe(kernel_id);
        if (alive.expired())
            co_return;
        if (!r)
            spdlog::debug("releasing breakpoint probe {}: {}", kernel_id, r.error().message);
    }
    for (thread_id t : threads) {
        outcome<void> r;
        if (auto it = unsent_registers_.find(t); it != unsent_registers_.end()) {
            registers regs = it->second;
            unsent_registers_.erase(it);
            r = (co_await backend_.write_registers_then_resume(t, regs, t, false, 0)).resumed;
        } else {
            r = co_await backend_.resume(t, 0);
        }
        if (alive.expired())
            co_return;
        if (!r)
            spdlog::debug("resuming pid {} tid {}: {}", t.pid, t.tid, r.error().message);
    }
}

task<void> target_model::rearm_trace_probes() {
    std::weak_ptr<bool> alive = alive_;
    std::vector<probe_info> todo;
    for (const auto& [id, info] : probes_) {
        if (info.spec.mode != probe_mode::stop && !kernel_ids_.contains(id))
            todo.push_back(info); // aggregations start again from an empty table
    }
    for (const auto& info : todo) {
        auto kernel_id = co_await backend_.add_probe(info.spec);
        if (alive.expired())
            co_return;
        if (!probes_.contains(info.id) || kernel_ids_.contains(info.id))
            continue; // removed (or re-armed) meanwhile
        if (!kernel_id) {
            spdlog::warn("probe {} ({}+{:#x}) could not be armed again: {}", info.id,
                         info.spec.program, info.spec.offset, kernel_id.error().message);
            continue;
        }
        kernel_ids_[info.id] = *kernel_id;
        model_ids_[*kernel_id] = info.id;
    }
}

void target_model::on_stop(const stop_event& e) {
    stops_[e.thread] = e;
    stop_events_++;
    if (e.reason == stop_reason::signal && e.signal != gdb_signal::sigtrap &&
        !owners_.contains(e.thread.pid) && spawner_) {
        // A fault of a process no debugger holds (it detached): the signal goes through at
        // once, as it would have without a debugger.
        spawner_(deliver_signal(e.thread, e.signal));
    }
    if (auto it = processes_.find(e.thread.pid); it != processes_.end())
        it->second.state = process_state::stopped;
    if (e.probe) {
        if (auto it = probes_.find(*e.probe); it != probes_.end())
            it->second.hits++;
    }
}

void target_model::on_connected(const connected_event& e) {
    bool new_kernel =
        armed_boot_id_.empty() ? disconnected_since_arm_ : e.status.boot_id != armed_boot_id_;
    disconnected_since_arm_ = false;
    if (!new_kernel && spawner_ && (!orphan_probes_.empty() || !orphan_threads_.empty()))
        spawner_(release_orphans());
    if (new_kernel) {
        orphan_probes_.clear();
        orphan_threads_.clear();
        unsent_registers_.clear();
        memory_written_.clear();
        // A new kernel: none of our probes is armed there. Trace probes are armed again (same
        // model ids); breakpoints went with their debug sessions.
        kernel_ids_.clear();
        model_ids_.clear();
    }
    armed_boot_id_ = e.status.boot_id;
    status_ = e.status;
    if (spawner_)
        spawner_(rearm_trace_probes());
}

void target_model::on_disconnected() {
    if (status_.connected && !status_.boot_id.empty())
        armed_boot_id_ = status_.boot_id;
    disconnected_since_arm_ = true;
    // If the same kernel comes back, it kept our breakpoints and the threads stopped on them;
    // their debuggers have been told the process is gone, so both are released then
    // (release_orphans).
    for (const auto& [key, bp] : breakpoints_) {
        if (auto k = kernel_ids_.find(bp.id); k != kernel_ids_.end())
            orphan_probes_.push_back(k->second);
    }
    for (const auto& [thread, stop] : stops_) {
        if (owners_.contains(thread.pid))
            orphan_threads_.push_back(thread);
    }
    status_ = target_status{};
    processes_.clear();
    threads_.clear();
    stops_.clear();
    // Registers of host steps are kept for the orphans only: if this kernel comes back, they
    // are written before the orphans run again.
    for (auto it = unsent_registers_.begin(); it != unsent_registers_.end();) {
        bool orphan = std::find(orphan_threads_.begin(), orphan_threads_.end(), it->first) !=
                      orphan_threads_.end();
        it = orphan ? std::next(it) : unsent_registers_.erase(it);
    }
    owners_.clear();
    for (const auto& [key, bp] : breakpoints_) {
        probes_.erase(bp.id);
        unmap(bp.id);
    }
    breakpoints_.clear();
}

void target_model::on_event(const target_event& raw) {
    // The kernel's probe ids become the model's (stable over kernel restarts).
    target_event event = raw;
    if (auto* stop = std::get_if<stop_event>(&event); stop && stop->probe) {
        if (auto it = model_ids_.find(*stop->probe); it != model_ids_.end())
            stop->probe = it->second;
    } else if (auto* hit = std::get_if<probe_hit_event>(&event)) {
        if (auto it = model_ids_.find(hit->probe); it != model_ids_.end())
            hit->probe = it->second;
    }
    std::visit(
        [this](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, stop_event>) {
                on_stop(e);
            } else if constexpr (std::is_same_v<E, exec_event>) {
                threads_.erase(e.pid);
                memory_written_.erase(e.pid);
                auto& p = processes_[e.pid];
                p.pid = e.pid;
                p.program = e.program;
                p.state = process_state::running;
            } else if constexpr (std::is_same_v<E, exit_event>) {
                forget_process(e.pid);
                owners_.erase(e.pid);
            } else if constexpr (std::is_same_v<E, probe_hit_event>) {
                if (auto it = probes_.find(e.probe); it != probes_.end())
                    it->second.hits++;
            } else if constexpr (std::is_same_v<E, connected_event>) {
                on_connected(e);
            } else if constexpr (std::is_same_v<E, disconnected_event>) {
                on_disconnected();
            }
        },
        event);
    // Handlers may unsubscribe (or subscribe) while we deliver: walk a snapshot of the ids.
    std::vector<uint64_t> ids;
    ids.reserve(handlers_.size());
    for (const auto& [id, handler] : handlers_)
        ids.push_back(id);
    for (uint64_t id : ids) {
        auto it = handlers_.find(id);
        if (it == handlers_.end())
            continue;
        auto handler = it->second; // a copy: the handler may unsubscribe itself
        handler(event);
    }
}

target_model::subscription target_model::subscribe(event_handler handler) {
    uint64_t id = next_handler_++;
    handlers_[id] = std::move(handler);
    return subscription(alive_, this, id);
}

target_model::subscription::subscription(subscription&& other) noexcept
    : alive_(std::move(other.alive_)), model_(other.model_), id_(other.id_) {
    other.model_ = nullptr;
}

target_model::subscription& target_model::subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        reset();
        alive_ = std::move(other.alive_);
        model_ = other.model_;
        id_ = other.id_;
        other.model_ = nullptr;
    }
    return *this;
}

target_model::subscription::~subscription() {
    reset();
}

void target_model::subscription::reset() {
    if (model_ && !alive_.expired())
        model_->handlers_.erase(id_);
    model_ = nullptr;
}

} // namespace ruprobes::target

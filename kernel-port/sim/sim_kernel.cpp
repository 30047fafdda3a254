// Processes, their lifecycle (spawn, exec, fork, exit, kill, wait), the round-robin scheduler
// and the process control a debugger agent uses. The engine calls (uprobes_on_exec / on_fork /
// on_exit, the trap and resume paths) sit where a kernel puts them: see engine_port.cpp.
#include "sim_kernel.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace sim {

namespace {

kernel* the_kernel = nullptr;

// Maps the stack and the xol page and writes argv at the stack top:
//   sp -> argv[0] .. argv[argc-1], NULL, then the strings (as the reference kernel does).
bool build_stack(address_space& as, const std::vector<std::string>& argv, uint64_t& sp) {
    if (!as.map(layout::stack_top - layout::stack_size, layout::stack_size,
                perm::read | perm::write) ||
        !as.map(layout::xol_page, address_space::page_size, perm::read | perm::exec)) {
        return false;
    }
    uint64_t top = layout::stack_top;
    std::vector<uint64_t> pointers(argv.size() + 1, 0);
    for (size_t i = argv.size(); i-- > 0;) {
        top -= argv[i].size() + 1;
        if (!as.write(top, argv[i].c_str(), argv[i].size() + 1, perm::write)) {
            return false;
        }
        pointers[i] = top;
    }
    top &= ~uint64_t{15};
    top -= (pointers.size() * 8 + 15) & ~uint64_t{15};
    if (!as.write(top, pointers.data(), pointers.size() * 8, perm::write)) {
        return false;
    }
    sp = top;
    return true;
}

} // namespace

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

kernel::kernel(kernel_config config) : config_(std::move(config)), programs_(config_.programs_dir) {
    if (the_kernel != nullptr) {
        throw std::runtime_error("one simulated kernel per host process (the engine is global)");
    }
    if (!config_.console) {
        config_.console = [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        };
    }
    if (!config_.log) {
        config_.log = [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stderr);
        };
    }
    if (config_.quantum == 0) {
        config_.quantum = 1;
    }
    uprobes_limits limits = {};
    const size_t need = uprobes_memory_required(&limits);
    engine_memory_ = std::aligned_alloc(16, (need + 15) & ~size_t{15});
    const int r = engine_memory_ != nullptr ? uprobes_engine_init(&limits, engine_memory_, need)
                                            : -UPROBES_E_NO_SPACE;
    if (r != 0) {
        std::free(engine_memory_);
        throw std::runtime_error(std::string("uprobes_engine_init: ") + uprobes_error_name(r));
    }
    the_kernel = this;
    log("probe engine " + std::string(ruprobes_version()) + " ready (" + std::to_string(need) +
        " bytes of tables), programs from " + programs_.host_dir());
}

kernel::~kernel() {
    for (auto& [pid, p] : table_) {
        if (p->live()) {
            uprobes_on_exit(pid);
        }
    }
    table_.clear();
    uprobes_engine_init(nullptr, engine_memory_, uprobes_memory_required(nullptr));
    the_kernel = nullptr;
    std::free(engine_memory_);
}

kernel* kernel::instance() {
    return the_kernel;
}

void kernel::log(const std::string& text) {
    config_.log("simkernel: " + text + "\n");
}

// ---- lifecycle ----------------------------------------------------------------------------------

long kernel::exec(process& p, const std::string& path, const std::vector<std::string>& argv) {
    std::string why;
    const program_image* image = programs_.find(path, &why);
    if (image == nullptr) {
        log("exec " + path + ": " + why);
        return -err::noent;
    }
    address_space as;
    uint64_t sp = 0;
    if (const char* bad = program_store::load(*image, as)) {
        log("exec " + path + ": " + bad);
        return -err::noexec;
    }
    if (!build_stack(as, argv, sp)) {
        return -err::too_big;
    }
    if (!p.path.empty()) {
        uprobes_on_thread_exit(p.pid, p.pid); // the old image's probes and return stacks go
        uprobes_on_exit(p.pid);
    }
    p.memory = std::move(as);
    p.path = path;
    p.regs = uprobes_trap_context{};
    p.regs.pc = image->entry;
    p.regs.x[2] = sp;
    p.regs.x[10] = argv.size();
    p.regs.x[11] = sp;
    // The image and its xol page are mapped: the engine writes its trampoline and arms probes.
    const int r = uprobes_on_exec(p.pid, path.c_str(), 0);
    if (r != 0) {
        log("pid " + std::to_string(p.pid) + " runs unprobed: " + uprobes_error_name(r));
    }
    if (listener_ != nullptr && listener_->exec) {
        listener_->exec(p.pid, p.ppid, p.path);
    }
    return static_cast<long>(argv.size());
}

long kernel::spawn(const std::string& path, const std::vector<std::string>& argv, uint32_t ppid,
                   bool stopped) {
    if (table_.size() >= max_processes) {
        return -err::again;
    }
    auto p = std::make_unique<process>();
    p->pid = next_pid_;
    p->ppid = ppid;
    if (stopped) {
        p->stop_count = 1;
        p->traced = true;
    }
    process& ref = *p;
    table_.emplace(p->pid, std::move(p));
    const long r = exec(ref, path, argv.empty() ? std::vector<std::string>{path} : argv);
    if (r < 0) {
        table_.erase(ref.pid);
        return r;
    }
    return next_pid_++;
}

long kernel::fork(process& parent) {
    if (table_.size() >= max_processes) {
        return -err::again;
    }
    auto child = std::make_unique<process>();
    child->pid = next_pid_++;
    child->ppid = parent.pid;
    child->path = parent.path;
    child->regs = parent.regs;
    child->regs.x[10] = 0;
    child->fp = parent.fp;
    child->memory = parent.memory; // every page copied: the child's breakpoints are its own
    const uint32_t pid = child->pid;
    table_.emplace(pid, std::move(child));
    const int r = uprobes_on_fork(parent.pid, parent.pid, pid, pid);
    if (r != 0) {
        log("fork " + std::to_string(parent.pid) + " -> " + std::to_string(pid) + ": " +
            uprobes_error_name(r));
    }
    if (listener_ != nullptr && listener_->forked) {
        listener_->forked(parent.pid, pid);
    }
    return pid;
}

void kernel::exit_process(process& p, int wait_status) {
    if (!p.live()) {
        return;
    }
    uprobes_on_thread_exit(p.pid, p.pid);
    uprobes_on_exit(p.pid);
    p.memory.clear();
    p.state = process_state::zombie;
    p.wait_status = wait_status;
    p.stop_count = 0;
    p.engine_resume_pending = false;
    p.step_pending = false;
    for (auto& [pid, q] : table_) {
        if (q->ppid == p.pid) {
            q->ppid = 0; // orphans: reaped by the kernel when they exit
        }
    }
    if (process* parent = find(p.ppid);
        parent != nullptr && parent->state == process_state::waiting) {
        parent->state = process_state::runnable; // its wait4 runs again and finds this zombie
    }
    const bool killed = (wait_status & 0x7f) != 0;
    log("pid " + std::to_string(p.pid) + " (" + p.path + ") " +
        (killed ? "killed by signal " + std::to_string(wait_status & 0x7f)
                : "exited with status " + std::to_string((wait_status >> 8) & 0xff)) +
        " after " + std::to_string(p.instructions) + " instructions");
    if (listener_ != nullptr && listener_->exited) {
        listener_->exited(p.pid, wait_status);
    }
}

long kernel::kill(uint32_t pid, int signal) {
    process* p = find(pid);
    if (p == nullptr || !p->live()) {
        return -err::srch;
    }
    if (signal <= 0 || signal > 64) {
        return -err::inval;
    }
    if (p->kill_signal == 0) {
        p->kill_signal = signal;
    }
    return 0;
}

void kernel::deliver_kills() {
    for (auto& [pid, p] : table_) {
        if (p->live() && p->kill_signal != 0) {
            exit_process(*p, p->kill_signal);
        }
    }
}

void kernel::fault(process& p, int signal, const std::string& why) {
    log("pid " + std::to_string(p.pid) + " (" + p.path + "): " + why);
    if (p.traced && debugger_listening()) {
        p.stop_signal = signal;
        stop_self(p, stop_reason::fault, 0);
        return;
    }
    exit_process(p, signal);
}

void kernel::stop_self(process& p, stop_reason reason, uint32_t probe_id) {
    p.stop_count++;
    if (listener_ != nullptr && listener_->stopped) {
        listener_->stopped(p.pid, reason, probe_id);
    }
}

process* kernel::find(uint32_t pid) {
    auto it = table_.find(pid);
    return it != table_.end() ? it->second.get() : nullptr;
}

std::vector<const process*> kernel::processes() const {
    std::vector<const process*> out;
    for (const auto& [pid, p] : table_) {
        if (p->live()) {
            out.push_back(p.get());
        }
    }
    return out;
}

size_t kernel::live_count() const {
    size_t n = 0;
    for (const auto& [pid, p] : table_) {
        n += p->live() ? 1 : 0;
    }
    return n;
}

std::vector<process*> kernel::children(uint32_t ppid) {
    std::vector<process*> out;
    for (auto& [pid, p] : table_) {
        if (ppid != 0 && p->ppid == ppid) {
            out.push_back(p.get());
        }
    }
    return out;
}

void kernel::reap(process& p) {
    if (&p != current_) {
        table_.erase(p.pid);
    }
}

void kernel::reap_orphans() {
    for (auto it = table_.begin(); it != table_.end();) {
        const process& p = *it->second;
        it = !p.live() && p.ppid == 0 && &p != current_ ? table_.erase(it) : std::next(it);
    }
}

// ---- scheduling
// -----------------------------------------------------------------------------------

uint64_t kernel::next_wake_ns() const {
    uint64_t earliest = 0;
    for (const auto& [pid, p] : table_) {
        if (p->state == process_state::sleeping && (earliest == 0 || p->wake_ns < earliest)) {
            earliest = p->wake_ns;
        }
    }
    return earliest;
}

bool kernel::run_next() {
    deliver_kills();
    const uint64_t now = monotonic_ns();
    for (auto& [pid, p] : table_) {
        if (p->state == process_state::sleeping && p->wake_ns <= now) {
            p->state = process_state::runnable;
        }
    }
    auto ready = [](const process& p) {
        return p.state == process_state::runnable && !p.stopped() && p.kill_signal == 0;
    };
    process* next = nullptr;
    for (auto it = table_.upper_bound(last_run_); it != table_.end(); ++it) {
        if (ready(*it->second)) {
            next = it->second.get();
            break;
        }
    }
    if (next == nullptr) {
        for (auto& [pid, p] : table_) {
            if (ready(*p)) {
                next = p.get();
                break;
            }
        }
    }
    if (next == nullptr) {
        reap_orphans();
        return false;
    }
    last_run_ = next->pid;
    run_quantum(*next);
    deliver_kills();
    reap_orphans();
    return true;
}

void kernel::run_quantum(process& p) {
    current_ = &p;
    yield_ = false;
    if (prepare_to_run(p)) {
        run_instructions(*this, p, config_.quantum, yield_);
    }
    current_ = nullptr;
}

// ---- process control
// ------------------------------------------------------------------------------

long kernel::stop(uint32_t pid) {
    process* p = find(pid);
    if (p == nullptr || !p->live()) {
        return -err::srch;
    }
    p->stop_count++;
    p->traced = true;
    return 0;
}

long kernel::resume(uint32_t pid, bool step) {
    process* p = find(pid);
    if (p == nullptr || !p->live()) {
        return -err::srch;
    }
    if (!p->stopped()) {
        return -err::inval;
    }
    p->stop_count = 0;
    p->step_pending = step;
    return 0;
}

uprobes_trap_context* kernel::registers(uint32_t pid) {
    process* p = find(pid);
    return p != nullptr && p->live() && p->stopped() ? &p->regs : nullptr;
}

long kernel::read_memory(uint32_t pid, uint64_t addr, void* dst, size_t len) {
    process* p = find(pid);
    if (p == nullptr || !p->live()) {
        return -err::srch;
    }
    return uprobes_read_memory(pid, addr, dst, len) == 0 ? 0 : -err::fault;
}

long kernel::write_memory(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    process* p = find(pid);
    if (p == nullptr || !p->live()) {
        return -err::srch;
    }
    return uprobes_write_memory(pid, addr, src, len) == 0 ? 0 : -err::fault;
}

void kernel::untrace_all() {
    for (auto& [pid, p] : table_) {
        p->traced = false;
    }
}

} // namespace sim

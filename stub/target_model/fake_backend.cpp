#include "target_model/fake_backend.hpp"

#include "ruprobes/agent_expr.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>

namespace ruprobes::target {
namespace {

int64_t sext(uint64_t value, int bits) {
    uint64_t m = uint64_t{1} << (bits - 1);
    return static_cast<int64_t>((value ^ m) - m);
}

} // namespace

fake_backend::fake_backend(boost::asio::any_io_executor executor,
                           std::vector<fake_program> programs)
    : executor_(executor), timer_(executor), programs_(std::move(programs)) {
    if (programs_.empty())
        programs_ = fake_programs();
    status_ = target_status{true, "ruprobes-fake 0.1", "fake-boot-1"};
}

fake_backend::~fake_backend() {
    *alive_ = false;
}

void fake_backend::set_event_sink(event_sink sink) {
    sink_ = std::move(sink);
}

void fake_backend::emit(target_event event) {
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(executor_, [this, alive, event = std::move(event)] {
        if (!alive.expired() && sink_)
            sink_(event);
    });
}

outcome<fake_backend::process*> fake_backend::find(pid_type pid) {
    requests_++;
    if (!status_.connected)
        return fail(target_errc::not_connected, "target not connected");
    auto it = processes_.find(pid);
    if (it == processes_.end())
        return fail(target_errc::no_such_process, "no process " + std::to_string(pid));
    return &it->second;
}

outcome<fake_backend::process*> fake_backend::find_stopped(pid_type pid) {
    auto p = find(pid);
    if (p && (*p)->running)
        return fail(target_errc::not_stopped, "thread is running");
    return p;
}

task<target_status> fake_backend::status() {
    co_return status_;
}

task<outcome<std::vector<process_info>>> fake_backend::list_processes() {
    requests_++;
    if (!status_.connected)
        co_return fail(target_errc::not_connected, "target not connected");
    std::vector<process_info> out;
    for (auto& [pid, p] : processes_) {
        p.info.state = p.running ? process_state::running : process_state::stopped;
        out.push_back(p.info);
    }
    co_return out;
}

task<outcome<process_info>> fake_backend::spawn(std::vector<std::string> argv, bool stopped) {
    requests_++;
    if (!status_.connected)
        co_return fail(target_errc::not_connected, "target not connected");
    if (argv.empty())
        co_return fail(target_errc::invalid_argument, "empty argv");
    auto prog = std::find_if(programs_.begin(), programs_.end(),
                             [&](const fake_program& p) { return p.path == argv[0]; });
    if (prog == programs_.end())
        co_return fail(target_errc::invalid_argument, "no program " + argv[0]);
    process p;
    p.info = process_info{next_pid_++, prog->path,
                          stopped ? process_state::stopped : process_state::running, 0};
    p.regions[prog->base] = prog->text;
    p.regions[stack_top - stack_size] = std::vector<uint8_t>(stack_size, 0);
    p.regs.pc = prog->entry;
    p.regs.x[registers::sp_regno] = stack_top - 16;
    p.regs.x[registers::a0_regno] = argv.size();
    p.running = !stopped;
    pid_type pid = p.info.pid;
    auto info = p.info;
    processes_[pid] = std::move(p);
    emit(exec_event{pid, prog->path});
    if (stopped)
        stop_process(processes_[pid], stop_reason::spawned, gdb_signal::sigtrap, std::nullopt);
    else
        schedule();
    co_return info;
}

task<outcome<void>> fake_backend::kill(pid_type pid) {
    auto p = find(pid);
    if (!p)
        co_return tl::unexpected(p.error());
    exit_process(pid, true, gdb_signal::sigkill);
    co_return outcome<void>{};
}

task<outcome<std::vector<thread_info>>> fake_backend::list_threads(pid_type pid) {
    auto p = find(pid);
    if (!p)
        co_return tl::unexpected(p.error());
    co_return std::vector<thread_info>{thread_info{
        thread_id{pid, pid}, (*p)->running ? thread_state::running : thread_state::stopped}};
}

task<outcome<void>> fake_backend::stop(thread_id thread) {
    auto p = find(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    if (thread.tid != 0 && thread.tid != thread.pid)
        co_return fail(target_errc::no_such_thread, "no thread " + std::to_string(thread.tid));
    if ((*p)->running)
        stop_process(**p, stop_reason::interrupt, gdb_signal::sigint, std::nullopt);
    co_return outcome<void>{};
}

task<outcome<void>> fake_backend::resume(thread_id thread, int signal) {
    auto p = find(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    if (thread.tid != 0 && thread.tid != thread.pid)
        co_return fail(target_errc::no_such_thread, "no thread " + std::to_string(thread.tid));
    if ((*p)->running)
        co_return fail(target_errc::not_stopped, "already running");
    if (signal == gdb_signal::sigkill || signal == gdb_signal::sigsegv ||
        signal == gdb_signal::sigterm) {
        exit_process(thread.pid, true, signal);
        co_return outcome<void>{};
    }
    (*p)->running = true;
    // Like the kernel: past the probe it stopped at, unless a debugger moved the pc meanwhile.
    (*p)->skip_probe_once = (*p)->regs.pc == (*p)->stop_pc;
    (*p)->info.state = process_state::running;
    schedule();
    co_return outcome<void>{};
}

task<outcome<void>> fake_backend::step(thread_id thread) {
    auto p = find(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    if (thread.tid != 0 && thread.tid != thread.pid)
        co_return fail(target_errc::no_such_thread, "no thread " + std::to_string(thread.tid));
    if ((*p)->running)
        co_return fail(target_errc::not_stopped, "thread is running");
    pid_type pid = thread.pid;
    if (execute(**p, false))
        stop_process(processes_.at(pid), stop_reason::step, gdb_signal::sigtrap, std::nullopt);
    co_return outcome<void>{};
}

task<outcome<registers>> fake_backend::read_registers(thread_id thread) {
    auto p = find_stopped(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    co_return (*p)->regs;
}

task<outcome<void>> fake_backend::write_registers(thread_id thread, const registers& regs) {
    auto p = find_stopped(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    (*p)->regs = regs;
    (*p)->regs.x[0] = 0;
    co_return outcome<void>{};
}

task<outcome<fp_registers>> fake_backend::read_fp_registers(thread_id thread) {
    auto p = find_stopped(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    co_return (*p)->fp;
}

task<outcome<void>> fake_backend::write_fp_registers(thread_id thread, const fp_registers& regs) {
    auto p = find_stopped(thread.pid);
    if (!p)
        co_return tl::unexpected(p.error());
    (*p)->fp = regs;
    (*p)->fp.fcsr &= fp_registers::fcsr_bits;
    co_return outcome<void>{};
}

uint8_t* fake_backend::mapped(process& p, uint64_t addr, uint64_t len) {
    auto it = p.regions.upper_bound(addr);
    if (it == p.regions.begin())
        return nullptr;
    --it;
    uint64_t off = addr - it->first;
    if (off > it->second.size() || len > it->second.size() - off)
        return nullptr;
    return it->second.data() + off;
}

task<outcome<std::vector<uint8_t>>> fake_backend::read_memory(pid_type pid, uint64_t addr,
                                                              uint64_t len) {
    auto p = find(pid);
    if (!p)
        co_return tl::unexpected(p.error());
    uint8_t* bytes = mapped(**p, addr, len);
    if (!bytes)
        co_return fail(target_errc::bad_address, "unmapped memory");
    co_return std::vector<uint8_t>(bytes, bytes + len);
}

task<outcome<void>> fake_backend::write_memory(pid_type pid, uint64_t addr,
                                               std::vector<uint8_t> bytes) {
    auto p = find(pid);
    if (!p)
        co_return tl::unexpected(p.error());
    uint8_t* dst = mapped(**p, addr, bytes.size());
    if (!dst)
        co_return fail(target_errc::bad_address, "unmapped memory");
    std::memcpy(dst, bytes.data(), bytes.size());
    co_return outcome<void>{};
}

task<outcome<probe_id>> fake_backend::add_probe(probe_spec spec) {
    requests_++;
    if (!status_.connected)
        co_return fail(target_errc::not_connected, "target not connected");
    auto prog = std::find_if(programs_.begin(), programs_.end(),
                             [&](const fake_program& p) { return p.path == spec.program; });
    if (prog == programs_.end())
        co_return fail(target_errc::invalid_argument, "no program " + spec.program);
    if (spec.offset < prog->base || spec.offset >= prog->base + prog->text.size())
        co_return fail(target_errc::unprobeable, "address outside the program's text");
    if (spec.offset % 2 != 0)
        co_return fail(target_errc::unprobeable, "address not 2-byte aligned");
    if (spec.aggregation)
        co_return fail(target_errc::unsupported, "the fake kernel does not aggregate");
    if (auto checked = ruprobes::agent_expr::validate_condition_list(spec.condition);
        !spec.condition.empty() && !checked.ok())
        co_return fail(target_errc::invalid_argument,
                       std::string("condition: ") + ruprobes::error_name(checked.err()));
    for (const auto& [id, s] : probes_) {
        if (s.program == spec.program && s.offset == spec.offset && s.mode == spec.mode &&
            s.kind == spec.kind && s.pid == spec.pid && s.condition == spec.condition)
            co_return fail(target_errc::already_exists, "same probe already registered");
    }
    probe_id id = next_probe_++;
    probes_[id] = std::move(spec);
    co_return id;
}

task<outcome<aggregation_table>> fake_backend::read_aggregation(probe_id) {
    co_return fail(target_errc::unsupported, "the fake kernel does not aggregate");
}

task<outcome<void>> fake_backend::remove_probe(probe_id id) {
    requests_++;
    if (!status_.connected)
        co_return fail(target_errc::not_connected, "target not connected");
    if (probes_.erase(id) == 0)
        co_return fail(target_errc::no_such_probe, "no probe " + std::to_string(id));
    co_return outcome<void>{};
}

void fake_backend::stop_process(process& p, stop_reason reason, int signal,
                                std::optional<probe_id> probe) {
    p.running = false;
    p.info.state = process_state::stopped;
    p.stop_pc = p.regs.pc;
    stop_event e;
    e.thread = thread_id{p.info.pid, p.info.pid};
    e.reason = reason;
    e.signal = signal;
    e.regs = p.regs;
    e.probe = probe;
    emit(e);
}

void fake_backend::exit_process(pid_type pid, bool signaled, int status) {
    processes_.erase(pid);
    for (auto it = probes_.begin(); it != probes_.end();)
        it = it->second.pid == pid ? probes_.erase(it) : std::next(it);
    emit(exit_event{pid, signaled, status});
}

void fake_backend::schedule() {
    if (timer_armed_)
        return;
    timer_armed_ = true;
    timer_.expires_after(std::chrono::milliseconds(1));
    std::weak_ptr<bool> alive = alive_;
    timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || alive.expired())
            return;
        timer_armed_ = false;
        tick();
    });
}

void fake_backend::tick() {
    bool any = false;
    std::vector<pid_type> pids;
    for (const auto& [pid, p] : processes_)
        pids.push_back(pid);
    for (pid_type pid : pids) {
        for (uint64_t i = 0; i < insns_per_tick; i++) {
            auto it = processes_.find(pid);
            if (it == processes_.end() || !it->second.running)
                break;
            if (!execute(it->second, true))
                break;
        }
        auto it = processes_.find(pid);
        any = any || (it != processes_.end() && it->second.running);
    }
    if (any)
        schedule();
}

// A probe's condition list, evaluated as the kernel does (the engine's interpreter).
bool fake_backend::condition_holds(process& p, const std::vector<uint8_t>& list) {
    struct view {
        fake_backend* self;
        process* p;
    } v{this, &p};
    ruprobes::agent_expr::environment env;
    env.x = p.regs.x.data();
    env.pc = p.regs.pc;
    env.read_memory = [](void* user, uint64_t addr, void* dst, size_t len) {
        auto* v = static_cast<view*>(user);
        uint8_t* src = v->self->mapped(*v->p, addr, len);
        if (src == nullptr)
            return 1;
        std::memcpy(dst, src, len);
        return 0;
    };
    env.user = &v;
    return ruprobes::agent_expr::condition_list_holds(list, env);
}

std::vector<fetched_item> fake_backend::fetch(process& p,
                                              const std::vector<wire::fetch_entry>& list) {
    std::vector<fetched_item> out;
    for (const wire::fetch_entry& e : list) {
        fetched_item item{e.op, wire::fetch_status::ok, 0, {}};
        uint64_t value = e.reg == wire::fetch_reg_pc ? p.regs.pc
                         : e.reg < 32                ? p.regs.x[e.reg]
                                                     : p.regs.x[registers::a0_regno];
        if (e.reg == 0)
            value = 0;
        item.value = value;
        if (e.op != wire::fetch_op::reg) {
            item.value = value + static_cast<uint64_t>(int64_t{e.offset});
            if (e.op == wire::fetch_op::mem) {
                if (uint8_t* at = mapped(p, item.value, e.len))
                    item.bytes.assign(at, at + e.len);
                else
                    item.status = wire::fetch_status::unreadable;
            } else {
                item.status = wire::fetch_status::truncated;
                for (uint64_t i = 0; i < e.len; i++) {
                    uint8_t* c = mapped(p, item.value + i, 1);
                    if (c == nullptr) {
                        item.status = wire::fetch_status::unreadable;
                        item.bytes.clear();
                        break;
                    }
                    if (*c == 0) {
                        item.status = wire::fetch_status::ok;
                        break;
                    }
                    item.bytes.push_back(*c);
                }
            }
        }
        out.push_back(std::move(item));
    }
    return out;
}

bool fake_backend::execute(process& p, bool check_probes) {
    uint64_t pc = p.regs.pc;
    if (check_probes && !p.skip_probe_once) {
        for (const auto& [id, s] : probes_) {
            if (s.program != p.info.program || s.offset != pc - p.info.load_bias)
                continue;
            if (s.pid && *s.pid != p.info.pid)
                continue;
            if (!s.condition.empty() && !condition_holds(p, s.condition))
                continue;
            if (s.mode == probe_mode::stop) {
                stop_process(p, stop_reason::breakpoint, gdb_signal::sigtrap, id);
                return false;
            }
            probe_hit_event hit;
            hit.probe = id;
            hit.thread = thread_id{p.info.pid, p.info.pid};
            hit.pc = pc;
            hit.timestamp_ns = seq_ * 1000;
            hit.seq = seq_++;
            hit.regs = p.regs;
            if (!s.fetch.empty())
                hit.fetched = fetch(p, s.fetch);
            emit(hit);
        }
    }
    p.skip_probe_once = false;
    uint8_t* bytes = mapped(p, pc, 2);
    if (!bytes) {
        stop_process(p, stop_reason::signal, gdb_signal::sigsegv, std::nullopt);
        return false;
    }
    uint32_t insn = bytes[0] | uint32_t{bytes[1]} << 8;
    uint64_t len = 2;
    if ((insn & 3) == 3) {
        uint8_t* more = mapped(p, pc, 4);
        if (!more) {
            stop_process(p, stop_reason::signal, gdb_signal::sigsegv, std::nullopt);
            return false;
        }
        insn |= uint32_t{more[2]} << 16 | uint32_t{more[3]} << 24;
        len = 4;
    }
    auto& x = p.regs.x;
    uint32_t rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31, rs2 = (insn >> 20) & 31;
    uint32_t funct3 = (insn >> 12) & 7;
    uint64_t next = pc + len;
    if (len == 4) {
        switch (insn & 0x7f) {
        case 0x13: // OP-IMM: addi only
            if (funct3 == 0 && rd != 0)
                x[rd] = x[rs1] + sext(insn >> 20, 12);
            break;
        case 0x6f: { // jal
            uint64_t imm = ((insn >> 31) & 1) << 20 | ((insn >> 21) & 0x3ff) << 1 |
                           ((insn >> 20) & 1) << 11 | ((insn >> 12) & 0xff) << 12;
            if (rd != 0)
                x[rd] = next;
            next = pc + sext(imm, 21);
            break;
        }
        case 0x67: { // jalr
            uint64_t target = (x[rs1] + sext(insn >> 20, 12)) & ~uint64_t{1};
            if (rd != 0)
                x[rd] = next;
            next = target;
            break;
        }
        case 0x63: { // beq / bne
            uint64_t imm = ((insn >> 31) & 1) << 12 | ((insn >> 25) & 0x3f) << 5 |
                           ((insn >> 8) & 0xf) << 1 | ((insn >> 7) & 1) << 11;
            bool taken = (funct3 == 0 && x[rs1] == x[rs2]) || (funct3 == 1 && x[rs1] != x[rs2]);
            if (taken)
                next = pc + sext(imm, 13);
            break;
        }
        case 0x73: // ecall: a7 = 93 is exit(a0)
            if (insn == 0x73 && x[17] == 93) {
                exit_process(p.info.pid, false, static_cast<int>(x[10] & 0xff));
                return false;
            }
            break;
        default:
            break;
        }
    }
    p.regs.pc = next;
    return true;
}

void fake_backend::disconnect(const std::string& reason) {
    status_ = target_status{};
    processes_.clear();
    probes_.clear();
    emit(disconnected_event{reason});
}

void fake_backend::reconnect() {
    boots_++;
    status_ = target_status{true, "ruprobes-fake 0.1", "fake-boot-" + std::to_string(boots_)};
    emit(connected_event{status_});
}

void fake_backend::drop_connection(const std::string& reason) {
    status_.connected = false;
    emit(disconnected_event{reason});
}

void fake_backend::restore_connection() {
    status_.connected = true;
    emit(connected_event{status_});
}

std::vector<probe_spec> fake_backend::armed_probes() const {
    std::vector<probe_spec> out;
    for (const auto& [id, s] : probes_)
        out.push_back(s);
    return out;
}

bool fake_backend::running(pid_type pid) const {
    auto it = processes_.find(pid);
    return it != processes_.end() && it->second.running;
}

std::optional<registers> fake_backend::regs_of(pid_type pid) const {
    auto it = processes_.find(pid);
    if (it == processes_.end())
        return std::nullopt;
    return it->second.regs;
}

std::optional<fp_registers> fake_backend::fp_of(pid_type pid) const {
    auto it = processes_.find(pid);
    if (it == processes_.end())
        return std::nullopt;
    return it->second.fp;
}

} // namespace ruprobes::target

#include "rsp/debug_session.hpp"
#include "rsp/target_description.hpp"
#include "rsp/tracepoints.hpp"
#include "target_model/signal_numbers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace ruprobes::rsp {

using namespace ruprobes::target;

namespace {

// Does a vCont action with this thread-id apply to `t`?
bool applies(const resume_action& a, thread_id t) {
    if (!a.thread)
        return true;
    if (a.thread->pid && *a.thread->pid != thread_ref::all && *a.thread->pid != t.pid)
        return false;
    return a.thread->tid == thread_ref::all || a.thread->tid == thread_ref::any ||
           a.thread->tid == t.tid;
}

} // namespace

debug_session::debug_session(target_model& model, session_options options, send_function send)
    : model_(model), options_(std::move(options)), send_(std::move(send)),
      id_(model.new_client_id()) {
    events_ = model_.subscribe([this](const target_event& e) { on_event(e); });
    tracepoints_ = std::make_unique<tracepoint_session>(
        model_, [this](std::string p) { reply(std::move(p)); }, options_.read_text);
}

debug_session::~debug_session() {
    *alive_ = false;
}

std::string debug_session::stop_reply(const stop_event& stop) {
    replies::stop s{static_cast<unsigned>(stop.signal),
                    stop.thread.pid,
                    stop.thread.tid,
                    {},
                    stop.reason == stop_reason::breakpoint};
    // Every register the kernel reported (pc, sp and ra first): gdb needs no g packet after
    // the stop.
    for (int regno : {registers::pc_regno, registers::sp_regno, registers::ra_regno})
        s.registers.push_back({static_cast<unsigned>(regno), stop.regs.get(regno)});
    for (int regno = 0; regno < 32; regno++) {
        if (regno != registers::sp_regno && regno != registers::ra_regno)
            s.registers.push_back({static_cast<unsigned>(regno), stop.regs.get(regno)});
    }
    return replies::stop_reply(s);
}

std::string debug_session::exit_reply(const exit_event& exit) {
    // A signal in gdb's numbering (the kernel's is Linux's: SIGBUS 7 is gdb's 10).
    if (exit.signaled)
        return replies::exit_signal(static_cast<unsigned>(gdb_signal_of_linux(exit.status)),
                                    exit.pid);
    return replies::exit_code(exit.status, exit.pid);
}

void debug_session::reply_error(target_errc code) {
    reply(replies::error(static_cast<unsigned>(code)));
}

void debug_session::reply_error(const target_error& error) {
    spdlog::debug("rsp client {}: {} ({})", id_, error.message, errc_name(error.code));
    reply_error(error.code);
}

task<void> debug_session::start() {
    executor_ = co_await boost::asio::this_coro::executor;
    if (options_.spawn.empty() || options_.keeper)
        co_return;
    auto p = co_await model_.spawn(options_.spawn, true);
    if (!p) {
        spdlog::error("rsp client {}: cannot spawn {}: {}", id_, options_.spawn[0],
                      p.error().message);
        co_return;
    }
    spdlog::info("rsp client {}: spawned {} as pid {}", id_, options_.spawn[0], p->pid);
    if (model_.claim(p->pid, id_))
        pid_ = p->pid;
    attached_ = false;
}

task<void> debug_session::handle(std::string_view payload) {
    request req = parse_request(payload);
    if (co_await tracepoints_->handle(req, pid_, program_))
        co_return;
    co_await std::visit([this](const auto& r) { return on(r); }, req);
}

task<void> debug_session::interrupt() {
    if (!pid_ || !waiting_)
        co_return;
    auto r = co_await model_.stop(thread_id{*pid_, 0});
    if (!r)
        spdlog::warn("rsp client {}: interrupt: {}", id_, r.error().message);
}

task<void> debug_session::finish() {
    if (finished_)
        co_return;
    finished_ = true;
    co_await tracepoints_->finish();
    co_await model_.remove_breakpoints_of(id_);
    if (pid_) {
        pid_type pid = *pid_;
        forget_process();
        if (model_.any_stop(pid)) {
            auto r = co_await model_.resume(thread_id{pid, 0}, 0);
            if (!r)
                spdlog::warn("rsp client {}: resuming pid {}: {}", id_, pid, r.error().message);
        }
    }
}

void debug_session::on_event(const target_event& event) {
    if (auto* stop = std::get_if<stop_event>(&event)) {
        if (pid_ && stop->thread.pid == *pid_) {
            memory_.clear();
            last_stop_ = *stop;
        }
        if (pid_ && stop->thread.pid == *pid_ && waiting_) {
            waiting_ = false;
            // gdb's attach accepts a quiet stop only with signal 0 (or SIGSTOP/SIGTRAP); the
            // kernel reports the requested stop as an interrupt.
            target::stop_event reported = fetch_breakpoints_.as_reported(*stop);
            if (attaching_)
                reported.signal = gdb_signal::none;
            attaching_ = false;
            reply(stop_reply(reported));
        }
    } else if (auto* exit = std::get_if<exit_event>(&event)) {
        if (pid_ && exit->pid == *pid_)
            process_gone(*exit);
    } else if (std::holds_alternative<disconnected_event>(event)) {
        // The kernel is gone: to the client, its process was killed.
        if (pid_)
            process_gone(exit_event{*pid_, true, gdb_signal::sigkill});
    }
}

std::optional<thread_id> debug_session::general_thread() const {
    if (!pid_)
        return std::nullopt;
    if (g_thread_)
        return thread_id{*pid_, *g_thread_};
    if (auto stop = model_.any_stop(*pid_))
        return stop->thread;
    return thread_id{*pid_, *pid_};
}

bool debug_session::adopt(pid_type pid) {
    if (!model_.claim(pid, id_)) {
        reply_error(target_errc::busy);
        return false;
    }
    if (pid_ && *pid_ != pid)
        model_.release(*pid_, id_);
    pid_ = pid;
    g_thread_.reset();
    exit_.reset();
    gone_.reset();
    gone_at_breakpoint_.reset();
    program_.clear();
    text_written_ = false;
    return true;
}

void debug_session::forget_process() {
    if (pid_)
        model_.release(*pid_, id_);
    memory_.clear();
    removals_.clear();
    fetch_breakpoints_.clear();
    pid_.reset();
    g_thread_.reset();
    waiting_ = false;
}

task<void> debug_session::prepare_resume(bool single_step) {
    memory_.clear();
    if (!pid_)
        co_return;
    for (uint64_t addr : removals_.due(single_step)) {
        auto r = co_await model_.remove_breakpoint(*pid_, addr, id_);
        if (!r && r.error().code != target_errc::no_such_probe)
            spdlog::warn("rsp client {}: removing breakpoint {:#x}: {}", id_, addr,
                         r.error().message);
    }
}

// ---- packets ---------------------------------------------------------------------------------

task<void> debug_session::on(const unknown_req&) {
    reply(replies::unsupported());
    co_return;
}

task<void> debug_session::on(const malformed_req& m) {
    spdlog::debug("rsp client {}: malformed packet: {}", id_, m.why);
    reply_error(target_errc::invalid_argument);
    co_return;
}

task<void> debug_session::on(const halt_reason_req&) {
    if (!co_await take_kept_process())
        co_return;
    if (!pid_) {
        reply(exit_ ? *exit_ : replies::exit_code(0, -1));
        co_return;
    }
    if (auto stop = model_.any_stop(*pid_)) {
        reply(stop_reply(fetch_breakpoints_.as_reported(*stop)));
        co_return;
    }
    if (waiting_)
        co_return; // the stop that is on its way answers
    // All-stop: the process must be stopped for the client to look at it.
    waiting_ = true;
    auto r = co_await model_.stop(thread_id{*pid_, 0});
    if (!r) {
        waiting_ = false;
        reply_error(r.error());
    }
}

task<void> debug_session::on(const breakpoint_req& b) {
    if (b.type != 0) { // hardware breakpoints and watchpoints: not supported (empty reply)
        reply(replies::unsupported());
        co_return;
    }
    if (!pid_ && gone_) { // gdb learns of the exit when it resumes
        reply_ok();
        co_return;
    }
    if (!pid_) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    if (b.insert) {
        // Still armed after a lazy removal: the model keeps it unless the condition changed.
        removals_.reinserted(b.addr);
        auto id = co_await model_.insert_breakpoint(*pid_, b.addr, id_,
                                                    encode_condition_list(b.condition_exprs));
        if (!id && id.error().code == target_errc::unprobeable &&
            co_await fetch_breakpoint_allowed(b.addr)) {
            fetch_breakpoints_.insert(b.addr);
            reply_ok();
        } else if (id) {
            reply_ok();
        } else {
            reply_error(id.error());
        }
        co_return;
    }
    if (fetch_breakpoints_.remove(b.addr)) {
        reply_ok();
        co_return;
    }
    if (model_.breakpoint_at(*pid_, b.addr) && model_.any_stop(*pid_)) {
        removals_.removed(b.addr); // carried out before the process runs, unless re-inserted
        reply_ok();
        co_return;
    }
    auto r = co_await model_.remove_breakpoint(*pid_, b.addr, id_);
    if (r || r.error().code == target_errc::no_such_probe)
        reply_ok(); // already gone (the process exited, the kernel restarted): nothing to undo
    else
        reply_error(r.error());
}

task<bool> debug_session::step_on_host(thread_id thread) {
    if (!options_.host_step || !options_.read_text || text_written_)
        co_return false;
    auto info = co_await model_.process(thread.pid); // cached: no round trip
    if (!info || info->program.empty() || pid_ != thread.pid || !waiting_)
        co_return false;
    auto stop = model_.last_stop(thread);
    if (!stop)
        co_return false;
    // The instruction as the program has it (the original under a breakpoint).
    auto text = options_.read_text(info->program, stop->regs.pc, 2);
    if (!text || text->size() < 2)
        co_return false;
    if (((*text)[0] & 3) == 3) {
        text = options_.read_text(info->program, stop->regs.pc, 4);
        if (!text || text->size() < 4)
            co_return false;
    }
    if (!model_.step_on_host(thread, *text))
        co_return false;
    spdlog::debug("rsp client {}: pid {} stepped on the host at {:#x}", id_, thread.pid,
                  stop->regs.pc);
    co_return true;
}

task<bool> debug_session::fetch_breakpoint_allowed(uint64_t addr) {
    if (!pid_)
        co_return false;
    pid_type pid = *pid_;
    if (options_.read_text) {
        if (program_.empty()) {
            if (auto info = co_await model_.process(pid))
                program_ = info->program;
        }
        if (program_.empty() || options_.read_text(program_, addr, 1))
            co_return false; // text (the engine's refusal stands) or an unknown program
    }
    auto byte = co_await model_.read_memory(pid, addr, 1);
    co_return static_cast<bool>(byte) && pid_ == pid;
}

task<void> debug_session::on(const continue_req& c) {
    if (!pid_ && gone_ && exit_) {
        answer_resume_of_gone(
            std::all_of(c.actions.begin(), c.actions.end(),
                        [](const resume_action& a) { return a.action != 'c' && a.action != 'C'; }));
        co_return;
    }
    if (!pid_) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    pid_type pid = *pid_;
    bool single_step = std::all_of(c.actions.begin(), c.actions.end(), [](const resume_action& a) {
        return a.action == 's' || a.action == 'S' || a.action == 't';
    });
    auto threads = co_await model_.list_threads(pid);
    if (!threads) {
        if (!answer_vanished(pid, threads.error(), single_step))
            reply_error(threads.error());
        co_return;
    }
    co_await prepare_resume(single_step);
    if (pid_ != pid) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    // The stop reply is sent when the stop (or exit) event arrives; it may arrive while the
    // resume request is still on its way, so wait for it from before the first request.
    waiting_ = true;
    bool any = false;
    for (const auto& t : *threads) {
        if (t.state != thread_state::stopped && !model_.last_stop(t.id))
            continue;
        const resume_action* action = nullptr;
        for (const auto& a : c.actions) {
            if (applies(a, t.id)) {
                action = &a;
                break;
            }
        }
        if (!action || action->action == 't')
            continue;
        // One thread (the reference kernel's processes have one): a step that needs no kernel
        // round trip stops it again before anything else of the process could run.
        if (action->action == 's' && threads->size() == 1 && co_await step_on_host(t.id)) {
            any = true;
            continue;
        }
        outcome<void> r;
        if (action->action == 's' || action->action == 'S' || action->action == 'r')
            r = co_await model_.step(t.id);
        else
            r = co_await model_.resume(t.id, action->signal);
        if (!r) {
            waiting_ = false;
            if (!answer_vanished(pid, r.error(), single_step))
                reply_error(r.error());
            co_return;
        }
        any = true;
    }
    if (!any && waiting_ && pid_ == pid) {
        waiting_ = false;
        reply_error(target_errc::not_stopped);
    }
}

task<void> debug_session::on(const set_thread_req& h) {
    if (h.op == 'c' || h.thread.tid == thread_ref::any || h.thread.tid == thread_ref::all) {
        if (h.op == 'g')
            g_thread_.reset();
        reply_ok();
        co_return;
    }
    if (!pid_ || (h.thread.pid && *h.thread.pid != *pid_)) {
        reply_error(target_errc::no_such_thread);
        co_return;
    }
    g_thread_ = h.thread.tid;
    reply_ok();
}

task<void> debug_session::on(const thread_alive_req& t) {
    if (!pid_ || (t.thread.pid && *t.thread.pid != *pid_)) {
        reply_error(target_errc::no_such_thread);
        co_return;
    }
    auto threads = co_await model_.list_threads(*pid_);
    if (threads) {
        for (const auto& th : *threads) {
            if (th.id.tid == t.thread.tid) {
                reply_ok();
                co_return;
            }
        }
    }
    reply_error(target_errc::no_such_thread);
}

task<void> debug_session::on(const kill_req& k) {
    bool v_kill = k.pid.has_value();
    pid_type pid = k.pid.value_or(pid_.value_or(0));
    if (!pid_ && gone_ && (!v_kill || pid == *gone_)) {
        gone_.reset(); // it died already: killed, as gdb asked
        if (v_kill)
            reply_ok();
        else
            closing_ = !extended_;
        co_return;
    }
    if (pid == 0 || (pid_ && pid != *pid_) || (!pid_ && v_kill)) {
        if (v_kill)
            reply_error(target_errc::no_such_process);
        co_return;
    }
    // Forget it first: its exit event must not become a stray W reply.
    co_await model_.remove_breakpoints_of(id_);
    forget_process();
    auto r = co_await model_.kill(pid);
    if (!v_kill) {
        // `k` has no reply; without extended mode the client hangs up now.
        closing_ = !extended_;
        co_return;
    }
    if (r || r.error().code == target_errc::no_such_process)
        reply_ok();
    else
        reply_error(r.error());
}

task<void> debug_session::on(const detach_req& d) {
    if (!pid_ && gone_ && (!d.pid || *d.pid == *gone_)) {
        gone_.reset();
        reply_ok();
        closing_ = !extended_;
        co_return;
    }
    if (d.pid && (!pid_ || *d.pid != *pid_)) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    co_await model_.remove_breakpoints_of(id_);
    if (pid_) {
        pid_type pid = *pid_;
        forget_process();
        auto r = co_await model_.resume(thread_id{pid, 0}, 0);
        if (!r && r.error().code != target_errc::not_stopped)
            spdlog::warn("rsp client {}: detach: resuming pid {}: {}", id_, pid, r.error().message);
    }
    reply_ok();
    closing_ = !extended_;
}

task<void> debug_session::on(const extended_mode_req&) {
    extended_ = true;
    reply_ok();
    co_return;
}

task<void> debug_session::on(const run_req& r) {
    std::vector<std::string> argv = r.argv;
    if (argv.empty() || argv[0].empty()) {
        if (options_.spawn.empty()) {
            reply_error(target_errc::invalid_argument);
            co_return;
        }
        if (argv.empty())
            argv.push_back({});
        argv[0] = options_.spawn[0];
    }
    // A host path (gdb's own file name for the program): the guest knows it as /bin/<name>.
    if (argv[0].rfind("/bin/", 0) != 0)
        argv[0] = "/bin/" + argv[0].substr(argv[0].rfind('/') + 1);
    if (!co_await ensure_ready())
        co_return;
    co_await let_go();
    gone_.reset();
    waiting_ = true;
    auto p = co_await model_.spawn(argv, true);
    if (!p) {
        waiting_ = false;
        reply_error(p.error());
        co_return;
    }
    if (finished_ || !adopt(p->pid)) {
        waiting_ = false;
        co_await discard_spawned(p->pid);
        co_return;
    }
    attached_ = false;
    waiting_ = true;
    if (auto stop = model_.any_stop(p->pid)) {
        waiting_ = false;
        reply(stop_reply(*stop));
    }
}

task<void> debug_session::on(const attach_req& a) {
    if (!adopt(a.pid))
        co_return;
    attached_ = true;
    // The stop that answers may arrive before the kernel's reply to the stop request.
    waiting_ = true;
    attaching_ = true;
    auto r = co_await model_.attach(a.pid);
    if (!r) {
        attaching_ = false;
        forget_process();
        reply_error(r.error());
        co_return;
    }
    if (auto stop = model_.any_stop(a.pid); stop && waiting_) {
        // Already stopped (no new stop event comes).
        waiting_ = false;
        attaching_ = false;
        stop->signal = gdb_signal::none;
        reply(stop_reply(*stop));
    }
}

task<void> debug_session::on(const vcont_query_req&) {
    reply("vCont;c;C;s;S;t");
    co_return;
}

task<void> debug_session::on(const query_req& q) {
    const auto& table = queries();
    auto it = table.find(std::string((q.set ? "Q" : "q") + q.name));
    if (it == table.end()) {
        reply(replies::unsupported());
        co_return;
    }
    co_await (this->*(it->second))(q);
}

} // namespace ruprobes::rsp

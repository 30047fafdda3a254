// How a debug session's process ends and is replaced: it dies under the debugger (killed over
// JSON-RPC, the kernel gone), gdb kills it, or a vRun starts another. Whatever happens, gdb is
// told the exit exactly once and no process stays stopped without a debugger.
#include "rsp/debug_session.hpp"
#include "rsp/spawn_keeper.hpp"

#include <spdlog/spdlog.h>

namespace ruprobes::rsp {

using namespace ruprobes::target;

void debug_session::process_gone(const exit_event& exit) {
    bool was_waiting = waiting_;
    // Stopped on a breakpoint (gdb removed it at the stop: its removal is pending): gdb's next
    // resume is a single step over it.
    gone_at_breakpoint_.reset();
    if (!was_waiting && last_stop_ && removals_.pending(last_stop_->regs.pc))
        gone_at_breakpoint_ = last_stop_;
    forget_process();
    exit_ = exit_reply(exit);
    if (was_waiting) {
        reply(*exit_);
        return;
    }
    // gdb looks at a stopped process and learns nothing until it resumes it.
    gone_ = exit.pid;
}

void debug_session::answer_resume_of_gone(bool single_step) {
    if (single_step && gone_at_breakpoint_) {
        // gdb 13 keeps its step-over state when the step over a breakpoint ends in an exit, and
        // then never resumes the next process it runs. So the step over ends as a step (to the
        // next instruction: the process is dead, nothing runs), and the exit answers the resume
        // that follows.
        stop_event step = *gone_at_breakpoint_;
        gone_at_breakpoint_.reset();
        uint16_t first = 3; // a 32-bit instruction unless the host copy says otherwise
        if (options_.read_text && !program_.empty()) {
            if (auto text = options_.read_text(program_, step.regs.pc, 2))
                first = static_cast<uint16_t>((*text)[0] | (*text)[1] << 8);
        }
        step.regs.pc += (first & 3) == 3 ? 4 : 2;
        step.reason = stop_reason::step;
        step.signal = gdb_signal::sigtrap;
        step.probe.reset();
        reply(stop_reply(step));
        return;
    }
    gone_at_breakpoint_.reset();
    gone_.reset();
    reply(*exit_);
}

bool debug_session::answer_vanished(pid_type pid, const target_error& error, bool single_step) {
    if (error.code != target_errc::no_such_process)
        return false;
    waiting_ = false;
    // A stopped process ends only by being killed: its exit event, when it comes, says SIGKILL
    // too, and is ignored once the session has let go of the process.
    if (pid_ == pid)
        process_gone(exit_event{pid, true, 9});
    if (pid_ || !gone_ || !exit_)
        return false;
    answer_resume_of_gone(single_step);
    return true;
}

task<void> debug_session::let_go() {
    if (!pid_)
        co_return;
    pid_type pid = *pid_;
    bool attached = attached_;
    co_await model_.remove_breakpoints_of(id_);
    forget_process(); // its exit must not become a reply
    if (attached) {
        auto r = co_await model_.resume(thread_id{pid, 0}, 0);
        if (!r && r.error().code != target_errc::not_stopped)
            spdlog::warn("rsp client {}: resuming pid {}: {}", id_, pid, r.error().message);
        co_return;
    }
    auto r = co_await model_.kill(pid);
    if (!r && r.error().code != target_errc::no_such_process)
        spdlog::warn("rsp client {}: killing pid {}: {}", id_, pid, r.error().message);
}

task<void> debug_session::discard_spawned(pid_type pid) {
    spdlog::info("rsp client {}: pid {} has no debugger: killed", id_, pid);
    auto r = co_await model_.kill(pid);
    if (!r && r.error().code != target_errc::no_such_process)
        spdlog::warn("rsp client {}: killing pid {}: {}", id_, pid, r.error().message);
}

task<bool> debug_session::ensure_ready() {
    auto keeper = options_.keeper;
    if (!keeper || keeper->ready())
        co_return true;
    if (!waited_for_kernel_) {
        waited_for_kernel_ = true;
        spdlog::info("rsp client {}: waiting up to {} ms for the kernel", id_,
                     options_.ready_timeout.count());
        std::weak_ptr<bool> alive = alive_;
        bool ready = co_await keeper->wait_ready(options_.ready_timeout);
        if (alive.expired())
            co_return false;
        if (ready)
            co_return true;
    }
    // "E.text": gdb shows the text ("Remote failure reply: E.…").
    reply(replies::error_text("ruprobesd: the kernel is not up after " +
                              std::to_string(options_.ready_timeout.count() / 1000) + " s"));
    co_return false;
}

task<bool> debug_session::take_kept_process() {
    if (asked_keeper_ || pid_ || exit_ || !options_.keeper || !options_.keeper->ready())
        co_return true;
    asked_keeper_ = true;
    auto keeper = options_.keeper;
    if (auto pid = keeper->take(id_)) {
        spdlog::info("rsp client {}: takes pid {} ({})", id_, *pid, keeper->argv()[0]);
        pid_ = *pid;
        attached_ = false;
        g_thread_.reset();
        program_.clear();
        text_written_ = false;
    }
    co_return true;
}

} // namespace ruprobes::rsp

// The agent's process and thread requests (protocol/README.md §3) through the kernel's process
// control (proc/process_control.hpp), and the stop bookkeeping the session rules need.
#include "agent/request_util.hpp"

#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "programs.hpp"

namespace agent {
namespace {

struct stop_note {
    int pid = 0;
    wire::stop_reason reason = wire::stop_reason::none;
};
constinit stop_note stop_notes[max_processes];

constinit process_info process_buf[max_processes];

} // namespace

// ---- processes -----------------------------------------------------------------------------

void process_list(const wire::frame& f) {
    wire::process_list_request req;
    if (!parse(f, req)) {
        return;
    }
    int n = list_processes(process_buf, max_processes);
    uint32_t total = 0;
    for (int i = 0; i < n; i++) {
        total += process_buf[i].kernel_thread ? 0 : 1;
    }
    wire::frame_builder b(tx_frame, wire::process_list_response::code, f.request_id);
    wire::write_fields(b.payload(), wire::process_list_response{.status = 0, .total = total});
    uint32_t index = 0, count = 0;
    for (int i = 0; i < n; i++) {
        const process_info& p = process_buf[i];
        if (p.kernel_thread || index++ < req.start) {
            continue;
        }
        wire::process_state state = p.state == process_state::zombie ? wire::process_state::zombie
                                    : p.stopped                      ? wire::process_state::stopped
                                                                     : wire::process_state::running;
        wire::write_fields(b.payload(), wire::process_entry{.pid = uint32_t(p.pid),
                                                            .ppid = uint32_t(p.ppid),
                                                            .state = uint8_t(state),
                                                            .thread_count = 1,
                                                            .path = as_bytes(p.name),
                                                            .args = {}});
        count++; // 64 entries of <= 48 bytes always fit one frame
    }
    b.payload().patch(8, count, 4);
    send_frame(b.finish(), true);
}

void process_spawn_request(const wire::frame& f) {
    wire::process_spawn_request req;
    if (!parse(f, req)) {
        return;
    }
    static char line[256];
    const char* argv[max_exec_args];
    int argc = 0;
    if ((req.flags & wire::spawn_flag_argv_list) != 0) {
        // Each argument is followed by a NUL: copied as they are, empty ones included.
        if (req.cmdline.size() > sizeof line || req.cmdline.empty() ||
            req.cmdline[req.cmdline.size() - 1] != 0) {
            reply_status(f, wire::status::malformed);
            return;
        }
        for (size_t i = 0; i < req.cmdline.size(); i++) {
            line[i] = static_cast<char>(req.cmdline[i]);
        }
        for (size_t start = 0; start < req.cmdline.size();) {
            if (argc == max_exec_args) {
                reply_status(f, wire::status::malformed); // more arguments than exec takes
                return;
            }
            argv[argc++] = line + start;
            start += kstrlen(line + start) + 1;
        }
    } else {
        if (!copy_string(req.cmdline, line, sizeof line)) {
            reply_status(f, wire::status::malformed);
            return;
        }
        for (char* p = line; *p != 0 && argc < max_exec_args;) {
            while (*p == ' ') {
                *p++ = 0;
            }
            if (*p == 0) {
                break;
            }
            argv[argc++] = p;
            while (*p != 0 && *p != ' ') {
                p++;
            }
        }
    }
    if (argc == 0) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (find_program(argv[0]) == nullptr) {
        reply_status(f, wire::status::no_such_program);
        return;
    }
    long pid = process_spawn(init_process(), argv[0], argc, argv);
    if (pid < 0) {
        reply_status(f, status_of_errno(pid));
        return;
    }
    bool stop = (req.flags & wire::spawn_flag_stop_at_entry) != 0;
    if (stop) {
        thread_stop(static_cast<int>(pid)); // it has not run yet: stopped at its entry
    }
    reply(f, wire::process_spawn_response{.status = 0, .pid = uint32_t(pid), .tid = uint32_t(pid)});
    if (stop) {
        note_stop(static_cast<int>(pid), wire::stop_reason::spawned);
        send_stop_event(static_cast<int>(pid), wire::stop_reason::spawned, 0);
    }
}

void process_kill_request(const wire::frame& f) {
    wire::process_kill_request req;
    if (!parse(f, req)) {
        return;
    }
    if (user_process(req.pid) == nullptr) {
        reply_status(f, wire::status::no_such_process);
        return;
    }
    long r = process_kill(static_cast<int>(req.pid), sig::kill);
    reply_status(f, r < 0 ? status_of_errno(r) : 0);
}

// ---- threads -------------------------------------------------------------------------------

void thread_list(const wire::frame& f) {
    wire::thread_list_request req;
    if (!parse(f, req)) {
        return;
    }
    process* p = user_process(req.pid);
    if (p == nullptr) {
        reply_status(f, wire::status::no_such_process);
        return;
    }
    bool stopped = p->stop_count > 0;
    wire::frame_builder b(tx_frame, wire::thread_list_response::code, f.request_id);
    uint32_t count = req.start == 0 ? 1 : 0;
    wire::write_fields(b.payload(),
                       wire::thread_list_response{.status = 0, .total = 1, .count = count});
    if (count == 1) {
        wire::write_fields(
            b.payload(),
            wire::thread_entry{.tid = req.pid,
                               .state = uint8_t(stopped ? wire::thread_state::stopped
                                                        : wire::thread_state::running),
                               .stop_reason = uint8_t(stopped ? last_stop_reason(p->pid)
                                                              : wire::stop_reason::none),
                               .pc = p->frame.sepc});
    }
    send_frame(b.finish(), true);
}

// The thread a (pid, tid) request names: one thread per process, tid 0 or pid.
process* requested_thread(const wire::frame& f, uint32_t pid, uint32_t tid) {
    process* p = user_process(pid);
    if (p == nullptr) {
        reply_status(f, wire::status::no_such_process);
        return nullptr;
    }
    if (tid != 0 && tid != pid) {
        reply_status(f, wire::status::no_such_thread);
        return nullptr;
    }
    return p;
}

void thread_stop_request(const wire::frame& f) {
    wire::thread_stop_request req;
    if (!parse(f, req)) {
        return;
    }
    process* p = requested_thread(f, req.pid, req.tid);
    if (p == nullptr) {
        return;
    }
    wire::stop_reason reason = wire::stop_reason::requested;
    if (p->stop_count > 0) {
        reason = last_stop_reason(p->pid); // already stopped: no second stop to undo later
    } else {
        thread_stop(p->pid);
        note_stop(p->pid, reason);
    }
    reply_status(f, 0);
    send_stop_event(p->pid, reason, 0);
}

void thread_resume_request(const wire::frame& f) {
    wire::thread_resume_request req;
    if (!parse(f, req)) {
        return;
    }
    process* p = requested_thread(f, req.pid, req.tid);
    if (p == nullptr) {
        return;
    }
    if (req.signal >= 64) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (req.signal != 0) {
        // A signal is delivered by ending the process with it (no user handlers exist): the
        // fault a debugger let through kills the program as it would have without one.
        process_kill(p->pid, static_cast<int>(req.signal));
    }
    for (int guard = 0; p->stop_count > 0 && guard < 64; guard++) {
        thread_resume(p->pid, false);
    }
    note_stop(p->pid, wire::stop_reason::none);
    reply_status(f, 0);
}

void thread_step_request(const wire::frame& f) {
    wire::thread_step_request req;
    if (!parse(f, req)) {
        return;
    }
    process* p = requested_thread(f, req.pid, req.tid == 0 ? req.pid : req.tid);
    if (p == nullptr) {
        return;
    }
    if (p->stop_count == 0) {
        reply_status(f, wire::status::not_stopped);
        return;
    }
    long r = thread_resume(p->pid, true); // stops again with stop_reason::step
    note_stop(p->pid, wire::stop_reason::none);
    reply_status(f, r < 0 ? status_of_errno(r) : 0);
}

uint32_t count_stopped() {
    uint32_t n = 0;
    for (process* p = process_slots_begin(); p != process_slots_end(); p++) {
        if (p->state != process_state::unused && !p->kernel_thread && p->stop_count > 0) {
            n++;
        }
    }
    return n;
}

uint32_t resume_all_stopped() {
    thread_untrace_all(); // no debugger is left to catch a fault
    uint32_t n = 0;
    for (process* p = process_slots_begin(); p != process_slots_end(); p++) {
        if (p->state == process_state::unused || p->kernel_thread || p->stop_count == 0) {
            continue;
        }
        for (int guard = 0; p->stop_count > 0 && guard < 64; guard++) {
            thread_resume(p->pid, false);
        }
        note_stop(p->pid, wire::stop_reason::none);
        n++;
    }
    return n;
}

void resume_thread(int pid) {
    process* p = user_process(static_cast<uint32_t>(pid));
    if (p == nullptr) {
        return;
    }
    for (int guard = 0; p->stop_count > 0 && guard < 64; guard++) {
        thread_resume(p->pid, false);
    }
    note_stop(p->pid, wire::stop_reason::none);
}

void note_stop(int pid, wire::stop_reason reason) {
    stop_notes[pid % max_processes] = stop_note{pid, reason};
}

wire::stop_reason last_stop_reason(int pid) {
    const stop_note& n = stop_notes[pid % max_processes];
    return n.pid == pid && n.reason != wire::stop_reason::none ? n.reason
                                                               : wire::stop_reason::requested;
}

} // namespace agent

// The agent's process and thread requests (protocol/README.md §3) through the kernel's process
// control hooks (os_agent_process_* / os_agent_thread_*), and the stop bookkeeping the session
// rules need.
#include "agent/request_util.hpp"

namespace agent {
namespace {

struct stop_note {
    uint32_t tid = 0;
    wire::stop_reason reason = wire::stop_reason::none;
    uint8_t signal = 0;
};
constexpr uint32_t max_stop_notes = 128;
constinit stop_note stop_notes[max_stop_notes];

constexpr uint32_t process_page = 64;
constinit ruprobes_agent_process process_buf[process_page] = {};

constexpr size_t process_entry_size = 16; // without path and args (messages.hpp)

wire::process_state wire_state(uint8_t state) {
    switch (state) {
    case RUPROBES_AGENT_PROCESS_STOPPED:
        return wire::process_state::stopped;
    case RUPROBES_AGENT_PROCESS_ZOMBIE:
        return wire::process_state::zombie;
    default:
        return wire::process_state::running;
    }
}

// Resumes every stop of thread `tid` of `pid`; the hook's result.
int resume_fully(uint32_t pid, uint32_t tid) {
    int r = os_agent_thread_resume(pid, tid, 0);
    note_stop(tid, wire::stop_reason::none);
    return r;
}

} // namespace

// ---- processes -----------------------------------------------------------------------------

void process_list(const wire::frame& f) {
    wire::process_list_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t total = 0;
    int n = os_agent_process_list(req.start, process_buf, process_page, &total);
    if (n < 0) {
        reply_status(f, status_of_hook(n));
        return;
    }
    wire::frame_builder b(tx_frame, wire::process_list_response::code, f.request_id);
    wire::write_fields(b.payload(), wire::process_list_response{.status = 0, .total = total});
    uint32_t count = 0;
    for (int i = 0; i < n && i < int(process_page); i++) {
        ruprobes_agent_process& p = process_buf[i];
        p.path[sizeof p.path - 1] = 0;
        if (b.payload().size() + process_entry_size + str_length(p.path) > wire::max_payload) {
            break; // the page is full: the host asks again from start + count
        }
        wire::write_fields(b.payload(),
                           wire::process_entry{.pid = p.pid,
                                               .ppid = p.ppid,
                                               .state = uint8_t(wire_state(p.state)),
                                               .thread_count = uint16_t(p.thread_count),
                                               .path = as_bytes(p.path),
                                               .args = {}});
        count++;
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
    const char* argv[RUPROBES_AGENT_MAX_ARGS];
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
            if (argc == RUPROBES_AGENT_MAX_ARGS) {
                reply_status(f, wire::status::malformed); // more arguments than exec takes
                return;
            }
            argv[argc++] = line + start;
            start += str_length(line + start) + 1;
        }
    } else {
        if (!copy_string(req.cmdline, line, sizeof line)) {
            reply_status(f, wire::status::malformed);
            return;
        }
        for (char* p = line; *p != 0 && argc < RUPROBES_AGENT_MAX_ARGS;) {
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
    bool stop = (req.flags & wire::spawn_flag_stop_at_entry) != 0;
    uint32_t pid = 0;
    int r = os_agent_process_spawn(argc, argv, stop ? RUPROBES_AGENT_SPAWN_STOP_AT_ENTRY : 0, &pid);
    if (r < 0) {
        reply_status(f, status_of_hook(r));
        return;
    }
    uint32_t tid = pid;
    if (stop && !requested_thread(f, pid, 0, &tid)) {
        return; // gone already (answered)
    }
    reply(f, wire::process_spawn_response{.status = 0, .pid = pid, .tid = tid});
    if (stop) {
        note_stop(tid, wire::stop_reason::spawned);
        send_stop_event(pid, tid, wire::stop_reason::spawned, 0);
    }
}

void process_kill_request(const wire::frame& f) {
    wire::process_kill_request req;
    if (!parse(f, req)) {
        return;
    }
    int r = os_agent_process_kill(req.pid, 9); // SIGKILL
    reply_status(f, r < 0 ? status_of_hook(r) : 0);
}

// ---- threads -------------------------------------------------------------------------------

void thread_list(const wire::frame& f) {
    wire::thread_list_request req;
    if (!parse(f, req)) {
        return;
    }
    static ruprobes_agent_thread threads[32];
    uint32_t total = 0;
    int n = os_agent_thread_list(req.pid, req.start, threads, 32, &total);
    if (n < 0) {
        reply_status(f, status_of_hook(n));
        return;
    }
    uint32_t count = static_cast<uint32_t>(n) > 32 ? 32 : static_cast<uint32_t>(n);
    wire::frame_builder b(tx_frame, wire::thread_list_response::code, f.request_id);
    wire::write_fields(b.payload(),
                       wire::thread_list_response{.status = 0, .total = total, .count = count});
    for (uint32_t i = 0; i < count; i++) {
        const ruprobes_agent_thread& t = threads[i];
        wire::write_fields(
            b.payload(),
            wire::thread_entry{.tid = t.tid,
                               .state = uint8_t(t.stopped ? wire::thread_state::stopped
                                                          : wire::thread_state::running),
                               .stop_reason = uint8_t(t.stopped ? last_stop_reason(t.tid)
                                                                : wire::stop_reason::none),
                               .pc = t.pc});
    }
    send_frame(b.finish(), true);
}

bool requested_thread(const wire::frame& f, uint32_t pid, uint32_t tid, uint32_t* out) {
    if (tid != 0) {
        *out = tid; // the hooks check it
        return true;
    }
    ruprobes_agent_thread first{};
    uint32_t total = 0;
    int n = os_agent_thread_list(pid, 0, &first, 1, &total);
    if (n < 0) {
        reply_status(f, status_of_hook(n));
        return false;
    }
    if (n == 0) {
        reply_status(f, wire::status::no_such_thread);
        return false;
    }
    *out = first.tid;
    return true;
}

void thread_stop_request(const wire::frame& f) {
    wire::thread_stop_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_thread(f, req.pid, req.tid, &tid)) {
        return;
    }
    int r = os_agent_thread_stop(req.pid, tid);
    if (r < 0) {
        reply_status(f, status_of_hook(r));
        return;
    }
    wire::stop_reason reason = wire::stop_reason::requested;
    if (r > 0) {
        reason = last_stop_reason(tid); // already stopped: no second stop to undo later
    } else {
        note_stop(tid, reason);
    }
    reply_status(f, 0);
    send_stop_event(req.pid, tid, reason, 0);
}

void thread_resume_request(const wire::frame& f) {
    wire::thread_resume_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_thread(f, req.pid, req.tid, &tid)) {
        return;
    }
    if (req.signal >= 64) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (req.signal != 0 && os_agent_process_kill(req.pid, static_cast<int>(req.signal)) == 0) {
        // A signal is delivered by ending the process with it (no user handlers exist): the
        // fault a debugger let through kills the program as it would have without one. The
        // kernel may have ended it inside the hook already (then there is no stop to release)
        // or ends it when it next runs: either way the resume succeeded.
        resume_fully(req.pid, tid);
        reply_status(f, 0);
        return;
    }
    int r = resume_fully(req.pid, tid);
    reply_status(f, r < 0 ? status_of_hook(r) : 0);
}

void thread_step_request(const wire::frame& f) {
    wire::thread_step_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t tid = 0;
    if (!requested_thread(f, req.pid, req.tid, &tid)) {
        return;
    }
    int r = os_agent_thread_resume(req.pid, tid, 1); // stops again with STOP_STEP
    if (r == 0) {
        note_stop(tid, wire::stop_reason::none);
    }
    reply_status(f, r < 0 ? status_of_hook(r) : 0);
}

uint32_t count_stopped() {
    uint32_t n = 0;
    for (uint32_t start = 0;;) {
        uint32_t total = 0;
        int got = os_agent_process_list(start, process_buf, process_page, &total);
        if (got <= 0) {
            return n;
        }
        for (int i = 0; i < got && i < int(process_page); i++) {
            ruprobes_agent_thread t[8];
            uint32_t threads = 0;
            for (uint32_t from = 0;;) {
                int m = os_agent_thread_list(process_buf[i].pid, from, t, 8, &threads);
                if (m <= 0) {
                    break;
                }
                for (int j = 0; j < m && j < 8; j++) {
                    n += t[j].stopped ? 1 : 0;
                }
                from += static_cast<uint32_t>(m);
            }
        }
        start += static_cast<uint32_t>(got);
        if (start >= total) {
            return n;
        }
    }
}

uint32_t resume_all_stopped() {
    uint32_t n = os_agent_release_all(); // no debugger is left to catch a fault
    forget_stops();
    return n;
}

void resume_thread(uint32_t pid, uint32_t tid) {
    resume_fully(pid, tid);
}

void note_stop(uint32_t tid, wire::stop_reason reason, uint8_t signal) {
    stop_notes[tid % max_stop_notes] = stop_note{tid, reason, signal};
}

wire::stop_reason last_stop_reason(uint32_t tid) {
    const stop_note& n = stop_notes[tid % max_stop_notes];
    return n.tid == tid && n.reason != wire::stop_reason::none ? n.reason
                                                               : wire::stop_reason::requested;
}

uint8_t last_stop_signal(uint32_t tid) {
    const stop_note& n = stop_notes[tid % max_stop_notes];
    return n.tid == tid ? n.signal : 0;
}

void forget_stops() {
    for (stop_note& n : stop_notes) {
        n = stop_note{};
    }
}

} // namespace agent

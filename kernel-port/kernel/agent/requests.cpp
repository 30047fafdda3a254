// The agent's request handlers (protocol/README.md §3): probes through the engine's C ABI,
// processes and threads through the kernel's process control (proc/process_control.hpp), user
// memory only — never the kernel's.
#include "agent/agent_internal.hpp"

#include "agent/session.hpp"
#include "arch/riscv64/timer.hpp"
#include "proc/scheduler.hpp"

#include "lib/string.hpp"
#include "mm/layout.hpp"
#include "proc/errno.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "programs.hpp"

#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

constexpr int max_agent_probes = 256;
constexpr size_t max_path = 64;

// The probes the host added: the engine has no list, the agent keeps one.
struct probe_slot {
    bool used = false;
    uint32_t id = 0;
    uint32_t pid = 0;
    uint8_t kind = 0;
    uint8_t mode = 0;
    uint64_t address = 0;
    char path[max_path] = {};
};

constinit probe_slot probes[max_agent_probes];

struct stop_note {
    int pid = 0;
    wire::stop_reason reason = wire::stop_reason::none;
};
constinit stop_note stop_notes[max_processes];

constinit process_info process_buf[max_processes];

// Copies a wire string into a NUL-terminated buffer; false when it does not fit.
bool copy_string(wire::bytes from, char* to, size_t size) {
    if (from.size() + 1 > size) {
        return false;
    }
    for (size_t i = 0; i < from.size(); i++) {
        if (from[i] == 0) {
            return false;
        }
        to[i] = static_cast<char>(from[i]);
    }
    to[from.size()] = 0;
    return true;
}

wire::bytes as_bytes(const char* s) {
    return wire::bytes(reinterpret_cast<const uint8_t*>(s), kstrlen(s));
}

// The live user process `pid`, or nullptr.
process* user_process(uint32_t pid) {
    process* p = find_process(static_cast<int>(pid));
    if (p == nullptr || p->kernel_thread || p->state == process_state::zombie ||
        p->page_table == nullptr) {
        return nullptr;
    }
    return p;
}

int32_t status_of_errno(long r) {
    switch (-r) {
    case err::srch:
        return wire::status::no_such_process;
    case err::perm:
        return wire::status::permission_denied;
    case err::fault:
        return wire::status::bad_address;
    case err::noent:
        return wire::status::no_such_program;
    case err::inval:
        return wire::status::not_stopped;
    default:
        return wire::status::busy;
    }
}

// Decodes the request or answers `malformed`.
template <typename M>
bool parse(const wire::frame& f, M& out) {
    auto r = wire::decode<M>(f);
    if (!r.ok()) {
        reply_status(f, wire::status::malformed);
        return false;
    }
    out = *r;
    return true;
}

// ---- probes --------------------------------------------------------------------------------

void probe_add(const wire::frame& f) {
    wire::probe_add_request req;
    if (!parse(f, req)) {
        return;
    }
    if (req.kind > 2 || req.mode > 1 || !req.condition.empty()) {
        reply_status(f, req.condition.empty() ? wire::status::malformed
                                              : wire::status::unsupported_request);
        return;
    }
    probe_slot* slot = nullptr;
    for (probe_slot& s : probes) {
        if (!s.used) {
            slot = &s;
            break;
        }
    }
    if (slot == nullptr) {
        reply_status(f, wire::status_of(ruprobes::error::no_space));
        return;
    }
    if (!copy_string(req.path, slot->path, sizeof slot->path)) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (find_program(slot->path) == nullptr) {
        reply_status(f, wire::status::no_such_program);
        return;
    }
    if (req.pid != 0 && user_process(req.pid) == nullptr) {
        reply_status(f, wire::status::no_such_process);
        return;
    }
    uprobes_probe_spec spec{};
    spec.path = slot->path;
    spec.addr = req.address;
    spec.kind = req.kind;
    spec.mode = req.mode;
    spec.pid = req.pid;
    int id = uprobe_register_spec(&spec);
    if (id <= 0) {
        reply_status(f, id < 0 ? -id : wire::status_of(ruprobes::error::port_failure));
        return;
    }
    slot->used = true;
    slot->id = static_cast<uint32_t>(id);
    slot->pid = req.pid;
    slot->kind = req.kind;
    slot->mode = req.mode;
    slot->address = req.address;
    reply(f, wire::probe_add_response{.status = 0, .probe_id = slot->id});
}

void probe_remove(const wire::frame& f) {
    wire::probe_remove_request req;
    if (!parse(f, req)) {
        return;
    }
    for (probe_slot& s : probes) {
        if (s.used && s.id == req.probe_id) {
            int r = uprobe_unregister(static_cast<int>(s.id));
            s.used = false;
            reply_status(f, r < 0 ? -r : 0);
            return;
        }
    }
    reply_status(f, wire::status_of(ruprobes::error::not_found));
}

void probe_list(const wire::frame& f) {
    wire::probe_list_request req;
    if (!parse(f, req)) {
        return;
    }
    uint32_t total = 0;
    for (const probe_slot& s : probes) {
        total += s.used ? 1 : 0;
    }
    wire::frame_builder b(tx_frame, wire::probe_list_response::code, f.request_id);
    wire::write_fields(b.payload(), wire::probe_list_response{.status = 0, .total = total});
    uint32_t index = 0, count = 0;
    for (const probe_slot& s : probes) {
        if (!s.used) {
            continue;
        }
        if (index++ < req.start) {
            continue;
        }
        if (b.payload().size() + 28 + kstrlen(s.path) > wire::max_payload) {
            break; // the page is full: the host asks again from start + count
        }
        int64_t hits = uprobe_hit_count(static_cast<int>(s.id));
        wire::write_fields(b.payload(), wire::probe_entry{.probe_id = s.id,
                                                          .pid = s.pid,
                                                          .kind = s.kind,
                                                          .mode = s.mode,
                                                          .address = s.address,
                                                          .hits = hits > 0 ? uint64_t(hits) : 0,
                                                          .path = as_bytes(s.path)});
        count++;
    }
    b.payload().patch(8, count, 4);
    send_frame(b.finish(), true);
}

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
    if (!copy_string(req.cmdline, line, sizeof line)) {
        reply_status(f, wire::status::malformed);
        return;
    }
    const char* argv[max_exec_args];
    int argc = 0;
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

// ---- registers and memory ------------------------------------------------------------------

void regs_get(const wire::frame& f) {
    wire::regs_get_request req;
    if (!parse(f, req)) {
        return;
    }
    process* p = requested_thread(f, req.pid, req.tid);
    if (p == nullptr) {
        return;
    }
    trap_frame* regs = thread_registers(p->pid);
    if (regs == nullptr) {
        reply_status(f, wire::status::not_stopped);
        return;
    }
    wire::regs_get_response r{.status = 0};
    for (int i = 1; i < 32; i++) {
        r.x[i] = regs->x[i];
    }
    r.pc = regs->sepc;
    reply(f, r);
}

void regs_set(const wire::frame& f) {
    wire::regs_set_request req;
    if (!parse(f, req)) {
        return;
    }
    process* p = requested_thread(f, req.pid, req.tid);
    if (p == nullptr) {
        return;
    }
    trap_frame* regs = thread_registers(p->pid);
    if (regs == nullptr) {
        reply_status(f, wire::status::not_stopped);
        return;
    }
    for (int i = 1; i < 32; i++) {
        if (req.mask & (1ull << i)) {
            regs->x[i] = req.x[i];
        }
    }
    if (req.mask & (1ull << 32)) {
        regs->sepc = req.pc;
    }
    reply_status(f, 0);
}

// Checks a memory request's range; answers and returns false when it is refused.
bool memory_range_ok(const wire::frame& f, uint32_t pid, uint64_t address, uint64_t length) {
    if (length > wire::max_mem_chunk) {
        reply_status(f, wire::status::too_large);
        return false;
    }
    if (user_process(pid) == nullptr) {
        reply_status(f, wire::status::no_such_process);
        return false;
    }
    if (length != 0 && !layout::in_user_window(address, length)) {
        reply_status(f, wire::status::permission_denied); // never the kernel's memory
        return false;
    }
    return true;
}

void mem_read(const wire::frame& f) {
    wire::mem_read_request req;
    if (!parse(f, req) || !memory_range_ok(f, req.pid, req.address, req.length)) {
        return;
    }
    static uint8_t data[wire::max_mem_chunk];
    if (req.length != 0) {
        long r = process_read_memory(static_cast<int>(req.pid), req.address, data, req.length);
        if (r < 0) {
            reply_status(f, status_of_errno(r));
            return;
        }
    }
    reply(f, wire::mem_read_response{.status = 0, .data = wire::bytes(data, req.length)});
}

void mem_write(const wire::frame& f) {
    wire::mem_write_request req;
    if (!parse(f, req) || !memory_range_ok(f, req.pid, req.address, req.data.size())) {
        return;
    }
    if (!req.data.empty()) {
        long r = process_write_memory(static_cast<int>(req.pid), req.address, req.data.data(),
                                      req.data.size());
        if (r < 0) {
            reply_status(f, status_of_errno(r));
            return;
        }
    }
    reply_status(f, 0);
}

// ---- diagnostics ---------------------------------------------------------------------------

void channel_test(const wire::frame& f) {
    wire::channel_test_request req;
    if (!parse(f, req)) {
        return;
    }
    if (req.payload_size < 8 || req.payload_size > wire::max_payload ||
        req.total_bytes > (64u << 20)) {
        reply_status(f, wire::status::malformed);
        return;
    }
    uint64_t frames = 0, bytes = 0, sent = 0;
    uint64_t start = agent_time_ns();
    while (sent < req.total_bytes) {
        wire::frame_builder b(tx_frame, wire::filler_event::code, 0);
        wire::write_fields(b.payload(), wire::filler_event{.seq = frames + 1});
        b.payload().zeros(req.payload_size - 8);
        size_t len = b.finish();
        if (!send_frame(len, true)) {
            break;
        }
        frames++;
        bytes += len;
        sent += req.payload_size;
    }
    uint64_t elapsed = agent_time_ns() - start;
    // The filler may have overrun the host's socket (QEMU then discards console bytes): give it
    // time to drain so that the answer itself is not lost.
    static char drain_channel;
    sleep_on(&drain_channel, timer_now() + timer_ns_to_ticks(50'000'000));
    reply(f, wire::channel_test_response{
                 .status = 0, .frames = frames, .bytes = bytes, .elapsed_ns = elapsed});
}

} // namespace

void handle_request(const wire::frame& f) {
    switch (static_cast<wire::msg_type>(f.type)) {
    case wire::msg_type::probe_add:
        return probe_add(f);
    case wire::msg_type::probe_remove:
        return probe_remove(f);
    case wire::msg_type::probe_list:
        return probe_list(f);
    case wire::msg_type::process_list:
        return process_list(f);
    case wire::msg_type::process_spawn:
        return process_spawn_request(f);
    case wire::msg_type::process_kill:
        return process_kill_request(f);
    case wire::msg_type::thread_list:
        return thread_list(f);
    case wire::msg_type::thread_stop:
        return thread_stop_request(f);
    case wire::msg_type::thread_resume:
        return thread_resume_request(f);
    case wire::msg_type::thread_step:
        return thread_step_request(f);
    case wire::msg_type::regs_get:
        return regs_get(f);
    case wire::msg_type::regs_set:
        return regs_set(f);
    case wire::msg_type::mem_read:
        return mem_read(f);
    case wire::msg_type::mem_write:
        return mem_write(f);
    case wire::msg_type::channel_test:
        return channel_test(f);
    default:
        return reply_status(f, wire::status::unsupported_request);
    }
}

void remove_all_probes() {
    for (probe_slot& s : probes) {
        if (s.used) {
            uprobe_unregister(static_cast<int>(s.id));
            s.used = false;
        }
    }
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

void send_stop_event(int pid, wire::stop_reason reason, uint32_t probe_id) {
    trap_frame* regs = thread_registers(pid);
    if (regs == nullptr) {
        return; // resumed or gone meanwhile
    }
    wire::stop_event e{.pid = uint32_t(pid),
                       .tid = uint32_t(pid),
                       .reason = uint8_t(reason),
                       .probe_id = probe_id};
    for (int i = 1; i < 32; i++) {
        e.x[i] = regs->x[i];
    }
    e.pc = regs->sepc;
    send_frame(wire::encode(tx_frame, 0, e), true);
}

} // namespace agent

// The agent's probe requests (protocol/README.md §3): probes through the engine's C ABI, kept in
// the agent's own table for probe_list; and the channel_test diagnostics.
#include "agent/request_util.hpp"

#include "agent/aggregations.hpp"
#include "agent/fetch.hpp"
#include "agent/session.hpp"
#include "agent/tracepoints.hpp"

#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

constexpr int max_agent_probes = 256;
constexpr size_t max_path = 64;
constexpr size_t max_condition = 512; // bytes of a condition list (protocol/README.md, probe_add)

// The probes the host added: the engine has no list, the agent keeps one.
struct probe_slot {
    bool used = false;
    uint32_t id = 0;
    uint32_t pid = 0;
    uint8_t kind = 0;
    uint8_t mode = 0;
    uint64_t address = 0;
    char path[max_path] = {};
    uint16_t condition_len = 0;
    uint8_t condition[max_condition] = {};
    // The handler of a probe with a condition too (it shares the engine's `user` with the
    // condition): run by slot_handler.
    uprobes_handler_fn handler = nullptr;
    void* handler_user = nullptr;
};

constinit probe_slot probes[max_agent_probes];

// The engine's condition hook for a probe the host gave a condition list: the list is evaluated
// in the trap, so a false condition costs neither a stop nor a frame.
int slot_condition(const uprobes_trap_context* ctx, const uprobes_hit* hit, void* user) {
    const probe_slot* slot = static_cast<const probe_slot*>(user);
    return uprobes_condition_holds(ctx, hit->pid, hit->tid, slot->condition, slot->condition_len);
}

// The handler of a probe with a condition: the slot's handler with its own `user`.
void slot_handler(uprobes_trap_context* ctx, const uprobes_hit* hit, void* user) {
    const probe_slot* slot = static_cast<const probe_slot*>(user);
    slot->handler(ctx, hit, slot->handler_user);
}

} // namespace

// ---- probes --------------------------------------------------------------------------------

// Registers a probe for probe_add / aggregation_add: checks the request, arms it with the engine
// and keeps it in the table. Replies with the refusal and returns 0 when it cannot; else the id.
// `cookie` marks the hits of an aggregation (aggregations.hpp).
uint32_t add_probe(const wire::frame& f, const probe_params& p) {
    if (p.kind > 2 || p.mode > 2) {
        reply_status(f, wire::status::malformed);
        return 0;
    }
    if (p.condition.size() > max_condition) {
        reply_status(f, wire::status::too_large);
        return 0;
    }
    if (!p.condition.empty()) {
        int r = uprobes_condition_check(p.condition.data(), p.condition.size());
        if (r < 0) {
            reply_status(f, -r);
            return 0;
        }
    }
    probe_slot* slot = first_unused(probes);
    if (slot == nullptr) {
        reply_status(f, wire::status_of(ruprobes::error::no_space));
        return 0;
    }
    if (!copy_string(p.path, slot->path, sizeof slot->path)) {
        reply_status(f, wire::status::malformed);
        return 0;
    }
    if (p.pid != 0) {
        uint32_t threads = 0;
        int r = os_agent_thread_list(p.pid, 0, nullptr, 0, &threads);
        if (r < 0) {
            reply_status(f, status_of_hook(r));
            return 0;
        }
    }
    uprobes_probe_spec spec{};
    spec.path = slot->path;
    spec.addr = p.address;
    spec.kind = p.kind;
    spec.mode = p.mode == uint8_t(wire::probe_mode::stop) ? UPROBES_MODE_STOP : UPROBES_MODE_TRACE;
    spec.pid = p.pid;
    spec.cookie = p.cookie;
    slot->condition_len = static_cast<uint16_t>(p.condition.size());
    for (size_t i = 0; i < p.condition.size(); i++)
        slot->condition[i] = p.condition[i];
    if (slot->condition_len != 0) {
        spec.condition = slot_condition;
        spec.user = slot;
        if (p.handler != nullptr) {
            slot->handler = p.handler;
            slot->handler_user = p.handler_user;
            spec.handler = slot_handler;
        }
    } else if (p.handler != nullptr) {
        spec.handler = p.handler;
        spec.user = p.handler_user;
    }
    int id = uprobe_register_spec(&spec);
    if (id == -UPROBES_E_NOT_FOUND) {
        reply_status(f, wire::status::no_such_program); // the kernel knows no such program
        return 0;
    }
    if (id <= 0) {
        reply_status(f, id < 0 ? -id : wire::status_of(ruprobes::error::port_failure));
        return 0;
    }
    slot->used = true;
    slot->id = static_cast<uint32_t>(id);
    slot->pid = p.pid;
    slot->kind = p.kind;
    slot->mode = p.mode;
    slot->address = p.address;
    return slot->id;
}

void probe_add(const wire::frame& f) {
    wire::probe_add_request req;
    if (!parse(f, req)) {
        return;
    }
    if (req.mode > 1) { // aggregations come with aggregation_add
        reply_status(f, wire::status::malformed);
        return;
    }
    if (!req.fetch.empty()) {
        fetch_probe_add(f, req);
        return;
    }
    uint32_t id = add_probe(f, probe_params{.pid = req.pid,
                                            .kind = req.kind,
                                            .mode = req.mode,
                                            .address = req.address,
                                            .path = req.path,
                                            .condition = req.condition});
    if (id != 0)
        reply(f, wire::probe_add_response{.status = 0, .probe_id = id});
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
            if (s.mode == uint8_t(wire::probe_mode::aggregate))
                aggregation_release(s.id);
            tracepoint_release(s.id);
            fetch_release(s.id);
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
        if (b.payload().size() + 28 + str_length(s.path) > wire::max_payload) {
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
    sleep_for(50'000'000);
    reply(f, wire::channel_test_response{
                 .status = 0, .frames = frames, .bytes = bytes, .elapsed_ns = elapsed});
}

void remove_all_probes() {
    for (probe_slot& s : probes) {
        if (s.used) {
            uprobe_unregister(static_cast<int>(s.id));
            s.used = false;
            if (s.mode == uint8_t(wire::probe_mode::aggregate))
                aggregation_release(s.id);
            tracepoint_release(s.id);
            fetch_release(s.id);
        }
    }
}

} // namespace agent

// JSON text of the notifications (see docs/jsonrpc.md for every field).
#include "rpc/event_notifications.hpp"

#include "ruprobes/jsonrpc/params.hpp"

#include <type_traits>

namespace ruprobes::rpc {

using jsonrpc::hex_u64;
using jsonrpc::json;

namespace {

events::published_event make(events::event_kind kind, int64_t pid, uint64_t probe, json params) {
    events::published_event out;
    out.kind = kind;
    out.pid = pid;
    out.probe = probe;
    out.text = jsonrpc::to_text(
        jsonrpc::make_notification(events::event_kind_name(kind), std::move(params)));
    return out;
}

json probe_hit_params(const target::probe_hit_event& e, const probe_site* site) {
    json p{{"seq", e.seq},        {"time_ns", e.timestamp_ns}, {"probe", e.probe},
           {"pid", e.thread.pid}, {"tid", e.thread.tid},       {"pc", hex_u64(e.pc)},
           {"symbol", nullptr},   {"offset", nullptr},         {"kind", nullptr}};
    if (site) {
        if (site->symbol) {
            p["symbol"] = *site->symbol;
            // insn/entry probes hit at the site; a return probe's pc is where it returned to,
            // so its symbol+offset name the function that returned.
            p["offset"] = site->offset;
        }
        p["kind"] = target::probe_kind_name(site->kind);
    }
    if (e.regs) {
        json args = json::array();
        for (int r = 0; r < 8; r++)
            args.push_back(hex_u64(e.regs->x[target::registers::a0_regno + r]));
        p["args"] = std::move(args);
        p["sp"] = hex_u64(e.regs->x[target::registers::sp_regno]);
        p["ra"] = hex_u64(e.regs->x[target::registers::ra_regno]);
    }
    if (e.return_value)
        p["ret"] = hex_u64(*e.return_value);
    return p;
}

} // namespace

std::optional<events::published_event> make_notification(const target::target_event& event,
                                                         const site_lookup& sites) {
    using events::event_kind;
    return std::visit(
        [&](const auto& e) -> std::optional<events::published_event> {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, target::probe_hit_event>) {
                return make(event_kind::probe_hit, e.thread.pid, e.probe,
                            probe_hit_params(e, sites ? sites(e.probe) : nullptr));
            } else if constexpr (std::is_same_v<E, target::exec_event>) {
                return make(event_kind::process_exec, e.pid, 0,
                            json{{"pid", e.pid}, {"program", e.program}});
            } else if constexpr (std::is_same_v<E, target::exit_event>) {
                return make(event_kind::process_exit, e.pid, 0,
                            json{{"pid", e.pid}, {"status", e.status}, {"signaled", e.signaled}});
            } else if constexpr (std::is_same_v<E, target::events_lost_event>) {
                events::published_event out;
                out.kind = event_kind::events_lost;
                out.text = lost_notification(e.count, "kernel_ring_full");
                return out;
            } else if constexpr (std::is_same_v<E, target::connected_event>) {
                return make(event_kind::target_connected, 0, 0,
                            json{{"kernel_version", e.status.kernel_version},
                                 {"boot_id", e.status.boot_id}});
            } else if constexpr (std::is_same_v<E, target::disconnected_event>) {
                return make(event_kind::target_disconnected, 0, 0, json{{"reason", e.reason}});
            } else {
                return std::nullopt; // stop_event
            }
        },
        event);
}

std::string lost_notification(uint64_t count, const char* reason) {
    return jsonrpc::to_text(
        jsonrpc::make_notification("events.lost", json{{"count", count}, {"reason", reason}}));
}

} // namespace ruprobes::rpc

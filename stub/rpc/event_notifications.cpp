// JSON text of the notifications (see docs/jsonrpc.md for every field).
#include "rpc/event_notifications.hpp"

#include "rpc/fetch_params.hpp"
#include "ruprobes/jsonrpc/params.hpp"

#include <charconv>
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
    if (!e.fetched.empty() || !e.fetch_complete) {
        static const std::vector<wire::fetch_entry> none;
        p["fetch"] = fetched_json(site ? site->fetch : none, e.fetched);
        if (!e.fetch_complete)
            p["fetch_incomplete"] = true;
    }
    return p;
}

// Text that JSON carries unescaped (printable ASCII without quote and backslash): written as
// it is, it reads the same as nlohmann's dump would write it.
bool plain(std::string_view s) {
    for (char c : s) {
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    }
    return true;
}

template <typename T>
void put_number(std::string& out, T value, int base = 10) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, value, base);
    out.append(buf, r.ptr);
}

void put_hex(std::string& out, uint64_t value) {
    out += "\"0x";
    put_number(out, value, 16);
    out += '"';
}

// The probe.hit notification written directly, byte for byte what nlohmann's dump of
// probe_hit_params writes (keys in its sorted order), at a fraction of the cost: this is the
// one notification sent at the channel's full rate. Nothing when a string needs escaping (then
// the json path writes it).
std::optional<std::string> fast_probe_hit_text(const target::probe_hit_event& e,
                                               const probe_site* site) {
    if (site && site->symbol && !plain(*site->symbol))
        return std::nullopt;
    if (!e.fetched.empty() || !e.fetch_complete) // fetched items: the json path writes them
        return std::nullopt;
    std::string out;
    out.reserve(384);
    out += R"({"jsonrpc":"2.0","method":"probe.hit","params":{)";
    if (e.regs) {
        out += R"("args":[)";
        for (int r = 0; r < 8; r++) {
            if (r)
                out += ',';
            put_hex(out, e.regs->x[target::registers::a0_regno + r]);
        }
        out += "],";
    }
    out += R"("kind":)";
    if (site) {
        out += '"';
        out += target::probe_kind_name(site->kind);
        out += '"';
    } else {
        out += "null";
    }
    out += R"(,"offset":)";
    if (site && site->symbol)
        put_number(out, site->offset);
    else
        out += "null";
    out += R"(,"pc":)";
    put_hex(out, e.pc);
    out += R"(,"pid":)";
    put_number(out, e.thread.pid);
    out += R"(,"probe":)";
    put_number(out, e.probe);
    if (e.regs) {
        out += R"(,"ra":)";
        put_hex(out, e.regs->x[target::registers::ra_regno]);
    }
    if (e.return_value) {
        out += R"(,"ret":)";
        put_hex(out, *e.return_value);
    }
    out += R"(,"seq":)";
    put_number(out, e.seq);
    if (e.regs) {
        out += R"(,"sp":)";
        put_hex(out, e.regs->x[target::registers::sp_regno]);
    }
    out += R"(,"symbol":)";
    if (site && site->symbol) {
        out += '"';
        out += *site->symbol;
        out += '"';
    } else {
        out += "null";
    }
    out += R"(,"tid":)";
    put_number(out, e.thread.tid);
    out += R"(,"time_ns":)";
    put_number(out, e.timestamp_ns);
    out += "}}";
    return out;
}

} // namespace

std::string probe_hit_text(const target::probe_hit_event& hit, const probe_site* site, bool fast) {
    if (fast) {
        if (auto text = fast_probe_hit_text(hit, site))
            return std::move(*text);
    }
    return jsonrpc::to_text(jsonrpc::make_notification(
        events::event_kind_name(events::event_kind::probe_hit), probe_hit_params(hit, site)));
}

std::optional<events::published_event> make_notification(const target::target_event& event,
                                                         const site_lookup& sites) {
    using events::event_kind;
    return std::visit(
        [&](const auto& e) -> std::optional<events::published_event> {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, target::probe_hit_event>) {
                events::published_event out;
                out.kind = event_kind::probe_hit;
                out.pid = e.thread.pid;
                out.probe = e.probe;
                out.text = probe_hit_text(e, sites ? sites(e.probe) : nullptr);
                return out;
            } else if constexpr (std::is_same_v<E, target::exec_event>) {
                return make(event_kind::process_exec, e.pid, 0,
                            json{{"pid", e.pid}, {"program", e.program}});
            } else if constexpr (std::is_same_v<E, target::exit_event>) {
                return make(event_kind::process_exit, e.pid, 0,
                            json{{"pid", e.pid}, {"status", e.status}, {"signaled", e.signaled}});
            } else if constexpr (std::is_same_v<E, target::events_lost_event>) {
                events::published_event out;
                out.kind = event_kind::events_lost;
                out.lost = e.count;
                out.text =
                    lost_notification(e.count, e.transport ? "transport_loss" : "kernel_ring_full");
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

events::published_event aggregate_notification(uint64_t id, json table) {
    return make(events::event_kind::probe_aggregate, 0, id, std::move(table));
}

std::string lost_notification(uint64_t count, const char* reason) {
    return jsonrpc::to_text(
        jsonrpc::make_notification("events.lost", json{{"count", count}, {"reason", reason}}));
}

} // namespace ruprobes::rpc

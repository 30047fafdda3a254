// Event kinds and filter matching.
#include "events/event_filter.hpp"

namespace ruprobes::events {

namespace {

struct kind_name {
    event_kind kind;
    const char* name;
};

constexpr kind_name kind_names[] = {
    {event_kind::probe_hit, "probe.hit"},
    {event_kind::process_exec, "process.exec"},
    {event_kind::process_exit, "process.exit"},
    {event_kind::target_connected, "target.connected"},
    {event_kind::target_disconnected, "target.disconnected"},
    {event_kind::events_lost, "events.lost"},
    {event_kind::probe_aggregate, "probe.aggregate"},
};

constexpr uint32_t probe_kinds = static_cast<uint32_t>(event_kind::probe_hit) |
                                 static_cast<uint32_t>(event_kind::probe_aggregate);

} // namespace

const char* event_kind_name(event_kind kind) {
    for (const kind_name& k : kind_names) {
        if (k.kind == kind)
            return k.name;
    }
    return "unknown";
}

std::optional<event_kind> parse_event_kind(std::string_view name) {
    for (const kind_name& k : kind_names) {
        if (name == k.name)
            return k.kind;
    }
    return std::nullopt;
}

bool event_filter::matches(const event_meta& event) const {
    if ((kinds & static_cast<uint32_t>(event.kind)) == 0)
        return false;
    if ((probe_kinds & static_cast<uint32_t>(event.kind)) != 0 && !probes.empty() &&
        !probes.count(event.probe))
        return false;
    bool has_pid = event.kind == event_kind::probe_hit || event.kind == event_kind::process_exec ||
                   event.kind == event_kind::process_exit;
    if (has_pid && !pids.empty() && !pids.count(event.pid))
        return false;
    return true;
}

uint32_t event_filter::unrestricted_kinds() const {
    uint32_t restricted = 0;
    if (!probes.empty())
        restricted |= probe_kinds;
    if (!pids.empty())
        restricted |= static_cast<uint32_t>(event_kind::probe_hit) |
                      static_cast<uint32_t>(event_kind::process_exec) |
                      static_cast<uint32_t>(event_kind::process_exit);
    return kinds & ~restricted;
}

} // namespace ruprobes::events

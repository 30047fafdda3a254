// What a subscriber wants to see: events of some kinds, some probes, some processes.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ruprobes::events {

// The kinds of published events, as bits of a kind mask.
enum class event_kind : uint32_t {
    probe_hit = 1u << 0,
    process_exec = 1u << 1,
    process_exit = 1u << 2,
    target_connected = 1u << 3,
    target_disconnected = 1u << 4,
    events_lost = 1u << 5, // the kernel dropped records (the hub's own losses are per subscriber)
    probe_aggregate = 1u << 6, // an aggregation's table, sent periodically (aggregate.every)
};
inline constexpr uint32_t all_kinds = 0x7f;

// Names as clients write them: "probe.hit", "process.exec", "process.exit", "target.connected",
// "target.disconnected", "events.lost", "probe.aggregate" (the notification method names).
const char* event_kind_name(event_kind kind);
std::optional<event_kind> parse_event_kind(std::string_view name);

// The keys filters look at, per event.
struct event_meta {
    event_kind kind = event_kind::probe_hit;
    uint64_t probe = 0; // probe_hit, probe_aggregate: the probe's id
    int64_t pid = 0;    // probe_hit, process_exec, process_exit: the process; 0 otherwise
    uint64_t lost = 0;  // events_lost: the events it announces lost
};

// One event as it is published: its keys, and the notification text, made once for every
// subscriber.
struct published_event {
    event_kind kind = event_kind::probe_hit;
    uint64_t probe = 0;
    int64_t pid = 0;
    uint64_t lost = 0; // events_lost: the events it announces lost
    std::string text;  // the JSON-RPC notification, unframed, one line (no '\n' inside)

    event_meta meta() const { return event_meta{kind, probe, pid, lost}; }
};

// Empty sets mean "any". `probes` only restricts the events of a probe (hits, aggregate
// tables); `pids` only events that belong to
// a process (hits, exec, exit); `kinds` every event.
struct event_filter {
    std::set<uint64_t> probes;
    std::set<int64_t> pids;
    uint32_t kinds = all_kinds;

    bool matches(const event_meta& event) const;
    bool matches(const published_event& event) const { return matches(event.meta()); }
    // The kinds this filter takes whatever the event's probe and pid.
    uint32_t unrestricted_kinds() const;
};

} // namespace ruprobes::events

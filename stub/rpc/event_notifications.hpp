// Target events → the JSON-RPC notifications subscribers receive (probe.hit, process.exec,
// process.exit, events.lost, target.connected, target.disconnected; and probe.aggregate, which
// the daemon makes itself), each serialised once.
// 64-bit machine values (pc, registers, return values, addresses) are "0x..." strings: a JSON
// number is a double for many clients and loses precision above 2^53. Counters and ids (seq,
// time_ns, probe, pid, tid) stay JSON integers; they stay far below 2^53.
#pragma once

#include "events/event_hub.hpp"
#include "rpc/probe_catalog.hpp"
#include "target_model/target_types.hpp"

#include <functional>
#include <optional>

namespace ruprobes::rpc {

// The site of a probe by id, or nullptr when the probe is unknown.
using site_lookup = std::function<const probe_site*(target::probe_id)>;

// The notification for `event`, or nothing for events subscribers do not get (stops: those are
// the debugger's business).
std::optional<events::published_event> make_notification(const target::target_event& event,
                                                         const site_lookup& sites);

// The probe.hit notification of `hit` at `site` (nullptr: an unknown probe). `fast` writes it
// directly (the same bytes as the json path, which `fast = false` takes: kept for the tests
// that compare the two).
std::string probe_hit_text(const target::probe_hit_event& hit, const probe_site* site,
                           bool fast = true);

// The probe.aggregate notification of aggregation probe `id` with `table` (aggregation_json).
events::published_event aggregate_notification(uint64_t id, jsonrpc::json table);

// The events.lost notification for `count` events dropped by reason `reason`
// ("subscriber_queue_full", "kernel_ring_full", "transport_loss").
std::string lost_notification(uint64_t count, const char* reason);

} // namespace ruprobes::rpc

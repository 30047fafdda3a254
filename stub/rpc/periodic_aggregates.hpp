// probe.add's `aggregate.every`: the daemon reads the probe's table from the kernel every period
// and publishes it to subscribers as a probe.aggregate notification (docs/jsonrpc.md), until
// the probe is removed or the server stops. Internal to the rpc folder (includes Asio through
// the server's state).
#pragma once

#include "rpc/rpc_server_state.hpp"

#include <chrono>

namespace ruprobes::rpc {

// Starts the notifications of aggregation probe `id` (replacing any earlier ones of that id).
void start_periodic_aggregate(rpc_server::state& st, uint64_t id, std::chrono::milliseconds every);

// Stops them (no effect when there are none).
void stop_periodic_aggregate(rpc_server::state& st, uint64_t id);

// Stops every one (the server stops).
void stop_periodic_aggregates(rpc_server::state& st);

} // namespace ruprobes::rpc

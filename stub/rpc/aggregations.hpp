// The JSON side of in-kernel aggregations (docs/jsonrpc.md, probe.add `aggregate` and
// probe.aggregate): the `aggregate` parameter, and a table as JSON. No Asio.
#pragma once

#include "ruprobes/jsonrpc/message.hpp"
#include "target_model/target_types.hpp"

#include <tl/expected.hpp>

namespace ruprobes::rpc {

// Bounds of `every` (milliseconds between probe.aggregate notifications).
inline constexpr uint64_t min_every_ms = 100;
inline constexpr uint64_t max_every_ms = 3'600'000;

// probe.add's `aggregate` object ({by, of, hist, min, max, step, every}) for a probe of `kind`;
// an invalid-params error that says what is wrong.
tl::expected<target::aggregation_spec, jsonrpc::rpc_error>
parse_aggregate(const jsonrpc::json& aggregate, target::probe_kind kind);

// The spec as probe.add / probe.list show it: {by, of, hist[, min, max, step][, every]}.
jsonrpc::json aggregate_json(const target::aggregation_spec& spec);

// probe.aggregate's result: {id, aggregate, hits, dropped, entries: [{key, count[, sum, min,
// max][, hist]}]}, entries sorted by key, a histogram as its non-empty buckets.
jsonrpc::json aggregation_json(target::probe_id id, const target::aggregation_spec& spec,
                               const target::aggregation_table& table);

} // namespace ruprobes::rpc

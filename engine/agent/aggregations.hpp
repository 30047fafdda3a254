// Aggregations computed in the kernel (protocol/README.md §3, aggregation_add): a probe whose hits
// are counted into a table keyed by pid, tid, an argument or the return value, with the sum,
// minimum, maximum and an optional log2 or linear histogram of a value. Its hits send nothing
// over the channel; the host reads the table with aggregation_read.
#pragma once

#include "agent/agent_internal.hpp"

struct uprobes_hit;

namespace agent {

// Counts `hit` of an aggregation probe into its table (its cookie says which). Runs in the trap:
// no allocation, no waiting. A new key when the table is full is counted as dropped.
void aggregate(const uprobes_hit& hit);

// The requests.
void aggregation_add(const wire::frame& f);
void aggregation_read(const wire::frame& f);

// The aggregation probe `probe_id` was removed: its table is free again.
void aggregation_release(uint32_t probe_id);

} // namespace agent

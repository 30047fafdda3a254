// Probes that fetch (protocol/README.md §3, probe_add's fetch list): at each hit the probe's
// handler reads the registers, user memory ranges and NUL-terminated strings its list names and
// stores them behind the hit record, in continuation records (ruprobes/wire/fetch.hpp). Probes
// without a list never come here: their records are written by the engine's record sink.
#pragma once

#include "agent/agent_internal.hpp"

struct uprobes_hit;

namespace agent {

// The cookie of every fetching probe: its handler stores the record, the hit sink ignores it.
inline constexpr uint64_t fetch_cookie = 1ull << 62;

// probe_add with a non-empty fetch list: checks it, arms the probe and replies.
void fetch_probe_add(const wire::frame& f, const wire::probe_add_request& req);

// Probe `probe_id` was removed: if it fetched, its list's slot is free again.
void fetch_release(uint32_t probe_id);

// agent.cpp: stores `hit` and the data `fill` writes into `out` (at most wire::max_fetch_data
// bytes; it returns how many) in the hit ring, all or nothing; `fill` runs under the agent's
// lock. A ring without room counts one dropped record, as for any hit.
void store_hit_with_data(const uprobes_hit& hit, uint32_t (*fill)(uint8_t* out, void* user),
                         void* user);

} // namespace agent

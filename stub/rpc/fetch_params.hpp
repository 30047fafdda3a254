// The JSON side of fetching probes (docs/jsonrpc.md, probe.add `fetch`): the `fetch` parameter,
// its entries spelled back for probe.add / probe.list, and the items of a hit as probe.hit
// carries them. No Asio.
#pragma once

#include "ruprobes/jsonrpc/message.hpp"
#include "target_model/target_types.hpp"

#include <tl/expected.hpp>

#include <vector>

namespace ruprobes::rpc {

// probe.add's `fetch` array for a probe of `kind`: each element a register name ("a0", "x10",
// "sp", "pc", "ret" for return probes), {"mem": ADDR, "len": N} or {"str": ADDR, "max": N}, ADDR
// a register with an optional "+N"/"-N" (decimal or 0x hex). An invalid-params error that names
// the offending element (`index`) and says what is wrong, also when the list is too long or
// could fetch more than wire::max_fetch_data bytes per hit.
tl::expected<std::vector<wire::fetch_entry>, jsonrpc::rpc_error>
parse_fetch(const jsonrpc::json& fetch, target::probe_kind kind);

// The list as probe.add / probe.list show it: the elements above, registers by ABI name.
jsonrpc::json fetch_json(const std::vector<wire::fetch_entry>& entries);

// probe.hit's `fetch`: for each item its element's spelling and what was read:
// {"reg": "a0", "value": "0x3"}, {"mem": "a1+8", "addr": "0x...", "hex": "68690a"},
// {"str": "a0", "addr": "0x...", "value": "hi"[, "truncated": true]}; a read that faulted has
// "error": "unreadable" instead of the bytes.
jsonrpc::json fetched_json(const std::vector<wire::fetch_entry>& entries,
                           const std::vector<target::fetched_item>& items);

} // namespace ruprobes::rpc

// What the JSON-RPC side knows about probes beyond the target model: where a `probe.add`
// request points (program + symbol | address | file:line, resolved through the host copy of the
// program), the engine's class for the instruction there (decoded from the host copy with the
// engine's own decoder), and per probe id the symbol + offset that probe.hit notices carry.
// No Asio; single-threaded.
#pragma once

#include "ruprobes/jsonrpc/message.hpp"
#include "symbols/symbol_store.hpp"
#include "target_model/target_types.hpp"

#include <map>
#include <optional>
#include <string>
#include <tl/expected.hpp>

namespace ruprobes::rpc {

// The params of probe.add, already type-checked.
struct probe_request {
    std::string program;                    // guest path, "/bin/fib"
    std::optional<std::string> symbol;      // "fib"; "file.c:12" is taken as `line`
    std::optional<uint64_t> address;        // ELF virtual address in the program
    std::optional<std::string> line;        // "fib.c:12"
    std::optional<target::probe_kind> kind; // default: entry for a symbol, insn otherwise
    std::optional<target::pid_type> pid;    // only this process
};

// Where a probe sits, as probe.add / probe.list / probe.hit report it.
struct probe_site {
    std::string program;
    uint64_t address = 0;
    std::optional<std::string> symbol; // nothing when the program has no host copy / symbol
    uint64_t offset = 0;               // from the symbol's start
    target::probe_kind kind = target::probe_kind::insn;
    std::optional<std::string> insn_class; // "simulate" | "out_of_line"; nothing when unknown
    std::optional<std::string> insn;       // mnemonic of the displaced instruction
    std::optional<std::string> line;       // "file:line" when it was asked that way
    std::optional<std::string> condition;  // the condition's text, when it has one
    std::vector<wire::fetch_entry> fetch;  // what its hits fetch (probe.add `fetch`)
};

class probe_catalog {
public:
    explicit probe_catalog(symbols::symbol_store& store) : store_(store) {}

    // Resolves a probe.add request to a site. Fails with -32602 (nothing or two of symbol /
    // address / line; entry/return off a function start), unknown program / symbol / line, or
    // -32003 with the engine's reason when the instruction there cannot be probed.
    tl::expected<probe_site, jsonrpc::rpc_error> resolve(const probe_request& request);

    // Remembers the site of a probe the target accepted; forgets it.
    void remember(target::probe_id id, probe_site site) { sites_[id] = std::move(site); }
    void forget(target::probe_id id) { sites_.erase(id); }

    // The site of `id`: remembered, or worked out from the model's info (probes added by
    // another front end) and then remembered.
    const probe_site& site(target::probe_id id, const target::probe_info& info);
    // Only what is remembered.
    const probe_site* find(target::probe_id id) const;

    // {id, program, address, symbol, offset, kind, insn_class, insn[, line][, pid][, condition]
    // [, fetch]}
    // with 64-bit values as "0x..." strings.
    static jsonrpc::json to_json(target::probe_id id, const probe_site& site,
                                 std::optional<target::pid_type> pid);

private:
    symbols::symbol_store& store_;
    std::map<target::probe_id, probe_site> sites_;
};

} // namespace ruprobes::rpc

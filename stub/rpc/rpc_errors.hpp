// The JSON-RPC edge of the daemon's error styles: target errors (target_error) and symbol
// errors (symbol_error) become JSON-RPC error objects with an application code and a `data`
// object that names what was wrong. Codes are documented in docs/jsonrpc.md.
#pragma once

#include "ruprobes/jsonrpc/message.hpp"
#include "symbols/program_symbols.hpp"
#include "target_model/outcome.hpp"

namespace ruprobes::rpc {

// Application error codes (JSON-RPC 2.0 §5.1 reserves -32000..-32099 for servers).
enum app_error : int {
    target_not_connected = -32000,
    no_such_process = -32001,
    no_such_probe = -32002,
    unprobeable = -32003, // data.reason: the engine's reason ("insn_ecall", ...)
    target_timeout = -32004,
    target_failed = -32005, // any other target error; data.errc names it
    unknown_program = -32010,
    unknown_symbol = -32011,
    unknown_line = -32012, // unknown file, no code at/after the line, not "file:line"
    bad_program_file = -32013,
    no_such_subscription = -32020,
    too_many_subscriptions = -32021, // data.limit: the cap per connection
};

// {code, message, data: {errc, reason, ...}} for a target error.
jsonrpc::rpc_error from_target(const target::target_error& error);
// {code, message, data: {kind, reason}} for a symbol error.
jsonrpc::rpc_error from_symbols(const symbols::symbol_error& error);

} // namespace ruprobes::rpc

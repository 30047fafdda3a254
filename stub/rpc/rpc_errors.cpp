// target_error / symbol_error → JSON-RPC error objects.
#include "rpc/rpc_errors.hpp"

namespace ruprobes::rpc {

using jsonrpc::json;

jsonrpc::rpc_error from_target(const target::target_error& error) {
    using target::target_errc;
    jsonrpc::rpc_error out;
    out.data = json{{"errc", target::errc_name(error.code)}, {"reason", error.message}};
    switch (error.code) {
    case target_errc::not_connected:
        out.code = target_not_connected;
        out.message = "Target not connected";
        break;
    case target_errc::no_such_process:
        out.code = no_such_process;
        out.message = "No such process";
        break;
    case target_errc::no_such_probe:
        out.code = no_such_probe;
        out.message = "No such probe";
        break;
    case target_errc::unprobeable:
        out.code = unprobeable;
        out.message = "Unprobeable site";
        break;
    case target_errc::timeout:
        out.code = target_timeout;
        out.message = "Target did not answer in time";
        break;
    default:
        out.code = target_failed;
        out.message = "Target error";
        break;
    }
    return out;
}

jsonrpc::rpc_error from_symbols(const symbols::symbol_error& error) {
    using kind = symbols::symbol_error::kind;
    jsonrpc::rpc_error out;
    out.data = json{{"kind", symbols::error_kind_name(error.code)}, {"reason", error.message}};
    switch (error.code) {
    case kind::unknown_program:
        out.code = unknown_program;
        out.message = "Unknown program";
        break;
    case kind::bad_file:
        out.code = bad_program_file;
        out.message = "Unusable program file";
        break;
    case kind::unknown_symbol:
    case kind::no_symbol:
        out.code = unknown_symbol;
        out.message = "Unknown symbol";
        break;
    case kind::unknown_file:
    case kind::unknown_line:
    case kind::bad_location:
        out.code = unknown_line;
        out.message = "Unknown source line";
        break;
    }
    return out;
}

} // namespace ruprobes::rpc

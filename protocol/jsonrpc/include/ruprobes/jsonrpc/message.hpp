// The JSON-RPC 2.0 message model (https://www.jsonrpc.org/specification): parsing and validating
// what a client sent (one request, one notification or a batch of them) and building responses,
// error objects and notifications. Pure functions over nlohmann::json; nothing here does I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ruprobes::jsonrpc {

using json = nlohmann::json;

// Error codes defined by the specification (§5.1). Application errors use -32000..-32099.
enum error_code : int {
    parse_error = -32700,      // the text is not JSON
    invalid_request = -32600,  // JSON, but not a request object (or an empty batch)
    method_not_found = -32601, // no such method
    invalid_params = -32602,   // params missing, of the wrong type or out of range
    internal_error = -32603,   // the server failed, not the client
};

// Limits on what one message may hold, checked on the text before it is parsed, so no recursive
// walk (nlohmann's copy and comparison recurse) ever sees a deeper value.
inline constexpr std::size_t max_nesting_depth = 64; // arrays/objects inside each other
inline constexpr std::size_t max_batch_size = 100;   // requests in one batch array

// An error object. `data` is omitted from the wire when null; it says what exactly was wrong.
struct rpc_error {
    int code = internal_error;
    std::string message;
    json data;
};

// A failed result of anything that answers with an error object (a method's method_result, a
// parameter parsed for it): `return fail(p.error());`. tl::expected is the daemon's one result
// type (as the target model's outcome<T>).
inline tl::unexpected<rpc_error> fail(rpc_error error) {
    return tl::unexpected<rpc_error>(std::move(error));
}

// One request or notification that passed validation.
struct request {
    std::string method;
    json params;                  // object, array, or null when absent
    json id;                      // string, number or null; meaningless for notifications
    bool is_notification = false; // no "id" member: the client wants no response
};

// One element of what a client sent: a valid request, or the error to answer it with.
struct incoming_item {
    bool valid = false;
    request req;   // when valid
    rpc_error err; // when not valid
    json err_id;   // id to answer the error with (null when none could be read)
};

// What one message text held.
struct incoming {
    bool parse_failed = false; // not JSON: answer with `parse_error_response` (id null)
    rpc_error parse_err;
    bool batch = false; // an array: responses go back as one array
    std::vector<incoming_item> items;
};

// Parses and validates one message text. Never throws. A non-empty batch yields one item per
// element; an empty array, a batch of more than max_batch_size elements, a text nested deeper
// than max_nesting_depth or a non-object yields one invalid item (answered with -32600, `data`
// says which limit).
incoming parse_incoming(std::string_view text);

// The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not
// count), scanning no further than the first point where it exceeds `limit`. No recursion.
std::size_t nesting_depth(std::string_view text, std::size_t limit);

// Validates one already-parsed value as a request (used for single messages and batch elements).
incoming_item validate_request(const json& value);

// {"jsonrpc":"2.0","id":id,"result":result}
json make_response(const json& id, json result);
// {"jsonrpc":"2.0","id":id,"error":{"code","message"[,"data"]}}
json make_error_response(const json& id, const rpc_error& err);
// {"jsonrpc":"2.0","method":method,"params":params}
json make_notification(std::string_view method, json params);

// Compact JSON text of `value`; invalid UTF-8 in strings is replaced, never thrown on.
std::string to_text(const json& value);

} // namespace ruprobes::jsonrpc

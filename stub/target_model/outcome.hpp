// The daemon's one error style: a value or a target_error (a code and a message for people).
// Front ends convert it at their edge: RSP to `Exx`, JSON-RPC to an error object.
#pragma once

#include <tl/expected.hpp>

#include <string>
#include <utility>

namespace ruprobes::target {

// Every way a request to the target can fail. Stable numbers: the RSP edge sends them as `Exx`.
enum class target_errc : int {
    not_connected = 1,   // no kernel on the channel right now
    no_such_process = 2, // unknown pid (or it exited)
    no_such_thread = 3,  // unknown tid
    not_stopped = 4,     // the operation needs the thread stopped
    bad_address = 5,     // memory not mapped / not accessible in that process
    no_such_probe = 6,   // unknown probe id / no breakpoint at that address
    already_exists = 7,  // same probe or breakpoint twice
    unprobeable = 8,     // the engine refused the site (ecall, csr, not an instruction boundary…)
    invalid_argument = 9, // malformed request
    busy = 10,            // owned by another client
    timeout = 11,         // the kernel did not answer in time
    unsupported = 12,     // the backend cannot do this
    backend_failure = 13, // anything else the kernel or the channel reported
};

// A short stable name for `code` ("no_such_process", ...).
const char* errc_name(target_errc code);

struct target_error {
    target_errc code;
    std::string message;
};

// Either a T or a target_error: the daemon's one result type (tl::expected), as the channel's
// call_result<T> (channel/channel_types.hpp).
template <typename T>
using outcome = tl::expected<T, target_error>;

// Shorthand for building a failed outcome: `return fail(target_errc::bad_address, "…");`
inline tl::unexpected<target_error> fail(target_errc code, std::string message) {
    return tl::unexpected(target_error{code, std::move(message)});
}

} // namespace ruprobes::target

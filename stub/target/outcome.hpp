// The daemon's one error style: a value or a target_error (a code and a message for people).
// Front ends convert it at their edge: RSP to `Exx`, JSON-RPC to an error object.
#pragma once

#include <string>
#include <utility>
#include <variant>

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

// Either a T or a target_error; `outcome<void>` carries only success or the error.
template <typename T>
class [[nodiscard]] outcome {
public:
    // An error ("no result"): only so that Asio can default-construct a coroutine's value.
    outcome()
        : state_(std::in_place_index<1>, target_error{target_errc::backend_failure, "no result"}) {}
    outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    outcome(target_error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(state_); }
    const T& value() const { return std::get<0>(state_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    // Only when !ok().
    const target_error& error() const { return std::get<1>(state_); }

private:
    std::variant<T, target_error> state_;
};

template <>
class [[nodiscard]] outcome<void> {
public:
    outcome() = default;
    outcome(target_error error) : error_(std::move(error)), ok_(false) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const target_error& error() const { return error_; }

private:
    target_error error_{target_errc::backend_failure, {}};
    bool ok_ = true;
};

// Shorthand for building a failed outcome: `return fail(target_errc::bad_address, "…");`
inline target_error fail(target_errc code, std::string message) {
    return target_error{code, std::move(message)};
}

} // namespace ruprobes::target

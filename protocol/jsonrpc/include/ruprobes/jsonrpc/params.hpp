// Typed reading of a method's by-name params, turning every mismatch into one -32602 error whose
// `data` names the parameter and what was expected. Usage:
//   param_reader p(params);
//   auto id = p.u64("id", required);
//   if (!p.ok()) return p.error();
#pragma once

#include "ruprobes/jsonrpc/message.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace ruprobes::jsonrpc {

inline constexpr bool required = true;
inline constexpr bool optional_param = false;

class param_reader {
public:
    // `params` must be an object or null (= no params); an array fails as "params by name".
    explicit param_reader(const json& params);

    // Each getter returns nothing when the member is absent (an error when `is_required`) or of
    // the wrong type (always an error). Only the first error is kept.
    std::optional<std::string> string(const char* name, bool is_required);
    // A non-negative integer: a JSON number, or a string "0x..." (hex) / decimal, so that 64-bit
    // addresses survive clients whose numbers are doubles.
    std::optional<uint64_t> u64(const char* name, bool is_required);
    std::optional<int64_t> i64(const char* name, bool is_required);
    std::optional<bool> boolean(const char* name, bool is_required);
    // An array member (elements are checked by the caller).
    const json* array(const char* name, bool is_required);
    // An object member (members are checked by the caller, e.g. with a param_reader of its own).
    const json* object(const char* name, bool is_required);

    // Records an error about `name` (first one wins), e.g. for values out of range.
    void fail(const char* name, const std::string& expected);

    bool ok() const { return !failed_; }
    const rpc_error& error() const { return error_; }

private:
    const json* member(const char* name, bool is_required);

    const json& params_;
    bool failed_ = false;
    rpc_error error_;
};

// Parses "0x1f" / "31" / a JSON number into a uint64; nothing when it is not one.
std::optional<uint64_t> parse_u64(const json& value);

// "0x" + lowercase hex digits: how 64-bit values go out (JSON numbers lose precision above 2^53).
std::string hex_u64(uint64_t value);

} // namespace ruprobes::jsonrpc

// The tokens of a probe condition (compiler.hpp describes the language): numbers, names and
// punctuators, each with its 1-based column for error messages.
#pragma once

#include "ruprobes/condition/compiler.hpp"

#include <cstdint>
#include <string_view>

namespace ruprobes::condition {

enum class token_kind { end, number, name, punct };

struct token {
    token_kind kind = token_kind::end;
    std::string_view text;    // into the source ("end of the condition" at the end)
    unsigned column = 0;      // 1-based
    uint64_t value = 0;       // number
    bool is_unsigned = false; // number: `u` suffix or too large for a signed long
};

// The token at `pos` of `source` after any blanks, and `pos` moved past it; at the end of the
// source a token_kind::end token. An unknown character or a malformed number is an error that
// names its column.
tl::expected<token, compile_error> next_token(std::string_view source, size_t& pos);

} // namespace ruprobes::condition

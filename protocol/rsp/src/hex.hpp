// Hex digits as the RSP writes them (checksums, memory, register values): shared by the framer
// and the request parser of this library.
#pragma once

namespace ruprobes::rsp::detail {

// The value of one hex digit (either case), or -1.
inline int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

inline constexpr char hex_chars[] = "0123456789abcdef";

} // namespace ruprobes::rsp::detail

#include "lexer.hpp"

#include <array>
#include <charconv>
#include <string>

namespace ruprobes::condition {
namespace {

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The punctuators, longest first so that `<=` wins over `<`.
constexpr std::array<std::string_view, 26> punctuators = {
    "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "(", ")", "+", "-", "*",
    "/",  "%",  "<",  ">",  "&",  "|",  "^",  "~",  "!", "?", ":", "[", "]"};

std::string hex_byte(unsigned char c) {
    const char* digits = "0123456789abcdef";
    return {digits[c >> 4], digits[c & 15]};
}

// A decimal or 0x hex number with optional u/l suffixes, at source[pos].
tl::expected<token, compile_error> number(std::string_view source, size_t& pos, token t) {
    size_t start = pos;
    int base = 10;
    if (source.substr(pos, 2) == "0x" || source.substr(pos, 2) == "0X") {
        base = 16;
        pos += 2;
    }
    size_t digits_start = pos;
    while (pos < source.size() && (base == 16 ? is_hex_digit(source[pos]) : is_digit(source[pos])))
        pos++;
    std::string_view digits = source.substr(digits_start, pos - digits_start);
    if (digits.empty())
        return tl::unexpected(
            compile_error{t.column, "a hexadecimal number needs digits after 0x"});
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t.value, base);
    (void)end;
    if (ec == std::errc::result_out_of_range)
        return tl::unexpected(
            compile_error{t.column, "the number " + std::string(source.substr(start, pos - start)) +
                                        " does not fit in 64 bits"});
    bool suffix_u = false;
    while (pos < source.size() &&
           (source[pos] == 'u' || source[pos] == 'U' || source[pos] == 'l' || source[pos] == 'L')) {
        suffix_u = suffix_u || source[pos] == 'u' || source[pos] == 'U';
        pos++;
    }
    if (pos < source.size() && (is_name_start(source[pos]) || is_digit(source[pos])))
        return tl::unexpected(
            compile_error{static_cast<unsigned>(pos + 1),
                          std::string("unexpected '") + source[pos] + "' in a number"});
    t.kind = token_kind::number;
    t.text = source.substr(start, pos - start);
    t.is_unsigned = suffix_u || t.value > static_cast<uint64_t>(INT64_MAX);
    return t;
}

} // namespace

tl::expected<token, compile_error> next_token(std::string_view source, size_t& pos) {
    while (pos < source.size() && (source[pos] == ' ' || source[pos] == '\t' ||
                                   source[pos] == '\n' || source[pos] == '\r'))
        pos++;
    token t;
    t.column = static_cast<unsigned>(pos + 1);
    if (pos == source.size()) {
        t.text = "end of the condition";
        return t;
    }
    char c = source[pos];
    if (is_name_start(c)) {
        size_t start = pos;
        while (pos < source.size() && (is_name_start(source[pos]) || is_digit(source[pos])))
            pos++;
        t.kind = token_kind::name;
        t.text = source.substr(start, pos - start);
        return t;
    }
    if (is_digit(c))
        return number(source, pos, t);
    for (std::string_view p : punctuators) {
        if (source.substr(pos, p.size()) == p) {
            t.kind = token_kind::punct;
            t.text = p;
            pos += p.size();
            return t;
        }
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return tl::unexpected(compile_error{t.column, "unexpected byte 0x" +
                                                          hex_byte(static_cast<unsigned char>(c))});
    return tl::unexpected(compile_error{t.column, std::string("unexpected character '") + c + "'"});
}

} // namespace ruprobes::condition

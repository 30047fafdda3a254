#include "ruprobes/rsp/tracepoint_packets.hpp"

#include "ruprobes/rsp/request.hpp"

namespace ruprobes::rsp {
namespace {

constexpr size_t max_actions = 64;
constexpr size_t max_bytecode = 4096;

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Takes the hex digits at the front of `s` (at least one).
std::optional<std::string_view> take_hex(std::string_view& s) {
    size_t n = 0;
    while (n < s.size() && is_hex_digit(s[n]))
        n++;
    if (n == 0)
        return std::nullopt;
    std::string_view digits = s.substr(0, n);
    s.remove_prefix(n);
    return digits;
}

std::optional<uint64_t> take_number(std::string_view& s) {
    auto digits = take_hex(s);
    if (!digits)
        return std::nullopt;
    return parse_hex(*digits);
}

bool take(std::string_view& s, char c) {
    if (s.empty() || s.front() != c)
        return false;
    s.remove_prefix(1);
    return true;
}

// `len,hexbytes` of an X (condition or action); the bytes end where the hex digits end.
std::optional<std::vector<uint8_t>> take_expression(std::string_view& s) {
    auto len = take_number(s);
    if (!len || *len > max_bytecode || !take(s, ','))
        return std::nullopt;
    if (s.size() < 2 * *len)
        return std::nullopt;
    auto bytes = parse_hex_bytes(s.substr(0, 2 * *len));
    if (!bytes)
        return std::nullopt;
    s.remove_prefix(2 * *len);
    return bytes;
}

// One action at the front of `s`.
std::optional<tracepoint_action> take_action(std::string_view& s) {
    std::string_view start = s;
    tracepoint_action a;
    a.kind = s.front();
    s.remove_prefix(1);
    if (a.kind == 'R') {
        auto digits = take_hex(s);
        if (!digits)
            return std::nullopt;
        // The low 64 bits are the last 16 digits; any non-zero digit before them asks for a
        // register numbered 64 or more.
        size_t low = digits->size() > 16 ? digits->size() - 16 : 0;
        for (char c : digits->substr(0, low))
            a.mask_beyond_64 = a.mask_beyond_64 || c != '0';
        auto mask = parse_hex(digits->substr(low));
        if (!mask)
            return std::nullopt;
        a.register_mask = *mask;
    } else if (a.kind == 'M') {
        bool negative = take(s, '-');
        auto base = take_number(s);
        if (!base || !take(s, ','))
            return std::nullopt;
        if (negative && *base != 1)
            return std::nullopt;
        if (!negative && *base > 0xffff)
            return std::nullopt;
        a.base_register = negative ? -1 : static_cast<int64_t>(*base);
        auto offset = take_number(s);
        if (!offset || !take(s, ','))
            return std::nullopt;
        auto length = take_number(s);
        if (!length || *length == 0 || *length > 0xffff)
            return std::nullopt;
        a.offset = *offset;
        a.length = *length;
    } else if (a.kind == 'X') {
        auto bytes = take_expression(s);
        if (!bytes)
            return std::nullopt;
        a.bytecode = std::move(*bytes);
    } else {
        return std::nullopt; // L ($_sdata) and anything else: not supported
    }
    a.text = std::string(start.substr(0, start.size() - s.size()));
    return a;
}

} // namespace

std::optional<tracepoint_packet> parse_tracepoint_packet(std::string_view s) {
    tracepoint_packet p;
    p.continuation = take(s, '-');
    auto number = take_number(s);
    if (!number || *number > 0xffffffffu || !take(s, ':'))
        return std::nullopt;
    p.number = static_cast<uint32_t>(*number);
    auto address = take_number(s);
    if (!address || !take(s, ':'))
        return std::nullopt;
    p.address = *address;
    if (!p.continuation) {
        if (take(s, 'E'))
            p.enabled = true;
        else if (take(s, 'D'))
            p.enabled = false;
        else
            return std::nullopt;
        auto step = take(s, ':') ? take_number(s) : std::nullopt;
        auto pass = step && take(s, ':') ? take_number(s) : std::nullopt;
        if (!step || !pass)
            return std::nullopt;
        p.step_count = *step;
        p.passcount = *pass;
        while (take(s, ':')) {
            if (take(s, 'F')) {
                if (!take_number(s))
                    return std::nullopt;
                p.fast = true;
            } else if (take(s, 'X')) {
                auto cond = take_expression(s);
                if (!cond || p.condition)
                    return std::nullopt;
                p.condition = std::move(*cond);
            } else if (take(s, 'S')) {
                return std::nullopt; // a static tracepoint: no markers here
            } else {
                return std::nullopt;
            }
        }
        p.more = take(s, '-');
        if (!s.empty())
            return std::nullopt;
        return p;
    }
    p.stepping = take(s, 'S');
    while (!s.empty() && s != "-") {
        if (p.actions.size() == max_actions)
            return std::nullopt;
        auto a = take_action(s);
        if (!a)
            return std::nullopt;
        p.actions.push_back(std::move(*a));
    }
    p.more = take(s, '-');
    return p;
}

std::optional<trace_variable_packet> parse_trace_variable_packet(std::string_view s) {
    trace_variable_packet v;
    auto number = take_number(s);
    if (!number || *number > 0xffffffffu || !take(s, ':'))
        return std::nullopt;
    v.number = static_cast<uint32_t>(*number);
    bool negative = take(s, '-'); // older gdbs print a negative value with a sign
    auto value = take_number(s);
    if (!value || !take(s, ':'))
        return std::nullopt;
    v.initial = negative ? ~*value + 1 : *value;
    auto builtin = take_number(s);
    if (!builtin || *builtin > 1 || !take(s, ':'))
        return std::nullopt;
    v.builtin = *builtin == 1;
    auto name = parse_hex_bytes(s);
    if (!name || name->size() > 256)
        return std::nullopt;
    v.name.assign(name->begin(), name->end());
    return v;
}

std::optional<trace_frame_packet> parse_trace_frame_packet(std::string_view s) {
    trace_frame_packet f;
    auto two = [&s, &f]() {
        auto a = take_number(s);
        auto b = a && take(s, ':') ? take_number(s) : std::nullopt;
        if (!b || !s.empty())
            return false;
        f.start = *a;
        f.end = *b;
        return true;
    };
    if (s.starts_with("pc:") || s.starts_with("tdp:")) {
        f.what = s[0] == 'p' ? trace_frame_packet::kind::pc : trace_frame_packet::kind::tracepoint;
        s.remove_prefix(s[0] == 'p' ? 3 : 4);
        auto a = take_number(s);
        if (!a || !s.empty())
            return std::nullopt;
        f.start = *a;
        return f;
    }
    if (s.starts_with("range:")) {
        s.remove_prefix(6);
        f.what = trace_frame_packet::kind::range;
        return two() ? std::optional(f) : std::nullopt;
    }
    if (s.starts_with("outside:")) {
        s.remove_prefix(8);
        f.what = trace_frame_packet::kind::outside;
        return two() ? std::optional(f) : std::nullopt;
    }
    auto n = parse_signed_hex(s);
    if (!n)
        return std::nullopt;
    // gdb writes -1 as the 32-bit ffffffff.
    f.number = *n == 0xffffffff ? -1 : *n;
    if (f.number < -1 || f.number > 0x7fffffff)
        return std::nullopt;
    return f;
}

std::optional<std::vector<std::pair<uint64_t, uint64_t>>>
parse_readonly_ranges(std::string_view s) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    while (!s.empty()) {
        if (!out.empty() && !take(s, ':'))
            return std::nullopt;
        auto a = take_number(s);
        auto b = a && take(s, ',') ? take_number(s) : std::nullopt;
        if (!b || *b < *a || out.size() == 256)
            return std::nullopt;
        out.emplace_back(*a, *b);
    }
    if (!s.empty())
        return std::nullopt;
    return out;
}

} // namespace ruprobes::rsp

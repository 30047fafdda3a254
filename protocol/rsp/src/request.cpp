#include "ruprobes/rsp/request.hpp"

#include "hex.hpp"

namespace ruprobes::rsp {
namespace {

using detail::hex_chars;
using detail::hex_digit;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Splits "a,b" at the first `sep`; nothing when `sep` is missing.
std::optional<std::pair<std::string_view, std::string_view>> split(std::string_view s, char sep) {
    auto at = s.find(sep);
    if (at == std::string_view::npos)
        return std::nullopt;
    return std::make_pair(s.substr(0, at), s.substr(at + 1));
}

request malformed(std::string why) {
    return malformed_req{std::move(why)};
}

// addr,length
std::optional<read_memory_req> parse_addr_len(std::string_view s) {
    auto parts = split(s, ',');
    if (!parts)
        return std::nullopt;
    auto addr = parse_hex(parts->first);
    auto len = parse_hex(parts->second);
    if (!addr || !len)
        return std::nullopt;
    return read_memory_req{*addr, *len};
}

// c [addr] / s [addr] / C sig[;addr] / S sig[;addr]: an address resumes there (unsupported by
// most stubs, refused here as malformed so the client knows).
// The target-side conditions of a Z packet (GDB manual E.2 "Packets", Z0): `X len,bytes` entries
// (len hex, bytes 2*len hex digits) one after the other — gdb puts no separator between them —
// then optionally `;cmds:...` (ignored: no BreakpointCommands+ is offered). False on anything
// else.
bool parse_condition_list(std::string_view text, std::vector<std::vector<uint8_t>>& out) {
    while (!text.empty()) {
        if (starts_with(text, "cmds:"))
            return true;
        if (text[0] == ';') {
            text.remove_prefix(1);
            continue;
        }
        if (text[0] != 'X')
            return false;
        auto comma = text.find(',');
        if (comma == std::string_view::npos)
            return false;
        auto len = parse_hex(text.substr(1, comma - 1));
        if (!len || *len == 0 || *len > (text.size() - comma - 1) / 2)
            return false;
        auto bytes = parse_hex_bytes(text.substr(comma + 1, *len * 2));
        if (!bytes)
            return false;
        out.push_back(std::move(*bytes));
        text.remove_prefix(comma + 1 + *len * 2);
    }
    return true;
}

request parse_legacy_resume(char action, std::string_view args) {
    resume_action a;
    a.action = action;
    if (action == 'C' || action == 'S') {
        auto sig_end = args.find(';');
        auto sig = parse_hex(args.substr(0, sig_end));
        if (!sig || *sig > 255)
            return malformed("bad signal number");
        a.signal = static_cast<int>(*sig);
        args = sig_end == std::string_view::npos ? std::string_view{} : args.substr(sig_end + 1);
    }
    if (!args.empty())
        return malformed("resume at an address is not supported");
    return continue_req{{a}};
}

request parse_vcont(std::string_view args) {
    // vCont;action[:thread-id];action…
    continue_req req;
    if (args.empty())
        return malformed("vCont without actions");
    while (!args.empty()) {
        if (args[0] != ';')
            return malformed("vCont: expected ';'");
        args.remove_prefix(1);
        auto end = args.find(';');
        std::string_view item = args.substr(0, end);
        args = end == std::string_view::npos ? std::string_view{} : args.substr(end);
        if (item.empty())
            return malformed("vCont: empty action");
        resume_action a;
        a.action = item[0];
        std::string_view rest = item.substr(1);
        std::string_view thread_text;
        if (auto colon = rest.find(':'); colon != std::string_view::npos) {
            thread_text = rest.substr(colon + 1);
            rest = rest.substr(0, colon);
        } else if (item.find(':') != std::string_view::npos) {
            return malformed("vCont: bad thread");
        }
        switch (a.action) {
        case 'c':
        case 's':
        case 't':
            if (!rest.empty())
                return malformed("vCont: unexpected argument");
            break;
        case 'C':
        case 'S': {
            auto sig = parse_hex(rest);
            if (!sig || *sig > 255)
                return malformed("vCont: bad signal");
            a.signal = static_cast<int>(*sig);
            break;
        }
        case 'r': {
            auto range = parse_addr_len(rest);
            if (!range)
                return malformed("vCont: bad range");
            a.range_start = range->addr;
            a.range_end = range->len;
            break;
        }
        default:
            return malformed("vCont: unknown action");
        }
        if (item.find(':') != std::string_view::npos) {
            auto t = parse_thread_ref(thread_text);
            if (!t)
                return malformed("vCont: bad thread-id");
            a.thread = *t;
        }
        req.actions.push_back(a);
    }
    return req;
}

request parse_v(std::string_view p) {
    if (p == "vCont?")
        return vcont_query_req{};
    if (starts_with(p, "vCont;"))
        return parse_vcont(p.substr(5));
    if (p == "vCont")
        return malformed("vCont without actions");
    if (starts_with(p, "vRun;")) {
        run_req req;
        std::string_view rest = p.substr(5);
        while (true) {
            auto end = rest.find(';');
            auto bytes = parse_hex_bytes(rest.substr(0, end));
            if (!bytes)
                return malformed("vRun: argument is not hex");
            req.argv.emplace_back(bytes->begin(), bytes->end());
            if (end == std::string_view::npos)
                break;
            rest = rest.substr(end + 1);
        }
        return req;
    }
    if (starts_with(p, "vAttach;")) {
        auto pid = parse_hex(p.substr(8));
        if (!pid || *pid == 0 || *pid > INT64_MAX)
            return malformed("vAttach: bad pid");
        return attach_req{static_cast<int64_t>(*pid)};
    }
    if (starts_with(p, "vKill;")) {
        auto pid = parse_hex(p.substr(6));
        if (!pid || *pid > INT64_MAX)
            return malformed("vKill: bad pid");
        return kill_req{static_cast<int64_t>(*pid)};
    }
    return unknown_req{std::string(p)};
}

request parse_q(std::string_view p) {
    bool set = p[0] == 'Q';
    std::string_view body = p.substr(1);
    if (!set && starts_with(body, "Xfer:")) {
        // qXfer:object:read:annex:offset,length
        std::string_view rest = body.substr(5);
        auto object = split(rest, ':');
        if (!object)
            return malformed("qXfer: no object");
        auto op = split(object->second, ':');
        if (!op || op->first != "read")
            return unknown_req{std::string(p)};
        auto last_colon = op->second.rfind(':');
        if (last_colon == std::string_view::npos)
            return malformed("qXfer: no offset");
        auto range = parse_addr_len(op->second.substr(last_colon + 1));
        if (!range)
            return malformed("qXfer: bad offset,length");
        return xfer_read_req{std::string(object->first),
                             std::string(op->second.substr(0, last_colon)), range->addr,
                             range->len};
    }
    auto end = body.find_first_of(":,;");
    query_req q;
    q.set = set;
    q.name = std::string(body.substr(0, end));
    if (end != std::string_view::npos)
        q.args = std::string(body.substr(end + 1));
    return q;
}

} // namespace

std::optional<uint64_t> parse_hex(std::string_view text) {
    if (text.empty() || text.size() > 16)
        return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
        int d = hex_digit(c);
        if (d < 0)
            return std::nullopt;
        v = v << 4 | static_cast<uint64_t>(d);
    }
    return v;
}

std::optional<int64_t> parse_signed_hex(std::string_view text) {
    bool negative = !text.empty() && text[0] == '-';
    auto v = parse_hex(negative ? text.substr(1) : text);
    if (!v || *v > static_cast<uint64_t>(INT64_MAX))
        return std::nullopt;
    return negative ? -static_cast<int64_t>(*v) : static_cast<int64_t>(*v);
}

std::optional<thread_ref> parse_thread_ref(std::string_view text) {
    thread_ref t;
    if (!text.empty() && text[0] == 'p') {
        text.remove_prefix(1);
        auto dot = text.find('.');
        auto pid = parse_signed_hex(text.substr(0, dot));
        if (!pid || *pid < -1)
            return std::nullopt;
        t.pid = *pid;
        if (dot == std::string_view::npos) {
            t.tid = thread_ref::all;
            return t;
        }
        text = text.substr(dot + 1);
    }
    auto tid = parse_signed_hex(text);
    if (!tid || *tid < -1)
        return std::nullopt;
    t.tid = *tid;
    return t;
}

std::optional<std::vector<uint8_t>> parse_hex_bytes(std::string_view text) {
    if (text.size() % 2 != 0)
        return std::nullopt;
    std::vector<uint8_t> out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
    std::string out;
    out.resize(len * 2);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_chars[data[i] >> 4];
        out[2 * i + 1] = hex_chars[data[i] & 15];
    }
    return out;
}

std::string string_to_hex(std::string_view text) {
    return to_hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::string le_hex(uint64_t value, unsigned size) {
    uint8_t bytes[8];
    for (unsigned i = 0; i < 8; i++)
        bytes[i] = static_cast<uint8_t>(value >> (8 * i));
    return to_hex(bytes, size > 8 ? 8 : size);
}

uint64_t le_value(const uint8_t* data, size_t len) {
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        v |= uint64_t{data[i]} << (8 * i);
    return v;
}

std::string format_thread(int64_t pid, int64_t tid) {
    auto hex = [](int64_t v) {
        if (v < 0)
            return std::string("-1");
        std::string s;
        uint64_t u = static_cast<uint64_t>(v);
        do {
            s.insert(s.begin(), hex_chars[u & 15]);
            u >>= 4;
        } while (u);
        return s;
    };
    return "p" + hex(pid) + "." + hex(tid);
}

namespace {

// G, p, P: the registers.
request parse_register_request(char letter, std::string_view args) {
    if (letter == 'G') {
        auto bytes = parse_hex_bytes(args);
        if (!bytes)
            return malformed("G: register data is not hex");
        return write_registers_req{std::move(*bytes)};
    }
    if (letter == 'p') {
        auto n = parse_hex(args);
        if (!n || *n > 0xffff)
            return malformed("p: bad register number");
        return read_register_req{static_cast<unsigned>(*n)};
    }
    auto parts = split(args, '=');
    if (!parts)
        return malformed("P: expected n=r");
    auto n = parse_hex(parts->first);
    auto bytes = parse_hex_bytes(parts->second);
    if (!n || *n > 0xffff || !bytes)
        return malformed("P: bad register number or value");
    return write_register_req{static_cast<unsigned>(*n), std::move(*bytes)};
}

// M addr,length:HEX and X addr,length:BINARY.
request parse_write_memory(char letter, std::string_view args) {
    auto parts = split(args, ':');
    if (!parts)
        return malformed("M/X: expected addr,length:data");
    auto r = parse_addr_len(parts->first);
    if (!r)
        return malformed("M/X: expected addr,length");
    std::vector<uint8_t> bytes;
    if (letter == 'M') {
        auto hex = parse_hex_bytes(parts->second);
        if (!hex)
            return malformed("M: data is not hex");
        bytes = std::move(*hex);
    } else {
        bytes.assign(parts->second.begin(), parts->second.end());
    }
    if (bytes.size() != r->len)
        return malformed("M/X: length does not match the data");
    return write_memory_req{r->addr, std::move(bytes)};
}

// Z/z type,addr,kind[;cond_list...].
request parse_breakpoint(bool insert, std::string_view args) {
    breakpoint_req b;
    b.insert = insert;
    std::string_view rest = args;
    if (auto semi = rest.find(';'); semi != std::string_view::npos) {
        b.conditions = std::string(rest.substr(semi + 1));
        rest = rest.substr(0, semi);
    }
    if (!parse_condition_list(b.conditions, b.condition_exprs))
        return malformed("Z: expected ;X len,bytecode conditions");
    auto t = split(rest, ',');
    if (!t)
        return malformed("Z/z: expected type,addr,kind");
    auto type = parse_hex(t->first);
    auto ak = parse_addr_len(t->second);
    if (!type || *type > 4 || !ak)
        return malformed("Z/z: expected type,addr,kind");
    b.type = static_cast<unsigned>(*type);
    b.addr = ak->addr;
    b.kind = ak->len;
    return b;
}

// Hg/Hc thread-id and T thread-id.
request parse_thread_request(char letter, std::string_view args) {
    if (letter == 'T') {
        auto t = parse_thread_ref(args);
        if (!t)
            return malformed("T: bad thread-id");
        return thread_alive_req{*t};
    }
    if (args.empty() || (args[0] != 'g' && args[0] != 'c'))
        return malformed("H: expected Hg or Hc");
    auto t = parse_thread_ref(args.substr(1));
    if (!t)
        return malformed("H: bad thread-id");
    return set_thread_req{args[0], *t};
}

// D or D;pid.
request parse_detach(std::string_view args) {
    if (args.empty())
        return detach_req{};
    if (args[0] != ';')
        return malformed("D: expected D;pid");
    auto pid = parse_hex(args.substr(1));
    if (!pid || *pid > INT64_MAX)
        return malformed("D: bad pid");
    return detach_req{static_cast<int64_t>(*pid)};
}

} // namespace

request parse_request(std::string_view p) {
    if (p.empty())
        return unknown_req{};
    std::string_view args = p.substr(1);
    switch (p[0]) {
    case '?':
        return halt_reason_req{};
    case 'g':
        if (!args.empty())
            return malformed("g takes no arguments");
        return read_registers_req{};
    case 'G':
    case 'p':
    case 'P':
        return parse_register_request(p[0], args);
    case 'm': {
        auto r = parse_addr_len(args);
        if (!r)
            return malformed("m: expected addr,length");
        return *r;
    }
    case 'M':
    case 'X':
        return parse_write_memory(p[0], args);
    case 'Z':
    case 'z':
        return parse_breakpoint(p[0] == 'Z', args);
    case 'c':
    case 's':
    case 'C':
    case 'S':
        return parse_legacy_resume(p[0], args);
    case 'H':
    case 'T':
        return parse_thread_request(p[0], args);
    case 'k':
        return kill_req{};
    case 'D':
        return parse_detach(args);
    case '!':
        return extended_mode_req{};
    case 'v':
        return parse_v(p);
    case 'q':
    case 'Q':
        return parse_q(p);
    default:
        return unknown_req{std::string(p)};
    }
}

} // namespace ruprobes::rsp

#include "rpc/fetch_params.hpp"

#include "ruprobes/jsonrpc/params.hpp"

#include <array>
#include <charconv>
#include <string_view>

namespace ruprobes::rpc {

using jsonrpc::json;
using jsonrpc::rpc_error;

namespace {

// x0..x31 by ABI name (the RISC-V psABI's), then pc and ret.
constexpr std::array<std::string_view, 32> abi_names = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

tl::unexpected<rpc_error> invalid(size_t index, const std::string& reason) {
    std::string where = "fetch[" + std::to_string(index) + "]: ";
    return tl::unexpected<rpc_error>{
        rpc_error{jsonrpc::invalid_params, "Invalid params",
                  json{{"param", "fetch"}, {"index", index}, {"reason", where + reason}}}};
}

// The register a name stands for: x0..x31 (ABI name, "fp", or "xN"), pc, ret.
std::optional<uint8_t> register_number(std::string_view name) {
    for (size_t i = 0; i < abi_names.size(); i++)
        if (abi_names[i] == name)
            return static_cast<uint8_t>(i);
    if (name == "fp")
        return 8;
    if (name == "pc")
        return wire::fetch_reg_pc;
    if (name == "ret")
        return wire::fetch_reg_ret;
    if (name.size() >= 2 && name.size() <= 3 && name[0] == 'x' &&
        (name.size() == 2 || name[1] != '0')) {
        unsigned n = 0;
        auto [end, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
        if (ec == std::errc() && end == name.data() + name.size() && n < 32)
            return static_cast<uint8_t>(n);
    }
    return std::nullopt;
}

std::string register_name(uint8_t reg) {
    if (reg < 32)
        return std::string(abi_names[reg]);
    return reg == wire::fetch_reg_pc ? "pc" : "ret";
}

// A register name, checked for the probe's kind; the reason when it is not one.
tl::expected<uint8_t, std::string> named_register(std::string_view name, target::probe_kind kind) {
    auto reg = register_number(name);
    if (!reg)
        return tl::unexpected("\"" + std::string(name) +
                              "\" is not a register (x0..x31 by ABI name or xN, pc, ret)");
    if (*reg == wire::fetch_reg_ret && kind != target::probe_kind::ret)
        return tl::unexpected(std::string("ret is only known to return probes (kind \"return\")"));
    return *reg;
}

// "REG", "REG+N", "REG-N" (N decimal or 0x hex, |N| < 2^31) into `e`; the reason when not.
std::optional<std::string> parse_address(std::string_view text, target::probe_kind kind,
                                         wire::fetch_entry& e) {
    size_t sign = text.find_first_of("+-");
    std::string_view name = text.substr(0, sign);
    while (!name.empty() && name.back() == ' ')
        name.remove_suffix(1);
    auto reg = named_register(name, kind);
    if (!reg)
        return "address \"" + std::string(text) + "\": " + reg.error();
    e.reg = *reg;
    e.offset = 0;
    if (sign == std::string_view::npos)
        return std::nullopt;
    std::string_view digits = text.substr(sign + 1);
    while (!digits.empty() && digits.front() == ' ')
        digits.remove_prefix(1);
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        digits.remove_prefix(2);
        base = 16;
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
        return "address \"" + std::string(text) + "\": expected REG, REG+N or REG-N";
    if (n > 0x7fffffffu)
        return "address \"" + std::string(text) + "\": the offset is beyond +-2^31";
    e.offset = text[sign] == '-' ? -static_cast<int32_t>(n) : static_cast<int32_t>(n);
    return std::nullopt;
}

std::string address_text(const wire::fetch_entry& e) {
    std::string out = register_name(e.reg);
    if (e.offset > 0)
        out += "+" + std::to_string(e.offset);
    else if (e.offset < 0)
        out += "-" + std::to_string(-int64_t{e.offset});
    return out;
}

const char* op_name(wire::fetch_op op) {
    return op == wire::fetch_op::mem ? "mem" : op == wire::fetch_op::str ? "str" : "reg";
}

std::string hex_bytes(const std::vector<uint8_t>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * bytes.size());
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

} // namespace

tl::expected<std::vector<wire::fetch_entry>, rpc_error> parse_fetch(const json& fetch,
                                                                    target::probe_kind kind) {
    if (!fetch.is_array())
        return tl::unexpected(rpc_error{jsonrpc::invalid_params, "Invalid params",
                                        json{{"param", "fetch"},
                                             {"reason", "fetch: expected an array of registers, "
                                                        "{\"mem\": ADDR, \"len\": N} and "
                                                        "{\"str\": ADDR, \"max\": N}"}}});
    if (fetch.empty())
        return tl::unexpected(
            rpc_error{jsonrpc::invalid_params, "Invalid params",
                      json{{"param", "fetch"}, {"reason", "fetch: the list is empty"}}});
    std::vector<wire::fetch_entry> out;
    size_t total = 0;
    for (size_t i = 0; i < fetch.size(); i++) {
        const json& item = fetch[i];
        if (i == wire::max_fetch_entries)
            return invalid(i, "at most " + std::to_string(wire::max_fetch_entries) +
                                  " items may be fetched per hit");
        wire::fetch_entry e;
        if (item.is_string()) {
            auto reg = named_register(item.get<std::string>(), kind);
            if (!reg)
                return invalid(i, reg.error());
            e.op = wire::fetch_op::reg;
            e.reg = *reg;
        } else if (item.is_object() && item.size() == 2 &&
                   (item.contains("mem") || item.contains("str"))) {
            const bool mem = item.contains("mem");
            const char* what = mem ? "mem" : "str";
            const char* size_key = mem ? "len" : "max";
            if (!item[what].is_string())
                return invalid(i, std::string(what) + " must be an address: REG, REG+N or REG-N");
            if (!item.contains(size_key) || !item[size_key].is_number_unsigned())
                return invalid(i, std::string(what) + " needs \"" + size_key +
                                      "\": a byte count (1 or more)");
            const uint64_t size = item[size_key].get<uint64_t>();
            const uint64_t most = wire::max_fetch_data - wire::fetch_item_header - 8;
            if (size == 0 || size > most)
                return invalid(i, std::string("\"") + size_key + "\" must be 1.." +
                                      std::to_string(most));
            e.op = mem ? wire::fetch_op::mem : wire::fetch_op::str;
            e.len = static_cast<uint16_t>(size);
            if (auto why = parse_address(item[what].get<std::string>(), kind, e))
                return invalid(i, *why);
        } else {
            return invalid(i, "expected a register name, {\"mem\": ADDR, \"len\": N} or "
                              "{\"str\": ADDR, \"max\": N}");
        }
        total += wire::fetch_entry_max_data(e);
        if (total > wire::max_fetch_data)
            return invalid(i, "the items up to this one could fetch " + std::to_string(total) +
                                  " bytes per hit (each item 12 bytes plus its len or max); "
                                  "at most " +
                                  std::to_string(wire::max_fetch_data) + " are allowed");
        out.push_back(e);
    }
    return out;
}

json fetch_json(const std::vector<wire::fetch_entry>& entries) {
    json out = json::array();
    for (const wire::fetch_entry& e : entries) {
        if (e.op == wire::fetch_op::reg)
            out.push_back(register_name(e.reg));
        else if (e.op == wire::fetch_op::mem)
            out.push_back(json{{"mem", address_text(e)}, {"len", e.len}});
        else
            out.push_back(json{{"str", address_text(e)}, {"max", e.len}});
    }
    return out;
}

json fetched_json(const std::vector<wire::fetch_entry>& entries,
                  const std::vector<target::fetched_item>& items) {
    json out = json::array();
    for (size_t i = 0; i < items.size(); i++) {
        const target::fetched_item& item = items[i];
        // The element's spelling; an item the list does not explain (another front end's
        // probe) is named by its op alone.
        const bool named = i < entries.size() && entries[i].op == item.op;
        json o;
        if (item.op == wire::fetch_op::reg) {
            o["reg"] = named ? json(register_name(entries[i].reg)) : json(nullptr);
            o["value"] = jsonrpc::hex_u64(item.value);
            out.push_back(std::move(o));
            continue;
        }
        o[op_name(item.op)] = named ? json(address_text(entries[i])) : json(nullptr);
        o["addr"] = jsonrpc::hex_u64(item.value);
        if (item.status == wire::fetch_status::unreadable) {
            o["error"] = "unreadable";
        } else if (item.op == wire::fetch_op::mem) {
            o["hex"] = hex_bytes(item.bytes);
        } else {
            o["value"] = std::string(item.bytes.begin(), item.bytes.end());
            if (item.status == wire::fetch_status::truncated)
                o["truncated"] = true;
        }
        out.push_back(std::move(o));
    }
    return out;
}

} // namespace ruprobes::rpc

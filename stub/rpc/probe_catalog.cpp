// probe.add resolution: symbols, lines, the engine's decoder on the host copy.
#include "rpc/probe_catalog.hpp"

#include "rpc/fetch_params.hpp"
#include "rpc/rpc_errors.hpp"
#include "ruprobes/insn.hpp"
#include "ruprobes/jsonrpc/params.hpp"

namespace ruprobes::rpc {

using jsonrpc::json;
using jsonrpc::rpc_error;
using target::probe_kind;

namespace {

rpc_error params_error(std::string reason) {
    return rpc_error{jsonrpc::invalid_params, "Invalid params",
                     json{{"reason", std::move(reason)}}};
}

rpc_error refused(ruprobes::error reason, const std::string& what, const char* insn = nullptr) {
    json data{{"errc", "unprobeable"}, {"reason", error_name(reason)}, {"detail", what}};
    if (insn)
        data["insn"] = insn;
    return rpc_error{unprobeable, "Unprobeable site", std::move(data)};
}

const char* class_name(insn_class cls) {
    switch (cls) {
    case insn_class::simulate:
        return "simulate";
    case insn_class::out_of_line:
        return "out_of_line";
    case insn_class::refuse:
        break;
    }
    return "refuse";
}

// Checks the instruction at `address` the way the engine will at registration (alignment,
// instruction boundary from the function start, decodable and probeable) and fills in its class.
std::optional<rpc_error> classify(const symbols::program_symbols& syms, probe_site& site,
                                  uint64_t function_address) {
    const std::string at = jsonrpc::hex_u64(site.address);
    if (site.address % 2 != 0)
        return refused(error::addr_misaligned, at + " is not 2-byte aligned");
    auto text = syms.text_at(site.address);
    if (text.empty())
        return refused(error::addr_outside_text, at + " is not in the program's text");
    // Walk from the function start so that an address inside an instruction is caught.
    if (site.symbol && function_address < site.address) {
        uint64_t pc = function_address;
        while (pc < site.address) {
            auto bytes = syms.text_at(pc);
            auto d = decode(bytes.data(), bytes.size());
            if (!d)
                break;
            pc += d->length;
        }
        if (pc != site.address)
            return refused(error::addr_not_boundary, at + " is inside an instruction");
    }
    auto d = decode(text.data(), text.size());
    if (!d)
        return refused(d.err(), at + ": the instruction runs past the end of the text");
    site.insn = opcode_name(d->op);
    if (d->cls == insn_class::refuse)
        return refused(d->refusal, at + ": " + opcode_name(d->op) + " cannot be probed",
                       opcode_name(d->op));
    site.insn_class = class_name(d->cls);
    return std::nullopt;
}

} // namespace

tl::expected<probe_site, rpc_error> probe_catalog::resolve(const probe_request& request) {
    probe_request req = request;
    if (req.symbol && req.symbol->find(':') != std::string::npos && !req.line) {
        req.line = req.symbol;
        req.symbol.reset();
    }
    int given = (req.symbol ? 1 : 0) + (req.address ? 1 : 0) + (req.line ? 1 : 0);
    if (given != 1)
        return jsonrpc::fail(
            params_error("give exactly one of \"symbol\", \"address\" or \"line\""));
    if (req.program.empty() || req.program.front() != '/')
        return jsonrpc::fail(params_error("\"program\" must be a guest path such as /bin/fib"));

    probe_site site;
    site.program = req.program;
    site.kind = req.kind.value_or(req.symbol ? probe_kind::entry : probe_kind::insn);

    auto loaded = store_.program(req.program);
    const symbols::symbol_error* load_error = loaded ? nullptr : &loaded.error();
    if (load_error && (req.symbol || req.line ||
                       load_error->code != symbols::symbol_error::kind::unknown_program))
        return jsonrpc::fail(from_symbols(*load_error));
    if (load_error) {
        // No host copy: an address is passed on as it is; the kernel checks it.
        site.address = *req.address;
        return site;
    }
    const auto& syms = **loaded;

    uint64_t function_address = 0;
    if (req.symbol) {
        auto f = syms.find_function(*req.symbol);
        if (!f)
            return jsonrpc::fail(from_symbols(f.error()));
        site.address = f->address;
    } else if (req.line) {
        auto l = syms.find_location(*req.line);
        if (!l)
            return jsonrpc::fail(from_symbols(l.error()));
        const auto& loc = *l;
        site.address = loc.address;
        std::string file = loc.file.substr(loc.file.rfind('/') + 1);
        site.line = file + ":" + std::to_string(loc.line);
    } else {
        site.address = *req.address;
    }
    if (auto where = syms.symbolize(site.address)) {
        site.symbol = where->name;
        site.offset = where->offset;
        function_address = where->function_address;
    }
    if ((site.kind == probe_kind::entry || site.kind == probe_kind::ret) &&
        (!site.symbol || site.offset != 0))
        return jsonrpc::fail(
            params_error(std::string("a \"") + target::probe_kind_name(site.kind) +
                         "\" probe must be at a function's first instruction (" +
                         jsonrpc::hex_u64(site.address) +
                         (site.symbol ? " is " + *site.symbol + "+" + std::to_string(site.offset)
                                      : " is in no function") +
                         ")"));
    if (auto err = classify(syms, site, function_address))
        return jsonrpc::fail(*err);
    return site;
}

const probe_site* probe_catalog::find(target::probe_id id) const {
    auto it = sites_.find(id);
    return it == sites_.end() ? nullptr : &it->second;
}

const probe_site& probe_catalog::site(target::probe_id id, const target::probe_info& info) {
    if (auto it = sites_.find(id); it != sites_.end())
        return it->second;
    probe_site site;
    site.program = info.spec.program;
    site.address = info.spec.offset;
    site.kind = info.spec.kind;
    site.fetch = info.spec.fetch;
    auto loaded = store_.program(info.spec.program);
    if (loaded) {
        if (auto where = (*loaded)->symbolize(site.address)) {
            site.symbol = where->name;
            site.offset = where->offset;
        }
    }
    return sites_[id] = std::move(site);
}

json probe_catalog::to_json(target::probe_id id, const probe_site& site,
                            std::optional<target::pid_type> pid) {
    json out{{"id", id},
             {"program", site.program},
             {"address", jsonrpc::hex_u64(site.address)},
             {"symbol", site.symbol ? json(*site.symbol) : json(nullptr)},
             {"offset", site.symbol ? json(site.offset) : json(nullptr)},
             {"kind", target::probe_kind_name(site.kind)},
             {"insn_class", site.insn_class ? json(*site.insn_class) : json(nullptr)},
             {"insn", site.insn ? json(*site.insn) : json(nullptr)}};
    if (site.line)
        out["line"] = *site.line;
    if (pid)
        out["pid"] = *pid;
    if (site.condition)
        out["condition"] = *site.condition;
    if (!site.fetch.empty())
        out["fetch"] = fetch_json(site.fetch);
    return out;
}

} // namespace ruprobes::rpc

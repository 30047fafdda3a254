#include "cli/commands.hpp"

#include <charconv>
#include <cstdio>
#include <optional>

namespace ruprobes::cli {
namespace {

std::string text(const json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_null())
        return "-";
    return v.dump();
}

std::string field(const json& o, const char* name) {
    return o.is_object() && o.contains(name) ? text(o[name]) : "-";
}

void print_json(const json& v) {
    std::printf("%s\n", v.dump(2).c_str());
}

std::string probe_where(const json& p) {
    std::string where = field(p, "program") + ":";
    if (p.contains("symbol") && p["symbol"].is_string()) {
        where += p["symbol"].get<std::string>();
        if (p.value("offset", json(0)).is_number() && p["offset"].get<int64_t>() != 0)
            where += "+" + std::to_string(p["offset"].get<int64_t>());
    } else {
        where += field(p, "address");
    }
    return where;
}

void print_status(const rpc_client& c, const json& r) {
    bool connected = r.value("connected", false);
    std::printf("daemon:  %s\n", c.peer().c_str());
    if (connected)
        std::printf("target:  connected (kernel %s, boot %s)\n", field(r, "kernel_version").c_str(),
                    field(r, "boot_id").c_str());
    else
        std::printf("target:  not connected (QEMU not running or restarting)\n");
    if (r.contains("daemon") && r["daemon"].is_object())
        for (const auto& [k, v] : r["daemon"].items())
            std::printf("  %-18s %s\n", (k + ":").c_str(), text(v).c_str());
}

void print_processes(const rpc_client&, const json& r) {
    std::printf("%6s  %-8s  %s\n", "PID", "STATE", "PROGRAM");
    for (const auto& p : r.value("processes", json::array()))
        std::printf("%6s  %-8s  %s\n", field(p, "pid").c_str(), field(p, "state").c_str(),
                    field(p, "program").c_str());
}

void print_spawned(const rpc_client&, const json& r) {
    std::printf("spawned pid %s: %s (%s)\n", field(r, "pid").c_str(), field(r, "program").c_str(),
                field(r, "state").c_str());
}

void print_killed(const rpc_client&, const json& r) {
    std::printf("killed pid %s\n", field(r, "pid").c_str());
}

void print_added_probe(const rpc_client&, const json& r) {
    std::printf("probe %s: %s %s at %s (%s, %s)%s%s%s\n", field(r, "id").c_str(),
                field(r, "kind").c_str(), probe_where(r).c_str(), field(r, "address").c_str(),
                field(r, "insn").c_str(), field(r, "insn_class").c_str(),
                r.contains("line") ? (", line " + field(r, "line")).c_str() : "",
                r.contains("pid") ? (", pid " + field(r, "pid")).c_str() : "",
                r.contains("condition") ? (", if " + field(r, "condition")).c_str() : "");
    if (r.is_object() && r.contains("fetch"))
        std::printf("  fetch %s\n", r["fetch"].dump().c_str());
}

void print_probes(const rpc_client&, const json& r) {
    std::printf("%4s  %-6s  %-28s %-12s %-12s %10s\n", "ID", "KIND", "PROBE", "ADDRESS", "CLASS",
                "HITS");
    for (const auto& p : r.value("probes", json::array())) {
        std::string where = probe_where(p);
        if (p.contains("pid") && p["pid"].is_number())
            where += " (pid " + field(p, "pid") + ")";
        std::printf("%4s  %-6s  %-28s %-12s %-12s %10s\n", field(p, "id").c_str(),
                    field(p, "kind").c_str(), where.c_str(), field(p, "address").c_str(),
                    field(p, "insn_class").c_str(), field(p, "hits").c_str());
    }
}

void print_removed_probe(const rpc_client&, const json& r) {
    std::printf("removed probe %s (%s hits)\n", field(r, "id").c_str(), field(r, "hits").c_str());
}

// One simple command: the call it makes and how its answer is shown without --json.
struct simple_call {
    const char* method = nullptr;
    json params;
    void (*print)(const rpc_client&, const json&) = nullptr;
};

std::optional<simple_call> simple_call_of(const cli_options& o) {
    switch (o.command) {
    case command_kind::status:
        return simple_call{"target.status", nullptr, print_status};
    case command_kind::ps:
        return simple_call{"process.list", nullptr, print_processes};
    case command_kind::spawn: {
        json params = {{"argv", o.argv}};
        if (o.stopped)
            params["stopped"] = true;
        return simple_call{"process.spawn", params, print_spawned};
    }
    case command_kind::kill:
        return simple_call{"process.kill", {{"pid", o.id}}, print_killed};
    case command_kind::probes_add: {
        json params = probe_add_params(o);
        if (o.pid)
            params["pid"] = *o.pid;
        return simple_call{"probe.add", params, print_added_probe};
    }
    case command_kind::probes_list:
        return simple_call{"probe.list", nullptr, print_probes};
    case command_kind::probes_remove:
        return simple_call{"probe.remove", {{"id", o.id}}, print_removed_probe};
    default:
        return std::nullopt;
    }
}

} // namespace

// A --fetch ITEM as probe.add's element: "mem:ADDR:LEN" and "str:ADDR[:MAX]" become objects,
// anything else (a register) stays a string. A count that is not a number stays text, so the
// daemon's refusal names the element.
static json fetch_element(const std::string& item) {
    const bool mem = item.rfind("mem:", 0) == 0;
    const bool str = item.rfind("str:", 0) == 0;
    if (!mem && !str)
        return item;
    std::string rest = item.substr(4);
    std::string addr = rest;
    json count = mem ? json(nullptr) : json(64);
    if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
        addr = rest.substr(0, colon);
        std::string digits = rest.substr(colon + 1);
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        count = ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()
                    ? json(n)
                    : json(digits);
    }
    json out{{mem ? "mem" : "str", addr}};
    if (!count.is_null())
        out[mem ? "len" : "max"] = count;
    return out;
}

json probe_add_params(const cli_options& o) {
    json params = {{"program", o.target.program}};
    if (!o.target.symbol.empty())
        params["symbol"] = o.target.symbol;
    else if (!o.target.address.empty())
        params["address"] = o.target.address;
    else
        params["line"] = o.target.line;
    if (!o.kind.empty())
        params["kind"] = o.kind;
    if (o.condition)
        params["condition"] = *o.condition;
    if (!o.fetch.empty()) {
        json fetch = json::array();
        for (const std::string& item : o.fetch)
            fetch.push_back(fetch_element(item));
        params["fetch"] = std::move(fetch);
    }
    return params;
}

probes_for_the_run::~probes_for_the_run() {
    for (int64_t id : ids_)
        (void)client_.call("probe.remove", {{"id", id}});
}

call_result<int64_t> probes_for_the_run::add(const json& params) {
    auto r = client_.call("probe.add", params);
    if (!r)
        return tl::unexpected(r.error());
    ids_.push_back(r->at("id").get<int64_t>());
    return ids_.back();
}

call_result<void> probes_for_the_run::remove_all() {
    while (!ids_.empty()) {
        int64_t id = ids_.front();
        ids_.erase(ids_.begin());
        if (auto r = client_.call("probe.remove", {{"id", id}}); !r)
            return tl::unexpected(r.error());
    }
    return {};
}

call_result<int> run_simple_command(rpc_client& client, const cli_options& options) {
    auto command = simple_call_of(options);
    if (!command) {
        std::fprintf(stderr, "ruprobes: internal error: not a simple command\n");
        return exit_failed;
    }
    auto r = client.call(command->method, command->params);
    if (!r)
        return tl::unexpected(r.error());
    if (options.json)
        print_json(*r);
    else
        command->print(client, *r);
    return exit_ok;
}

} // namespace ruprobes::cli

// `ruprobes count` and `ruprobes hist --of`: an aggregation probe in the kernel for the length
// of a run, then its table (probe.aggregate) as text or JSON. The kernel counts every hit; the
// host reads the table at the end, and with --interval also every S seconds on the way (the
// daemon sends it: probe.add's aggregate.every).
#include "cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace ruprobes::cli {
namespace {

using clock = std::chrono::steady_clock;

std::string function_name(const cli_options& o) {
    const std::string& p = o.target.program;
    std::string program = p.rfind("/bin/", 0) == 0 ? p.substr(5) : p;
    if (!o.target.symbol.empty())
        return program + ":" + o.target.symbol;
    return program + ":" + (o.target.address.empty() ? o.target.line : o.target.address);
}

json probe_params(const cli_options& o) {
    json params = probe_add_params(o);
    json aggregate = json::object();
    if (!o.by.empty())
        aggregate["by"] = o.by;
    if (!o.of.empty()) {
        aggregate["of"] = o.of;
        aggregate["hist"] = o.linear ? "linear" : "log2";
    }
    if (o.linear) {
        auto l = parse_linear(*o.linear);
        aggregate["min"] = l->min;
        aggregate["max"] = l->max;
        aggregate["step"] = l->step;
    }
    if (o.interval)
        aggregate["every"] = std::llround(*o.interval * 1000);
    params["aggregate"] = aggregate;
    return params;
}

void print_table(const cli_options& o, const json& r);

// Waits for the end of the run: the --run program's exit, --duration, or Ctrl-C; with
// --interval, prints the tables the daemon sends on the way.
call_result<void> wait_for_the_run(rpc_client& c, const cli_options& o, int64_t probe) {
    json kinds = json::array();
    if (!o.run.empty())
        kinds.push_back("process.exit");
    if (o.interval)
        kinds.push_back("probe.aggregate");
    if (!kinds.empty()) {
        auto r = c.call("events.subscribe", {{"kinds", kinds}, {"probes", {probe}}});
        if (!r)
            return tl::unexpected(r.error());
    }
    std::optional<int64_t> pid;
    if (!o.run.empty()) {
        auto r = c.call("process.spawn", {{"argv", o.run}});
        if (!r)
            return tl::unexpected(r.error());
        pid = r->at("pid").get<int64_t>();
    }
    auto start = clock::now();
    while (!stop_signal()) {
        auto wait = std::chrono::milliseconds(200);
        if (o.duration && !pid) {
            auto left = std::chrono::duration<double>(*o.duration) - (clock::now() - start);
            if (left.count() <= 0)
                return {};
            wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(left));
        }
        auto next = c.next_notification(wait);
        if (!next)
            return tl::unexpected(next.error());
        auto& n = *next;
        if (pid && n && n->value("method", "") == "process.exit" &&
            (*n)["params"].value("pid", int64_t(-1)) == *pid)
            return {};
        if (n && n->value("method", "") == "probe.aggregate") {
            if (o.json)
                std::printf("%s\n", (*n)["params"].dump().c_str());
            else
                print_table(o, (*n)["params"]);
            std::fflush(stdout);
        }
    }
    return {};
}

std::string bucket_label(const json& b) {
    bool has_from = b.contains("from"), has_to = b.contains("to");
    if (!has_from)
        return "(.., " + std::to_string(b["to"].get<int64_t>()) + "]";
    if (!has_to)
        return "[" + std::to_string(b["from"].get<int64_t>()) + ", ..)";
    int64_t from = b["from"], to = b["to"];
    if (from == to)
        return "[" + std::to_string(from) + "]";
    return "[" + std::to_string(from) + ", " + std::to_string(to) + "]";
}

void print_histogram(const json& hist) {
    uint64_t most = 0;
    for (const json& b : hist)
        most = std::max(most, b["count"].get<uint64_t>());
    for (const json& b : hist) {
        uint64_t n = b["count"];
        size_t bar = most ? static_cast<size_t>((n * 40 + most - 1) / most) : 0;
        std::printf("  %-26s %10llu |%-40s|\n", bucket_label(b).c_str(),
                    static_cast<unsigned long long>(n), std::string(bar, '@').c_str());
    }
}

void print_table(const cli_options& o, const json& r) {
    std::string what = o.of.empty() ? "count" : "histogram of " + o.of;
    if (!o.by.empty())
        what += " by " + o.by;
    std::printf("%s (%s): %s; %llu hits, %llu dropped\n", function_name(o).c_str(),
                o.kind.empty() ? "entry" : o.kind.c_str(), what.c_str(),
                static_cast<unsigned long long>(r.value("hits", uint64_t(0))),
                static_cast<unsigned long long>(r.value("dropped", uint64_t(0))));
    const json& entries = r["entries"];
    if (o.of.empty()) {
        if (!o.by.empty())
            std::printf("  %20s %12s\n", o.by.c_str(), "count");
        for (const json& e : entries) {
            if (o.by.empty())
                std::printf("  %llu\n",
                            static_cast<unsigned long long>(e["count"].get<uint64_t>()));
            else
                std::printf("  %20lld %12llu\n", static_cast<long long>(e["key"].get<int64_t>()),
                            static_cast<unsigned long long>(e["count"].get<uint64_t>()));
        }
        return;
    }
    for (const json& e : entries) {
        if (!o.by.empty())
            std::printf("%s = %lld:\n", o.by.c_str(),
                        static_cast<long long>(e["key"].get<int64_t>()));
        std::printf("  count %llu, sum %lld, min %lld, max %lld\n",
                    static_cast<unsigned long long>(e["count"].get<uint64_t>()),
                    static_cast<long long>(e["sum"].get<int64_t>()),
                    static_cast<long long>(e["min"].get<int64_t>()),
                    static_cast<long long>(e["max"].get<int64_t>()));
        print_histogram(e.value("hist", json::array()));
    }
}

} // namespace

call_result<int> run_aggregate(rpc_client& c, const cli_options& o) {
    install_stop_handlers();
    probes_for_the_run probe(c);
    auto id = probe.add(probe_params(o));
    if (!id)
        return tl::unexpected(id.error());
    if (auto waited = wait_for_the_run(c, o, *id); !waited)
        return tl::unexpected(waited.error());
    auto table = c.call("probe.aggregate", {{"id", *id}});
    if (!table)
        return tl::unexpected(table.error());
    if (auto removed = probe.remove_all(); !removed)
        return tl::unexpected(removed.error());
    if (o.json)
        std::printf("%s\n", table->dump(2).c_str());
    else
        print_table(o, *table);
    return exit_ok;
}

} // namespace ruprobes::cli

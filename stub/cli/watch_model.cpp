#include "cli/watch_model.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ruprobes::cli {
namespace {

using json = nlohmann::json;

// A machine value of a notification: hex string (the daemon's choice) or a JSON integer.
uint64_t machine_value(const json& v) {
    if (v.is_number_unsigned() || v.is_number_integer())
        return v.get<uint64_t>();
    if (v.is_string())
        return std::strtoull(v.get<std::string>().c_str(), nullptr, 0);
    return 0;
}

std::string text_of(const json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_null())
        return "";
    return v.dump();
}

// At most `max` characters of `text`, the cut marked with "...".
std::string clipped(const std::string& text, size_t max) {
    return text.size() <= max ? text : text.substr(0, max) + "...";
}

// What a hit of a probe with a fetch list carried (docs/jsonrpc.md, "probe.hit"), item by item
// as the list spells it: `a0=0x3`, `[a1]=68656c6c6f` (memory, hex), `a1="text"` (a string),
// `a1=<unreadable>` (a read that faulted); "(incomplete)" when some of it never arrived.
std::string fetched(const json& items, bool incomplete) {
    std::string out;
    for (const json& item : items) {
        if (!item.is_object())
            continue;
        std::string name, value;
        if (item.contains("reg")) {
            name = text_of(item["reg"]);
            value = text_of(item.value("value", json()));
        } else if (item.contains("mem")) {
            name = "[" + text_of(item["mem"]) + "]";
            value = clipped(text_of(item.value("hex", json())), 32);
        } else if (item.contains("str")) {
            name = text_of(item["str"]);
            std::string text = clipped(text_of(item.value("value", json())), 40);
            value = "\"" + text + (item.value("truncated", false) ? "\"..." : "\"");
        } else {
            continue;
        }
        if (item.contains("error"))
            value = "<" + text_of(item["error"]) + ">";
        out += (out.empty() ? "" : " ") + name + "=" + value;
    }
    if (incomplete)
        out += " (incomplete)";
    return out;
}

// The values the watch shows for a hit: what a probe with a fetch list fetched, a return
// probe's return value, or the first three arguments.
std::string last_values(const std::string& kind, const json& params) {
    if (params.contains("fetch") && params["fetch"].is_array())
        return fetched(params["fetch"], params.value("fetch_incomplete", false));
    if (kind == "return")
        return "ret=" + text_of(params.value("ret", json()));
    const json& args = params.value("args", json::array());
    auto arg = [&](size_t i) { return i < args.size() ? text_of(args[i]) : std::string("?"); };
    return "a0=" + arg(0) + " a1=" + arg(1) + " a2=" + arg(2);
}

// "/bin/fib" -> "fib": the way the CLI's own PROGRAM:SYMBOL syntax names it.
std::string short_program(const std::string& program) {
    return program.rfind("/bin/", 0) == 0 ? program.substr(5) : program;
}

} // namespace

std::string watch_model::function_of(const probe_row& row) {
    if (row.offset != 0 || row.symbol.empty() || (row.kind != "entry" && row.kind != "return"))
        return "";
    return short_program(row.program) + ":" + row.symbol;
}

bool watch_model::shown(int64_t id) const {
    return filter_.empty() || std::find(filter_.begin(), filter_.end(), id) != filter_.end();
}

void watch_model::set_probes(const json& probe_list) {
    for (auto& [id, row] : probes_)
        row.listed = false;
    const json& list = probe_list.contains("probes") ? probe_list["probes"] : probe_list;
    if (!list.is_array())
        return;
    for (const auto& p : list) {
        if (!p.is_object() || !p.contains("id"))
            continue;
        probe_row& row = probes_[p["id"].get<int64_t>()];
        row.id = p["id"].get<int64_t>();
        row.kind = text_of(p.value("kind", json()));
        row.program = text_of(p.value("program", json()));
        row.symbol = text_of(p.value("symbol", json()));
        row.address = text_of(p.value("address", json()));
        row.offset = p.value("offset", json(0)).is_number() ? p["offset"].get<int64_t>() : 0;
        row.daemon_hits = p.value("hits", json(0)).is_number() ? p["hits"].get<uint64_t>() : 0;
        row.listed = true;
    }
    for (auto it = probes_.begin(); it != probes_.end();) {
        if (!it->second.listed && it->second.seen == 0)
            it = probes_.erase(it);
        else
            ++it;
    }
}

bool watch_model::on_notification(const json& message) {
    const std::string method = message.value("method", "");
    const json& params = message.contains("params") ? message["params"] : json::object();
    if (method == "events.lost") {
        lost_ += params.value("count", json(0)).is_number() ? params["count"].get<uint64_t>() : 0;
        return false;
    }
    if (method == "process.exit") {
        // The exit can overtake the process's last hits (they come in batches from the kernel's
        // ring), so its open entries are forgotten only an interval later.
        if (params.contains("pid") && params["pid"].is_number())
            exited_.push_back(params["pid"].get<int64_t>()); // tid == pid in the guest
        return false;
    }
    if (method != "probe.hit" || !params.contains("probe"))
        return false;
    int64_t id = params["probe"].get<int64_t>();
    bool unknown = probes_.find(id) == probes_.end();
    probe_row& row = probes_[id];
    if (unknown) {
        // Known from the hit alone until the next probe list.
        row.id = id;
        row.kind = text_of(params.value("kind", json()));
        row.symbol = text_of(params.value("symbol", json()));
        row.offset =
            params.value("offset", json(0)).is_number() ? params["offset"].get<int64_t>() : 0;
    }
    row.seen++;
    hits_seen_++;
    int64_t pid = params.value("pid", json(0)).is_number() ? params["pid"].get<int64_t>() : 0;
    int64_t tid = params.value("tid", json(pid)).is_number() ? params["tid"].get<int64_t>() : pid;
    row.last = "pid " + std::to_string(pid) + " " + last_values(row.kind, params);

    std::string function = function_of(row);
    if (!function.empty()) {
        uint64_t sp = machine_value(params.value("sp", json()));
        uint64_t t =
            params.value("time_ns", json(0)).is_number() ? params["time_ns"].get<uint64_t>() : 0;
        if (row.kind == "entry") {
            pairing_.on_entry(function, tid, sp, t);
        } else if (auto d = pairing_.on_return(function, tid, sp, t)) {
            histograms_[function].add(*d);
        }
    }
    return unknown;
}

void watch_model::end_interval(double seconds) {
    for (int64_t tid : exited_before_)
        pairing_.on_thread_exit(tid);
    exited_before_ = std::move(exited_);
    exited_.clear();
    for (auto& [id, row] : probes_) {
        row.rate = seconds > 0 ? static_cast<double>(row.seen - row.seen_at_interval) / seconds : 0;
        row.seen_at_interval = row.seen;
    }
}

void watch_model::average_rates(double seconds) {
    for (auto& [id, row] : probes_)
        row.rate = seconds > 0 ? static_cast<double>(row.seen) / seconds : 0;
}

const log2_histogram* watch_model::histogram(const std::string& function) const {
    auto it = histograms_.find(function);
    return it == histograms_.end() ? nullptr : &it->second;
}

std::vector<std::string> watch_model::render(bool histograms) const {
    std::vector<std::string> lines;
    char line[512];
    std::snprintf(line, sizeof line, "%4s  %-6s  %-20s %9s %9s  %s", "ID", "KIND", "PROBE", "HITS",
                  "RATE/s", "LAST");
    lines.push_back(line);
    size_t rows = 0;
    for (const auto& [id, row] : probes_) {
        if (!shown(id))
            continue;
        rows++;
        std::string where = (row.program.empty() ? "?" : short_program(row.program)) + ":" +
                            (row.symbol.empty() ? row.address : row.symbol);
        if (row.offset != 0 && !row.symbol.empty())
            where += "+" + std::to_string(row.offset);
        // The daemon's total when listed (it counts hits from before this watch too).
        uint64_t hits = std::max(row.daemon_hits, row.seen);
        std::snprintf(line, sizeof line, "%4lld  %-6s  %-20s %9llu %9.1f  %s",
                      static_cast<long long>(id), row.kind.c_str(), where.c_str(),
                      static_cast<unsigned long long>(hits), row.rate, row.last.c_str());
        lines.push_back(line);
    }
    if (rows == 0)
        lines.push_back("   (no probes: add some with `ruprobes probes add PROGRAM:SYMBOL`)");
    std::snprintf(line, sizeof line, "events lost: %llu   hits received: %llu",
                  static_cast<unsigned long long>(lost_),
                  static_cast<unsigned long long>(hits_seen_));
    lines.push_back(line);
    if (!histograms)
        return lines;
    for (const auto& [function, h] : histograms_) {
        bool any = false;
        for (const auto& [id, row] : probes_)
            any = any || (shown(id) && function_of(row) == function);
        if (!any)
            continue;
        lines.push_back("");
        std::snprintf(line, sizeof line,
                      "%s: call durations (entry -> return, guest clock), %llu calls",
                      function.c_str(), static_cast<unsigned long long>(h.count()));
        lines.push_back(line);
        std::snprintf(line, sizeof line, "  min %s, mean %s, max %s",
                      format_duration(h.min()).c_str(), format_duration(h.mean()).c_str(),
                      format_duration(h.max()).c_str());
        lines.push_back(line);
        for (auto& l : h.render())
            lines.push_back("  " + l);
    }
    return lines;
}

json watch_model::to_json() const {
    json probes = json::array();
    for (const auto& [id, row] : probes_) {
        if (!shown(id))
            continue;
        probes.push_back({{"id", id},
                          {"kind", row.kind},
                          {"program", row.program},
                          {"symbol", row.symbol},
                          {"offset", row.offset},
                          {"address", row.address},
                          {"hits", std::max(row.daemon_hits, row.seen)},
                          {"seen", row.seen},
                          {"rate", row.rate},
                          {"last", row.last}});
    }
    json functions = json::array();
    for (const auto& [function, h] : histograms_)
        functions.push_back({{"function", function}, {"histogram", h.to_json()}});
    return {{"probes", probes},
            {"functions", functions},
            {"lost", lost_},
            {"hits_seen", hits_seen_},
            {"unmatched_returns", pairing_.unmatched_returns()}};
}

} // namespace ruprobes::cli

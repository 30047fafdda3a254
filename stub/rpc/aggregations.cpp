#include "rpc/aggregations.hpp"

#include "ruprobes/jsonrpc/params.hpp"

#include <algorithm>

namespace ruprobes::rpc {

using jsonrpc::json;
using jsonrpc::optional_param;
using jsonrpc::rpc_error;
using target::aggregation_field;
using target::histogram_kind;

namespace {

tl::unexpected<rpc_error> invalid(const std::string& reason) {
    return jsonrpc::fail(
        rpc_error{jsonrpc::invalid_params, "Invalid params",
                  json{{"param", "aggregate"}, {"reason", "aggregate: " + reason}}});
}

// The bounds of log2 bucket `i` (README of the kernel's table: [0] < 0, [1] 0, [2+n] 2^n..).
json log2_bucket(uint32_t i, uint32_t count) {
    if (i == 0)
        return json{{"to", -1}};
    if (i == 1)
        return json{{"from", 0}, {"to", 0}};
    int64_t from = int64_t(1) << (i - 2);
    if (i + 1 == count)
        return json{{"from", from}};
    return json{{"from", from}, {"to", (from << 1) - 1}};
}

json linear_bucket(const target::aggregation_spec& s, uint32_t i, uint32_t count) {
    if (i == 0)
        return json{{"to", s.linear_min - 1}};
    if (i + 1 == count)
        return json{{"from", s.linear_max}};
    int64_t from = s.linear_min + int64_t(i - 1) * int64_t(s.linear_step);
    return json{{"from", from}, {"to", std::min(from + int64_t(s.linear_step), s.linear_max) - 1}};
}

} // namespace

tl::expected<target::aggregation_spec, rpc_error> parse_aggregate(const json& aggregate,
                                                                  target::probe_kind kind) {
    jsonrpc::param_reader p(aggregate);
    auto by = p.string("by", optional_param);
    auto of = p.string("of", optional_param);
    auto hist = p.string("hist", optional_param);
    auto min = p.i64("min", optional_param);
    auto max = p.i64("max", optional_param);
    auto step = p.u64("step", optional_param);
    auto every = p.u64("every", optional_param);
    if (!p.ok()) {
        rpc_error e = p.error();
        e.data["reason"] = "aggregate: " + e.data.value("reason", std::string());
        return jsonrpc::fail(std::move(e));
    }
    target::aggregation_spec spec;
    bool at_return = kind == target::probe_kind::ret;
    if (by) {
        auto f = target::parse_aggregation_field(*by);
        if (!f)
            return invalid("\"by\" is pid, tid, a0-a7 (arg0-arg7) or ret, got \"" + *by + "\"");
        spec.by = *f;
    }
    if (of) {
        auto f = target::parse_aggregation_field(*of);
        if (!f || f->from == aggregation_field::source::pid ||
            f->from == aggregation_field::source::tid)
            return invalid("\"of\" is a0-a7 (arg0-arg7) or ret, got \"" + *of + "\"");
        spec.of = *f;
    }
    if ((spec.by.from == aggregation_field::source::ret ||
         spec.of.from == aggregation_field::source::ret) &&
        !at_return)
        return invalid("ret exists only on return probes (kind \"return\")");
    if (hist) {
        if (*hist == "log2")
            spec.histogram = histogram_kind::log2;
        else if (*hist == "linear")
            spec.histogram = histogram_kind::linear;
        else
            return invalid("\"hist\" is \"log2\" or \"linear\", got \"" + *hist + "\"");
        if (!of)
            return invalid("a histogram needs \"of\": the value it counts");
    }
    if (spec.histogram == histogram_kind::linear) {
        if (!min || !max || !step)
            return invalid("a linear histogram needs \"min\", \"max\" and \"step\"");
        if (*step == 0 || *max <= *min)
            return invalid("a linear histogram needs step > 0 and max > min");
        uint64_t span = uint64_t(*max) - uint64_t(*min);
        if ((span + *step - 1) / *step > 62)
            return invalid("a linear histogram has at most 62 buckets of `step` between min and "
                           "max");
        spec.linear_min = *min;
        spec.linear_max = *max;
        spec.linear_step = *step;
    } else if (min || max || step) {
        return invalid("\"min\", \"max\" and \"step\" belong to \"hist\": \"linear\"");
    }
    if (every) {
        if (*every < min_every_ms || *every > max_every_ms)
            return invalid("\"every\" is " + std::to_string(min_every_ms) + " to " +
                           std::to_string(max_every_ms) + " milliseconds, got " +
                           std::to_string(*every));
        spec.every_ms = static_cast<uint32_t>(*every);
    }
    return spec;
}

json aggregate_json(const target::aggregation_spec& spec) {
    auto name = [](const aggregation_field& f) {
        std::string n = target::aggregation_field_name(f);
        return n.empty() ? json(nullptr) : json(n);
    };
    json out{{"by", name(spec.by)}, {"of", name(spec.of)}, {"hist", nullptr}};
    if (spec.histogram == histogram_kind::log2)
        out["hist"] = "log2";
    if (spec.histogram == histogram_kind::linear) {
        out["hist"] = "linear";
        out["min"] = spec.linear_min;
        out["max"] = spec.linear_max;
        out["step"] = spec.linear_step;
    }
    if (spec.every_ms != 0)
        out["every"] = spec.every_ms;
    return out;
}

json aggregation_json(target::probe_id id, const target::aggregation_spec& spec,
                      const target::aggregation_table& table) {
    std::vector<const target::aggregation_row*> rows;
    for (const auto& r : table.rows)
        rows.push_back(&r);
    std::sort(rows.begin(), rows.end(),
              [](auto* a, auto* b) { return int64_t(a->key) < int64_t(b->key); });
    json entries = json::array();
    bool has_value = spec.of.from != aggregation_field::source::none;
    for (const auto* r : rows) {
        json e{{"key", int64_t(r->key)}, {"count", r->count}};
        if (spec.by.from == aggregation_field::source::none)
            e["key"] = nullptr;
        if (has_value) {
            e["sum"] = int64_t(r->sum);
            e["min"] = r->min;
            e["max"] = r->max;
        }
        if (!r->buckets.empty()) {
            json hist = json::array();
            auto n = uint32_t(r->buckets.size());
            for (uint32_t i = 0; i < n; i++) {
                if (r->buckets[i] == 0)
                    continue;
                json b = spec.histogram == histogram_kind::log2 ? log2_bucket(i, n)
                                                                : linear_bucket(spec, i, n);
                b["count"] = r->buckets[i];
                hist.push_back(std::move(b));
            }
            e["hist"] = std::move(hist);
        }
        entries.push_back(std::move(e));
    }
    return json{{"id", id},
                {"aggregate", aggregate_json(spec)},
                {"hits", table.hits},
                {"dropped", table.dropped},
                {"entries", std::move(entries)}};
}

} // namespace ruprobes::rpc

// Every JSON-RPC method of ruprobesd (documented in docs/jsonrpc.md). Methods that talk to the
// kernel run as coroutines on the daemon's executor and answer when the target did.
#include "rpc/aggregations.hpp"
#include "rpc/fetch_params.hpp"
#include "rpc/periodic_aggregates.hpp"
#include "rpc/rpc_context.hpp"
#include "rpc/rpc_errors.hpp"
#include "rpc/rpc_server_state.hpp"
#include "ruprobes/condition/compiler.hpp"
#include "ruprobes/jsonrpc/params.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ruprobes::rpc {

namespace {

using jsonrpc::call;
using jsonrpc::fail;
using jsonrpc::hex_u64;
using jsonrpc::json;
using jsonrpc::method_result;
using jsonrpc::optional_param;
using jsonrpc::param_reader;
using jsonrpc::required;
using jsonrpc::rpc_error;
using target::probe_kind;

// Runs `body` (a coroutine producing the method's result) and answers the call with it; an
// exception becomes -32603.
template <typename Body>
void respond_async(rpc_server::state& st, call& c, Body body) {
    asio::co_spawn(st.executor, std::move(body),
                   [respond = c.respond](std::exception_ptr e, method_result result) {
                       if (!e) {
                           respond(std::move(result));
                           return;
                       }
                       std::string what = "unknown exception";
                       try {
                           std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                           what = x.what();
                       } catch (...) {
                       }
                       respond(fail(rpc_error{jsonrpc::internal_error, "Internal error",
                                              json{{"reason", what}}}));
                   });
}

json process_json(const target::process_info& p) {
    return json{{"pid", p.pid},
                {"program", p.program},
                {"state", target::process_state_name(p.state)},
                {"load_bias", hex_u64(p.load_bias)}};
}

// ---- target.status ------------------------------------------------------------------------

void target_status(rpc_server::state& st, call& c) {
    respond_async(st, c, [&st]() -> asio::awaitable<method_result> {
        target::target_status s = co_await st.model.status();
        co_return json{{"connected", s.connected},
                       {"kernel_version", s.kernel_version},
                       {"boot_id", s.boot_id},
                       {"daemon",
                        {{"sessions", st.sessions.size()},
                         {"subscribers", st.hub.subscriber_count()},
                         {"events_published", st.hub.published()},
                         {"symbols_dir", st.symbols.dir()}}}};
    });
}

// ---- process.* ------------------------------------------------------------------------------

void process_list(rpc_server::state& st, call& c) {
    respond_async(st, c, [&st]() -> asio::awaitable<method_result> {
        auto list = co_await st.model.list_processes();
        if (!list)
            co_return fail(from_target(list.error()));
        json out = json::array();
        for (const auto& p : *list)
            out.push_back(process_json(p));
        co_return json{{"processes", std::move(out)}};
    });
}

void process_spawn(rpc_server::state& st, call& c) {
    param_reader p(c.req.params);
    const json* argv_json = p.array("argv", required);
    bool stopped = p.boolean("stopped", optional_param).value_or(false);
    std::vector<std::string> argv;
    if (argv_json) {
        for (const json& a : *argv_json) {
            if (!a.is_string()) {
                p.fail("argv", "an array of strings");
                break;
            }
            argv.push_back(a.get<std::string>());
        }
        if (argv.empty() || argv[0].empty())
            p.fail("argv", "a non-empty array whose first element is the program (/bin/<name>)");
    }
    if (!p.ok()) {
        c.respond(fail(p.error()));
        return;
    }
    respond_async(st, c,
                  [&st, argv = std::move(argv), stopped]() -> asio::awaitable<method_result> {
                      auto info = co_await st.model.spawn(argv, stopped);
                      if (!info)
                          co_return fail(from_target(info.error()));
                      co_return process_json(*info);
                  });
}

void process_kill(rpc_server::state& st, call& c) {
    param_reader p(c.req.params);
    auto pid = p.i64("pid", required);
    if (!p.ok()) {
        c.respond(fail(p.error()));
        return;
    }
    // A process a gdb client debugs may be killed too: its session hears of the exit like any
    // other (the exit reply at gdb's next resume), so the debugger is never left holding a
    // process that vanished (docs/jsonrpc.md, process.kill).
    respond_async(st, c, [&st, pid = *pid]() -> asio::awaitable<method_result> {
        auto r = co_await st.model.kill(pid);
        if (!r)
            co_return fail(from_target(r.error()));
        co_return json{{"pid", pid}};
    });
}

// ---- probe.* --------------------------------------------------------------------------------

void probe_add(rpc_server::state& st, call& c) {
    param_reader p(c.req.params);
    probe_request req;
    req.program = p.string("program", required).value_or("");
    req.symbol = p.string("symbol", optional_param);
    req.address = p.u64("address", optional_param);
    req.line = p.string("line", optional_param);
    if (auto kind = p.string("kind", optional_param)) {
        req.kind = target::parse_probe_kind(*kind);
        if (!req.kind)
            p.fail("kind", "one of \"entry\", \"return\", \"insn\"");
    }
    req.pid = p.i64("pid", optional_param);
    std::optional<std::string> condition = p.string("condition", optional_param);
    const json* aggregate = p.object("aggregate", optional_param);
    const json* fetch = p.array("fetch", optional_param);
    if (!p.ok()) {
        c.respond(fail(p.error()));
        return;
    }
    auto resolved = st.catalog.resolve(req);
    if (!resolved) {
        c.respond(fail(resolved.error()));
        return;
    }
    probe_site site = std::move(*resolved);
    std::vector<uint8_t> condition_list;
    if (condition) {
        auto compiled = condition::compile(
            *condition, condition::compile_options{site.kind == target::probe_kind::ret});
        if (!compiled) {
            const condition::compile_error& e = compiled.error();
            c.respond(
                fail(rpc_error{jsonrpc::invalid_params, "Invalid params",
                               json{{"param", "condition"},
                                    {"column", e.column},
                                    {"reason", "condition, column " + std::to_string(e.column) +
                                                   ": " + e.reason}}}));
            return;
        }
        condition_list = target::encode_condition_list({std::move(*compiled)});
        site.condition = std::move(condition);
    }
    std::optional<target::aggregation_spec> aggregation;
    if (aggregate) {
        auto parsed = parse_aggregate(*aggregate, site.kind);
        if (!parsed) {
            c.respond(fail(parsed.error()));
            return;
        }
        aggregation = *parsed;
    }
    if (fetch) {
        if (aggregate) {
            c.respond(fail(rpc_error{jsonrpc::invalid_params, "Invalid params",
                                     json{{"param", "fetch"},
                                          {"reason", "fetch: an aggregation sends no records to "
                                                     "carry it (leave out fetch or aggregate)"}}}));
            return;
        }
        auto parsed = parse_fetch(*fetch, site.kind);
        if (!parsed) {
            c.respond(fail(parsed.error()));
            return;
        }
        site.fetch = std::move(*parsed);
    }
    respond_async(
        st, c,
        [&st, site = std::move(site), pid = req.pid, condition_list = std::move(condition_list),
         aggregation]() -> asio::awaitable<method_result> {
            target::probe_spec spec;
            spec.program = site.program;
            spec.offset = site.address;
            spec.kind = site.kind;
            spec.mode = target::probe_mode::trace; // JSON-RPC probes never stop anything
            spec.pid = pid;
            spec.condition = condition_list;
            spec.aggregation = aggregation;
            spec.fetch = site.fetch;
            auto info = co_await st.model.add_trace_probe(spec);
            if (!info)
                co_return fail(from_target(info.error()));
            st.catalog.remember(info->id, site);
            json out = probe_catalog::to_json(info->id, site, pid);
            if (aggregation)
                out["aggregate"] = aggregate_json(*aggregation);
            if (aggregation && aggregation->every_ms != 0)
                start_periodic_aggregate(st, info->id,
                                         std::chrono::milliseconds(aggregation->every_ms));
            co_return out;
        });
}

// -32002 for a probe id that names no probe of the kind asked for ("trace", "aggregation").
tl::unexpected<rpc_error> no_probe(uint64_t id, const char* kind) {
    return fail(
        rpc_error{no_such_probe, "No such probe",
                  json{{"errc", "no_such_probe"},
                       {"id", id},
                       {"reason", std::string("no ") + kind + " probe " + std::to_string(id)}}});
}

// A probe.* call that takes only `{id}`: runs `work(id)` once the id is read.
template <typename Work>
void with_probe_id(rpc_server::state& st, call& c, Work work) {
    param_reader p(c.req.params);
    auto id = p.u64("id", required);
    if (!p.ok()) {
        c.respond(fail(p.error()));
        return;
    }
    respond_async(st, c, [id = *id, work = std::move(work)]() { return work(id); });
}

void probe_remove(rpc_server::state& st, call& c) {
    with_probe_id(st, c, [&st](uint64_t id) -> asio::awaitable<method_result> {
        auto info = st.model.probe(id);
        if (!info || info->spec.mode == target::probe_mode::stop)
            co_return no_probe(id, "trace");
        uint64_t hits = info->hits;
        if (info->spec.aggregation) { // its hits are counted in the kernel's table
            if (auto table = co_await st.model.read_aggregation(id))
                hits = table->hits;
        }
        auto r = co_await st.model.remove_trace_probe(id);
        if (!r)
            co_return fail(from_target(r.error()));
        st.catalog.forget(id);
        stop_periodic_aggregate(st, id);
        co_return json{{"id", id}, {"hits", hits}};
    });
}

void probe_aggregate(rpc_server::state& st, call& c) {
    with_probe_id(st, c, [&st](uint64_t id) -> asio::awaitable<method_result> {
        auto info = st.model.probe(id);
        if (!info || !info->spec.aggregation)
            co_return no_probe(id, "aggregation");
        auto table = co_await st.model.read_aggregation(id);
        if (!table)
            co_return fail(from_target(table.error()));
        co_return aggregation_json(id, *info->spec.aggregation, *table);
    });
}

method_result probe_list(rpc_server::state& st) {
    json out = json::array();
    for (const target::probe_info& info : st.model.trace_probes()) {
        json j = probe_catalog::to_json(info.id, st.catalog.site(info.id, info), info.spec.pid);
        j["hits"] = info.hits;
        if (info.spec.aggregation) {
            j["aggregate"] = aggregate_json(*info.spec.aggregation);
            j["hits"] = nullptr; // counted in the kernel: probe.aggregate
        }
        out.push_back(std::move(j));
    }
    return json{{"probes", std::move(out)}};
}

// ---- events.* -------------------------------------------------------------------------------

method_result events_subscribe(rpc_server::state& st, const json& params,
                               jsonrpc::call_context* ctx) {
    auto* session = dynamic_cast<session_context*>(ctx);
    if (!session)
        return fail(rpc_error{jsonrpc::internal_error, "Internal error",
                              json{{"reason", "events.subscribe needs a connection"}}});
    param_reader p(params);
    events::event_filter filter;
    if (const json* probes = p.array("probes", optional_param)) {
        for (const json& v : *probes) {
            auto id = jsonrpc::parse_u64(v);
            if (!id) {
                p.fail("probes", "an array of probe ids");
                break;
            }
            filter.probes.insert(*id);
        }
    }
    if (const json* pids = p.array("pids", optional_param)) {
        for (const json& v : *pids) {
            if (!v.is_number_integer()) {
                p.fail("pids", "an array of pids");
                break;
            }
            filter.pids.insert(v.get<int64_t>());
        }
    }
    if (const json* kinds = p.array("kinds", optional_param)) {
        filter.kinds = 0;
        for (const json& v : *kinds) {
            auto kind =
                v.is_string() ? events::parse_event_kind(v.get<std::string>()) : std::nullopt;
            if (!kind) {
                p.fail("kinds", "an array of notification names (\"probe.hit\", "
                                "\"process.exec\", \"process.exit\", \"events.lost\", "
                                "\"target.connected\", \"target.disconnected\")");
                break;
            }
            filter.kinds |= static_cast<uint32_t>(*kind);
        }
    }
    if (!p.ok())
        return fail(p.error());
    if (session->subscriber().filter_count() >= st.options.max_subscriptions)
        return fail(rpc_error{too_many_subscriptions, "Too many subscriptions",
                              json{{"limit", st.options.max_subscriptions},
                                   {"reason", "this connection has the most subscriptions allowed; "
                                              "unsubscribe one or widen a filter"}}});
    uint64_t id = session->subscriber().add_filter(std::move(filter));
    return json{{"subscription", id}};
}

method_result events_unsubscribe(rpc_server::state&, const json& params,
                                 jsonrpc::call_context* ctx) {
    auto* session = dynamic_cast<session_context*>(ctx);
    param_reader p(params);
    auto id = p.u64("subscription", required);
    if (!p.ok())
        return fail(p.error());
    if (!session || !session->subscriber().remove_filter(*id))
        return fail(rpc_error{
            no_such_subscription, "No such subscription",
            json{{"subscription", *id},
                 {"reason", "this connection has no subscription " + std::to_string(*id)}}});
    return json{{"subscription", *id}};
}

} // namespace

void register_methods(rpc_server::state& st) {
    auto& m = st.methods;
    m.add("target.status", [&st](call& c) { target_status(st, c); });
    m.add("process.list", [&st](call& c) { process_list(st, c); });
    m.add("process.spawn", [&st](call& c) { process_spawn(st, c); });
    m.add("process.kill", [&st](call& c) { process_kill(st, c); });
    m.add("probe.add", [&st](call& c) { probe_add(st, c); });
    m.add("probe.remove", [&st](call& c) { probe_remove(st, c); });
    m.add("probe.aggregate", [&st](call& c) { probe_aggregate(st, c); });
    m.add_sync("probe.list", [&st](const json&, jsonrpc::call_context*) { return probe_list(st); });
    m.add_sync("events.subscribe", [&st](const json& params, jsonrpc::call_context* ctx) {
        return events_subscribe(st, params, ctx);
    });
    m.add_sync("events.unsubscribe", [&st](const json& params, jsonrpc::call_context* ctx) {
        return events_unsubscribe(st, params, ctx);
    });
}

} // namespace ruprobes::rpc

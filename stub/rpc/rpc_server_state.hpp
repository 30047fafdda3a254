// Internal: what the server, its sessions and its methods share. Includes Asio; only the rpc
// folder's own sources include it.
#pragma once

#include "events/event_hub.hpp"
#include "rpc/probe_catalog.hpp"
#include "rpc/rpc_server.hpp"
#include "ruprobes/jsonrpc/dispatcher.hpp"
#include "target_model/target_model.hpp"

#include <utility> // before any Asio header with g++ 12 in C++20 mode

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>

namespace ruprobes::rpc {

namespace asio = boost::asio;

class rpc_session;

struct rpc_server::state {
    state(const asio::any_io_executor& ex, target::target_model& m, symbols::symbol_store& s,
          rpc_options o)
        : executor(ex), model(m), symbols(s), options(o), catalog(s), hub(o.event_queue),
          dispatcher(methods) {}

    asio::any_io_executor executor;
    target::target_model& model;
    symbols::symbol_store& symbols;
    rpc_options options;
    probe_catalog catalog;
    events::event_hub hub;
    jsonrpc::method_table methods;
    jsonrpc::dispatcher dispatcher;
    std::optional<asio::ip::tcp::acceptor> acceptor;
    std::map<uint64_t, std::weak_ptr<rpc_session>> sessions;
    uint64_t next_session = 1;
    target::target_model::subscription target_events;
    // Aggregation probes with `every`: each one's timer (periodic_aggregates.hpp).
    std::map<uint64_t, std::shared_ptr<asio::steady_timer>> aggregate_timers;
    bool stopped = false;
};

// Fills state.methods with every JSON-RPC method (rpc_methods.cpp).
void register_methods(rpc_server::state& state);

} // namespace ruprobes::rpc

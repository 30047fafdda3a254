// ruprobesd's JSON-RPC 2.0 server: a TCP listener with one session per client (a reader and a
// writer coroutine, an outgoing queue, deadlines, a message size limit), the method table over
// the target model, and the fan-out of target events to subscribed sessions. Every method and
// notification is documented in docs/jsonrpc.md.
//
// Runs on the daemon's io_context thread; Asio stays out of this header.
#pragma once

#include "session/session_limits.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace ruprobes::target {
class target_model;
}
namespace ruprobes::symbols {
class symbol_store;
}

namespace ruprobes::rpc {

struct rpc_options {
    std::size_t max_message = 1 << 20; // bytes of one incoming message; larger: -32600
    std::size_t event_queue = 4096;    // events a subscriber may fall behind the newest before
                                       // it skips ahead (and is told how many it lost)
    // Deadlines, the connection cap, and (as max_output) the response bytes queued before a
    // session stops reading its client's requests.
    session::session_limits limits;
    std::size_t max_calls_in_flight = 128; // calls of one session accepted and not answered
                                           // before it stops reading its client
    std::size_t max_calls_running = 8;     // calls of one session running at once (the others
                                           // wait their turn): one client cannot fill the
                                           // kernel channel ahead of the others
    std::size_t max_subscriptions = 64;    // events.subscribe filters per session
    int send_buffer = 0;                   // SO_SNDBUF of sessions; 0: the OS default
};

struct rpc_stats {
    std::size_t sessions = 0;
    std::size_t subscribers = 0;
    uint64_t events_published = 0;
};

class rpc_server {
public:
    rpc_server(boost::asio::io_context& io, target::target_model& model,
               symbols::symbol_store& symbols, rpc_options options = {});
    ~rpc_server();
    rpc_server(const rpc_server&) = delete;
    rpc_server& operator=(const rpc_server&) = delete;

    // Binds host:port (port 0: any free port) and starts accepting. The bound port, or 0 with
    // `error` set when binding failed.
    uint16_t listen(const std::string& host, uint16_t port, std::string& error);

    // Stops accepting and closes every session.
    void stop();

    rpc_stats stats() const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

// Parses "HOST:PORT" ("127.0.0.1:4242", "[::1]:4242", ":4242" = loopback); false when malformed.
bool parse_listen_address(const std::string& text, std::string& host, uint16_t& port);

} // namespace ruprobes::rpc

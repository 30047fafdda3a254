// The listener, the session registry and the target-event → subscriber fan-out.
#include "rpc/rpc_server.hpp"

#include "rpc/event_notifications.hpp"
#include "rpc/periodic_aggregates.hpp"
#include "rpc/rpc_session.hpp"
#include "session/accept_backoff.hpp"
#include "session/connection_cap.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <csignal>

namespace ruprobes::rpc {

namespace {

// How long a subscriber that takes nothing may hold the kernel's hits back
// (event_hub::readers_behind): long enough for a reader's pauses (a busy machine deschedules a
// reader for over 100 ms), and below the time the reference kernel lets a thread wait for room in
// its ring (1 s) before it drops records, so a stalled reader costs the others no record.
constexpr std::chrono::milliseconds reader_patience{500};

asio::awaitable<void> accept_loop(std::shared_ptr<rpc_server::state> st) {
    boost::system::error_code ec;
    session::accept_backoff backoff("rpc");
    while (!st->stopped && st->acceptor) {
        asio::ip::tcp::socket socket(st->executor);
        co_await st->acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (st->stopped)
            break;
        if (ec) {
            if (ec == asio::error::operation_aborted)
                break;
            co_await backoff.failed(ec); // e.g. EMFILE: wait, then try again
            continue;
        }
        backoff.succeeded();
        if (st->sessions.size() >= st->options.limits.max_connections) {
            auto victim = session::longest_idle(
                st->sessions, [](const auto& entry) { return entry.second.lock(); });
            if (!victim) {
                spdlog::warn("rpc: {} sessions, each holding something; refusing a new one",
                             st->sessions.size());
                socket.close(ec);
                continue;
            }
            spdlog::warn("rpc: {} sessions; closing idle session {} for a new one",
                         st->sessions.size(), victim->session_id());
            victim->close();
        }
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
        if (st->options.send_buffer > 0)
            socket.set_option(asio::socket_base::send_buffer_size(st->options.send_buffer), ec);
        uint64_t id = st->next_session++;
        auto remote = socket.remote_endpoint(ec);
        spdlog::info("rpc: session {} from {}:{}", id, remote.address().to_string(), remote.port());
        auto session = std::make_shared<rpc_session>(std::move(socket), st, id);
        st->sessions[id] = session;
        session->start();
    }
}

} // namespace

rpc_server::rpc_server(asio::io_context& io, target::target_model& model,
                       symbols::symbol_store& symbols, rpc_options options)
    : state_(std::make_shared<state>(io.get_executor(), model, symbols, options)) {
    // Sessions send events with sendfile(), which has no MSG_NOSIGNAL: a subscriber that goes
    // away in the middle of a write must fail that write, not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    register_methods(*state_);
    state* st = state_.get();
    // Events of one burst (a channel read, a batch of hits) are flushed to the subscribers'
    // writers together, after the handler that published them.
    std::weak_ptr<state> weak = state_;
    state_->hub.set_flush_scheduler([weak] {
        if (auto s = weak.lock()) {
            asio::post(s->executor, [weak] {
                if (auto s = weak.lock())
                    s->hub.flush();
            });
        }
    });
    // The kernel's hits come no faster than the slowest subscriber takes them; one that lags
    // for longer than the patience skips ahead instead (events.lost) and holds nobody back.
    model.set_hit_pace([weak] {
        auto s = weak.lock();
        if (!s)
            return false;
        const uint64_t stalls = s->hub.stalls();
        const bool behind =
            s->hub.readers_behind(std::chrono::steady_clock::now(), reader_patience);
        if (s->hub.stalls() != stalls)
            spdlog::warn("rpc: a subscriber took nothing for {} ms while more than half the event "
                         "log behind: it no longer holds the kernel's hits back, and skips ahead "
                         "if it falls further ({} times so far)",
                         reader_patience.count(), s->hub.stalls());
        return behind;
    });
    state_->target_events = model.subscribe([st](const target::target_event& event) {
        if (st->hub.subscriber_count() == 0)
            return; // nobody listens: do not even serialise
        auto note = make_notification(event, [st](target::probe_id id) -> const probe_site* {
            if (const probe_site* known = st->catalog.find(id))
                return known;
            auto info = st->model.probe(id);
            return info ? &st->catalog.site(id, *info) : nullptr;
        });
        if (note)
            st->hub.publish(*note);
    });
}

rpc_server::~rpc_server() {
    stop();
}

uint16_t rpc_server::listen(const std::string& host, uint16_t port, std::string& error) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) {
        error = "bad address '" + host + "': " + ec.message();
        return 0;
    }
    asio::ip::tcp::endpoint endpoint(address, port);
    asio::ip::tcp::acceptor acceptor(state_->executor);
    if (acceptor.open(endpoint.protocol(), ec) ||
        acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
        acceptor.bind(endpoint, ec) ||
        acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
        error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
        return 0;
    }
    uint16_t bound = acceptor.local_endpoint().port();
    state_->acceptor.emplace(std::move(acceptor));
    state_->stopped = false;
    auto st = state_;
    asio::co_spawn(state_->executor, accept_loop(st), [](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                spdlog::error("rpc: accept loop failed: {}", x.what());
            }
        }
    });
    spdlog::debug("rpc: JSON-RPC 2.0 listening on {}:{}", host, bound);
    return bound;
}

void rpc_server::stop() {
    state_->stopped = true;
    stop_periodic_aggregates(*state_);
    if (state_->acceptor) {
        boost::system::error_code ec;
        state_->acceptor->close(ec);
    }
    auto sessions = state_->sessions; // close() erases from the map
    for (auto& [id, weak] : sessions) {
        if (auto s = weak.lock())
            s->close();
    }
    state_->sessions.clear();
}

rpc_stats rpc_server::stats() const {
    return rpc_stats{state_->sessions.size(), state_->hub.subscriber_count(),
                     state_->hub.published()};
}

bool parse_listen_address(const std::string& text, std::string& host, uint16_t& port) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 >= text.size())
        return false;
    std::string h = text.substr(0, colon);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
        h = h.substr(1, h.size() - 2);
    if (h.empty())
        h = "127.0.0.1";
    unsigned long p = 0;
    for (char c : text.substr(colon + 1)) {
        if (c < '0' || c > '9')
            return false;
        p = p * 10 + static_cast<unsigned long>(c - '0');
        if (p > 65535)
            return false;
    }
    host = h;
    port = static_cast<uint16_t>(p);
    return true;
}

} // namespace ruprobes::rpc

#include "rsp/rsp_server.hpp"
#include "rsp/rsp_connection.hpp"
#include "rsp/spawn_keeper.hpp"
#include "session/accept_backoff.hpp"
#include "session/connection_cap.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace ruprobes::rsp {

namespace net = boost::asio;

rsp_server::rsp_server(net::any_io_executor executor, const net::ip::tcp::endpoint& endpoint,
                       target::target_model& model, session_options options,
                       std::vector<std::string> first_spawn, session::session_limits limits)
    : acceptor_(executor, endpoint), model_(model), options_(std::move(options)), limits_(limits) {
    if (!options_.keeper) {
        options_.keeper = std::make_shared<spawn_keeper>(executor, model, first_spawn);
        if (!first_spawn.empty())
            options_.spawn = std::move(first_spawn);
    }
}

rsp_server::~rsp_server() {
    stop();
}

uint16_t rsp_server::port() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec).port();
}

void rsp_server::start() {
    spdlog::info("RSP server listening on {}:{}", acceptor_.local_endpoint().address().to_string(),
                 port());
    options_.keeper->start();
    net::co_spawn(acceptor_.get_executor(), accept_loop(), net::detached);
}

void rsp_server::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& weak : connections_) {
        if (auto c = weak.lock())
            c->stop();
    }
    connections_.clear();
}

task<void> rsp_server::accept_loop() {
    session::accept_backoff backoff("RSP");
    while (acceptor_.is_open()) {
        boost::system::error_code ec;
        auto socket = co_await acceptor_.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (!acceptor_.is_open())
                break;
            co_await backoff.failed(ec); // e.g. EMFILE: wait, then try again
            continue;
        }
        backoff.succeeded();
        std::erase_if(connections_, [](const auto& w) {
            auto c = w.lock();
            return !c || !c->open();
        });
        if (connections_.size() >= limits_.max_connections) {
            auto victim =
                session::longest_idle(connections_, [](const auto& w) { return w.lock(); });
            if (!victim) {
                spdlog::warn("RSP: {} clients, each holding a process; refusing a new one",
                             connections_.size());
                socket.close(ec);
                continue;
            }
            spdlog::warn("RSP: {} clients; dropping idle client {} for a new one",
                         connections_.size(), victim->peer());
            victim->stop();
            std::erase_if(connections_, [&](const auto& w) { return w.lock() == victim; });
        }
        auto c = std::make_shared<rsp_connection>(std::move(socket), model_, options_, limits_);
        connections_.push_back(c);
        c->start();
    }
}

} // namespace ruprobes::rsp

#include "rsp/rsp_server.hpp"
#include "rsp/rsp_connection.hpp"
#include "rsp/spawn_keeper.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace ruprobes::rsp {

namespace net = boost::asio;

rsp_server::rsp_server(net::any_io_executor executor, const net::ip::tcp::endpoint& endpoint,
                       target::target_model& model, session_options options,
                       std::vector<std::string> first_spawn)
    : acceptor_(executor, endpoint), model_(model), options_(std::move(options)) {
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
    while (acceptor_.is_open()) {
        boost::system::error_code ec;
        auto socket = co_await acceptor_.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (!acceptor_.is_open())
                break;
            spdlog::warn("RSP accept: {}", ec.message());
            continue;
        }
        auto c = std::make_shared<rsp_connection>(std::move(socket), model_, options_);
        std::erase_if(connections_, [](const auto& w) { return w.expired(); });
        connections_.push_back(c);
        c->start();
    }
}

} // namespace ruprobes::rsp

// The RSP TCP server: accepts gdb clients on one endpoint and runs an rsp_connection for each.
#pragma once

#include "rsp/debug_session.hpp"
#include "session/session_limits.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <vector>

namespace ruprobes::rsp {

class rsp_connection;

class rsp_server {
public:
    // Listens on `endpoint` (port 0: any free port, see port()). Throws boost::system::system_error
    // when it cannot bind. `first_spawn`: argv spawned stopped as soon as the kernel is up and
    // handed to the first client that asks for a process (ruprobesd --spawn; see spawn_keeper);
    // `options` for every client; `limits`: deadlines, output bound and connection cap
    // (session/session_limits.hpp).
    rsp_server(boost::asio::any_io_executor executor,
               const boost::asio::ip::tcp::endpoint& endpoint, target::target_model& model,
               session_options options, std::vector<std::string> first_spawn = {},
               session::session_limits limits = {});
    ~rsp_server();

    void start();
    // Stops accepting and closes every client.
    void stop();
    uint16_t port() const;

private:
    task<void> accept_loop();

    boost::asio::ip::tcp::acceptor acceptor_;
    target::target_model& model_;
    session_options options_;
    session::session_limits limits_;
    std::vector<std::weak_ptr<rsp_connection>> connections_;
};

} // namespace ruprobes::rsp

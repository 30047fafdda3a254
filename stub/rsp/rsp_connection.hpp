// One gdb client over TCP: the Asio side of the RSP connection layer. A reader coroutine feeds
// the framer and hands packets to the debug_session one at a time; a writer coroutine drains the
// outgoing queue (acks and packets) with a deadline on every write. Acks are sent and resends
// answered until the client switches to no-ack mode (QStartNoAckMode).
#pragma once

#include "rsp/debug_session.hpp"
#include "ruprobes/rsp/framer.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>

namespace ruprobes::rsp {

class rsp_connection : public std::enable_shared_from_this<rsp_connection> {
public:
    // A client gets this long to take each write off our hands before it is dropped.
    static constexpr std::chrono::seconds write_deadline{30};

    rsp_connection(boost::asio::ip::tcp::socket socket, target::target_model& model,
                   session_options options);
    ~rsp_connection();

    // Starts the reader and writer coroutines (which keep the connection alive).
    void start();
    // Closes the socket; the session cleans up (breakpoints removed, process resumed).
    void stop();
    bool open() const { return socket_.is_open(); }
    std::string peer() const { return peer_; }

private:
    task<void> reader();
    task<void> writer();
    void queue_raw(std::string bytes);
    void send_packet(std::string payload);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer wake_;
    std::deque<std::string> out_;
    framer framer_;
    debug_session session_;
    std::string last_packet_; // for a '-' from the client
    std::string peer_;
    bool no_ack_ = false;
};

} // namespace ruprobes::rsp

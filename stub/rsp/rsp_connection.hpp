// One gdb client over TCP: the Asio side of the RSP connection layer. A reader coroutine feeds
// the framer and hands packets to the debug_session one at a time; a writer coroutine drains the
// bounded outgoing queue (acks and packets). The session's deadlines (session/session_deadlines)
// drop a client whose writes stall, whose packet is begun and never finished, or that is idle
// holding nothing; a client whose queued output passes the bound is dropped too. Acks are sent
// and resends answered (at most one resend queued at a time) until the client switches to no-ack
// mode (QStartNoAckMode).
#pragma once

#include "rsp/debug_session.hpp"
#include "ruprobes/rsp/framer.hpp"
#include "session/output_queue.hpp"
#include "session/session_deadlines.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace ruprobes::rsp {

class rsp_connection : public std::enable_shared_from_this<rsp_connection> {
public:
    rsp_connection(boost::asio::ip::tcp::socket socket, target::target_model& model,
                   session_options options, const session::session_limits& limits);
    ~rsp_connection();

    // Starts the reader and writer coroutines (which keep the connection alive).
    void start();
    // Closes the socket; the session cleans up (breakpoints removed, process resumed).
    void stop();
    bool open() const { return socket_.is_open(); }
    std::string peer() const { return peer_; }
    session::session_deadlines& deadlines() { return deadlines_; }

private:
    task<void> reader();
    task<void> writer();
    void queue_raw(std::string bytes);
    void send_packet(std::string payload);
    void drop(const std::string& reason);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer wake_;
    session::output_queue out_;
    session::session_deadlines deadlines_;
    framer framer_;
    debug_session session_;
    std::string last_packet_; // for a '-' from the client
    std::string peer_;
    bool no_ack_ = false;
    bool resend_queued_ = false; // a '-' was answered and its resend is not written yet
};

} // namespace ruprobes::rsp

// The deadlines of one client connection (write, idle, message completion), watched by one
// coroutine with one timer. The connection reports what happens (a write starts or ends, bytes
// arrive, whether it holds something) and is told, once, when a deadline passed.
//
// Every wait on a peer has a deadline: the reader and writer coroutines of a session wait without
// one and this watchdog ends them by closing the connection.
#pragma once

#include "session/session_limits.hpp"

#include <utility> // before any Asio header with g++ 12 in C++20 mode

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace ruprobes::session {

class session_deadlines {
public:
    using clock = std::chrono::steady_clock;
    // Called once with the reason ("no write progress for 30000 ms", …); it closes the session.
    using expiry_handler = std::function<void(const std::string& reason)>;

    session_deadlines(boost::asio::any_io_executor executor, const session_limits& limits);
    ~session_deadlines();
    session_deadlines(const session_deadlines&) = delete;
    session_deadlines& operator=(const session_deadlines&) = delete;

    // Starts watching; `on_expiry` must not outlive the session (stop() drops it).
    void start(expiry_handler on_expiry);
    // Stops watching (the session closes). Safe to call twice.
    void stop();

    void write_started();
    void write_finished();
    // Bytes arrived.
    void input();
    // Whether the session waits for the rest of a message the client has begun (the message
    // deadline runs from the moment this turns true).
    void set_partial(bool partial);
    // Whether the connection holds something (a process, a subscription, a running call): the
    // idle deadline applies only while it holds nothing.
    void set_holding(bool holding);

    bool holding() const;
    clock::time_point last_input() const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace ruprobes::session

// The daemon's readiness and its --spawn program. The program is started (stopped at its entry)
// as soon as the kernel is up, held by the daemon, and handed to the first debugger that asks for
// a process; a connection that never does (a port probe, junk) leaves it where it is. If it dies
// or the kernel goes away before a debugger took it, it is started again in the next kernel.
// Debuggers that arrive before the kernel is up wait for it, up to a deadline.
#pragma once

#include "target_model/target_model.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ruprobes::rsp {

class spawn_keeper {
public:
    // `argv` empty: no program, readiness only.
    spawn_keeper(boost::asio::any_io_executor executor, target::target_model& model,
                 std::vector<std::string> argv);
    ~spawn_keeper();
    spawn_keeper(const spawn_keeper&) = delete;
    spawn_keeper& operator=(const spawn_keeper&) = delete;

    // Follows the model's events from now on (and spawns now when the kernel is already up).
    void start();
    // Ready: the kernel is up and the program, if any, was started (or could not be: see
    // error()). Logged once per kernel as one line ("ready: …").
    bool ready() const { return ready_; }
    // Waits until ready() or `timeout` passed; ready() then.
    task<bool> wait_ready(std::chrono::milliseconds timeout);
    // Why the program could not be started in this kernel; empty when it was.
    const std::string& error() const { return error_; }
    // Hands the held program to `owner` (once in the daemon's life): its pid.
    std::optional<target::pid_type> take(target::client_id owner);
    const std::vector<std::string>& argv() const { return argv_; }

private:
    void on_event(const target::target_event& event);
    // The kernel may be up before start(): ask, and prepare when it is.
    task<void> first_look();
    task<void> prepare();
    void become_ready();
    void wake_waiters();

    boost::asio::any_io_executor executor_;
    target::target_model& model_;
    std::vector<std::string> argv_;
    target::client_id id_;
    target::target_model::subscription events_;
    std::optional<target::pid_type> held_;
    bool taken_ = false;
    bool preparing_ = false;
    bool ready_ = false;
    std::string error_;
    std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace ruprobes::rsp

#include "rsp/spawn_keeper.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace ruprobes::rsp {

namespace net = boost::asio;
using namespace ruprobes::target;

namespace {

std::string joined(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv)
        s += (s.empty() ? "" : " ") + a;
    return s;
}

} // namespace

spawn_keeper::spawn_keeper(net::any_io_executor executor, target_model& model,
                           std::vector<std::string> argv)
    : executor_(std::move(executor)), model_(model), argv_(std::move(argv)),
      id_(model.new_client_id()) {}

spawn_keeper::~spawn_keeper() {
    *alive_ = false;
    wake_waiters();
}

void spawn_keeper::start() {
    events_ = model_.subscribe([this](const target_event& e) { on_event(e); });
    net::co_spawn(executor_, first_look(), net::detached);
}

task<void> spawn_keeper::first_look() {
    std::weak_ptr<bool> alive = alive_;
    target_status st = co_await model_.status();
    if (!alive.expired() && st.connected)
        co_await prepare();
}

void spawn_keeper::on_event(const target_event& event) {
    if (std::holds_alternative<connected_event>(event)) {
        net::co_spawn(executor_, prepare(), net::detached);
    } else if (std::holds_alternative<disconnected_event>(event)) {
        ready_ = false;
        held_.reset(); // gone with the kernel; started again in the next one
    } else if (auto* exit = std::get_if<exit_event>(&event)) {
        if (held_ && exit->pid == *held_) {
            spdlog::warn("--spawn program (pid {}) ended before a debugger took it", *held_);
            held_.reset();
            if (ready_)
                net::co_spawn(executor_, prepare(), net::detached);
        }
    }
}

task<void> spawn_keeper::prepare() {
    if (preparing_)
        co_return;
    if (argv_.empty() || taken_ || held_) {
        become_ready();
        co_return;
    }
    std::weak_ptr<bool> alive = alive_;
    preparing_ = true;
    auto p = co_await model_.spawn(argv_, true);
    if (alive.expired())
        co_return;
    preparing_ = false;
    if (!p) {
        error_ = "cannot start " + joined(argv_) + ": " + p.error().message;
        spdlog::error("{}", error_);
    } else if (!model_.claim(p->pid, id_)) {
        error_ = "cannot hold pid " + std::to_string(p->pid);
        spdlog::error("{}", error_);
    } else {
        error_.clear();
        held_ = p->pid;
    }
    become_ready();
}

void spawn_keeper::become_ready() {
    if (ready_ || !model_.cached_status().connected)
        return;
    ready_ = true;
    std::string line = "ready: kernel " + model_.cached_status().kernel_version + " connected";
    if (held_)
        line += ", " + joined(argv_) + " started as pid " + std::to_string(*held_) +
                " (stopped at its entry, for the first debugger)";
    else if (!error_.empty())
        line += ", but " + error_;
    spdlog::info("{}", line);
    wake_waiters();
}

void spawn_keeper::wake_waiters() {
    for (auto& t : waiters_)
        t->cancel();
    waiters_.clear();
}

task<bool> spawn_keeper::wait_ready(std::chrono::milliseconds timeout) {
    if (ready_)
        co_return true;
    std::weak_ptr<bool> alive = alive_;
    auto timer = std::make_shared<net::steady_timer>(executor_, timeout);
    waiters_.push_back(timer);
    boost::system::error_code ec;
    co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
    if (alive.expired())
        co_return false;
    std::erase(waiters_, timer);
    co_return ready_;
}

std::optional<pid_type> spawn_keeper::take(client_id owner) {
    if (!held_ || taken_)
        return std::nullopt;
    pid_type pid = *held_;
    model_.release(pid, id_);
    if (!model_.claim(pid, owner))
        return std::nullopt;
    held_.reset();
    taken_ = true;
    return pid;
}

} // namespace ruprobes::rsp

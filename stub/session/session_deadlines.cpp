#include "session/session_deadlines.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ruprobes::session {

namespace asio = boost::asio;
using clock = session_deadlines::clock;

struct session_deadlines::state {
    state(asio::any_io_executor ex, const session_limits& l) : timer(ex), limits(l) {}

    asio::steady_timer timer;
    session_limits limits;
    expiry_handler on_expiry;
    bool stopped = false;
    bool holding = false;
    bool writing = false;
    clock::time_point write_since{};
    clock::time_point last_input = clock::now();
    bool partial = false;
    clock::time_point message_since{};

    // The reason a deadline passed at `now`, or "" when none did.
    std::string expired(clock::time_point now) const {
        auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()); };
        if (writing && now - write_since >= limits.write_timeout)
            return "no write progress for " + ms(limits.write_timeout) + " ms";
        if (partial && now - message_since >= limits.message_timeout)
            return "a message begun and not finished within " + ms(limits.message_timeout) + " ms";
        if (!holding && !partial && !writing && now - last_input >= limits.idle_timeout)
            return "idle, holding nothing, for " + ms(limits.idle_timeout) + " ms";
        return {};
    }

    // The watchdog's period: a quarter of the shortest deadline, 10 ms .. 1 s.
    std::chrono::milliseconds period() const {
        auto shortest =
            std::min({limits.write_timeout, limits.idle_timeout, limits.message_timeout});
        return std::clamp(shortest / 4, std::chrono::milliseconds(10),
                          std::chrono::milliseconds(1000));
    }
};

namespace {

asio::awaitable<void> watch(std::shared_ptr<session_deadlines::state> st) {
    boost::system::error_code ec;
    while (!st->stopped) {
        st->timer.expires_after(st->period());
        co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (st->stopped)
            break;
        std::string reason = st->expired(clock::now());
        if (!reason.empty()) {
            st->stopped = true;
            auto handler = std::move(st->on_expiry);
            st->on_expiry = nullptr;
            if (handler)
                handler(reason);
        }
    }
}

} // namespace

session_deadlines::session_deadlines(asio::any_io_executor executor, const session_limits& limits)
    : state_(std::make_shared<state>(std::move(executor), limits)) {}

session_deadlines::~session_deadlines() {
    stop();
}

void session_deadlines::start(expiry_handler on_expiry) {
    state_->on_expiry = std::move(on_expiry);
    state_->last_input = clock::now();
    asio::co_spawn(state_->timer.get_executor(), watch(state_), asio::detached);
}

void session_deadlines::stop() {
    state_->stopped = true;
    state_->on_expiry = nullptr;
    state_->timer.cancel();
}

void session_deadlines::write_started() {
    state_->writing = true;
    state_->write_since = clock::now();
}

void session_deadlines::write_finished() {
    state_->writing = false;
}

void session_deadlines::input() {
    state_->last_input = clock::now();
}

void session_deadlines::set_partial(bool partial) {
    if (partial && !state_->partial)
        state_->message_since = clock::now();
    state_->partial = partial;
}

void session_deadlines::set_holding(bool holding) {
    if (state_->holding && !holding)
        state_->last_input = clock::now(); // idle from the moment it let go
    state_->holding = holding;
}

bool session_deadlines::holding() const {
    return state_->holding;
}

clock::time_point session_deadlines::last_input() const {
    return state_->last_input;
}

} // namespace ruprobes::session

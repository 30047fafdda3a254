#include "session/accept_backoff.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace ruprobes::session {

namespace asio = boost::asio;

asio::awaitable<void> accept_backoff::failed(const boost::system::error_code& ec) {
    failures_++;
    unreported_++;
    auto now = clock::now();
    if (last_warning_ == clock::time_point{} || now - last_warning_ >= warn_interval) {
        if (unreported_ > 1)
            spdlog::warn("{}: accept: {} ({} failures since the last warning)", what_, ec.message(),
                         unreported_);
        else
            spdlog::warn("{}: accept: {}", what_, ec.message());
        last_warning_ = now;
        unreported_ = 0;
    }
    wait_ = wait_.count() == 0 ? first_wait : std::min(wait_ * 2, longest_wait);
    asio::steady_timer timer(co_await asio::this_coro::executor, wait_);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

} // namespace ruprobes::session

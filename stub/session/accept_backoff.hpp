// What an accept loop does when accept fails (EMFILE, ENFILE, ENOBUFS…): it waits before the next
// try, doubling the wait up to a second, and warns at most once per interval with the number of
// failures since the last warning. Without it a loop at the file-descriptor limit spins a core
// and floods the log.
#pragma once

#include <utility> // before any Asio header with g++ 12 in C++20 mode

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace ruprobes::session {

class accept_backoff {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds first_wait{10};
    static constexpr std::chrono::milliseconds longest_wait{1000};
    static constexpr std::chrono::milliseconds warn_interval{5000};

    explicit accept_backoff(std::string what) : what_(std::move(what)) {}

    // After a failed accept: warns (rate-limited), then waits.
    boost::asio::awaitable<void> failed(const boost::system::error_code& ec);
    // After an accepted connection: the next failure waits first_wait again.
    void succeeded() { wait_ = std::chrono::milliseconds(0); }

    uint64_t failures() const { return failures_; }

private:
    std::string what_;
    std::chrono::milliseconds wait_{0};
    clock::time_point last_warning_{};
    uint64_t failures_ = 0;
    uint64_t unreported_ = 0;
};

} // namespace ruprobes::session

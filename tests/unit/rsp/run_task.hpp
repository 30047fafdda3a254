// Runs a coroutine to completion on a test's io_context and returns its value; fails the test
// (throws) when it does not finish within the deadline.
#pragma once

#include "target_model/task.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>

namespace ruprobes::test {

template <typename T>
T run_task(boost::asio::io_context& io, boost::asio::awaitable<T> t,
           std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    std::optional<T> out;
    std::exception_ptr error;
    boost::asio::co_spawn(io, std::move(t), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e)
            out.emplace(std::move(value));
    });
    auto until = std::chrono::steady_clock::now() + deadline;
    while (!out && !error && std::chrono::steady_clock::now() < until)
        io.run_one_for(std::chrono::milliseconds(10));
    io.restart();
    if (error)
        std::rethrow_exception(error);
    if (!out)
        throw std::runtime_error("coroutine did not finish in time");
    return std::move(*out);
}

inline void run_task(boost::asio::io_context& io, boost::asio::awaitable<void> t,
                     std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    auto wrapped = [](boost::asio::awaitable<void> inner) -> boost::asio::awaitable<bool> {
        co_await std::move(inner);
        co_return true;
    };
    run_task(io, wrapped(std::move(t)), deadline);
}

// Runs the io_context until `pred()` holds; false when the deadline passes first.
template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred pred,
               std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (!pred() && std::chrono::steady_clock::now() < until)
        io.run_one_for(std::chrono::milliseconds(10));
    io.restart();
    return pred();
}

} // namespace ruprobes::test

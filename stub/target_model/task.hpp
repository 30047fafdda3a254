// The coroutine type of the daemon's asynchronous APIs: Boost.Asio C++20 awaitables on the one
// io_context thread. Only headers of asynchronous APIs include this (Asio is slow to compile).
#pragma once

#include <utility> // before any Asio header with g++ 12 in C++20 mode

#include <boost/asio/awaitable.hpp>

namespace ruprobes {

namespace asio = boost::asio;

template <typename T>
using task = boost::asio::awaitable<T>;

} // namespace ruprobes

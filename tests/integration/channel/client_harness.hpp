// What the channel client's integration tests share: the harness (an io_context, a socketpair
// and the scripted fake kernel on its other end), the kernel's side of the handshake, and hits
// frames as the kernel sends them.
#pragma once

#include "channel/channel_client.hpp"
#include "fake_kernel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include <atomic>
#include <functional>
#include <sys/socket.h>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace channel = ruprobes::channel;
namespace wire = ruprobes::wire;
using ruprobes::test::fake_kernel;
using ruprobes::test::owned_frame;

namespace channel_test {

// An io_context, a socketpair and the fake kernel on its end.
struct harness {
    asio::io_context io;
    int client_fd = -1;
    std::unique_ptr<fake_kernel> kernel;

    harness() { reconnect(); }

    // A fresh socketpair (the previous kernel end is closed).
    void reconnect() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        client_fd = fds[0];
        kernel = std::make_unique<fake_kernel>(fds[1]);
    }

    // Runs the client coroutine `body` on the io_context while `script` drives the fake kernel
    // on another thread; returns when both are done (or after a generous bound).
    void run(std::function<asio::awaitable<void>()> body,
             std::function<void(fake_kernel&)> script) {
        std::thread t([&] { script(*kernel); });
        asio::co_spawn(io, body(), [&](std::exception_ptr e) {
            io.stop();
            if (e) {
                ADD_FAILURE() << "the client coroutine threw";
            }
        });
        io.restart();
        io.run_for(30s);
        t.join();
    }

    // run() with a body that opens `c` on the harness's socket and keeps it open until `done()`.
    void run_until(channel::client& c, std::function<bool()> done,
                   std::function<void(fake_kernel&)> script) {
        run(
            [&]() -> asio::awaitable<void> {
                (void)co_await c.open_fd(client_fd);
                while (!done()) {
                    asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
                    co_await t.async_wait(asio::use_awaitable);
                }
            },
            std::move(script));
    }
};

// The kernel's side of the handshake: expects hello, answers with `boot_id`.
inline wire::hello_request answer_hello(fake_kernel& k, uint64_t boot_id, uint64_t next_seq = 1) {
    auto hello = k.expect_message<wire::hello_request>();
    EXPECT_TRUE(hello.has_value());
    if (!hello) {
        return {};
    }
    k.send(hello->first.request_id, wire::hello_response{.status = 0,
                                                         .version = 1,
                                                         .capabilities = wire::capability::all,
                                                         .boot_id = boot_id,
                                                         .time_ns = 1000,
                                                         .next_hit_seq = next_seq,
                                                         .hits_dropped = 0,
                                                         .hit_window = 512,
                                                         .max_frame = wire::max_frame,
                                                         .stopped_threads = 0});
    return hello->second;
}

inline channel::client_options fast_options() {
    channel::client_options o;
    o.request_timeout = 2s;
    return o;
}

inline std::vector<uint8_t> hits_frame(uint64_t first, uint16_t count) {
    std::vector<uint8_t> out(wire::max_frame);
    wire::frame_builder b(out, wire::hits_event::code, 0);
    wire::write_fields(b.payload(), wire::hits_event{.first_seq = first, .count = count});
    for (uint16_t i = 0; i < count; i++) {
        wire::hit_record r{};
        r.seq = first + i;
        r.pid = 3;
        r.tid = 3;
        r.pc = 0x40000100;
        r.probe_id = 1;
        r.kind = uint8_t(wire::probe_kind::entry);
        r.a[0] = first + i;
        wire::write_fields(b.payload(), r);
    }
    out.resize(b.finish());
    return out;
}

} // namespace channel_test

using namespace channel_test;

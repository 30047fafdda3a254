// The channel client (stub/channel) against a scripted fake kernel over a socketpair: handshake,
// typed requests and their errors, deadlines, pipelining, hit batches with garbage in between,
// events, paging, and a disconnect followed by a reconnect.
#include "channel/channel_client.hpp"
#include "fake_kernel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

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

namespace {

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
};

// The kernel's side of the handshake: expects hello, answers with `boot_id`.
wire::hello_request answer_hello(fake_kernel& k, uint64_t boot_id, uint64_t next_seq = 1) {
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

channel::client_options fast_options() {
    channel::client_options o;
    o.request_timeout = 2s;
    return o;
}

} // namespace

TEST(ChannelClient, HandshakeAndPing) {
    harness h;
    channel::client c(h.io, fast_options(), {});
    channel::call_result<channel::hello_info> hello;
    channel::call_result<uint64_t> ping;
    wire::hello_request seen{};
    h.run(
        [&]() -> asio::awaitable<void> {
            hello = co_await c.open_fd(h.client_fd);
            ping = co_await c.ping(77);
        },
        [&](fake_kernel& k) {
            seen = answer_hello(k, 0xB007);
            auto p = k.expect_message<wire::ping_request>();
            ASSERT_TRUE(p);
            EXPECT_EQ(p->second.cookie, 77u);
            k.send(p->first.request_id,
                   wire::ping_response{.status = 0, .cookie = 77, .time_ns = 123456});
        });
    ASSERT_TRUE(hello.has_value()) << channel::describe(hello);
    EXPECT_EQ(hello->boot_id, 0xB007u);
    EXPECT_EQ(hello->hit_window, 512u);
    EXPECT_FALSE(hello->rebooted);
    ASSERT_TRUE(ping.has_value()) << channel::describe(ping);
    EXPECT_EQ(*ping, 123456u);
    EXPECT_EQ(seen.flags & wire::hello_flag_reset, wire::hello_flag_reset);
    EXPECT_NE(seen.session_id, 0u);
    EXPECT_EQ(seen.session_id, c.session_id());
    EXPECT_TRUE(c.connected());
}

TEST(ChannelClient, KernelStatusTimeoutAndLateAnswer) {
    harness h;
    auto options = fast_options();
    options.request_timeout = 300ms;
    channel::client c(h.io, options, {});
    channel::call_result<uint32_t> refused;
    channel::call_result<void> timed_out;
    channel::call_result<uint64_t> after;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            refused = co_await c.probe_add("/bin/fib", 0x40000000, wire::probe_kind::insn,
                                           wire::probe_mode::trace);
            timed_out = co_await c.probe_remove(5);
            after = co_await c.ping(1);
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1);
            auto add = k.expect_message<wire::probe_add_request>();
            ASSERT_TRUE(add);
            EXPECT_EQ(std::string(add->second.path.begin(), add->second.path.end()), "/bin/fib");
            EXPECT_EQ(add->second.address, 0x40000000u);
            k.send_status(add->first, 1); // insn_ecall
            auto remove = k.expect(wire::probe_remove_request::code);
            ASSERT_TRUE(remove);
            // No answer before the deadline; the late one must not confuse the next request.
            auto ping = k.expect(wire::ping_request::code);
            ASSERT_TRUE(ping);
            k.send_status(*remove, 0);
            k.send(ping->request_id, wire::ping_response{.status = 0, .cookie = 1, .time_ns = 9});
        });
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().errc, channel::call_errc::kernel_status);
    EXPECT_EQ(refused.error().status, 1);
    EXPECT_EQ(channel::describe(refused), "kernel status insn_ecall (1)");
    ASSERT_FALSE(timed_out.has_value());
    EXPECT_EQ(timed_out.error().errc, channel::call_errc::timeout);
    ASSERT_TRUE(after.has_value()) << channel::describe(after);
    EXPECT_EQ(*after, 9u);
    EXPECT_EQ(c.stats().timeouts, 1u);
    EXPECT_EQ(c.stats().unmatched_responses, 1u);
}

TEST(ChannelClient, PipelinedRequestsAnsweredOutOfOrder) {
    harness h;
    channel::client c(h.io, fast_options(), {});
    channel::call_result<channel::spawned_process> spawned;
    channel::call_result<channel::register_values> regs;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            auto ex = co_await asio::this_coro::executor;
            int done = 0;
            asio::co_spawn(
                ex,
                [&]() -> asio::awaitable<void> {
                    spawned = co_await c.process_spawn("/bin/fib 15", true);
                    done++;
                },
                asio::detached);
            regs = co_await c.regs_get(3, 3);
            while (done == 0) {
                asio::steady_timer t(ex, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1);
            auto spawn = k.expect_message<wire::process_spawn_request>();
            auto get = k.expect_message<wire::regs_get_request>();
            ASSERT_TRUE(spawn && get);
            EXPECT_EQ(std::string(spawn->second.cmdline.begin(), spawn->second.cmdline.end()),
                      "/bin/fib 15");
            EXPECT_EQ(spawn->second.flags, wire::spawn_flag_stop_at_entry);
            wire::regs_get_response r{.status = 0};
            r.x[2] = 0x7fff0000;
            r.pc = 0x40000100;
            k.send(get->first.request_id, r);
            k.send(spawn->first.request_id,
                   wire::process_spawn_response{.status = 0, .pid = 3, .tid = 3});
        });
    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned);
    EXPECT_EQ(spawned->pid, 3u);
    ASSERT_TRUE(regs.has_value()) << channel::describe(regs);
    EXPECT_EQ(regs->pc, 0x40000100u);
    EXPECT_EQ(regs->x[2], 0x7fff0000u);
}

TEST(ChannelClient, FpRegistersGetSetAndNotStopped) {
    harness h;
    channel::client c(h.io, fast_options(), {});
    channel::call_result<channel::fp_register_values> got, refused;
    channel::call_result<void> set;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            got = co_await c.fp_regs_get(3, 3);
            channel::fp_register_values v;
            v.f[10] = 0x4004000000000000; // 2.5
            v.fcsr = 0x21;
            set = co_await c.fp_regs_set(3, 3, (1ull << 10) | (1ull << 32), v);
            refused = co_await c.fp_regs_get(4, 4);
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1);
            auto get = k.expect_message<wire::fp_regs_get_request>();
            ASSERT_TRUE(get);
            EXPECT_EQ(get->second.pid, 3u);
            EXPECT_EQ(get->second.tid, 3u);
            wire::fp_regs_get_response r{.status = 0};
            r.f[31] = 0xffffffff3f800000; // 1.0f, NaN-boxed
            r.fcsr = 0x1;
            k.send(get->first.request_id, r);
            auto put = k.expect_message<wire::fp_regs_set_request>();
            ASSERT_TRUE(put);
            EXPECT_EQ(put->second.mask, (1ull << 10) | (1ull << 32));
            EXPECT_EQ(put->second.f[10], 0x4004000000000000u);
            EXPECT_EQ(put->second.fcsr, 0x21u);
            k.send_status(put->first, 0);
            auto second = k.expect_message<wire::fp_regs_get_request>();
            ASSERT_TRUE(second);
            k.send_status(second->first, wire::status::not_stopped);
        });
    ASSERT_TRUE(got.has_value()) << channel::describe(got);
    EXPECT_EQ(got->f[31], 0xffffffff3f800000u);
    EXPECT_EQ(got->fcsr, 1u);
    EXPECT_TRUE(set.has_value()) << channel::describe(set);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().status, wire::status::not_stopped) << channel::describe(refused);
}

TEST(ChannelClient, RegsSetThenResumeGoTogetherInOrderAndBothAnswersCome) {
    harness h;
    channel::client c(h.io, fast_options(), {});
    std::pair<channel::call_result<void>, channel::call_result<void>> resumed, stepped;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            channel::register_values v;
            v.x[10] = 6;
            v.pc = 0x40000104;
            resumed = co_await c.regs_set_then_resume(3, 3, (1ull << 33) - 2, v, 3, 0, false, 0);
            stepped = co_await c.regs_set_then_resume(3, 3, 1ull << 32, v, 3, 3, true, 0);
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1);
            // Both requests arrive before the kernel answered the first: one exchange.
            auto set = k.expect_message<wire::regs_set_request>();
            auto resume = k.expect_message<wire::thread_resume_request>();
            ASSERT_TRUE(set && resume);
            EXPECT_EQ(set->second.mask, (1ull << 33) - 2);
            EXPECT_EQ(set->second.x[10], 6u);
            EXPECT_EQ(set->second.pc, 0x40000104u);
            EXPECT_EQ(resume->second.pid, 3u);
            EXPECT_EQ(resume->second.tid, 0u);
            k.send_status(set->first, 0);
            k.send_status(resume->first, 0);
            // The step variant; its write refused (answers may come in any order).
            auto set2 = k.expect_message<wire::regs_set_request>();
            auto step = k.expect_message<wire::thread_step_request>();
            ASSERT_TRUE(set2 && step);
            EXPECT_EQ(set2->second.mask, 1ull << 32);
            k.send_status(step->first, wire::status::not_stopped);
            k.send_status(set2->first, wire::status::not_stopped);
        });
    EXPECT_TRUE(resumed.first.has_value()) << channel::describe(resumed.first);
    EXPECT_TRUE(resumed.second.has_value()) << channel::describe(resumed.second);
    ASSERT_FALSE(stepped.first.has_value());
    EXPECT_EQ(stepped.first.error().status, wire::status::not_stopped);
    ASSERT_FALSE(stepped.second.has_value());
    EXPECT_EQ(stepped.second.error().status, wire::status::not_stopped);
}

namespace {

std::vector<uint8_t> hits_frame(uint64_t first, uint16_t count) {
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

} // namespace

TEST(ChannelClient, HitBatchesThroughGarbageAreDeliveredAndAcked) {
    harness h;
    std::vector<uint64_t> seqs;
    uint64_t dropped = 0;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> records) {
        for (const auto& r : records) {
            seqs.push_back(r.seq);
        }
    };
    handlers.on_drops = [&](const wire::drops_event& d) { dropped = d.hits_dropped; };
    channel::client c(h.io, fast_options(), handlers);
    uint64_t ack1 = 0, ack2 = 0;
    int later_acks = 0;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            // Wait for the kernel script's last event, then end.
            while (dropped == 0) {
                asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            std::vector<uint8_t> stream = {'j', 'u', 'n', 'k', 'R', 'U', 'P'};
            auto a = hits_frame(1, 31);
            stream.insert(stream.end(), a.begin(), a.end());
            auto bad = hits_frame(500, 2);
            bad[40] ^= 0xFF;
            stream.insert(stream.end(), bad.begin(), bad.end());
            auto b = hits_frame(32, 9);
            stream.insert(stream.end(), b.begin(), b.end());
            // Split the stream at odd places.
            k.send_bytes(std::span<const uint8_t>(stream).first(100));
            std::this_thread::sleep_for(20ms);
            k.send_bytes(std::span<const uint8_t>(stream).subspan(100));
            // Every record of both good batches is acknowledged (together when one read brings
            // both).
            while (ack1 < 41) {
                auto ack = k.expect_message<wire::hits_ack_notice>();
                ASSERT_TRUE(ack);
                ack1 = ack->second.next_seq;
            }
            // Nine more batches in one write: acknowledged together, not one by one.
            std::vector<uint8_t> more;
            for (uint64_t first = 41; first < 41 + 9 * 31; first += 31) {
                auto f = hits_frame(first, 31);
                more.insert(more.end(), f.begin(), f.end());
            }
            k.send_bytes(more);
            while (ack2 < 41 + 9 * 31) {
                auto a = k.expect_message<wire::hits_ack_notice>();
                ASSERT_TRUE(a);
                ack2 = a->second.next_seq;
                later_acks++;
            }
            k.send(0, wire::drops_event{.hits_dropped = 7, .next_seq = 41 + 9 * 31});
        });
    ASSERT_EQ(seqs.size(), 40u + 9 * 31);
    for (size_t i = 0; i < seqs.size(); i++) {
        EXPECT_EQ(seqs[i], i + 1);
    }
    EXPECT_EQ(ack1, 41u);
    EXPECT_EQ(ack2, 41u + 9 * 31);
    EXPECT_LT(later_acks, 9) << "one hits_ack per batch";
    EXPECT_EQ(dropped, 7u);
    auto st = c.stats();
    EXPECT_EQ(st.hit_records, 40u + 9 * 31);
    EXPECT_EQ(st.seq_gaps, 0u);
    EXPECT_EQ(st.hits_dropped, 7u);
    EXPECT_EQ(st.rejected_frames, 1u);
    EXPECT_GE(st.garbage_bytes, 7u);
}

// Acknowledgements are gathered (hit_acks.hpp): one owed for a few records waits for the next
// frame to the kernel and goes first in the same write.
TEST(ChannelClient, AcknowledgementRidesWithTheNextRequest) {
    harness h;
    std::atomic<size_t> received{0};
    std::atomic<bool> kernel_saw_no_ack{false};
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> records) {
        received += records.size();
    };
    channel::client_options o = fast_options();
    o.hit_ack_delay = 60s;
    channel::client c(h.io, o, handlers);
    channel::call_result<uint64_t> ping;
    std::optional<owned_frame> ack_before_ping;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (!kernel_saw_no_ack) {
                asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            ping = co_await c.ping(5);
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            k.send_bytes(hits_frame(1, 3));
            // Nothing comes back for the three records on their own...
            EXPECT_FALSE(k.expect_message<wire::hits_ack_notice>(300ms).has_value());
            EXPECT_EQ(received.load(), 3u);
            kernel_saw_no_ack = true;
            // ...until the client sends a request: the acknowledgement comes first.
            auto p = k.expect_message<wire::ping_request>();
            ASSERT_TRUE(p.has_value());
            for (const owned_frame& f : k.skipped()) {
                if (f.type == wire::hits_ack_notice::code) {
                    ack_before_ping = f;
                }
            }
            k.send(p->first.request_id,
                   wire::ping_response{.status = 0, .cookie = p->second.cookie, .time_ns = 1});
        });
    EXPECT_TRUE(ping.has_value()) << channel::describe(ping);
    ASSERT_TRUE(ack_before_ping.has_value()) << "no acknowledgement before the ping";
    auto ack = wire::decode<wire::hits_ack_notice>(ack_before_ping->view());
    ASSERT_TRUE(ack.ok());
    EXPECT_EQ(ack->next_seq, 4u);
}

// The seq of the first hits_ack a client with `delay` sends once the kernel (hit_window 512: at
// once from 128 records on) has sent `frames` hits frames of `per_frame` records; 0 when none.
uint64_t first_ack(std::chrono::milliseconds delay, uint64_t frames, uint16_t per_frame) {
    harness h;
    channel::client_options o = fast_options();
    o.hit_ack_delay = delay;
    channel::client c(h.io, o, {});
    uint64_t acked = 0;
    std::atomic<bool> done{false};
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (!done) {
                asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            for (uint64_t i = 0; i < frames; i++)
                k.send_bytes(hits_frame(1 + i * per_frame, per_frame));
            auto a = k.expect_message<wire::hits_ack_notice>();
            acked = a ? a->second.next_seq : 0;
            done = true;
        });
    return acked;
}

TEST(ChannelClient, AcknowledgementGoesAfterItsDelayWhenNothingElseIsSent) {
    EXPECT_EQ(first_ack(50ms, 1, 2), 3u);
}

TEST(ChannelClient, AQuarterOfTheKernelsWindowIsAcknowledgedAtOnce) {
    EXPECT_EQ(first_ack(60s, 5, 31), 1u + 5 * 31)
        << "the first acknowledgement is due after the fifth batch";
}

TEST(ChannelClient, BatchLostInTransitIsSentAgainNotLost) {
    harness h;
    std::vector<uint64_t> seqs;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> records) {
        for (const auto& r : records) {
            seqs.push_back(r.seq);
        }
    };
    channel::client c(h.io, fast_options(), handlers);
    uint64_t ack_in_order = 0, ack_after_gap = 0, ack_after_resend = 0;
    std::atomic<bool> done{false};
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (!done) {
                asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            k.send_bytes(hits_frame(1, 5));
            auto a = k.expect_message<wire::hits_ack_notice>();
            k.send_bytes(hits_frame(8, 2)); // 6 and 7 were lost on the way
            auto b = k.expect_message<wire::hits_ack_notice>();
            ASSERT_TRUE(a && b);
            ack_in_order = a->second.next_seq;
            ack_after_gap = b->second.next_seq;
            // The kernel still holds every unacknowledged record and sends them again.
            k.send_bytes(hits_frame(ack_after_gap, 4));
            auto c2 = k.expect_message<wire::hits_ack_notice>();
            ASSERT_TRUE(c2);
            ack_after_resend = c2->second.next_seq;
            done = true;
        });
    EXPECT_EQ(ack_in_order, 6u);
    EXPECT_EQ(ack_after_gap, 6u) << "the client acknowledged records it never received";
    EXPECT_EQ(ack_after_resend, 10u);
    ASSERT_EQ(seqs.size(), 9u);
    for (size_t i = 0; i < seqs.size(); i++) {
        EXPECT_EQ(seqs[i], i + 1);
    }
    EXPECT_EQ(c.stats().seq_gaps, 0u);
}

TEST(ChannelClient, GapThatNeverFillsIsCountedInsteadOfWaitedOnForever) {
    harness h;
    size_t delivered = 0;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> r) { delivered += r.size(); };
    channel::client c(h.io, fast_options(), handlers);
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (delivered < 7) {
                asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            k.send_bytes(hits_frame(1, 5));
            // A kernel that never sends 6 and 7 again (which the reference kernel does not do):
            // after two windows' worth of batches the client takes the loss and counts it.
            for (int i = 0; i < 80; i++) {
                k.send_bytes(hits_frame(8, 2));
                std::this_thread::sleep_for(2ms);
            }
        });
    EXPECT_EQ(delivered, 7u);
    EXPECT_EQ(c.stats().seq_gaps, 2u);
}

TEST(ChannelClient, EventsListsAndMemory) {
    harness h;
    std::vector<channel::stop_info> stops;
    std::vector<channel::exec_info> execs;
    std::vector<channel::exit_info> exits;
    channel::event_handlers handlers;
    handlers.on_stop = [&](const channel::stop_info& s) { stops.push_back(s); };
    handlers.on_exec = [&](const channel::exec_info& e) { execs.push_back(e); };
    handlers.on_exit = [&](const channel::exit_info& e) { exits.push_back(e); };
    channel::client c(h.io, fast_options(), handlers);
    channel::call_result<std::vector<channel::probe_entry>> probes;
    channel::call_result<std::vector<uint8_t>> memory;
    channel::call_result<std::vector<channel::thread_entry>> threads;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            probes = co_await c.probe_list();
            memory = co_await c.mem_read(3, 0x40000000, 5000);
            threads = co_await c.thread_list(3);
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1);
            // Events may arrive any time; these come before the answers.
            std::string path = "/bin/fib", args = "15";
            k.send(0, wire::exec_event{
                          .pid = 3,
                          .ppid = 1,
                          .path = {reinterpret_cast<const uint8_t*>(path.data()), path.size()},
                          .args = {reinterpret_cast<const uint8_t*>(args.data()), args.size()}});
            wire::stop_event stop{.pid = 3, .tid = 3, .reason = 4};
            stop.pc = 0x40000000;
            k.send(0, stop);
            k.send(0, wire::exit_event{.pid = 9, .status = 9, .killed = 1});

            // probe_list: 3 probes over two pages.
            for (uint32_t page = 0; page < 2; page++) {
                auto req = k.expect_message<wire::probe_list_request>();
                ASSERT_TRUE(req);
                EXPECT_EQ(req->second.start, page == 0 ? 0u : 2u);
                std::vector<uint8_t> out(wire::max_frame);
                wire::frame_builder b(out, wire::probe_list_response::code, req->first.request_id);
                uint32_t count = page == 0 ? 2 : 1;
                wire::write_fields(b.payload(), wire::probe_list_response{
                                                    .status = 0, .total = 3, .count = count});
                for (uint32_t i = 0; i < count; i++) {
                    wire::write_fields(
                        b.payload(),
                        wire::probe_entry{
                            .probe_id = req->second.start + i + 1,
                            .pid = 0,
                            .kind = 1,
                            .mode = 0,
                            .address = 0x40000100,
                            .hits = 10,
                            .path = {reinterpret_cast<const uint8_t*>(path.data()), path.size()}});
                }
                out.resize(b.finish());
                k.send_bytes(out);
            }
            // mem_read of 5000 bytes: two chunks.
            uint64_t expect_addr = 0x40000000;
            for (int chunk = 0; chunk < 2; chunk++) {
                auto req = k.expect_message<wire::mem_read_request>();
                ASSERT_TRUE(req);
                EXPECT_EQ(req->second.address, expect_addr);
                std::vector<uint8_t> data(req->second.length);
                for (size_t i = 0; i < data.size(); i++) {
                    data[i] = static_cast<uint8_t>(req->second.address + i);
                }
                k.send(req->first.request_id, wire::mem_read_response{.status = 0, .data = data});
                expect_addr += req->second.length;
            }
            auto tl = k.expect_message<wire::thread_list_request>();
            ASSERT_TRUE(tl);
            EXPECT_EQ(tl->second.pid, 3u);
            std::vector<uint8_t> out(wire::max_frame);
            wire::frame_builder b(out, wire::thread_list_response::code, tl->first.request_id);
            wire::write_fields(b.payload(),
                               wire::thread_list_response{.status = 0, .total = 1, .count = 1});
            wire::write_fields(b.payload(),
                               wire::thread_entry{.tid = 3, .state = 1, .stop_reason = 4, .pc = 5});
            out.resize(b.finish());
            k.send_bytes(out);
        });
    ASSERT_EQ(execs.size(), 1u);
    EXPECT_EQ(execs[0].path, "/bin/fib");
    EXPECT_EQ(execs[0].args, "15");
    ASSERT_EQ(stops.size(), 1u);
    EXPECT_EQ(stops[0].reason, wire::stop_reason::spawned);
    EXPECT_EQ(stops[0].regs.pc, 0x40000000u);
    ASSERT_EQ(exits.size(), 1u);
    EXPECT_TRUE(exits[0].killed);
    ASSERT_TRUE(probes.has_value()) << channel::describe(probes);
    ASSERT_EQ(probes->size(), 3u);
    EXPECT_EQ((*probes)[2].id, 3u);
    EXPECT_EQ((*probes)[2].path, "/bin/fib");
    EXPECT_EQ((*probes)[0].kind, wire::probe_kind::entry);
    ASSERT_TRUE(memory.has_value()) << channel::describe(memory);
    ASSERT_EQ(memory->size(), 5000u);
    for (size_t i = 0; i < memory->size(); i++) {
        ASSERT_EQ((*memory)[i], static_cast<uint8_t>(0x40000000 + i)) << i;
    }
    ASSERT_TRUE(threads.has_value());
    ASSERT_EQ(threads->size(), 1u);
    EXPECT_EQ((*threads)[0].state, wire::thread_state::stopped);
}

// A kernel that stops reading: the writes stall, and the write deadline (the daemon's session
// helper) ends the connection instead of letting the queue grow without end.
TEST(ChannelClient, AKernelThatStopsReadingIsDisconnectedAtTheWriteDeadline) {
    harness h;
    std::string why;
    channel::event_handlers handlers;
    handlers.on_disconnect = [&](const std::string& reason) { why = reason; };
    channel::client_options o = fast_options();
    o.request_timeout = 60s;
    o.write_timeout = 300ms;
    channel::client c(h.io, o, handlers);
    std::atomic<bool> done{false};
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            // About 2 MiB of requests: far more than the socket pair buffers.
            auto ex = co_await asio::this_coro::executor;
            for (uint64_t i = 0; i < 80000; i++)
                asio::co_spawn(ex, c.ping(i), asio::detached);
            while (why.empty()) {
                asio::steady_timer t(ex, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            done = true;
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            // ...and reads nothing more.
            for (int i = 0; i < 3000 && !done; i++)
                std::this_thread::sleep_for(10ms);
        });
    EXPECT_NE(why.find("no write progress"), std::string::npos) << why;
}

TEST(ChannelClient, DisconnectFailsPendingAndReconnectKeepsTheSession) {
    harness h;
    std::vector<std::string> disconnects;
    channel::event_handlers handlers;
    handlers.on_disconnect = [&](const std::string& why) { disconnects.push_back(why); };
    channel::client c(h.io, fast_options(), handlers);
    channel::call_result<void> pending;
    channel::call_result<void> while_down;
    channel::call_result<channel::hello_info> again;
    wire::hello_request first{}, second{};
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            pending = co_await c.thread_resume(3, 3);
            while_down = co_await c.thread_resume(3, 3);
        },
        [&](fake_kernel& k) {
            first = answer_hello(k, 100);
            ASSERT_TRUE(k.expect(wire::thread_resume_request::code));
            k.close();
        });
    ASSERT_FALSE(pending.has_value());
    EXPECT_EQ(pending.error().errc, channel::call_errc::disconnected);
    ASSERT_FALSE(while_down.has_value());
    EXPECT_EQ(while_down.error().errc, channel::call_errc::not_connected);
    ASSERT_EQ(disconnects.size(), 1u);
    EXPECT_FALSE(c.connected());

    // A new connection (the "kernel" rebooted: a new boot id).
    h.reconnect();
    h.run([&]() -> asio::awaitable<void> { again = co_await c.open_fd(h.client_fd); },
          [&](fake_kernel& k) { second = answer_hello(k, 200); });
    ASSERT_TRUE(again.has_value()) << channel::describe(again);
    EXPECT_TRUE(again->rebooted);
    EXPECT_EQ(first.flags & wire::hello_flag_reset, wire::hello_flag_reset);
    EXPECT_EQ(second.flags & wire::hello_flag_reset, 0u);
    EXPECT_EQ(first.session_id, second.session_id);
}

TEST(ChannelClient, OpenFailsWithoutAListener) {
    harness h;
    auto options = fast_options();
    options.connect_timeout = 200ms;
    channel::client c(h.io, options, {});
    channel::call_result<channel::hello_info> r;
    h.run([&]() -> asio::awaitable<void> { r = co_await c.open("/nonexistent/agent.sock"); },
          [](fake_kernel&) {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().errc, channel::call_errc::not_connected);
}

// Records received on a connection that broke before their acknowledgement went: after the
// reconnect the kernel still counts them unacknowledged and sends them again; the client has
// them all, and must still acknowledge them, or the kernel's window stays shut.
TEST(ChannelClient, AcknowledgementsOwedWhenAConnectionBrokeAreSentAfterTheReconnect) {
    harness h;
    size_t received = 0;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> r) { received += r.size(); };
    channel::client_options o = fast_options();
    o.hit_ack_delay = 100ms;
    channel::client c(h.io, o, handlers);
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (received < 10) {
                asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 7, 1);
            k.send_bytes(hits_frame(1, 10));
        });
    h.kernel->close();
    h.reconnect();
    std::atomic<uint64_t> ack = 0;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (ack == 0) {
                asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 7, 1);           // nothing was acknowledged
            k.send_bytes(hits_frame(1, 10)); // the same records again, nothing new
            auto a = k.expect_message<wire::hits_ack_notice>();
            ack = a ? a->second.next_seq : 1;
        });
    EXPECT_EQ(received, 10u);
    EXPECT_EQ(ack, 11u);
    EXPECT_EQ(c.stats().duplicate_records, 10u);
}

TEST(ChannelClient, RecordsSentAgainAfterAReconnectAreDeliveredOnce) {
    harness h;
    std::vector<uint64_t> seqs;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> r) {
        for (const auto& x : r) {
            seqs.push_back(x.seq);
        }
    };
    channel::client c(h.io, fast_options(), handlers);
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (seqs.size() < 10) {
                asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 7, 1);
            k.send_bytes(hits_frame(1, 10));
        });
    // The connection breaks before the kernel saw the acks; the same kernel (boot id 7) still has
    // records 6.. and sends them again after the hello.
    h.kernel->close();
    h.reconnect();
    std::atomic<uint64_t> ack = 0;
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            while (seqs.size() < 12 || ack == 0) {
                asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            auto hello = answer_hello(k, 7, 6);
            EXPECT_EQ(hello.flags & wire::hello_flag_reset, 0u);
            k.send_bytes(hits_frame(6, 7)); // 6..12
            auto a = k.expect_message<wire::hits_ack_notice>();
            ack = a ? a->second.next_seq : 1;
        });
    ASSERT_EQ(seqs.size(), 12u);
    for (size_t i = 0; i < seqs.size(); i++) {
        EXPECT_EQ(seqs[i], i + 1);
    }
    EXPECT_EQ(ack, 13u);
    EXPECT_EQ(c.stats().duplicate_records, 5u);
    EXPECT_EQ(c.stats().seq_gaps, 0u);
}

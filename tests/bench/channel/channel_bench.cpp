// bench_channel [LOOP_CALLS] [CHANNEL_MIB]
//
// Boots the reference kernel in QEMU and measures, in the same run:
//   1. the raw guest-to-host throughput of the virtio-console channel (channel_test: the agent
//      sends filler frames as fast as its transmit queue takes them), in bytes/s;
//   2. probe-hit events per second delivered through the agent while /bin/loop runs with a
//      trace entry probe on step(), with the kernel's drop count and any unaccounted loss.
// Prints events/s / (channel bytes/s / wire bytes per event): the share of the channel's
// capacity the hit path achieves (goal >= 0.5 with zero unaccounted loss).
#include "channel/channel_client.hpp"
#include "ruprobes/wire/frame.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/qemu_guest.hpp"
#include "symbols/program_symbols.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace channel = ruprobes::channel;
namespace wire = ruprobes::wire;
using clock_type = std::chrono::steady_clock;

namespace {

asio::awaitable<bool> wait_until(std::function<bool()> pred, std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (!pred()) {
        if (clock_type::now() >= deadline) {
            co_return false;
        }
        t.expires_after(1ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    co_return true;
}

double seconds(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

} // namespace

int main(int argc, char** argv) {
    const uint32_t loop_calls = argc > 1 ? static_cast<uint32_t>(std::atol(argv[1])) : 200000;
    const uint32_t channel_mib = argc > 2 ? static_cast<uint32_t>(std::atol(argv[2])) : 16;

    auto loaded =
        ruprobes::symbols::program_symbols::load(std::string(ruprobes::test::user_dir) + "/loop");
    if (!loaded) {
        std::fprintf(stderr, "bench_channel: cannot read the loop program\n");
        return 1;
    }
    auto step = (*loaded)->find_function("step");
    if (!step) {
        std::fprintf(stderr, "bench_channel: loop has no step()\n");
        return 1;
    }
    const uint64_t step_addr = step->address;

    ruprobes::test::temp_dir dir;
    ruprobes::test::guest_options guest_opts;
    guest_opts.agent_channel = true;
    guest_opts.append = "ruprobes.stay";
    ruprobes::test::qemu_guest guest(dir, guest_opts);

    asio::io_context io;
    uint64_t hits = 0, last_seq = 0;
    bool exited = false;
    clock_type::time_point last_hit;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> r) {
        hits += r.size();
        last_seq = r.back().seq;
        last_hit = clock_type::now();
    };
    handlers.on_exit = [&](const channel::exit_info&) { exited = true; };
    channel::client_options options;
    options.request_timeout = 120s;
    options.connect_timeout = 30s;
    channel::client c(io, options, handlers);

    int status = 1;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto hello = co_await c.open(guest.agent_socket());
            if (!hello.has_value()) {
                std::fprintf(stderr, "bench_channel: hello failed: %s\n",
                             channel::describe(hello).c_str());
                co_return;
            }
            // 1. Raw channel throughput (measured again after the hits, and averaged: the two
            // phases then see the same machine load).
            auto measure_channel = [&]() -> asio::awaitable<double> {
                const auto before = c.stats();
                auto t0 = clock_type::now();
                auto blast = co_await c.channel_test(channel_mib << 20, wire::max_payload);
                if (!blast.has_value()) {
                    std::fprintf(stderr, "bench_channel: channel_test failed: %s\n",
                                 channel::describe(blast).c_str());
                    co_return 0.0;
                }
                const auto st = c.stats();
                const uint64_t bytes = st.filler_bytes - before.filler_bytes;
                // Until the last filler arrived (the kernel waits a little before it answers).
                const double channel_s = seconds(st.last_filler - t0);
                std::printf("channel: %lu filler bytes in %.3f s (kernel queued %lu bytes in %.3f "
                            "s): %.1f MB/s, %lu of %lu frames received\n",
                            (unsigned long)bytes, channel_s, (unsigned long)blast->bytes,
                            blast->elapsed_ns / 1e9, bytes / channel_s / 1e6,
                            (unsigned long)(st.filler_frames - before.filler_frames),
                            (unsigned long)blast->frames);
                co_return double(bytes) / channel_s;
            };
            const double channel_before = co_await measure_channel();
            if (channel_before == 0.0) {
                co_return;
            }

            // 2. Hit events through the agent.
            auto spawned =
                co_await c.process_spawn("/bin/loop " + std::to_string(loop_calls), true);
            if (!spawned.has_value()) {
                co_return;
            }
            auto probe = co_await c.probe_add("/bin/loop", step_addr, wire::probe_kind::entry,
                                              wire::probe_mode::trace);
            if (!probe.has_value()) {
                std::fprintf(stderr, "bench_channel: probe_add failed: %s\n",
                             channel::describe(probe).c_str());
                co_return;
            }
            auto t2 = clock_type::now();
            (void)co_await c.thread_resume(spawned->pid, 0);
            co_await wait_until([&] { return exited; }, 600s);
            // The last records trail the exit; the kernel reports drops before further hits.
            co_await wait_until([&] { return hits + c.stats().hits_dropped >= loop_calls; }, 30s);
            auto t3 = hits > 0 ? last_hit : clock_type::now();
            const auto end = c.stats();
            const double events_ps = double(hits) / seconds(t3 - t2);
            const double channel_after = co_await measure_channel();
            const double channel_bps =
                channel_after > 0 ? (channel_before + channel_after) / 2 : channel_before;
            const double bytes_per_event =
                wire::hit_record_size +
                double(wire::header_size + 16 + wire::trailer_size) / wire::max_hits_per_frame;
            const double ratio = events_ps / (channel_bps / bytes_per_event);
            const uint64_t unaccounted =
                loop_calls - std::min<uint64_t>(loop_calls, hits + end.hits_dropped);
            std::printf("hits: %lu of %u calls delivered in %.3f s: %.0f events/s; dropped by the "
                        "kernel %lu, sequence gaps %lu, unaccounted %lu\n",
                        (unsigned long)hits, loop_calls, seconds(t3 - t2), events_ps,
                        (unsigned long)end.hits_dropped, (unsigned long)end.seq_gaps,
                        (unsigned long)unaccounted);
            std::printf("ratio: events/s / (channel bytes/s / %.1f bytes per event) = %.3f "
                        "(goal >= 0.5, zero unaccounted loss)\n",
                        bytes_per_event, ratio);
            status = unaccounted == 0 && end.seq_gaps == 0 ? 0 : 2;
        },
        [&](std::exception_ptr) { io.stop(); });
    io.run_for(900s);
    return status;
}

// The channel client (stub/channel) against a scripted fake kernel over a socketpair: handshake,
// typed requests and their errors, deadlines, pipelining, events, paging, a kernel
// that stops reading, and a disconnect followed by a reconnect. Hit batches and their
// acknowledgements: hit_acks_test.cpp.
#include "client_harness.hpp"

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

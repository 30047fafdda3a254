// The channel client's hit batches against the scripted fake kernel: delivery through garbage,
// go-back-N after a lost batch, and when acknowledgements go (gathered: hit_acks.hpp), also
// across a reconnect.
#include "client_harness.hpp"

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
    h.run_until(
        c, [&] { return done.load(); },
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
    h.run_until(
        c, [&] { return done.load(); },
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

TEST(ChannelClient, GapThatNeverFillsIsCountedAndAnnouncedInsteadOfWaitedOnForever) {
    harness h;
    size_t delivered = 0;
    std::vector<uint64_t> announced;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> r) { delivered += r.size(); };
    handlers.on_seq_gap = [&](uint64_t count) { announced.push_back(count); };
    channel::client c(h.io, fast_options(), handlers);
    h.run_until(
        c, [&] { return !(delivered < 5 + 31); },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            k.send_bytes(hits_frame(1, 5));
            // A kernel that never sends 6 and 7 again (which the reference kernel does not do):
            // after two windows' worth of records (2 * 512) the client takes the loss, counts it
            // and announces it.
            for (int i = 0; i < 40; i++) {
                k.send_bytes(hits_frame(8, 31));
                std::this_thread::sleep_for(2ms);
            }
        });
    EXPECT_EQ(delivered, 5u + 31);
    EXPECT_EQ(c.stats().seq_gaps, 2u);
    EXPECT_EQ(announced, std::vector<uint64_t>{2});
}

// A kernel whose harts interleave sends batches of a record or two: the batches that arrive
// after a lost one, up to a window of records, are many more than two windows' worth of full
// batches, and the client still waits for the kernel's resend instead of giving the gap up.
TEST(ChannelClient, GapFollowedByManySmallBatchesIsFilledByTheResend) {
    harness h;
    std::vector<uint64_t> seqs;
    std::vector<uint64_t> announced;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> records) {
        for (const auto& r : records) {
            seqs.push_back(r.seq);
        }
    };
    handlers.on_seq_gap = [&](uint64_t count) { announced.push_back(count); };
    channel::client c(h.io, fast_options(), handlers);
    constexpr uint64_t last = 8 + 400; // a window (512) holds 6..last
    std::atomic<bool> done{false};
    h.run_until(
        c, [&] { return done.load(); },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            k.send_bytes(hits_frame(1, 5));
            // 6 and 7 are lost; 8..last follow, one record per batch.
            std::vector<uint8_t> stream;
            for (uint64_t seq = 8; seq <= last; seq++) {
                auto f = hits_frame(seq, 1);
                stream.insert(stream.end(), f.begin(), f.end());
            }
            k.send_bytes(stream);
            // The kernel's resend: everything from the first unacknowledged record.
            uint64_t acked = 0;
            while (acked < 6) {
                auto a = k.expect_message<wire::hits_ack_notice>();
                ASSERT_TRUE(a);
                acked = a->second.next_seq;
            }
            ASSERT_EQ(acked, 6u) << "the client acknowledged records it never received";
            for (uint64_t first = 6; first <= last; first += 31) {
                k.send_bytes(hits_frame(first, uint16_t(std::min<uint64_t>(31, last + 1 - first))));
            }
            while (acked < last + 1) {
                auto a = k.expect_message<wire::hits_ack_notice>();
                ASSERT_TRUE(a);
                acked = a->second.next_seq;
            }
            done = true;
        });
    ASSERT_EQ(seqs.size(), last);
    for (size_t i = 0; i < seqs.size(); i++) {
        EXPECT_EQ(seqs[i], i + 1);
    }
    EXPECT_EQ(c.stats().seq_gaps, 0u);
    EXPECT_TRUE(announced.empty());
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
    h.run_until(
        c, [&] { return !(received < 10); },
        [&](fake_kernel& k) {
            answer_hello(k, 7, 1);
            k.send_bytes(hits_frame(1, 10));
        });
    h.kernel->close();
    h.reconnect();
    std::atomic<uint64_t> ack = 0;
    h.run_until(
        c, [&] { return !(ack == 0); },
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
    h.run_until(
        c, [&] { return !(seqs.size() < 10); },
        [&](fake_kernel& k) {
            answer_hello(k, 7, 1);
            k.send_bytes(hits_frame(1, 10));
        });
    // The connection breaks before the kernel saw the acks; the same kernel (boot id 7) still has
    // records 6.. and sends them again after the hello.
    h.kernel->close();
    h.reconnect();
    std::atomic<uint64_t> ack = 0;
    h.run_until(
        c, [&] { return !(seqs.size() < 12 || ack == 0); },
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

// hold_hit_acks: while the readers are behind, no acknowledgement goes (the kernel, out of
// window, sends nothing more); the one owed goes once they are not.
TEST(ChannelClient, AcknowledgementsWaitWhileTheReadersAreBehind) {
    harness h;
    std::atomic<bool> behind{true};
    std::atomic<int> asked{0};
    channel::client_options o = fast_options();
    o.hit_ack_delay = 0ms;
    o.hold_hit_acks = [&] {
        asked++;
        return behind.load();
    };
    channel::client c(h.io, o, {});
    uint64_t held = 0, acked = 0;
    std::atomic<bool> done{false};
    h.run_until(
        c, [&] { return done.load(); },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            k.send_bytes(hits_frame(1, 31));
            // Asked again and again, never answered while behind.
            while (asked < 20)
                std::this_thread::yield();
            auto none = k.expect_message<wire::hits_ack_notice>(50ms);
            held = none ? none->second.next_seq : 0;
            behind = false;
            auto a = k.expect_message<wire::hits_ack_notice>();
            acked = a ? a->second.next_seq : 0;
            done = true;
        });
    EXPECT_EQ(held, 0u) << "acknowledged while the readers were behind";
    EXPECT_EQ(acked, 32u);
}

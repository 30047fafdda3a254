// The channel client's reassembly of fetched data against the scripted fake kernel: a hit whose
// continuation records straddle two hits frames reaches on_fetched_hit whole, in seq order with
// the plain records around it, and every record is acknowledged.
#include "client_harness.hpp"

#include "ruprobes/wire/fetch.hpp"

#include <atomic>
#include <cstring>

namespace {

// A record in the wire layout: a hit record, or a continuation record of `hit_seq` with `data`.
std::array<uint8_t, wire::hit_record_size> plain_record(uint64_t seq, uint8_t flags = 0,
                                                        uint16_t fetch_records = 0) {
    std::array<uint8_t, wire::hit_record_size> raw{};
    wire::hit_record r{};
    r.seq = seq;
    r.pid = 3;
    r.tid = 3;
    r.probe_id = 1;
    r.kind = uint8_t(wire::probe_kind::entry);
    r.flags = flags;
    r.fetch_records = fetch_records;
    r.a[0] = seq;
    wire::byte_writer w(raw);
    wire::write_fields(w, r);
    return raw;
}

std::array<uint8_t, wire::hit_record_size>
continuation(uint64_t seq, uint64_t hit_seq, uint16_t index, std::span<const uint8_t> data) {
    std::array<uint8_t, wire::hit_record_size> raw{};
    std::memcpy(raw.data(), &seq, 8);
    std::memcpy(raw.data() + 8, &hit_seq, 8);
    uint16_t len = uint16_t(data.size());
    std::memcpy(raw.data() + 16, &index, 2);
    std::memcpy(raw.data() + 18, &len, 2);
    uint32_t probe = 1;
    std::memcpy(raw.data() + 32, &probe, 4);
    raw[36] = wire::hit_kind_fetch_data;
    std::memcpy(raw.data() + 40, data.data(), data.size());
    return raw;
}

std::vector<uint8_t> frame_of(uint64_t first,
                              const std::vector<std::array<uint8_t, wire::hit_record_size>>& recs) {
    std::vector<uint8_t> out(wire::max_frame);
    wire::frame_builder b(out, wire::hits_event::code, 0);
    wire::write_fields(b.payload(),
                       wire::hits_event{.first_seq = first, .count = uint16_t(recs.size())});
    for (const auto& r : recs)
        b.payload().data(r);
    out.resize(b.finish());
    return out;
}

} // namespace

TEST(ChannelClient, FetchedDataAcrossTwoFramesIsJoinedAndDeliveredInOrder) {
    harness h;
    std::vector<std::string> order; // "plain N" / "fetched N"
    std::vector<uint8_t> data;
    bool complete = false;
    channel::event_handlers handlers;
    handlers.on_hits = [&](std::span<const wire::hit_record> records) {
        for (const auto& r : records)
            order.push_back("plain " + std::to_string(r.seq));
    };
    handlers.on_fetched_hit = [&](const wire::hit_record& head, std::span<const uint8_t> d,
                                  bool c) {
        order.push_back("fetched " + std::to_string(head.seq));
        data.assign(d.begin(), d.end());
        complete = c;
        EXPECT_EQ(head.a[0], head.seq);
    };
    std::vector<uint8_t> fetched(150);
    for (size_t i = 0; i < fetched.size(); i++)
        fetched[i] = uint8_t(i + 1);
    channel::client c(h.io, fast_options(), handlers);
    std::atomic<uint64_t> acked = 0; // written by the kernel's script, read by the client
    h.run(
        [&]() -> asio::awaitable<void> {
            (void)co_await c.open_fd(h.client_fd);
            for (int i = 0; i < 500 && acked < 6; i++) {
                asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        [&](fake_kernel& k) {
            answer_hello(k, 1, 1);
            // seq 1 plain; seq 2 a hit with 150 bytes in two continuation records (3, 4), the
            // second in the next frame; seq 5 plain.
            auto a = frame_of(1, {plain_record(1), plain_record(2, wire::hit_flag_fetch, 2),
                                  continuation(3, 2, 1, std::span(fetched).first(88))});
            auto b = frame_of(
                4, {continuation(4, 2, 2, std::span(fetched).subspan(88)), plain_record(5)});
            k.send_bytes(a);
            k.send_bytes(b);
            while (acked < 6) {
                auto ack = k.expect_message<wire::hits_ack_notice>();
                ASSERT_TRUE(ack);
                acked = ack->second.next_seq;
            }
        });
    EXPECT_EQ(order, (std::vector<std::string>{"plain 1", "fetched 2", "plain 5"}));
    EXPECT_EQ(data, fetched);
    EXPECT_TRUE(complete);
    EXPECT_EQ(acked.load(), 6u);
    EXPECT_EQ(c.stats().hit_records, 3u);
    EXPECT_EQ(c.stats().fetch_records, 2u);
    EXPECT_EQ(c.stats().fetch_incomplete, 0u);
}

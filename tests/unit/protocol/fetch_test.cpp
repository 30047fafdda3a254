// ruprobes/wire/fetch.hpp: fetch lists as the kernel checks them, the items it writes as the
// daemon reads them, and the reassembly of a hit with its continuation records.
#include "ruprobes/wire/fetch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ruprobes::wire {
namespace {

std::vector<uint8_t> list_of(std::initializer_list<fetch_entry> entries) {
    std::vector<uint8_t> out(entries.size() * fetch_entry_size);
    size_t i = 0;
    for (const fetch_entry& e : entries)
        write_fetch_entry(out.data() + fetch_entry_size * i++, e);
    return out;
}

TEST(fetch_list, entries_round_trip_and_are_checked) {
    auto list = list_of({{fetch_op::reg, 10, 0, 0},
                         {fetch_op::mem, 2, 16, -24},
                         {fetch_op::str, fetch_reg_pc, 64, 0x7fffffff}});
    EXPECT_EQ(check_fetch_list(list), status::ok);
    fetch_entry e = read_fetch_entry(list.data() + 8);
    EXPECT_EQ(e.op, fetch_op::mem);
    EXPECT_EQ(e.reg, 2);
    EXPECT_EQ(e.len, 16);
    EXPECT_EQ(e.offset, -24);
    EXPECT_EQ(read_fetch_entry(list.data() + 16).offset, 0x7fffffff);
    EXPECT_EQ(fetch_entry_max_data(e), 4u + 8u + 16u);

    EXPECT_EQ(check_fetch_list(bytes(list.data(), 7)), status::malformed);
    EXPECT_EQ(check_fetch_list(list_of({{fetch_op(4), 1, 0, 0}})), status::malformed);
    EXPECT_EQ(check_fetch_list(list_of({{fetch_op::reg, 34, 0, 0}})), status::malformed);
    EXPECT_EQ(check_fetch_list(list_of({{fetch_op::mem, 1, 0, 0}})), status::malformed);
    EXPECT_EQ(check_fetch_list(list_of({{fetch_op::reg, 1, 8, 0}})), status::malformed);
    // 512 bytes on the worst case is the limit: 500 + 12 fits, one more byte does not.
    EXPECT_EQ(check_fetch_list(list_of({{fetch_op::str, 10, 500, 0}})), status::ok);
    EXPECT_EQ(check_fetch_list(list_of({{fetch_op::str, 10, 501, 0}})), status::too_large);
    std::vector<uint8_t> many;
    for (int i = 0; i < 17; i++) {
        auto one = list_of({{fetch_op::reg, 10, 0, 0}});
        many.insert(many.end(), one.begin(), one.end());
    }
    EXPECT_EQ(check_fetch_list(many), status::too_large);
}

// Items as the kernel writes them (engine/agent/fetch.cpp).
void put_item(std::vector<uint8_t>& out, fetch_op op, fetch_status st, uint64_t value,
              const std::string& data = {}) {
    size_t len = 8 + data.size();
    out.push_back(uint8_t(op));
    out.push_back(uint8_t(st));
    out.push_back(uint8_t(len));
    out.push_back(uint8_t(len >> 8));
    for (int i = 0; i < 8; i++)
        out.push_back(uint8_t(value >> (8 * i)));
    out.insert(out.end(), data.begin(), data.end());
}

TEST(fetch_items, the_reader_returns_each_item_and_stops_at_a_bad_one) {
    std::vector<uint8_t> data;
    put_item(data, fetch_op::reg, fetch_status::ok, 0x1234);
    put_item(data, fetch_op::mem, fetch_status::ok, 0x1000, std::string("\x01\x02\x03", 3));
    put_item(data, fetch_op::str, fetch_status::truncated, 0x2000, "hell");
    put_item(data, fetch_op::mem, fetch_status::unreadable, 0);
    fetch_item_reader r(data);
    auto a = r.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->op, fetch_op::reg);
    EXPECT_EQ(a->value, 0x1234u);
    auto b = r.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->value, 0x1000u);
    EXPECT_EQ(std::vector<uint8_t>(b->data.begin(), b->data.end()),
              (std::vector<uint8_t>{1, 2, 3}));
    auto c = r.next();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, fetch_status::truncated);
    EXPECT_EQ(std::string(c->data.begin(), c->data.end()), "hell");
    auto d = r.next();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->status, fetch_status::unreadable);
    EXPECT_TRUE(d->data.empty());
    EXPECT_FALSE(r.next());
    EXPECT_FALSE(r.failed());

    // Cut short, an unknown op, a register of the wrong length, an unreadable item with bytes.
    std::vector<uint8_t> cut(data.begin(), data.begin() + 13);
    fetch_item_reader rc(cut);
    EXPECT_TRUE(rc.next());
    EXPECT_FALSE(rc.next());
    EXPECT_TRUE(rc.failed());
    for (auto bad : {std::vector<uint8_t>{9, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                     std::vector<uint8_t>{1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                     std::vector<uint8_t>{2, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7},
                     std::vector<uint8_t>{2, 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}}) {
        fetch_item_reader rb(bad);
        EXPECT_FALSE(rb.next());
        EXPECT_TRUE(rb.failed());
    }
}

// A hit record and its continuation records as the kernel's ring holds them
// (hit_ring::push_with_data).
std::vector<hit_record> records_of(uint64_t seq, uint32_t probe, const std::vector<uint8_t>& data) {
    std::vector<hit_record> out;
    hit_record head{};
    head.seq = seq;
    head.probe_id = probe;
    head.kind = 1;
    head.flags = hit_flag_fetch;
    uint16_t n = uint16_t((data.size() + fetch_chunk_size - 1) / fetch_chunk_size);
    head.fetch_records = n;
    out.push_back(head);
    for (uint16_t i = 0; i < n; i++) {
        uint8_t raw[hit_record_size] = {};
        size_t at = i * fetch_chunk_size;
        size_t used = std::min(fetch_chunk_size, data.size() - at);
        std::copy(data.begin() + at, data.begin() + at + used, raw + 40);
        hit_record r{};
        r.seq = seq + 1 + i;
        r.time_ns = seq;
        r.pid = uint32_t(i + 1) | uint32_t(used) << 16;
        r.probe_id = probe;
        r.kind = hit_kind_fetch_data;
        for (int k = 0; k < 8; k++)
            r.a[k] = fetch_detail::le(raw + 40 + 8 * k, 8);
        r.sp = fetch_detail::le(raw + 104, 8);
        r.ra = fetch_detail::le(raw + 112, 8);
        r.ret = fetch_detail::le(raw + 120, 8);
        out.push_back(r);
    }
    return out;
}

struct collector {
    std::vector<uint64_t> plain_seqs;
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> fetched;
    std::vector<bool> complete;
    int strays = 0;
    void plain(const hit_record& r) { plain_seqs.push_back(r.seq); }
    void fetched_hit(const hit_record& h, bytes d, bool c) {
        fetched.emplace_back(h.seq, std::vector<uint8_t>(d.begin(), d.end()));
        complete.push_back(c);
    }
    void stray(const hit_record&) { strays++; }
};
// The assembler's sink interface.
struct sink_of {
    collector& c;
    void plain(const hit_record& r) { c.plain(r); }
    void fetched(const hit_record& h, bytes d, bool complete) { c.fetched_hit(h, d, complete); }
    void stray(const hit_record& r) { c.stray(r); }
};

TEST(fetch_assembler, joins_a_hit_with_its_continuations_across_batches) {
    std::vector<uint8_t> data(200);
    for (size_t i = 0; i < data.size(); i++)
        data[i] = uint8_t(i * 7);
    auto recs = records_of(10, 3, data); // 200 bytes: 3 continuation records
    ASSERT_EQ(recs.size(), 4u);
    hit_record before{};
    before.seq = 9;
    hit_record after{};
    after.seq = 14;
    collector c;
    sink_of s{c};
    fetch_assembler a;
    a.feed(before, s);
    a.feed(recs[0], s);
    a.feed(recs[1], s);
    EXPECT_TRUE(a.holding()); // a batch may end here; the next one continues
    a.feed(recs[2], s);
    a.feed(recs[3], s);
    a.feed(after, s);
    EXPECT_EQ(c.plain_seqs, (std::vector<uint64_t>{9, 14}));
    ASSERT_EQ(c.fetched.size(), 1u);
    EXPECT_EQ(c.fetched[0].first, 10u);
    EXPECT_EQ(c.fetched[0].second, data);
    EXPECT_TRUE(c.complete[0]);
    EXPECT_EQ(c.strays, 0);
}

TEST(fetch_assembler, a_broken_sequence_delivers_the_hit_incomplete_and_drops_strays) {
    std::vector<uint8_t> data(100, 0x5a);
    auto recs = records_of(20, 4, data); // 2 continuation records
    collector c;
    sink_of s{c};
    fetch_assembler a;
    a.feed(recs[0], s);
    a.feed(recs[2], s); // the first continuation went missing
    ASSERT_EQ(c.fetched.size(), 1u);
    EXPECT_FALSE(c.complete[0]);
    EXPECT_TRUE(c.fetched[0].second.empty());
    EXPECT_EQ(c.strays, 1);
    // A continuation with nothing held, and a head announcing too many records.
    a.feed(recs[1], s);
    EXPECT_EQ(c.strays, 2);
    hit_record head = recs[0];
    head.fetch_records = max_fetch_records + 1;
    a.feed(head, s);
    EXPECT_EQ(c.fetched.size(), 2u);
    EXPECT_FALSE(c.complete[1]);
    // A plain record in the middle ends the held hit.
    a.feed(recs[0], s);
    a.feed(recs[1], s);
    hit_record plain{};
    plain.seq = 99;
    a.feed(plain, s);
    ASSERT_EQ(c.fetched.size(), 3u);
    EXPECT_FALSE(c.complete[2]);
    EXPECT_EQ(c.fetched[2].second.size(), fetch_chunk_size);
    EXPECT_EQ(c.plain_seqs, (std::vector<uint64_t>{99}));
}

} // namespace
} // namespace ruprobes::wire

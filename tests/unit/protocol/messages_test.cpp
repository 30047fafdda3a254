// Every message of protocol/README.md §3 round-trips through encode/decode, and its fixed part
// has the size the spec (and the decoder's table) says.
#include "ruprobes/wire/codec.hpp"
#include "ruprobes/wire/trace_frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace wire = ruprobes::wire;

namespace {

wire::bytes as_bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string as_string(wire::bytes b) {
    return std::string(b.begin(), b.end());
}

// Encodes `m`, decodes the frame with a fresh decoder and returns the decoded message.
template <typename M>
M round_trip(const M& m, std::vector<uint8_t>& storage, uint32_t id = 77) {
    std::vector<uint8_t> out(wire::max_frame);
    size_t n = wire::encode(out, id, m);
    EXPECT_GT(n, 0u);
    storage.assign(wire::max_frame, 0);
    static std::vector<uint8_t> keep; // the decoded spans point into the frame's bytes
    keep.assign(out.begin(), out.begin() + n);
    wire::frame_decoder d(storage);
    EXPECT_EQ(d.feed(keep), n);
    auto f = d.next();
    EXPECT_TRUE(f.has_value());
    if (!f) {
        return M{};
    }
    EXPECT_EQ(f->type, M::code);
    EXPECT_EQ(f->request_id, id);
    auto r = wire::decode<M>(*f);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : M{};
}

template <typename M>
size_t payload_size(const M& m) {
    std::vector<uint8_t> out(wire::max_frame);
    size_t n = wire::encode(out, 1, m);
    return n - wire::header_size - wire::trailer_size;
}

// Finishes the frame `b` builds in `out` and decodes it again (into `storage`); nothing when
// either fails.
std::optional<wire::frame> finish_and_decode(wire::frame_builder& b,
                                             const std::vector<uint8_t>& out,
                                             std::vector<uint8_t>& storage) {
    size_t n = b.finish();
    if (n == 0)
        return std::nullopt;
    wire::frame_decoder d(storage);
    d.feed(std::span<const uint8_t>(out).first(n));
    return d.next();
}

} // namespace

TEST(Messages, FixedSizesMatchTheSpecTable) {
    using wire::fixed_payload_size;
    EXPECT_EQ(payload_size(wire::hello_request{}), *fixed_payload_size(wire::hello_request::code));
    EXPECT_EQ(payload_size(wire::hello_request{}), 24u);
    EXPECT_EQ(payload_size(wire::hello_response{}), 60u);
    EXPECT_EQ(payload_size(wire::ping_request{}), 8u);
    EXPECT_EQ(payload_size(wire::hits_ack_notice{}),
              *fixed_payload_size(wire::hits_ack_notice::code));
    EXPECT_EQ(payload_size(wire::probe_add_request{}), 20u);
    EXPECT_EQ(payload_size(wire::probe_add_request{}),
              *fixed_payload_size(wire::probe_add_request::code));
    EXPECT_EQ(payload_size(wire::process_spawn_request{}), 8u);
    EXPECT_EQ(payload_size(wire::thread_list_request{}), 8u);
    EXPECT_EQ(payload_size(wire::regs_set_request{}), 280u);
    EXPECT_EQ(payload_size(wire::regs_set_request{}),
              *fixed_payload_size(wire::regs_set_request::code));
    EXPECT_EQ(payload_size(wire::regs_get_response{}), 4u + 264u);
    EXPECT_EQ(payload_size(wire::fp_regs_set_request{}), 280u);
    EXPECT_EQ(payload_size(wire::fp_regs_set_request{}),
              *fixed_payload_size(wire::fp_regs_set_request::code));
    EXPECT_EQ(payload_size(wire::fp_regs_get_request{}),
              *fixed_payload_size(wire::fp_regs_get_request::code));
    EXPECT_EQ(payload_size(wire::fp_regs_get_response{}), 4u + 264u);
    EXPECT_EQ(payload_size(wire::mem_read_request{}), 16u);
    EXPECT_EQ(payload_size(wire::mem_write_request{}), 16u);
    EXPECT_EQ(payload_size(wire::kernel_ready_event{}), 24u);
    EXPECT_EQ(payload_size(wire::hits_event{}), 16u);
    EXPECT_EQ(payload_size(wire::drops_event{}), 32u);
    EXPECT_EQ(payload_size(wire::stop_event{}), 280u);
    EXPECT_EQ(payload_size(wire::stop_event{}), *fixed_payload_size(wire::stop_event::code));
    EXPECT_EQ(payload_size(wire::exec_event{}), 12u);
    EXPECT_EQ(payload_size(wire::exit_event{}), 12u);
    EXPECT_EQ(payload_size(wire::probe_add_response{.status = 22}), 4u);
    EXPECT_EQ(payload_size(wire::channel_test_request{}),
              *fixed_payload_size(wire::channel_test_request::code));
    EXPECT_EQ(payload_size(wire::filler_event{}), *fixed_payload_size(wire::filler_event::code));
    EXPECT_EQ(payload_size(wire::channel_test_response{}), 4u + 24u);

    std::vector<uint8_t> rec(wire::max_frame);
    wire::byte_writer w(rec);
    wire::write_fields(w, wire::hit_record{});
    EXPECT_EQ(w.size(), wire::hit_record_size);
    EXPECT_EQ(wire::header_size + 16 + wire::max_hits_per_frame * wire::hit_record_size +
                      wire::trailer_size <=
                  wire::max_frame,
              true);
}

TEST(Messages, HelloRoundTrip) {
    std::vector<uint8_t> s;
    auto req = round_trip(wire::hello_request{.min_version = 1,
                                              .max_version = 3,
                                              .capabilities = wire::capability::all,
                                              .session_id = 0x1122334455667788ull,
                                              .flags = wire::hello_flag_reset,
                                              .lease_ms = 3000},
                          s);
    EXPECT_EQ(req.max_version, 3);
    EXPECT_EQ(req.session_id, 0x1122334455667788ull);
    EXPECT_EQ(req.flags, wire::hello_flag_reset);
    EXPECT_EQ(req.lease_ms, 3000u);

    auto resp = round_trip(wire::hello_response{.status = 0,
                                                .version = 1,
                                                .capabilities = 5,
                                                .boot_id = 0xABCDEF,
                                                .time_ns = 123,
                                                .next_hit_seq = 9,
                                                .hits_dropped = 2,
                                                .hit_window = 512,
                                                .max_frame = 4096,
                                                .stopped_threads = 1},
                           s);
    EXPECT_EQ(resp.boot_id, 0xABCDEFu);
    EXPECT_EQ(resp.next_hit_seq, 9u);
    EXPECT_EQ(resp.hits_dropped, 2u);
    EXPECT_EQ(resp.hit_window, 512u);
    EXPECT_EQ(resp.stopped_threads, 1u);
}

TEST(Messages, ErrorResponseCarriesOnlyStatus) {
    std::vector<uint8_t> out(wire::max_frame);
    size_t n = wire::encode_status(out, wire::type_code(wire::msg_type::regs_get), 12,
                                   wire::status::not_stopped);
    ASSERT_EQ(n, wire::header_size + 4 + wire::trailer_size);
    std::vector<uint8_t> storage(wire::max_frame);
    wire::frame_decoder d(storage);
    d.feed(std::span<const uint8_t>(out).first(n));
    auto f = d.next();
    ASSERT_TRUE(f);
    auto r = wire::decode<wire::regs_get_response>(*f);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, wire::status::not_stopped);
    EXPECT_STREQ(wire::status_name(r->status), "not_stopped");
    EXPECT_STREQ(wire::status_name(1), "insn_ecall");
    EXPECT_STREQ(wire::type_name(f->type), "regs_get_response");
}

TEST(Messages, ProbeAddWithPathAndCondition) {
    std::vector<uint8_t> s;
    std::string path = "/bin/fib";
    std::array<uint8_t, 3> cond = {1, 2, 3};
    std::array<uint8_t, 8> fetch = {1, 10, 0, 0, 0, 0, 0, 0}; // a0
    auto m = round_trip(wire::probe_add_request{.pid = 4,
                                                .kind = uint8_t(wire::probe_kind::ret),
                                                .mode = uint8_t(wire::probe_mode::stop),
                                                .address = 0x10078,
                                                .path = as_bytes(path),
                                                .condition = cond,
                                                .fetch = fetch},
                        s);
    EXPECT_EQ(m.pid, 4u);
    EXPECT_EQ(m.kind, 2);
    EXPECT_EQ(m.mode, 1);
    EXPECT_EQ(m.address, 0x10078u);
    EXPECT_EQ(as_string(m.path), path);
    ASSERT_EQ(m.condition.size(), 3u);
    EXPECT_EQ(m.condition[2], 3);
    // The fetch list follows the condition; its length is the former reserved u16.
    ASSERT_EQ(m.fetch.size(), 8u);
    EXPECT_EQ(m.fetch[1], 10);
}

TEST(Messages, VariableFieldPastTheEndIsMalformed) {
    // A probe_add whose path_len claims more bytes than the payload has.
    std::array<uint8_t, 20> payload{};
    payload[6] = 50; // path_len
    wire::frame f{wire::probe_add_request::code, 1, payload};
    auto r = wire::decode<wire::probe_add_request>(f);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(wire::decode<wire::ping_request>(f).ok()); // wrong type
}

TEST(Messages, AggregationAddAndReadRoundTrip) {
    std::vector<uint8_t> s;
    std::string path = "/bin/fib";
    std::array<uint8_t, 2> cond = {9, 8};
    auto m = round_trip(
        wire::aggregation_add_request{.pid = 0,
                                      .kind = uint8_t(wire::probe_kind::ret),
                                      .key = uint8_t(wire::aggregation_key::pid),
                                      .value = uint8_t(wire::aggregation_value::ret),
                                      .histogram = uint8_t(wire::aggregation_histogram::linear),
                                      .address = 0x10078,
                                      .linear_min = uint64_t(-10),
                                      .linear_max = 100,
                                      .linear_step = 10,
                                      .path = as_bytes(path),
                                      .condition = cond},
        s);
    EXPECT_EQ(m.kind, 2);
    EXPECT_EQ(m.key, 1);
    EXPECT_EQ(m.value, 9);
    EXPECT_EQ(m.histogram, 2);
    EXPECT_EQ(m.address, 0x10078u);
    EXPECT_EQ(int64_t(m.linear_min), -10);
    EXPECT_EQ(m.linear_max, 100u);
    EXPECT_EQ(m.linear_step, 10u);
    EXPECT_EQ(as_string(m.path), path);
    ASSERT_EQ(m.condition.size(), 2u);
    EXPECT_EQ(m.condition[1], 8);
    EXPECT_EQ(wire::fixed_payload_size(wire::aggregation_add_request::code), 48u);

    auto r = round_trip(wire::aggregation_read_request{.probe_id = 5, .start = 7}, s);
    EXPECT_EQ(r.probe_id, 5u);
    EXPECT_EQ(r.start, 7u);

    // A page: the head and two keys with 3 buckets each.
    std::vector<uint8_t> out(wire::max_frame);
    wire::frame_builder b(out, wire::aggregation_read_response::code, 3);
    wire::write_fields(b.payload(),
                       wire::aggregation_read_response{
                           .total = 9, .count = 2, .buckets = 3, .hits = 1973, .dropped = 4});
    std::array<uint8_t, 24> buckets{};
    buckets[8] = 6; // bucket 1: 6
    for (uint64_t key = 1; key <= 2; key++)
        wire::write_fields(b.payload(), wire::aggregation_entry{.key = key,
                                                                .count = 10 * key,
                                                                .sum = 100,
                                                                .min = uint64_t(-3),
                                                                .max = 30,
                                                                .histogram = buckets});
    std::vector<uint8_t> storage(wire::max_frame);
    auto f = finish_and_decode(b, out, storage);
    ASSERT_TRUE(f);
    size_t used = 0;
    auto head = wire::decode<wire::aggregation_read_response>(*f, &used);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->total, 9u);
    EXPECT_EQ(head->buckets, 3u);
    EXPECT_EQ(head->hits, 1973u);
    EXPECT_EQ(head->dropped, 4u);
    wire::entry_reader<wire::aggregation_entry> entries(f->payload.subspan(used), head->count);
    auto e1 = entries.next();
    auto e2 = entries.next();
    ASSERT_TRUE(e1 && e2);
    EXPECT_FALSE(entries.next());
    EXPECT_FALSE(entries.failed());
    EXPECT_EQ(e2->key, 2u);
    EXPECT_EQ(e2->count, 20u);
    EXPECT_EQ(int64_t(e2->min), -3);
    ASSERT_EQ(e2->histogram.size(), 24u);
    EXPECT_EQ(e2->histogram[8], 6);
}

TEST(Messages, ProbeListWithEntries) {
    std::vector<uint8_t> out(wire::max_frame);
    wire::frame_builder b(out, wire::probe_list_response::code, 3);
    wire::write_fields(b.payload(), wire::probe_list_response{.status = 0, .total = 5, .count = 0});
    std::vector<std::string> paths = {"/bin/fib", "/bin/loop"};
    for (uint32_t i = 0; i < 2; i++) {
        wire::write_fields(b.payload(), wire::probe_entry{.probe_id = i + 1,
                                                          .pid = 0,
                                                          .kind = 1,
                                                          .mode = 0,
                                                          .address = 0x1000 + i,
                                                          .hits = 1973,
                                                          .path = as_bytes(paths[i])});
    }
    b.payload().patch(8, 2, 4); // count, after status and total
    std::vector<uint8_t> storage(wire::max_frame);
    auto f = finish_and_decode(b, out, storage);
    ASSERT_TRUE(f);
    size_t used = 0;
    auto head = wire::decode<wire::probe_list_response>(*f, &used);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->total, 5u);
    ASSERT_EQ(head->count, 2u);
    wire::entry_reader<wire::probe_entry> entries(f->payload.subspan(used), head->count);
    auto e1 = entries.next();
    auto e2 = entries.next();
    ASSERT_TRUE(e1 && e2);
    EXPECT_FALSE(entries.next());
    EXPECT_FALSE(entries.failed());
    EXPECT_EQ(as_string(e1->path), "/bin/fib");
    EXPECT_EQ(as_string(e2->path), "/bin/loop");
    EXPECT_EQ(e2->address, 0x1001u);
    EXPECT_EQ(e2->hits, 1973u);
}

TEST(Messages, HitsBatchUsesRecordSizeAsStride) {
    std::vector<uint8_t> out(wire::max_frame);
    wire::frame_builder b(out, wire::hits_event::code, 0);
    const uint16_t stride = wire::hit_record_size + 8; // a later version with a longer record
    wire::write_fields(b.payload(),
                       wire::hits_event{.first_seq = 100, .count = 3, .record_size = stride});
    for (uint64_t i = 0; i < 3; i++) {
        wire::hit_record r{};
        r.seq = 100 + i;
        r.pid = 3;
        r.tid = 3;
        r.pc = 0x10100;
        r.probe_id = 1;
        r.kind = uint8_t(wire::probe_kind::ret);
        r.flags = wire::hit_flag_ret_valid;
        r.a[7] = 77;
        r.ret = 610;
        wire::write_fields(b.payload(), r);
        b.payload().zeros(8);
    }
    size_t n = b.finish();
    ASSERT_GT(n, 0u);
    std::vector<uint8_t> storage(wire::max_frame);
    wire::frame_decoder d(storage);
    d.feed(std::span<const uint8_t>(out).first(n));
    auto f = d.next();
    ASSERT_TRUE(f);
    size_t used = 0;
    auto head = wire::decode<wire::hits_event>(*f, &used);
    ASSERT_TRUE(head.ok());
    wire::entry_reader<wire::hit_record> records(f->payload.subspan(used), head->count,
                                                 head->record_size);
    uint64_t expect_seq = head->first_seq;
    int count = 0;
    while (auto r = records.next()) {
        EXPECT_EQ(r->seq, expect_seq++);
        EXPECT_EQ(r->a[7], 77u);
        EXPECT_EQ(r->ret, 610u);
        EXPECT_EQ(r->flags, wire::hit_flag_ret_valid);
        count++;
    }
    EXPECT_FALSE(records.failed());
    EXPECT_EQ(count, 3);
}

TEST(Messages, HitsWithTruncatedRecordFail) {
    std::array<uint8_t, 16 + 100> payload{};
    payload[8] = 1;                             // count
    payload[10] = wire::hit_record_size & 0xFF; // record_size
    wire::frame f{wire::hits_event::code, 0, payload};
    size_t used = 0;
    auto head = wire::decode<wire::hits_event>(f, &used);
    ASSERT_TRUE(head.ok());
    wire::entry_reader<wire::hit_record> records(f.payload.subspan(used), head->count,
                                                 head->record_size);
    EXPECT_FALSE(records.next());
    EXPECT_TRUE(records.failed());
}

TEST(Messages, StopAndRegisters) {
    std::vector<uint8_t> s;
    wire::stop_event ev{
        .pid = 2, .tid = 2, .reason = uint8_t(wire::stop_reason::probe), .probe_id = 9};
    for (size_t i = 0; i < 32; i++) {
        ev.x[i] = i * 0x1111;
    }
    ev.pc = 0x10ABC;
    auto got = round_trip(ev, s);
    EXPECT_EQ(got.x, ev.x);
    EXPECT_EQ(got.pc, 0x10ABCu);
    EXPECT_EQ(got.probe_id, 9u);

    wire::regs_set_request rs{.pid = 2, .tid = 2, .mask = (1ull << 32) | (1ull << 10)};
    rs.x[10] = 5;
    rs.pc = 0x2000;
    auto rs2 = round_trip(rs, s);
    EXPECT_EQ(rs2.mask, rs.mask);
    EXPECT_EQ(rs2.x[10], 5u);
    EXPECT_EQ(rs2.pc, 0x2000u);

    wire::fp_regs_set_request fs{.pid = 2, .tid = 2, .mask = (1ull << 32) | (1ull << 10)};
    fs.f[10] = 0x4005bf0a8b145769; // e
    fs.fcsr = 0x21;
    auto fs2 = round_trip(fs, s);
    EXPECT_EQ(fs2.mask, fs.mask);
    EXPECT_EQ(fs2.f, fs.f);
    EXPECT_EQ(fs2.fcsr, 0x21u);

    wire::fp_regs_get_response fg{.status = 0};
    fg.f[31] = 0xffffffff3f800000; // 1.0f, NaN-boxed
    fg.fcsr = 0x1;
    auto fg2 = round_trip(fg, s);
    EXPECT_EQ(fg2.f, fg.f);
    EXPECT_EQ(fg2.fcsr, 1u);
}

TEST(Messages, ProcessesThreadsAndMemory) {
    std::vector<uint8_t> s;
    std::string cmd = "/bin/fib 15";
    auto sp = round_trip(wire::process_spawn_request{.flags = wire::spawn_flag_stop_at_entry,
                                                     .cmdline = as_bytes(cmd)},
                         s);
    EXPECT_EQ(as_string(sp.cmdline), cmd);
    EXPECT_EQ(sp.flags, wire::spawn_flag_stop_at_entry);

    auto spr = round_trip(wire::process_spawn_response{.status = 0, .pid = 7, .tid = 7}, s);
    EXPECT_EQ(spr.pid, 7u);

    auto tl = round_trip(wire::thread_list_request{.pid = 7, .start = 2}, s);
    EXPECT_EQ(tl.start, 2u);

    std::array<uint8_t, 4> data = {0x13, 0, 0, 0};
    auto mw = round_trip(wire::mem_write_request{.pid = 7, .address = 0x10000, .data = data}, s);
    EXPECT_EQ(mw.address, 0x10000u);
    ASSERT_EQ(mw.data.size(), 4u);
    EXPECT_EQ(mw.data[0], 0x13);

    auto mr = round_trip(wire::mem_read_request{.pid = 7, .length = 64, .address = 0x10000}, s);
    EXPECT_EQ(mr.length, 64u);

    std::string path = "/bin/fib", args = "15";
    auto ex = round_trip(
        wire::exec_event{.pid = 7, .ppid = 1, .path = as_bytes(path), .args = as_bytes(args)}, s);
    EXPECT_EQ(as_string(ex.path), path);
    EXPECT_EQ(as_string(ex.args), args);

    auto ext = round_trip(wire::exit_event{.pid = 7, .status = -3, .killed = 1}, s);
    EXPECT_EQ(ext.status, -3);
    EXPECT_EQ(ext.killed, 1);

    auto dr = round_trip(
        wire::drops_event{
            .hits_dropped = 10, .next_seq = 11, .events_dropped = 1, .frames_rejected = 2},
        s);
    EXPECT_EQ(dr.hits_dropped, 10u);
    EXPECT_EQ(dr.frames_rejected, 2u);
}

TEST(Messages, TracepointMessagesRoundTrip) {
    using wire::fixed_payload_size;
    EXPECT_EQ(payload_size(wire::tracepoint_add_request{}), 40u);
    EXPECT_EQ(payload_size(wire::tracepoint_add_request{}),
              *fixed_payload_size(wire::tracepoint_add_request::code));
    EXPECT_EQ(payload_size(wire::trace_start_request{}),
              *fixed_payload_size(wire::trace_start_request::code));
    EXPECT_EQ(payload_size(wire::trace_stop_request{}),
              *fixed_payload_size(wire::trace_stop_request::code));
    EXPECT_EQ(payload_size(wire::trace_status_request{}),
              *fixed_payload_size(wire::trace_status_request::code));
    EXPECT_EQ(payload_size(wire::trace_frame_read_request{}),
              *fixed_payload_size(wire::trace_frame_read_request::code));
    EXPECT_STREQ(wire::type_name(wire::trace_status_response::code), "trace_status_response");

    std::vector<uint8_t> s;
    const uint8_t path[] = {'/', 'b', 'i', 'n', '/', 'f', 'i', 'b'};
    const uint8_t actions[] = {1, 0, 0x27};
    auto add = round_trip(wire::tracepoint_add_request{.pid = 3,
                                                       .number = 2,
                                                       .address = 0x40000012,
                                                       .passcount = 5,
                                                       .registers = 0x400,
                                                       .path = wire::bytes(path),
                                                       .condition = {},
                                                       .actions = wire::bytes(actions)},
                          s);
    EXPECT_EQ(add.number, 2u);
    EXPECT_EQ(add.passcount, 5u);
    EXPECT_EQ(add.registers, 0x400u);
    EXPECT_EQ(std::string(add.path.begin(), add.path.end()), "/bin/fib");
    EXPECT_EQ(add.actions.size(), 3u);

    const uint8_t vars[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0xb1};
    auto st = round_trip(wire::trace_status_response{.status = 0,
                                                     .running = 0,
                                                     .stop_reason = 2,
                                                     .stopping_tracepoint = 0,
                                                     .error_code = 0,
                                                     .frames = 177,
                                                     .created = 177,
                                                     .buffer_size = 1024,
                                                     .buffer_free = 184,
                                                     .variables = wire::bytes(vars)},
                         s);
    EXPECT_EQ(st.stop_reason, 2u);
    EXPECT_EQ(st.frames, 177u);
    EXPECT_EQ(st.buffer_free, 184u);
    ASSERT_EQ(st.variables.size(), 16u);
    EXPECT_EQ(st.variables[8], 0xb1);
}

TEST(Messages, TraceFrameBlocksReadBack) {
    // R (x0..x31 = i, pc), M (4 bytes at 0x1000), V (variable 1 = 7), as the agent writes them.
    std::vector<uint8_t> data;
    data.push_back('R');
    for (uint64_t i = 0; i < 33; i++)
        for (int b = 0; b < 8; b++)
            data.push_back(static_cast<uint8_t>((i == 32 ? 0x40000012 : i) >> (8 * b)));
    const uint8_t mem[] = {'M', 0, 0x10, 0, 0, 0, 0, 0, 0, 4, 0, 0xa, 0, 0, 0};
    data.insert(data.end(), std::begin(mem), std::end(mem));
    const uint8_t var[] = {'V', 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0};
    data.insert(data.end(), std::begin(var), std::end(var));
    std::vector<uint8_t> s;
    auto f = round_trip(
        wire::trace_frame_read_response{
            .status = 0, .number = 3, .tracepoint = 1, .data = wire::bytes(data)},
        s);
    wire::trace_block_reader r(f.data);
    auto regs = r.next();
    ASSERT_TRUE(regs.has_value());
    EXPECT_EQ(wire::trace_block_reader::register_value(*regs, 10), 10u);
    EXPECT_EQ(wire::trace_block_reader::register_value(*regs, 32), 0x40000012u);
    auto m = r.next();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->address, 0x1000u);
    ASSERT_EQ(m->memory.size(), 4u);
    EXPECT_EQ(m->memory[0], 0xa);
    auto v = r.next();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->number, 1u);
    EXPECT_EQ(v->value, 7u);
    EXPECT_FALSE(r.next().has_value());
    EXPECT_FALSE(r.failed());

    // Truncated blocks and unknown tags end the reading as failed.
    for (size_t cut : {size_t(1), size_t(200), data.size() - 1}) {
        wire::trace_block_reader t(wire::bytes(data.data(), cut));
        while (t.next()) {
        }
        EXPECT_TRUE(t.failed()) << cut;
    }
    const uint8_t unknown[] = {'Z', 0};
    wire::trace_block_reader u{wire::bytes(unknown)};
    EXPECT_FALSE(u.next().has_value());
    EXPECT_TRUE(u.failed());
}

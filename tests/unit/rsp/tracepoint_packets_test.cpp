// The tracepoint packets' parsers (GDB manual E.6), with what gdb 13 really sends for
// `trace fib` / `collect n` / `teval $calls = $calls + 1` and a few malformed variants.
#include "ruprobes/rsp/tracepoint_packets.hpp"

#include <gtest/gtest.h>

using namespace ruprobes::rsp;

TEST(TracepointPackets, ANewTracepointWithItsHeader) {
    auto p = parse_tracepoint_packet("1:0000000040000012:E:0:5-");
    ASSERT_TRUE(p.has_value());
    EXPECT_FALSE(p->continuation);
    EXPECT_EQ(p->number, 1u);
    EXPECT_EQ(p->address, 0x40000012u);
    EXPECT_TRUE(p->enabled);
    EXPECT_EQ(p->passcount, 5u);
    EXPECT_TRUE(p->more);
    EXPECT_FALSE(p->condition.has_value());

    auto d = parse_tracepoint_packet("2:40:D:0:0:X3,220327");
    ASSERT_TRUE(d.has_value());
    EXPECT_FALSE(d->enabled);
    EXPECT_FALSE(d->more);
    ASSERT_TRUE(d->condition.has_value());
    EXPECT_EQ(*d->condition, (std::vector<uint8_t>{0x22, 0x03, 0x27}));
}

TEST(TracepointPackets, ActionsAsGdbSendsThem) {
    // gdb 13, `collect n` at fib's first line: the register n lives in, then the expression.
    auto r = parse_tracepoint_packet("-1:0000000040000012:R0400-");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->continuation);
    ASSERT_EQ(r->actions.size(), 1u);
    EXPECT_EQ(r->actions[0].kind, 'R');
    EXPECT_EQ(r->actions[0].register_mask, 0x400u);
    EXPECT_TRUE(r->more);
    auto x = parse_tracepoint_packet("-1:0000000040000012:X00000001,27");
    ASSERT_TRUE(x.has_value());
    ASSERT_EQ(x->actions.size(), 1u);
    EXPECT_EQ(x->actions[0].bytecode, std::vector<uint8_t>{0x27});
    EXPECT_EQ(x->actions[0].text, "X00000001,27");
    EXPECT_FALSE(x->more);

    // Several actions in one packet (older gdbs), memory with and without a base register, a
    // mask wider than 64 bits ($regs with the FP registers).
    auto m = parse_tracepoint_packet(
        "-1:40:M-1,1000,10M8,fffffffffffffff0,8R1ffffffffffffffffffX2,2627");
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(m->actions.size(), 4u);
    EXPECT_EQ(m->actions[0].base_register, -1);
    EXPECT_EQ(m->actions[0].offset, 0x1000u);
    EXPECT_EQ(m->actions[0].length, 0x10u);
    EXPECT_EQ(m->actions[1].base_register, 8);
    EXPECT_EQ(m->actions[1].offset, 0xfffffffffffffff0u);
    EXPECT_EQ(m->actions[2].register_mask, ~uint64_t(0));
    EXPECT_TRUE(m->actions[2].mask_beyond_64);
    EXPECT_EQ(m->actions[3].bytecode, (std::vector<uint8_t>{0x26, 0x27}));
}

TEST(TracepointPackets, MalformedOnesAreRefused) {
    for (const char* bad : {"", "1", "1:40", "1:40:Q:0:0", "1:40:E:0", "1:40:E:0:0:Xz",
                            "1:40:E:0:0:X2,27", "1:40:E:0:0:X1,27:X1,27", "1:40:E:0:0junk",
                            "-1:40:R", "-1:40:Rzz", "-1:40:M-2,0,4", "-1:40:M1,0,0", "-1:40:X5,27",
                            "-1:40:L", "-1:40:Q1", "1ffffffff:40:E:0:0", "-1:40:X1001,"}) {
        EXPECT_FALSE(parse_tracepoint_packet(bad).has_value()) << bad;
    }
    // More than 64 actions in one packet.
    std::string many = "-1:40:";
    for (int i = 0; i < 65; i++)
        many += "R1";
    EXPECT_FALSE(parse_tracepoint_packet(many).has_value());
    // While-stepping actions are parsed (the server refuses them).
    auto s = parse_tracepoint_packet("-1:40:SR1");
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->stepping);
}

TEST(TracepointPackets, VariablesFramesAndReadOnlyRanges) {
    // tvariable $calls = 0 (name hex "calls").
    auto v = parse_trace_variable_packet("1:0:0:63616c6c73");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->number, 1u);
    EXPECT_EQ(v->initial, 0u);
    EXPECT_EQ(v->name, "calls");
    auto neg = parse_trace_variable_packet("2:-5:0:78");
    ASSERT_TRUE(neg.has_value());
    EXPECT_EQ(static_cast<int64_t>(neg->initial), -5);
    EXPECT_FALSE(parse_trace_variable_packet("1:0:2:78").has_value());
    EXPECT_FALSE(parse_trace_variable_packet("1:0:0:7").has_value());

    auto n = parse_trace_frame_packet("3");
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->what, trace_frame_packet::kind::number);
    EXPECT_EQ(n->number, 3);
    auto none = parse_trace_frame_packet("ffffffff");
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->number, -1);
    auto pc = parse_trace_frame_packet("pc:40000012");
    ASSERT_TRUE(pc.has_value());
    EXPECT_EQ(pc->what, trace_frame_packet::kind::pc);
    EXPECT_EQ(pc->start, 0x40000012u);
    auto tdp = parse_trace_frame_packet("tdp:1");
    ASSERT_TRUE(tdp.has_value());
    EXPECT_EQ(tdp->what, trace_frame_packet::kind::tracepoint);
    auto range = parse_trace_frame_packet("range:40000012:4000001e");
    ASSERT_TRUE(range.has_value());
    EXPECT_EQ(range->what, trace_frame_packet::kind::range);
    EXPECT_EQ(range->end, 0x4000001eu);
    auto outside = parse_trace_frame_packet("outside:1:2");
    ASSERT_TRUE(outside.has_value());
    EXPECT_EQ(outside->what, trace_frame_packet::kind::outside);
    for (const char* bad : {"", "pc:", "range:1", "range:1:2:3", "tdp:x", "-2", "100000000"})
        EXPECT_FALSE(parse_trace_frame_packet(bad).has_value()) << bad;

    auto ro = parse_readonly_ranges("0000000040000000,0000000040000464:40001000,40001088");
    ASSERT_TRUE(ro.has_value());
    ASSERT_EQ(ro->size(), 2u);
    EXPECT_EQ((*ro)[1].second, 0x40001088u);
    EXPECT_TRUE(parse_readonly_ranges("")->empty());
    EXPECT_FALSE(parse_readonly_ranges("5,4").has_value());
    EXPECT_FALSE(parse_readonly_ranges("1,2:").has_value());
}

// The server layer's tracepoint packets against the fake kernel (which has no trace buffer):
// definitions are kept and uploaded, malformed or unoffered ones are refused, a start the
// target cannot do fails with its reason; and the translation of gdb's actions for the kernel.
#include "rsp/debug_session.hpp"
#include "rsp/tracepoints.hpp"
#include "run_task.hpp"
#include "target_model/fake_backend.hpp"

#include <gtest/gtest.h>

using namespace ruprobes::target;
using namespace ruprobes::rsp;
using ruprobes::test::run_task;
using ruprobes::test::run_until;

namespace {

struct tracepoints_test : ::testing::Test {
    boost::asio::io_context io;
    fake_backend fake{io.get_executor()};
    target_model model{fake};
    std::vector<std::string> replies;

    std::unique_ptr<debug_session> make() {
        session_options o;
        o.spawn = {"/bin/loop"};
        auto s = std::make_unique<debug_session>(
            model, std::move(o), [this](std::string p) { replies.push_back(std::move(p)); });
        run_task(io, s->start());
        return s;
    }
    std::string ask(debug_session& s, std::string_view payload) {
        replies.clear();
        run_task(io, s.handle(payload));
        if (!run_until(
                io, [&] { return !replies.empty(); }, std::chrono::seconds(2)))
            return "<no reply>";
        EXPECT_EQ(replies.size(), 1u) << payload;
        return replies.front();
    }
};

TEST_F(tracepoints_test, definitions_are_kept_and_uploaded) {
    auto s = make();
    EXPECT_EQ(ask(*s, "QTinit"), "OK");
    EXPECT_EQ(ask(*s, "QTDP:1:0000000000010000:E:0:5-"), "OK");
    EXPECT_EQ(ask(*s, "QTDP:-1:0000000000010000:R0400-"), "OK");
    EXPECT_EQ(ask(*s, "QTDP:-1:0000000000010000:X00000001,27"), "OK");
    EXPECT_EQ(ask(*s, "QTDV:1:0:0:63616c6c73"), "OK");
    EXPECT_EQ(ask(*s, "qTfP"), "T1:10000:E:0:5");
    EXPECT_EQ(ask(*s, "qTsP"), "A1:10000:R0400");
    EXPECT_EQ(ask(*s, "qTsP"), "A1:10000:X00000001,27");
    EXPECT_EQ(ask(*s, "qTsP"), "l");
    EXPECT_EQ(ask(*s, "qTfV"), "1:0:0:63616c6c73");
    EXPECT_EQ(ask(*s, "qTsV"), "l");
    EXPECT_EQ(ask(*s, "QTro:0000000000010000,0000000000010400"), "OK");
    EXPECT_EQ(ask(*s, "QTBuffer:circular:0"), "OK");
    EXPECT_EQ(ask(*s, "QTBuffer:size:-1"), "OK");
    EXPECT_EQ(ask(*s, "QTBuffer:size:400"), "OK");
    // The fake kernel has no trace buffer: the start fails with the reason, qTStatus is empty
    // (no tracepoints on this target), and no frame can be selected.
    std::string start = ask(*s, "QTStart");
    EXPECT_EQ(start.substr(0, 2), "E.") << start;
    EXPECT_NE(start.find("tracepoint 1 at 0x10000"), std::string::npos) << start;
    EXPECT_EQ(ask(*s, "qTStatus"), "");
    EXPECT_EQ(ask(*s, "QTFrame:0"), "F-1");
    EXPECT_EQ(ask(*s, "QTFrame:ffffffff"), "OK");
    EXPECT_EQ(ask(*s, "qTV:1"), "U");
    EXPECT_EQ(ask(*s, "QTinit"), "OK");
    EXPECT_EQ(ask(*s, "qTfP"), "l");
}

TEST_F(tracepoints_test, bad_and_unoffered_definitions_are_refused) {
    auto s = make();
    EXPECT_EQ(ask(*s, "QTDP:1:10000:Q:0:0"), "E01");
    EXPECT_EQ(ask(*s, "QTDP:-7:10000:R1"), "E01");      // no such tracepoint
    EXPECT_EQ(ask(*s, "QTDP:1:10000:E:3:0"), "E02");    // a step count: while-stepping
    EXPECT_EQ(ask(*s, "QTDP:1:10000:E:0:0:F4"), "E02"); // a fast tracepoint
    EXPECT_EQ(ask(*s, "QTDP:1:10000:E:0:0-"), "OK");
    EXPECT_EQ(ask(*s, "QTDP:-1:10000:SR1"), "E02"); // while-stepping actions
    EXPECT_EQ(ask(*s, "QTDP:-1:20000:R1"), "E01");  // another address
    EXPECT_EQ(ask(*s, "QTDV:0:0:0:78"), "E01");     // numbers start at 1
    EXPECT_EQ(ask(*s, "QTDV:64:0:0:78"), "E01");    // and end at 63
    EXPECT_EQ(ask(*s, "QTBuffer:circular:1"), "E01");
    EXPECT_EQ(ask(*s, "QTBuffer:size:zz"), "E01");
    EXPECT_EQ(ask(*s, "QTFrame:nope"), "E01");
    EXPECT_EQ(ask(*s, "qTBuffer:0"), "E01");
    EXPECT_EQ(ask(*s, "QTro:5,4"), "E01");
    // Up to 32 tracepoints (the kernel's slots).
    for (int i = 2; i <= 32; i++)
        EXPECT_EQ(ask(*s, "QTDP:" + std::to_string(i) + ":10000:E:0:0"), "OK") << i;
    EXPECT_EQ(ask(*s, "QTDP:99:10000:E:0:0"), "E02");
}

TEST(tracepoint_actions, gdb_actions_become_kernel_expressions) {
    auto p = parse_tracepoint_packet("-1:40:R1ffffffffffffffffffM-1,1000,10M8,fffffffffffffff0,4"
                                     "X2,2627");
    ASSERT_TRUE(p.has_value());
    uint64_t registers = 0;
    auto list = tracepoint_session::kernel_actions(p->actions, &registers);
    EXPECT_EQ(registers, (uint64_t(1) << 33) - 1); // x0..x31 and pc; FP registers are not kept
    // const64 0x1000; const16 0x10; trace; end
    const std::vector<uint8_t> absolute = {0x25, 0, 0,    0, 0,    0,    0,
                                           0x10, 0, 0x23, 0, 0x10, 0x0c, 0x27};
    // reg 8; const64 -16; add; const16 4; trace; end
    const std::vector<uint8_t> based = {0x26, 0,    8,    0x25, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xf0, 0x02, 0x23, 0,    4,    0x0c, 0x27};
    std::vector<uint8_t> expected;
    for (const auto* e : {&absolute, &based}) {
        expected.push_back(static_cast<uint8_t>(e->size()));
        expected.push_back(0);
        expected.insert(expected.end(), e->begin(), e->end());
    }
    expected.insert(expected.end(), {2, 0, 0x26, 0x27});
    EXPECT_EQ(list, expected);
}

} // namespace

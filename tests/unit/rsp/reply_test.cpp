// The typed replies of the RSP connection layer, byte for byte as the GDB manual (appendix E)
// writes them.
#include "ruprobes/rsp/reply.hpp"

#include <gtest/gtest.h>

namespace ruprobes::rsp {
namespace {

TEST(rsp_replies, ok_unsupported_and_errors) {
    EXPECT_EQ(replies::ok(), "OK");
    EXPECT_EQ(replies::unsupported(), "");
    EXPECT_EQ(replies::error(1), "E01");
    EXPECT_EQ(replies::error(0x2a), "E2a");
    EXPECT_EQ(replies::error(0x1ff), "Eff") << "only the low byte";
    EXPECT_EQ(replies::error_text("kernel not up"), "E.kernel not up");
}

TEST(rsp_replies, stop_reply_with_thread_registers_and_swbreak) {
    replies::stop s{5, 0x2a, 0x2b, {{32, 0x10078}, {2, 0x3ffffff0}}, true};
    EXPECT_EQ(replies::stop_reply(s), "T05thread:p2a.2b;20:7800010000000000;2:f0ffff3f00000000;"
                                      "swbreak:;");
    s.software_breakpoint = false;
    s.registers.clear();
    s.signal = 0x0b;
    EXPECT_EQ(replies::stop_reply(s), "T0bthread:p2a.2b;");
}

TEST(rsp_replies, exits_with_code_or_signal) {
    EXPECT_EQ(replies::exit_code(3, 0x11), "W03;process:11");
    EXPECT_EQ(replies::exit_code(0, -1), "W00");
    EXPECT_EQ(replies::exit_signal(9, 4), "X09;process:4");
}

TEST(rsp_replies, registers_and_memory_as_target_order_hex) {
    const uint64_t values[] = {0, 0x0102030405060708};
    EXPECT_EQ(replies::registers(values), "0000000000000000"
                                          "0807060504030201");
    EXPECT_EQ(replies::register_value(0x1234), "3412000000000000");
    EXPECT_EQ(replies::register_value(0x1234, 4), "34120000");
    const uint8_t bytes[] = {0x13, 0x00, 0xff};
    EXPECT_EQ(replies::memory(bytes), "1300ff");
    EXPECT_EQ(replies::memory({}), "");
}

TEST(rsp_replies, thread_list_is_cut_at_the_size_and_ends_with_l) {
    std::vector<std::pair<int64_t, int64_t>> threads{{1, 1}, {1, 2}, {1, 3}};
    size_t used = 0;
    EXPECT_EQ(replies::thread_list(threads, 1000, used), "mp1.1,p1.2,p1.3");
    EXPECT_EQ(used, 3u);
    EXPECT_EQ(replies::thread_list(threads, 6, used), "mp1.1,p1.2");
    EXPECT_EQ(used, 2u) << "the thread that passed the size is in, and counted";
    EXPECT_EQ(replies::thread_list({}, 1000, used), "l");
    EXPECT_EQ(used, 0u);
    EXPECT_EQ(replies::current_thread(0x10, 0x11), "QCp10.11");
}

TEST(rsp_replies, attached_console_output_and_xfer_chunks) {
    EXPECT_EQ(replies::attached(true), "1");
    EXPECT_EQ(replies::attached(false), "0");
    EXPECT_EQ(replies::console_output("ok\n"), "O6f6b0a");
    EXPECT_EQ(replies::xfer_chunk("abcdef", 0, 4), "mabcd");
    EXPECT_EQ(replies::xfer_chunk("abcdef", 4, 4), "lef");
    EXPECT_EQ(replies::xfer_chunk("abcdef", 6, 4), "l");
    EXPECT_EQ(replies::xfer_chunk("abcdef", 99, 4), "l");
}

} // namespace
} // namespace ruprobes::rsp

#include "gdb_wrapper/line_buffer.hpp"

#include <gtest/gtest.h>

using ruprobes::gdb_wrapper::line_buffer;

namespace {

TEST(line_buffer, holds_a_token_until_its_record_ends) {
    line_buffer b;
    EXPECT_EQ(b.take_lines("12"), "");
    EXPECT_EQ(b.pending(), 2u);
    EXPECT_EQ(b.take_lines("^done\n"), "12^done\n");
    EXPECT_EQ(b.pending(), 0u);
}

TEST(line_buffer, passes_every_complete_line_and_keeps_the_rest) {
    line_buffer b;
    EXPECT_EQ(b.take_lines("=a\n*stopped\n(gd"), "=a\n*stopped\n");
    EXPECT_EQ(b.take_lines("b) \n"), "(gdb) \n");
    EXPECT_EQ(b.take_lines("~\"x"), "");
    EXPECT_EQ(b.take_rest(), "~\"x");
    EXPECT_EQ(b.take_rest(), "");
}

TEST(line_buffer, an_endless_line_is_passed_on_in_bounded_pieces) {
    line_buffer b;
    std::string chunk(line_buffer::max_partial / 2, 'x');
    EXPECT_EQ(b.take_lines(chunk), "");
    std::string out = b.take_lines(chunk);
    EXPECT_EQ(out.size(), line_buffer::max_partial);
    EXPECT_EQ(b.pending(), 0u);
}

} // namespace

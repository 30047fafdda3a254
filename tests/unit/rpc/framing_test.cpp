// frame_reader / encode_frame: both framings, detection, split reads, size limit, bad headers.
#include "ruprobes/jsonrpc/framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ruprobes::jsonrpc {
namespace {

using kind = frame_event::kind;

// Every message body the reader yields from `input` fed in pieces of `chunk` bytes.
std::vector<std::string> read_all(frame_reader& r, const std::string& input, std::size_t chunk) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < input.size(); i += chunk) {
        r.feed(std::string_view(input).substr(i, chunk));
        for (frame_event e = r.next(); e.what != kind::need_more; e = r.next()) {
            EXPECT_EQ(e.what, kind::message);
            out.push_back(e.body);
        }
    }
    return out;
}

TEST(framing, detects_line_framing_and_splits_lines) {
    frame_reader r(1024);
    auto msgs = read_all(r, "\n  {\"a\":1}\n[1,2]\r\n\n   \n{\"b\":2}\n", 1000);
    EXPECT_EQ(r.detected(), framing::line);
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[0], "{\"a\":1}");
    EXPECT_EQ(msgs[1], "[1,2]");
    EXPECT_EQ(msgs[2], "{\"b\":2}");
}

TEST(framing, line_framing_byte_by_byte) {
    frame_reader r(1024);
    auto msgs = read_all(r, "{\"x\":\"y\"}\n{\"z\":3}\n", 1);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1], "{\"z\":3}");
}

TEST(framing, line_without_newline_is_not_yet_a_message) {
    frame_reader r(1024);
    r.feed("{\"a\":1}");
    EXPECT_EQ(r.next().what, kind::need_more);
    r.feed("\n");
    EXPECT_EQ(r.next().body, "{\"a\":1}");
}

TEST(framing, detects_content_length_framing) {
    frame_reader r(1024);
    std::string body1 = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}";
    std::string body2 = "{\"a\":\"line\\nbreak\"}";
    std::string input = "Content-Length: " + std::to_string(body1.size()) +
                        "\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" +
                        body1 + "content-length:" + std::to_string(body2.size()) + "\r\n\r\n" +
                        body2;
    for (std::size_t chunk : {1u, 3u, 7u, 1000u}) {
        frame_reader r2(1024);
        auto msgs = read_all(r2, input, chunk);
        EXPECT_EQ(r2.detected(), framing::content_length);
        ASSERT_EQ(msgs.size(), 2u) << "chunk " << chunk;
        EXPECT_EQ(msgs[0], body1);
        EXPECT_EQ(msgs[1], body2);
    }
}

TEST(framing, content_length_body_may_hold_newlines) {
    frame_reader r(1024);
    std::string body = "{\n\"a\": 1\n}";
    auto msgs =
        read_all(r, "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body, 4);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], body);
}

TEST(framing, oversized_line_is_skipped_and_reported_then_next_line_works) {
    frame_reader r(16);
    r.feed("{" + std::string(40, 'x'));
    frame_event e = r.next();
    EXPECT_EQ(e.what, kind::oversized);
    EXPECT_GE(e.size, 17u);
    r.feed(std::string(1000, 'y')); // the rest of the huge line is dropped, not buffered
    EXPECT_EQ(r.next().what, kind::need_more);
    r.feed("zzz\n{\"ok\":1}\n");
    e = r.next();
    EXPECT_EQ(e.what, kind::message);
    EXPECT_EQ(e.body, "{\"ok\":1}");
}

TEST(framing, oversized_complete_line_reports_its_size) {
    frame_reader r(16);
    r.feed(std::string("{\"") + std::string(20, 'a') + "\":1}\n{}\n");
    frame_event e = r.next();
    EXPECT_EQ(e.what, kind::oversized);
    EXPECT_EQ(e.size, 26u);
    EXPECT_EQ(r.next().body, "{}");
}

TEST(framing, oversized_content_length_body_is_skipped) {
    frame_reader r(16);
    std::string big(100, ' ');
    std::string input = "Content-Length: 100\r\n\r\n" + big + "Content-Length: 2\r\n\r\n{}";
    r.feed(input.substr(0, 50));
    frame_event e = r.next();
    EXPECT_EQ(e.what, kind::oversized);
    EXPECT_EQ(e.size, 100u);
    EXPECT_EQ(r.next().what, kind::need_more);
    r.feed(input.substr(50));
    e = r.next();
    EXPECT_EQ(e.what, kind::message);
    EXPECT_EQ(e.body, "{}");
}

TEST(framing, bad_headers_are_fatal) {
    for (std::string input : {"Content-Length: abc\r\n\r\n{}", "Bogus header line\r\n\r\n",
                              "Content-Type: x\r\n\r\n{}", "Content-Length: -1\r\n\r\n"}) {
        frame_reader r(1024);
        r.feed(input);
        frame_event e = r.next();
        EXPECT_EQ(e.what, kind::bad_header) << input;
        EXPECT_FALSE(e.reason.empty());
        EXPECT_EQ(r.next().what, kind::bad_header);
    }
}

TEST(framing, endless_header_block_is_fatal) {
    frame_reader r(1024);
    r.feed("Content-Length: 2\r\nX-Pad: " + std::string(9000, 'p'));
    EXPECT_EQ(r.next().what, kind::bad_header);
}

TEST(framing, encode_both_framings) {
    EXPECT_EQ(encode_frame(framing::line, "{}"), "{}\n");
    EXPECT_EQ(encode_frame(framing::unknown, "[]"), "[]\n");
    EXPECT_EQ(encode_frame(framing::content_length, "{\"a\":1}"),
              "Content-Length: 7\r\n\r\n{\"a\":1}");
}

TEST(framing, encoded_frames_read_back) {
    for (framing f : {framing::line, framing::content_length}) {
        std::string stream;
        for (int i = 0; i < 5; i++)
            stream += encode_frame(f, "{\"i\":" + std::to_string(i) + "}");
        frame_reader r(1024);
        auto msgs = read_all(r, stream, 5);
        EXPECT_EQ(r.detected(), f);
        ASSERT_EQ(msgs.size(), 5u);
        EXPECT_EQ(msgs[4], "{\"i\":4}");
    }
}

} // namespace
} // namespace ruprobes::jsonrpc

// RSP connection layer, bytes side, against scripted byte streams.
#include "ruprobes/rsp/framer.hpp"

#include <gtest/gtest.h>

using namespace ruprobes::rsp;

namespace {

std::vector<frame> feed(framer& f, std::string_view bytes) {
    std::vector<frame> out;
    f.feed(bytes, out);
    return out;
}

TEST(framer, packet_with_good_checksum) {
    framer f;
    auto out = feed(f, "$qSupported:multiprocess+#c6");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, frame_kind::packet);
    EXPECT_EQ(out[0].payload, "qSupported:multiprocess+");
}

TEST(framer, bad_checksum_is_reported_and_stream_stays_in_sync) {
    framer f;
    auto out = feed(f, "$g#00$g#67");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, frame_kind::bad_checksum);
    EXPECT_EQ(out[1].kind, frame_kind::packet);
    EXPECT_EQ(out[1].payload, "g");
}

TEST(framer, acks_naks_and_interrupt_outside_packets) {
    framer f;
    auto out = feed(f, "+-\x03noise+");
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].kind, frame_kind::ack);
    EXPECT_EQ(out[1].kind, frame_kind::nak);
    EXPECT_EQ(out[2].kind, frame_kind::interrupt);
    EXPECT_EQ(out[3].kind, frame_kind::ack);
    EXPECT_EQ(f.ignored_bytes(), 5u);
}

TEST(framer, partial_reads_byte_by_byte) {
    framer f;
    std::string stream = "+$m10000,4#" + checksum_hex("m10000,4") + "$?#3f";
    std::vector<frame> out;
    for (char c : stream)
        f.feed(std::string_view(&c, 1), out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[1].payload, "m10000,4");
    EXPECT_EQ(out[2].payload, "?");
}

TEST(framer, interrupt_byte_inside_a_packet_is_data) {
    framer f;
    std::string raw = std::string("X0,1:") + '\x03';
    auto out = feed(f, "$" + raw + "#" + checksum_hex(raw));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, frame_kind::packet);
    EXPECT_EQ(out[0].payload, raw);
}

TEST(framer, escapes_are_decoded) {
    framer f;
    // '}' then 0x03 ('#' ^ 0x20), 0x04 ('$' ^ 0x20), 0x5d ('}' ^ 0x20), 0x0a ('*' ^ 0x20)
    std::string raw = "X0,4:}\x03}\x04}]}\x0a";
    auto out = feed(f, "$" + raw + "#" + checksum_hex(raw));
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].kind, frame_kind::packet);
    EXPECT_EQ(out[0].payload, "X0,4:#$}*");
}

TEST(framer, run_length_is_expanded) {
    framer f;
    // "0* " = '0' and 32 - 29 = 3 more: "0000" (GDB manual E.1)
    auto out = feed(f, "$0* #" + checksum_hex("0* "));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload, "0000");
}

TEST(framer, broken_rle_and_escape_are_malformed) {
    framer f;
    auto out = feed(f, "$*a#" + checksum_hex("*a") + "$ab}#" + checksum_hex("ab}"));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, frame_kind::malformed);
    EXPECT_EQ(out[1].kind, frame_kind::malformed);
}

TEST(framer, bad_checksum_digits_are_malformed) {
    framer f;
    auto out = feed(f, "$g#zz$g#67");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, frame_kind::malformed);
    EXPECT_EQ(out[1].kind, frame_kind::packet);
}

TEST(framer, oversize_packet_is_dropped_and_the_next_one_works) {
    framer f(16);
    std::string big(100, 'a');
    auto out = feed(f, "$" + big + "#" + checksum_hex(big) + "$?#3f");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, frame_kind::oversize);
    EXPECT_EQ(out[1].kind, frame_kind::packet);
    EXPECT_EQ(out[1].payload, "?");
}

TEST(framer, dollar_inside_packet_restarts_it) {
    framer f;
    auto out = feed(f, "$qSup$?#3f");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload, "?");
}

TEST(encode, packet_checksum_and_escapes) {
    EXPECT_EQ(encode_packet("OK"), "$OK#9a");
    EXPECT_EQ(encode_packet(""), "$#00");
    EXPECT_EQ(encode_packet("a#b"), "$a}\x03"
                                    "b#" +
                                        checksum_hex("a}\x03"
                                                     "b"));
}

TEST(encode, round_trips_through_the_framer_with_rle) {
    std::string payloads[] = {"0000000000000000000000000000000000000000",
                              "T05thread:p1.1;",
                              std::string("bin\0\0\0\0\0\0\0\0\0#$}*", 17),
                              "aaaaaaa",
                              "aaaaaaaa",
                              std::string(300, 'f')};
    for (const auto& p : payloads) {
        for (bool rle : {false, true}) {
            framer f(4096);
            auto out = feed(f, encode_packet(p, rle));
            ASSERT_EQ(out.size(), 1u) << p;
            EXPECT_EQ(out[0].kind, frame_kind::packet);
            EXPECT_EQ(out[0].payload, p);
        }
    }
    EXPECT_LT(encode_packet(std::string(64, '0'), true).size(), 16u);
}

} // namespace

// The incremental frame decoder: split input, garbage, rejected frames and resynchronisation.
#include "ruprobes/wire/codec.hpp"
#include "ruprobes/wire/crc32.hpp"
#include "ruprobes/wire/word_checksum.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace wire = ruprobes::wire;
using wire::reject_reason;

namespace {

std::vector<uint8_t> ping_frame(uint32_t id, uint64_t cookie) {
    std::vector<uint8_t> out(wire::max_frame);
    size_t n = wire::encode(out, id, wire::ping_request{.cookie = cookie});
    out.resize(n);
    return out;
}

// A decoder with its buffer, and the cookies of every ping it decoded.
struct harness {
    std::vector<uint8_t> storage = std::vector<uint8_t>(wire::max_frame);
    wire::frame_decoder decoder{storage};
    std::vector<uint64_t> cookies;
    std::vector<uint32_t> ids;

    void push(std::span<const uint8_t> input) {
        while (true) {
            size_t n = decoder.feed(input);
            input = input.subspan(n);
            while (auto f = decoder.next()) {
                auto ping = wire::decode<wire::ping_request>(*f);
                ASSERT_TRUE(ping.ok());
                cookies.push_back(ping->cookie);
                ids.push_back(f->request_id);
            }
            if (input.empty()) {
                break;
            }
        }
    }
};

void append(std::vector<uint8_t>& to, const std::vector<uint8_t>& what) {
    to.insert(to.end(), what.begin(), what.end());
}

} // namespace

TEST(FrameDecoder, WholeFrame) {
    harness h;
    h.push(ping_frame(5, 42));
    EXPECT_EQ(h.cookies, std::vector<uint64_t>{42});
    EXPECT_EQ(h.ids, std::vector<uint32_t>{5});
    EXPECT_EQ(h.decoder.stats().frames, 1u);
    EXPECT_EQ(h.decoder.stats().rejected_total(), 0u);
    EXPECT_EQ(h.decoder.buffered(), 0u);
}

TEST(FrameDecoder, ByteByByte) {
    harness h;
    std::vector<uint8_t> stream;
    for (uint64_t i = 0; i < 10; i++) {
        append(stream, ping_frame(static_cast<uint32_t>(i + 1), i));
    }
    for (uint8_t b : stream) {
        h.push(std::span<const uint8_t>(&b, 1));
    }
    ASSERT_EQ(h.cookies.size(), 10u);
    for (uint64_t i = 0; i < 10; i++) {
        EXPECT_EQ(h.cookies[i], i);
    }
    EXPECT_EQ(h.decoder.stats().garbage_bytes, 0u);
}

TEST(FrameDecoder, EveryTwoWaySplit) {
    std::vector<uint8_t> stream;
    append(stream, ping_frame(1, 7));
    append(stream, ping_frame(2, 8));
    for (size_t cut = 0; cut <= stream.size(); cut++) {
        harness h;
        h.push(std::span<const uint8_t>(stream).first(cut));
        h.push(std::span<const uint8_t>(stream).subspan(cut));
        EXPECT_EQ(h.cookies, (std::vector<uint64_t>{7, 8})) << "cut at " << cut;
    }
}

TEST(FrameDecoder, GarbageBetweenFramesIsSkippedAndCounted) {
    harness h;
    std::vector<uint8_t> stream = {0x00, 0xFF, 'R', 'U', 'P'}; // a partial magic, too
    append(stream, ping_frame(1, 1));
    std::vector<uint8_t> junk = {'x', 'R', 'U', 'n', 0x57};
    append(stream, junk);
    append(stream, ping_frame(2, 2));
    h.push(stream);
    EXPECT_EQ(h.cookies, (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(h.decoder.stats().garbage_bytes, 10u);
    EXPECT_EQ(h.decoder.stats().rejected_total(), 0u);
}

TEST(FrameDecoder, BadCrcIsRejectedAndNextFrameSurvives) {
    harness h;
    std::vector<uint8_t> bad = ping_frame(1, 1);
    bad[20] ^= 0x01; // flip a payload bit
    std::vector<uint8_t> stream = bad;
    append(stream, ping_frame(2, 2));
    h.push(stream);
    EXPECT_EQ(h.cookies, std::vector<uint64_t>{2});
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::bad_crc), 1u);
}

TEST(FrameDecoder, FrameHiddenInsideACorruptedFrameIsFound) {
    // A header whose length swallows the next real frame: after the CRC fails, the decoder
    // rescans the bytes it buffered and finds the real frame inside.
    harness h;
    std::vector<uint8_t> good = ping_frame(9, 99);
    std::vector<uint8_t> stream = {'R', 'U', 'P', 'W', 1, 0, 2, 0, 1, 0, 0, 0};
    uint32_t length = static_cast<uint32_t>(good.size() + 8);
    for (int i = 0; i < 4; i++) {
        stream.push_back(static_cast<uint8_t>(length >> (8 * i)));
    }
    append(stream, good);
    stream.resize(stream.size() + 12, 0xAA); // the rest of the fake payload and its "CRC"
    h.push(stream);
    EXPECT_EQ(h.cookies, std::vector<uint64_t>{99});
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::bad_crc), 1u);
}

TEST(FrameDecoder, OversizeIsRejectedWithoutWaitingForItsBytes) {
    harness h;
    std::vector<uint8_t> stream = {'R', 'U', 'P', 'W', 1, 0, 2, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0, 0};
    append(stream, ping_frame(3, 3));
    h.push(stream);
    EXPECT_EQ(h.cookies, std::vector<uint64_t>{3});
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::oversize), 1u);
}

TEST(FrameDecoder, BadVersionAndFlagsAreRejected) {
    harness h;
    std::vector<uint8_t> v2 = ping_frame(1, 1);
    v2[4] = 2;
    std::vector<uint8_t> flagged = ping_frame(1, 1);
    flagged[5] = 0x80;
    std::vector<uint8_t> stream = v2;
    append(stream, flagged);
    append(stream, ping_frame(4, 4));
    h.push(stream);
    EXPECT_EQ(h.cookies, std::vector<uint64_t>{4});
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::bad_header), 2u);
}

// A frame with the word_checksum flag carries word_checksum() as its trailer: it decodes; a
// corrupted byte, or the flag on a frame whose trailer is a CRC-32, is rejected as bad_crc.
TEST(FrameDecoder, WordChecksumFramesDecodeAndCorruptionIsRejected) {
    auto flagged_ping = [](uint32_t id, uint64_t cookie) {
        std::vector<uint8_t> out(wire::max_frame);
        wire::frame_builder b(out, wire::ping_request::code, id, wire::frame_flag_word_checksum);
        wire::write_fields(b.payload(), wire::ping_request{.cookie = cookie});
        out.resize(b.finish());
        return out;
    };
    std::vector<uint8_t> good = flagged_ping(1, 11);
    ASSERT_FALSE(good.empty());
    EXPECT_EQ(good[5], wire::frame_flag_word_checksum);
    uint32_t trailer = 0;
    for (int i = 0; i < 4; i++)
        trailer |= uint32_t(good[good.size() - 4 + i]) << (8 * i);
    EXPECT_EQ(trailer, wire::word_checksum(std::span<const uint8_t>(good).first(good.size() - 4)));
    EXPECT_NE(trailer, wire::crc32(std::span<const uint8_t>(good).first(good.size() - 4)));

    std::vector<uint8_t> corrupted = flagged_ping(2, 22);
    corrupted[wire::header_size + 3] ^= 0x10;
    std::vector<uint8_t> crc_with_flag = ping_frame(3, 33);
    crc_with_flag[5] = wire::frame_flag_word_checksum;
    harness h;
    std::vector<uint8_t> stream = good;
    append(stream, corrupted);
    append(stream, crc_with_flag);
    append(stream, ping_frame(4, 44));
    h.push(stream);
    EXPECT_EQ(h.cookies, (std::vector<uint64_t>{11, 44}));
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::bad_crc), 2u);
}

// A sequence-checked hits frame of `count` records from `first_seq` (README §1): the trailer
// covers the first 32 bytes, the records carry consecutive seq numbers.
std::vector<uint8_t> seq_checked_hits(uint64_t first_seq, uint16_t count) {
    std::vector<uint8_t> out(wire::max_frame);
    wire::frame_builder b(out, wire::hits_event::code, 0, wire::frame_flag_seq_checked);
    wire::write_fields(b.payload(), wire::hits_event{.first_seq = first_seq, .count = count});
    for (uint16_t i = 0; i < count; i++) {
        wire::write_fields(b.payload(), wire::hit_record{.seq = first_seq + i, .pid = 7});
    }
    out.resize(b.finish());
    return out;
}

// The first seq of every hits frame decoded from `stream`, and the decoder's statistics.
std::vector<uint64_t> decoded_hits(const std::vector<uint8_t>& stream, wire::decoder_stats* stats) {
    std::vector<uint8_t> storage(wire::max_frame);
    wire::frame_decoder decoder(storage);
    std::vector<uint64_t> firsts;
    std::span<const uint8_t> input(stream);
    while (!input.empty()) {
        input = input.subspan(decoder.feed(input));
        while (auto f = decoder.next()) {
            auto h = wire::decode<wire::hits_event>(*f);
            if (h.ok()) {
                firsts.push_back(h->first_seq);
            }
        }
    }
    *stats = decoder.stats();
    return firsts;
}

// Sequence-checked frames decode; a record out of sequence, a frame cut short and spliced to the
// next one, the flag on another type and both flags at once are rejected, and the frames after
// them still decode.
TEST(FrameDecoder, SequenceCheckedHitsFramesAreCheckedByTheirSeqNumbers) {
    std::vector<uint8_t> good = seq_checked_hits(10, 3);
    ASSERT_EQ(good.size(), wire::header_size + 16 + 3 * 128 + wire::trailer_size);
    EXPECT_EQ(good[5], wire::frame_flag_seq_checked);
    uint32_t trailer = 0;
    for (int i = 0; i < 4; i++)
        trailer |= uint32_t(good[good.size() - 4 + i]) << (8 * i);
    EXPECT_EQ(trailer, wire::word_checksum(std::span<const uint8_t>(good).first(32)));

    std::vector<uint8_t> out_of_sequence = seq_checked_hits(20, 3);
    out_of_sequence[32 + 128 * 2] ^= 1; // the third record's seq
    std::vector<uint8_t> cut = seq_checked_hits(30, 3);
    cut.resize(cut.size() - 100); // its tail lost: the next frame's bytes take its place
    std::vector<uint8_t> after_cut = seq_checked_hits(33, 2);
    std::vector<uint8_t> not_hits(wire::max_frame);
    {
        wire::frame_builder b(not_hits, wire::ping_request::code, 1, wire::frame_flag_seq_checked);
        wire::write_fields(b.payload(), wire::ping_request{.cookie = 1});
        not_hits.resize(b.finish());
    }
    std::vector<uint8_t> both_flags = seq_checked_hits(40, 1);
    both_flags[5] = wire::frame_flag_seq_checked | wire::frame_flag_word_checksum;

    std::vector<uint8_t> stream = good;
    append(stream, out_of_sequence);
    append(stream, cut);
    append(stream, after_cut);
    append(stream, not_hits);
    append(stream, both_flags);
    append(stream, seq_checked_hits(50, 31));
    wire::decoder_stats stats;
    EXPECT_EQ(decoded_hits(stream, &stats), (std::vector<uint64_t>{10, 33, 50}));
    EXPECT_EQ(stats.rejected_for(reject_reason::bad_crc), 3u); // out of sequence, cut, not hits
    EXPECT_EQ(stats.rejected_for(reject_reason::bad_header), 1u);
}

// The checksum's definition (protocol/README.md §1), pinned by test vectors.
TEST(WordChecksum, TestVectorsAndPositionDependence) {
    auto of = [](std::string_view s) {
        return wire::word_checksum(
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    };
    EXPECT_EQ(of("123456789"), 0xda130f39u);
    EXPECT_EQ(of(""), 0u);
    std::vector<uint8_t> bytes(256);
    for (int i = 0; i < 256; i++)
        bytes[i] = uint8_t(i);
    EXPECT_EQ(wire::word_checksum(bytes), 0x65c50641u);
    // Unaligned input gives the same value as aligned input.
    std::vector<uint8_t> shifted(257);
    std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
    EXPECT_EQ(wire::word_checksum(std::span<const uint8_t>(shifted).subspan(1)), 0x65c50641u);
    // Two words swapped: a plain sum would not see it.
    EXPECT_NE(of("AAAAAAAABBBBBBBB"), of("BBBBBBBBAAAAAAAA"));
}

TEST(FrameDecoder, UnknownTypeAndShortPayloadAreRejected) {
    std::vector<uint8_t> out(wire::max_frame);
    std::array<uint8_t, 8> payload{};
    std::vector<uint8_t> stream;
    size_t n = wire::encode_frame(out, 0x0777, 1, payload);
    stream.insert(stream.end(), out.begin(), out.begin() + n);
    // hello needs 24 bytes of payload
    n = wire::encode_frame(out, wire::type_code(wire::msg_type::hello), 2, payload);
    stream.insert(stream.end(), out.begin(), out.begin() + n);
    // events are never responses
    n = wire::encode_frame(out, wire::type_code(wire::msg_type::hits) | wire::response_bit, 3,
                           payload);
    stream.insert(stream.end(), out.begin(), out.begin() + n);
    append(stream, ping_frame(4, 5));

    harness h;
    h.push(stream);
    EXPECT_EQ(h.cookies, std::vector<uint64_t>{5});
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::unknown_type), 2u);
    EXPECT_EQ(h.decoder.stats().rejected_for(reject_reason::short_payload), 1u);
    EXPECT_EQ(h.decoder.stats().garbage_bytes, 0u);
}

TEST(FrameDecoder, MaximumFrameDecodes) {
    std::vector<uint8_t> data(wire::max_mem_chunk, 0x5A);
    std::vector<uint8_t> out(wire::max_frame);
    size_t n = wire::encode(out, 7, wire::mem_read_response{.status = 0, .data = data});
    ASSERT_GT(n, 0u);
    out.resize(n);
    std::vector<uint8_t> storage(wire::max_frame);
    wire::frame_decoder d(storage);
    std::vector<uint8_t> stream(100, 0); // leading garbage: needs a compaction on the way
    append(stream, out);
    std::span<const uint8_t> in(stream);
    int frames = 0;
    while (!in.empty()) {
        in = in.subspan(d.feed(in));
        while (auto f = d.next()) {
            auto r = wire::decode<wire::mem_read_response>(*f);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(r->data.size(), wire::max_mem_chunk);
            frames++;
        }
    }
    EXPECT_EQ(frames, 1);
}

TEST(FrameDecoder, PayloadBeyondMaximumIsNotEncoded) {
    std::vector<uint8_t> big(wire::max_payload + 1);
    std::vector<uint8_t> out(2 * wire::max_frame);
    EXPECT_EQ(wire::encode_frame(out, 1, 1, big), 0u);
    std::vector<uint8_t> ok(wire::max_payload);
    EXPECT_EQ(wire::encode_frame(out, wire::type_code(wire::msg_type::mem_write), 1, ok),
              wire::max_frame);
}

TEST(FrameDecoder, TooSmallOutputBufferFails) {
    std::array<uint8_t, 20> small{};
    EXPECT_EQ(wire::encode(small, 1, wire::ping_request{.cookie = 1}), 0u);
}

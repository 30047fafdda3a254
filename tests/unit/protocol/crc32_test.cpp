// CRC-32 of the frame trailer: the test vectors of protocol/README.md §1.
#include "ruprobes/wire/codec.hpp"
#include "ruprobes/wire/crc32.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace wire = ruprobes::wire;

namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

} // namespace

TEST(Crc32, CheckValue) {
    EXPECT_EQ(wire::crc32(as_bytes("123456789")), 0xCBF43926u);
}

TEST(Crc32, EmptyIsZero) {
    EXPECT_EQ(wire::crc32({}), 0u);
}

TEST(Crc32, IncrementalEqualsOneShot) {
    auto data = as_bytes("The quick brown fox jumps over the lazy dog");
    uint32_t state = wire::crc32_init;
    state = wire::crc32_update(state, data.first(10));
    state = wire::crc32_update(state, data.subspan(10));
    EXPECT_EQ(wire::crc32_final(state), wire::crc32(data));
    EXPECT_EQ(wire::crc32(data), 0x414FA339u);
}

TEST(Crc32, ReadmeFrameVector) {
    std::array<uint8_t, wire::max_frame> buf{};
    size_t n = wire::encode(buf, 1, wire::ping_request{.cookie = 0x0123456789ABCDEFull});
    std::vector<uint8_t> expected = {0x52, 0x55, 0x50, 0x57, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00,
                                     0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0xef, 0xcd, 0xab, 0x89,
                                     0x67, 0x45, 0x23, 0x01, 0xdb, 0x6d, 0x4f, 0xe0};
    ASSERT_EQ(n, expected.size());
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + n), expected);
}

TEST(Crc32, SlicedEqualsBitwiseForEveryLengthAndSplit) {
    // A bit-at-a-time reference (the definition), against the table-driven code.
    auto reference = [](std::span<const uint8_t> data) {
        uint32_t c = 0xFFFFFFFFu;
        for (uint8_t b : data) {
            c ^= b;
            for (int bit = 0; bit < 8; bit++) {
                c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            }
        }
        return c ^ 0xFFFFFFFFu;
    };
    std::vector<uint8_t> data(300);
    uint32_t x = 12345;
    for (auto& b : data) {
        x = x * 1103515245u + 12345u;
        b = static_cast<uint8_t>(x >> 16);
    }
    for (size_t len = 0; len <= data.size(); len += 7) {
        auto part = std::span<const uint8_t>(data).first(len);
        ASSERT_EQ(wire::crc32(part), reference(part)) << len;
        size_t cut = len / 3;
        uint32_t s = wire::crc32_update(wire::crc32_init, part.first(cut));
        s = wire::crc32_update(s, part.subspan(cut));
        ASSERT_EQ(wire::crc32_final(s), reference(part)) << len;
    }
}

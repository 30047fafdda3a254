// CRC-32, slicing-by-8: eight table lookups per 8 input bytes instead of one per byte (the
// agent checksums every frame it sends). The tables are computed at compile time; table 0 is
// the classic byte-at-a-time table, table k advances a byte's contribution by k more bytes.
#include "ruprobes/wire/crc32.hpp"

namespace ruprobes::wire {
namespace {

using crc_tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr crc_tables make_tables() {
    crc_tables t{};
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; bit++) {
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (size_t k = 1; k < 8; k++) {
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
        }
    }
    return t;
}

constexpr crc_tables tables = make_tables();

} // namespace

uint32_t crc32_update(uint32_t state, std::span<const uint8_t> data) {
    const uint8_t* p = data.data();
    size_t n = data.size();
    while (n >= 8) {
        // Little-endian assembly of the next 8 bytes, independent of the host's byte order.
        uint32_t lo = state ^ (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
                               uint32_t(p[3]) << 24);
        uint32_t hi =
            uint32_t(p[4]) | uint32_t(p[5]) << 8 | uint32_t(p[6]) << 16 | uint32_t(p[7]) << 24;
        state = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^
                tables[4][lo >> 24] ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^
                tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        state = tables[0][(state ^ *p++) & 0xFF] ^ (state >> 8);
    }
    return state;
}

} // namespace ruprobes::wire

// CRC-32, slicing-by-8: eight table lookups per 8 input bytes instead of one per byte (the
// agent checksums every frame it sends), and on a little-endian machine one aligned 64-bit load
// per 8 bytes instead of eight byte loads. The tables are computed at compile time; table 0 is
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

namespace {

// One slicing-by-8 step: the state advanced over the 8 bytes whose little-endian halves are
// `lo` and `hi`.
inline uint32_t step8(uint32_t state, uint32_t lo, uint32_t hi) {
    lo ^= state;
    return tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^
           tables[4][lo >> 24] ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^
           tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
}

inline uint32_t step1(uint32_t state, uint8_t byte) {
    return tables[0][(state ^ byte) & 0xFF] ^ (state >> 8);
}

} // namespace

uint32_t crc32_update(uint32_t state, std::span<const uint8_t> data) {
    const uint8_t* p = data.data();
    size_t n = data.size();
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // Bytes up to an 8-byte boundary, then one aligned 64-bit load per 8 bytes (a byte order
    // that matches the CRC's: the word's low half is its first four bytes).
    while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
        state = step1(state, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, __builtin_assume_aligned(p, 8), 8);
        state = step8(state, static_cast<uint32_t>(w), static_cast<uint32_t>(w >> 32));
        p += 8;
        n -= 8;
    }
#else
    while (n >= 8) {
        // Little-endian assembly of the next 8 bytes, independent of the host's byte order.
        uint32_t lo =
            uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
        uint32_t hi =
            uint32_t(p[4]) | uint32_t(p[5]) << 8 | uint32_t(p[6]) << 16 | uint32_t(p[7]) << 24;
        state = step8(state, lo, hi);
        p += 8;
        n -= 8;
    }
#endif
    while (n-- > 0) {
        state = step1(state, *p++);
    }
    return state;
}

} // namespace ruprobes::wire

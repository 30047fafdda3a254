// Table-driven CRC-32 (one table lookup per byte); the table is computed at compile time.
#include "ruprobes/wire/crc32.hpp"

namespace ruprobes::wire {
namespace {

constexpr std::array<uint32_t, 256> make_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; bit++) {
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        table[i] = c;
    }
    return table;
}

constexpr std::array<uint32_t, 256> table = make_table();

} // namespace

uint32_t crc32_update(uint32_t state, std::span<const uint8_t> data) {
    for (uint8_t byte : data) {
        state = table[(state ^ byte) & 0xFF] ^ (state >> 8);
    }
    return state;
}

} // namespace ruprobes::wire

// CRC-32 of the wire protocol's frame trailer (protocol/README.md §1): the IEEE 802.3 / zlib CRC,
// reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
// Test vector: crc32("123456789") == 0xCBF43926.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ruprobes/error.hpp"

namespace ruprobes::wire {

// Continues a CRC over `data`. Start with `state = crc32_init`, finish with crc32_final(state).
uint32_t crc32_update(uint32_t state, std::span<const uint8_t> data);

inline constexpr uint32_t crc32_init = 0xFFFFFFFFu;

inline constexpr uint32_t crc32_final(uint32_t state) {
    return state ^ 0xFFFFFFFFu;
}

// The CRC-32 of `data` in one call.
inline uint32_t crc32(std::span<const uint8_t> data) {
    return crc32_final(crc32_update(crc32_init, data));
}

} // namespace ruprobes::wire

#include "ruprobes/wire/word_checksum.hpp"

namespace ruprobes::wire {
namespace {

inline uint64_t load_le(const uint8_t* p, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) {
        w |= static_cast<uint64_t>(p[i]) << (8 * i);
    }
    return w;
}

} // namespace

uint32_t word_checksum(std::span<const uint8_t> data) {
    const uint8_t* p = data.data();
    size_t n = data.size();
    uint64_t a = 0;
    uint64_t b = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if ((reinterpret_cast<uintptr_t>(p) & 7) == 0) {
        // The agent's frames are 8-byte aligned: one aligned load per word.
        for (; n >= 8; p += 8, n -= 8) {
            uint64_t w;
            __builtin_memcpy(&w, __builtin_assume_aligned(p, 8), 8);
            a += w;
            b += a;
        }
    }
#endif
    for (; n >= 8; p += 8, n -= 8) {
        a += load_le(p, 8);
        b += a;
    }
    if (n > 0) {
        a += load_le(p, n);
        b += a;
    }
    uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ull);
    return static_cast<uint32_t>(x ^ (x >> 32));
}

} // namespace ruprobes::wire

// The C memory functions the compiler may emit calls to, even in freestanding code (kernel only:
// a host build uses its C library's).
// No <string.h> here: its declarations carry the host library's exception specifications.
#include <stddef.h>
#include <stdint.h>

// gcc turns byte loops into calls to memcpy/memset: not inside memcpy/memset themselves.
#pragma GCC optimize("no-tree-loop-distribute-patterns")

extern "C" {

// Word copies whenever source and destination share an alignment modulo 8 (or 4): bytes up to
// the boundary, then 64-bit (32-bit) words, then the tail. The agent copies frames into the
// virtio buffers at 4-byte offsets (a frame's length is 4 modulo 8), so the 32-bit case matters.
void* memcpy(void* dst, const void* src, size_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    const auto* s = static_cast<const uint8_t*>(src);
    const uintptr_t skew = reinterpret_cast<uintptr_t>(d) ^ reinterpret_cast<uintptr_t>(s);
    const size_t word = (skew & 7) == 0 ? 8 : (skew & 3) == 0 ? 4 : 1;
    if (word > 1 && n >= 2 * word) {
        while ((reinterpret_cast<uintptr_t>(d) & (word - 1)) != 0) {
            *d++ = *s++;
            n--;
        }
        if (word == 8) {
            auto* d64 = reinterpret_cast<uint64_t*>(d);
            const auto* s64 = reinterpret_cast<const uint64_t*>(s);
            for (size_t i = 0; i < n / 8; i++) {
                d64[i] = s64[i];
            }
        } else {
            auto* d32 = reinterpret_cast<uint32_t*>(d);
            const auto* s32 = reinterpret_cast<const uint32_t*>(s);
            for (size_t i = 0; i < n / 4; i++) {
                d32[i] = s32[i];
            }
        }
        d += n & ~(word - 1);
        s += n & ~(word - 1);
        n &= word - 1;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = s[i];
    }
    return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    const auto* s = static_cast<const uint8_t*>(src);
    if (d < s) {
        for (size_t i = 0; i < n; i++) {
            d[i] = s[i];
        }
    } else {
        for (size_t i = n; i > 0; i--) {
            d[i - 1] = s[i - 1];
        }
    }
    return dst;
}

void* memset(void* dst, int c, size_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    if (c == 0 && ((reinterpret_cast<uintptr_t>(d) | n) & 7) == 0) {
        auto* d64 = reinterpret_cast<uint64_t*>(d);
        for (size_t i = 0; i < n / 8; i++) {
            d64[i] = 0;
        }
        return dst;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = static_cast<uint8_t>(c);
    }
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
    const auto* x = static_cast<const uint8_t*>(a);
    const auto* y = static_cast<const uint8_t*>(b);
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

} // extern "C"

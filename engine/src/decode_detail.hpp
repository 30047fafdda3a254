// Internals shared by the decoder's source files: bit-field helpers and the two decoders
// (32-bit and compressed) that decode.cpp dispatches to.
#pragma once

#include "ruprobes/insn.hpp"

namespace ruprobes::detail {

// Bits hi..lo of `v` (inclusive), shifted down to bit 0.
constexpr uint32_t bits(uint32_t v, unsigned hi, unsigned lo) {
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

// Bit `n` of `v` as 0 or 1.
constexpr uint32_t bit(uint32_t v, unsigned n) {
    return (v >> n) & 1;
}

// `v` read as a `width`-bit two's complement number, sign-extended to 64 bits.
constexpr int64_t sext(uint64_t v, unsigned width) {
    uint64_t m = uint64_t{1} << (width - 1);
    v &= (m << 1) - 1;
    return static_cast<int64_t>((v ^ m) - m);
}

// Sets cls and refusal of `d` from d.op (the engine's policy per operation, DESIGN.md §3).
void classify(decoded_insn& d);

// Decodes a 32-bit instruction (raw & 3 == 3). Never fails; sets class via classify().
decoded_insn decode_32(uint32_t raw);

// Decodes a 16-bit compressed instruction (raw & 3 != 3). Never fails; sets class via classify().
decoded_insn decode_16(uint16_t raw);

} // namespace ruprobes::detail

// Internals shared by the decoder's source files: bit-field helpers, the 32-bit field extractors,
// and the decoders decode.cpp dispatches to (decode_compressed.cpp: RVC; decode_float_atomic.cpp:
// A, F, D).
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

// ---- 32-bit formats (ch. 2.2-2.3), shared by decode.cpp and decode_float_atomic.cpp ----

// Major opcodes, inst[6:0] (table 24.1).
inline constexpr uint32_t op_load = 0x03, op_load_fp = 0x07, op_misc_mem = 0x0f, op_op_imm = 0x13,
                          op_auipc = 0x17, op_op_imm_32 = 0x1b, op_store = 0x23, op_store_fp = 0x27,
                          op_amo = 0x2f, op_op = 0x33, op_lui = 0x37, op_op_32 = 0x3b,
                          op_madd = 0x43, op_msub = 0x47, op_nmsub = 0x4b, op_nmadd = 0x4f,
                          op_op_fp = 0x53, op_branch = 0x63, op_jalr = 0x67, op_jal = 0x6f,
                          op_system = 0x73;

// The rounding-mode field values 101 and 110 are reserved (ch. 11.2, table 11.1); an
// instruction that encodes them is illegal.
constexpr bool rm_valid(uint32_t rm) {
    return rm != 5 && rm != 6;
}

// The fields every format shares, pre-extracted.
struct fields {
    uint32_t w, opc, rd, f3, rs1, rs2, f7;
};

inline decoded_insn with(const fields& f, opcode op) {
    decoded_insn d;
    d.raw = f.w;
    d.length = 4;
    d.op = op;
    return d;
}

inline int64_t imm_i(uint32_t w) {
    return sext(w >> 20, 12);
}
inline int64_t imm_s(uint32_t w) {
    return sext((bits(w, 31, 25) << 5) | bits(w, 11, 7), 12);
}
inline int64_t imm_b(uint32_t w) {
    return sext((bit(w, 31) << 12) | (bit(w, 7) << 11) | (bits(w, 30, 25) << 5) |
                    (bits(w, 11, 8) << 1),
                13);
}
inline int64_t imm_u(uint32_t w) {
    return sext(w & 0xfffff000u, 32);
}
inline int64_t imm_j(uint32_t w) {
    return sext((bit(w, 31) << 20) | (bits(w, 19, 12) << 12) | (bit(w, 20) << 11) |
                    (bits(w, 30, 21) << 1),
                21);
}

// rd, rs1, imm (I-type).
inline decoded_insn i_type(const fields& f, opcode op) {
    auto d = with(f, op);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.imm = imm_i(f.w);
    return d;
}

// rd, rs1, rs2 (R-type).
inline decoded_insn r_type(const fields& f, opcode op) {
    auto d = with(f, op);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.rs2 = f.rs2;
    return d;
}

// RV64I shifts by an immediate (ch. 5.2): shamt is imm[5:0] (imm[4:0] for the W forms) and the
// bits above it select logical/arithmetic; any other value there is illegal.
inline decoded_insn shift_imm(const fields& f, opcode op, unsigned shamt_bits) {
    auto d = with(f, op);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.imm = bits(f.w, 19 + shamt_bits, 20);
    return d;
}

inline decoded_insn illegal(const fields& f) {
    return with(f, opcode::illegal);
}

// AMO (A, ch. 8), LOAD-FP/STORE-FP, the fused multiply-adds and OP-FP (F ch. 11, D ch. 12);
// in decode_float_atomic.cpp.
decoded_insn decode_amo(const fields& f);
decoded_insn decode_fp_mem(const fields& f, bool store);
decoded_insn decode_fma(const fields& f);
decoded_insn decode_op_fp(const fields& f);

// Sets cls and refusal of `d` from d.op (the engine's policy per operation, DESIGN.md §3).
void classify(decoded_insn& d);

// Decodes a 32-bit instruction (raw & 3 == 3). Never fails; sets class via classify().
decoded_insn decode_32(uint32_t raw);

// Decodes a 16-bit compressed instruction (raw & 3 != 3). Never fails; sets class via classify().
decoded_insn decode_16(uint16_t raw);

} // namespace ruprobes::detail

// RV64GC decoder, the 32-bit A, F and D encodings: atomics (ch. 8), floating-point loads and
// stores, fused multiply-adds and OP-FP (ch. 11 single, ch. 12 double) of the Unprivileged ISA
// v20191213. All of them are valid-but-not-simulated (out-of-line) except lr/sc (refused).
#include "decode_detail.hpp"

namespace ruprobes::detail {

// AMO (ch. 8.2, 8.4; table 24.1): funct5 in inst[31:27], aq/rl in inst[26:25], width in funct3
// (010 word, 011 doubleword). LR has rs2 = 0.
decoded_insn decode_amo(const fields& f) {
    if (f.f3 != 2 && f.f3 != 3)
        return illegal(f);
    bool dw = f.f3 == 3;
    opcode op = opcode::illegal;
    switch (bits(f.w, 31, 27)) {
    case 0x02:
        op = f.rs2 == 0 ? (dw ? opcode::lr_d : opcode::lr_w) : opcode::illegal;
        break;
    case 0x03:
        op = dw ? opcode::sc_d : opcode::sc_w;
        break;
    case 0x01:
        op = dw ? opcode::amoswap_d : opcode::amoswap_w;
        break;
    case 0x00:
        op = dw ? opcode::amoadd_d : opcode::amoadd_w;
        break;
    case 0x04:
        op = dw ? opcode::amoxor_d : opcode::amoxor_w;
        break;
    case 0x0c:
        op = dw ? opcode::amoand_d : opcode::amoand_w;
        break;
    case 0x08:
        op = dw ? opcode::amoor_d : opcode::amoor_w;
        break;
    case 0x10:
        op = dw ? opcode::amomin_d : opcode::amomin_w;
        break;
    case 0x14:
        op = dw ? opcode::amomax_d : opcode::amomax_w;
        break;
    case 0x18:
        op = dw ? opcode::amominu_d : opcode::amominu_w;
        break;
    case 0x1c:
        op = dw ? opcode::amomaxu_d : opcode::amomaxu_w;
        break;
    default:
        break;
    }
    auto d = r_type(f, op);
    d.rm = static_cast<uint8_t>(bits(f.w, 26, 25));
    return d;
}

// LOAD-FP / STORE-FP (ch. 11.5, 12.3): width 010 single, 011 double.
decoded_insn decode_fp_mem(const fields& f, bool store) {
    opcode op = opcode::illegal;
    if (f.f3 == 2)
        op = store ? opcode::fsw : opcode::flw;
    else if (f.f3 == 3)
        op = store ? opcode::fsd : opcode::fld;
    if (!store)
        return i_type(f, op);
    auto d = with(f, op);
    d.rs1 = f.rs1;
    d.rs2 = f.rs2;
    d.imm = imm_s(f.w);
    return d;
}

// FMADD/FMSUB/FNMSUB/FNMADD (R4-type, ch. 11.6): fmt in inst[26:25] (00 S, 01 D; H and Q are
// not in RV64GC), rs3 in inst[31:27].
decoded_insn decode_fma(const fields& f) {
    uint32_t fmt = bits(f.w, 26, 25);
    if (fmt > 1 || !rm_valid(f.f3))
        return illegal(f);
    opcode op;
    bool d_ = fmt == 1;
    switch (f.opc) {
    case op_madd:
        op = d_ ? opcode::fmadd_d : opcode::fmadd_s;
        break;
    case op_msub:
        op = d_ ? opcode::fmsub_d : opcode::fmsub_s;
        break;
    case op_nmsub:
        op = d_ ? opcode::fnmsub_d : opcode::fnmsub_s;
        break;
    default:
        op = d_ ? opcode::fnmadd_d : opcode::fnmadd_s;
        break;
    }
    auto d = r_type(f, op);
    d.rs3 = static_cast<uint8_t>(bits(f.w, 31, 27));
    d.rm = static_cast<uint8_t>(f.f3);
    return d;
}

// OP-FP (ch. 11.6-11.9 single, 12.4-12.6 double; table 24.3/24.4 encodings). funct7 selects the
// operation with its fmt in the low two bits; rs2 or funct3 sub-select some of them.
decoded_insn decode_op_fp(const fields& f) {
    const uint32_t f3 = f.f3, rs2 = f.rs2;
    opcode op = opcode::illegal;
    bool uses_rm = false; // funct3 is a rounding mode rather than a sub-opcode
    switch (f.f7) {
    case 0x00:
        op = opcode::fadd_s, uses_rm = true;
        break;
    case 0x01:
        op = opcode::fadd_d, uses_rm = true;
        break;
    case 0x04:
        op = opcode::fsub_s, uses_rm = true;
        break;
    case 0x05:
        op = opcode::fsub_d, uses_rm = true;
        break;
    case 0x08:
        op = opcode::fmul_s, uses_rm = true;
        break;
    case 0x09:
        op = opcode::fmul_d, uses_rm = true;
        break;
    case 0x0c:
        op = opcode::fdiv_s, uses_rm = true;
        break;
    case 0x0d:
        op = opcode::fdiv_d, uses_rm = true;
        break;
    case 0x2c:
        op = rs2 == 0 ? opcode::fsqrt_s : opcode::illegal, uses_rm = true;
        break;
    case 0x2d:
        op = rs2 == 0 ? opcode::fsqrt_d : opcode::illegal, uses_rm = true;
        break;
    case 0x10: {
        constexpr opcode s[4] = {opcode::fsgnj_s, opcode::fsgnjn_s, opcode::fsgnjx_s,
                                 opcode::illegal};
        op = f3 < 3 ? s[f3] : opcode::illegal;
        break;
    }
    case 0x11: {
        constexpr opcode s[4] = {opcode::fsgnj_d, opcode::fsgnjn_d, opcode::fsgnjx_d,
                                 opcode::illegal};
        op = f3 < 3 ? s[f3] : opcode::illegal;
        break;
    }
    case 0x14:
        op = f3 == 0 ? opcode::fmin_s : f3 == 1 ? opcode::fmax_s : opcode::illegal;
        break;
    case 0x15:
        op = f3 == 0 ? opcode::fmin_d : f3 == 1 ? opcode::fmax_d : opcode::illegal;
        break;
    case 0x20:
        op = rs2 == 1 ? opcode::fcvt_s_d : opcode::illegal, uses_rm = true;
        break;
    case 0x21:
        op = rs2 == 0 ? opcode::fcvt_d_s : opcode::illegal, uses_rm = true;
        break;
    case 0x60: {
        constexpr opcode s[4] = {opcode::fcvt_w_s, opcode::fcvt_wu_s, opcode::fcvt_l_s,
                                 opcode::fcvt_lu_s};
        op = rs2 < 4 ? s[rs2] : opcode::illegal, uses_rm = true;
        break;
    }
    case 0x61: {
        constexpr opcode s[4] = {opcode::fcvt_w_d, opcode::fcvt_wu_d, opcode::fcvt_l_d,
                                 opcode::fcvt_lu_d};
        op = rs2 < 4 ? s[rs2] : opcode::illegal, uses_rm = true;
        break;
    }
    case 0x68: {
        constexpr opcode s[4] = {opcode::fcvt_s_w, opcode::fcvt_s_wu, opcode::fcvt_s_l,
                                 opcode::fcvt_s_lu};
        op = rs2 < 4 ? s[rs2] : opcode::illegal, uses_rm = true;
        break;
    }
    case 0x69: {
        constexpr opcode s[4] = {opcode::fcvt_d_w, opcode::fcvt_d_wu, opcode::fcvt_d_l,
                                 opcode::fcvt_d_lu};
        op = rs2 < 4 ? s[rs2] : opcode::illegal, uses_rm = true;
        break;
    }
    case 0x50: {
        constexpr opcode s[4] = {opcode::fle_s, opcode::flt_s, opcode::feq_s, opcode::illegal};
        op = f3 < 3 ? s[f3] : opcode::illegal;
        break;
    }
    case 0x51: {
        constexpr opcode s[4] = {opcode::fle_d, opcode::flt_d, opcode::feq_d, opcode::illegal};
        op = f3 < 3 ? s[f3] : opcode::illegal;
        break;
    }
    case 0x70:
        if (rs2 == 0 && f3 == 0)
            op = opcode::fmv_x_w;
        else if (rs2 == 0 && f3 == 1)
            op = opcode::fclass_s;
        break;
    case 0x71:
        if (rs2 == 0 && f3 == 0)
            op = opcode::fmv_x_d;
        else if (rs2 == 0 && f3 == 1)
            op = opcode::fclass_d;
        break;
    case 0x78:
        op = rs2 == 0 && f3 == 0 ? opcode::fmv_w_x : opcode::illegal;
        break;
    case 0x79:
        op = rs2 == 0 && f3 == 0 ? opcode::fmv_d_x : opcode::illegal;
        break;
    default:
        break;
    }
    if (uses_rm && !rm_valid(f3))
        op = opcode::illegal;
    auto d = r_type(f, op);
    d.rm = static_cast<uint8_t>(f3);
    return d;
}

} // namespace ruprobes::detail

// RV64GC decoder: entry points, the class policy, and the 32-bit encodings.
//
// 32-bit instruction formats (Unprivileged ISA v20191213, ch. 2.2 figure 2.2 and 2.3):
//
//   31       25 24   20 19   15 14  12 11        7 6      0
//  |  funct7   |  rs2  |  rs1  |funct3|     rd    | opcode |  R-type
//  |     imm[11:0]     |  rs1  |funct3|     rd    | opcode |  I-type
//  | imm[11:5] |  rs2  |  rs1  |funct3| imm[4:0]  | opcode |  S-type
//  |12|imm[10:5]| rs2  |  rs1  |funct3|imm[4:1]|11| opcode |  B-type
//  |            imm[31:12]            |     rd    | opcode |  U-type
//  |20|  imm[10:1]  |11| imm[19:12]   |     rd    | opcode |  J-type
//
// Major opcodes from the RV32G/RV64G opcode map (ch. 24, table 24.1).
#include "decode_detail.hpp"

namespace ruprobes {
namespace detail {
namespace {

// Major opcodes, inst[6:0] (table 24.1).
constexpr uint32_t op_load = 0x03, op_load_fp = 0x07, op_misc_mem = 0x0f, op_op_imm = 0x13,
                   op_auipc = 0x17, op_op_imm_32 = 0x1b, op_store = 0x23, op_store_fp = 0x27,
                   op_amo = 0x2f, op_op = 0x33, op_lui = 0x37, op_op_32 = 0x3b, op_madd = 0x43,
                   op_msub = 0x47, op_nmsub = 0x4b, op_nmadd = 0x4f, op_op_fp = 0x53,
                   op_branch = 0x63, op_jalr = 0x67, op_jal = 0x6f, op_system = 0x73;

// The rounding-mode field values 101 and 110 are reserved (ch. 11.2, table 11.1); an
// instruction that encodes them is illegal.
constexpr bool rm_valid(uint32_t rm) {
    return rm != 5 && rm != 6;
}

// The fields every format shares, pre-extracted.
struct fields {
    uint32_t w, opc, rd, f3, rs1, rs2, f7;
};

decoded_insn with(const fields& f, opcode op) {
    decoded_insn d;
    d.raw = f.w;
    d.length = 4;
    d.op = op;
    return d;
}

int64_t imm_i(uint32_t w) {
    return sext(w >> 20, 12);
}
int64_t imm_s(uint32_t w) {
    return sext((bits(w, 31, 25) << 5) | bits(w, 11, 7), 12);
}
int64_t imm_b(uint32_t w) {
    return sext((bit(w, 31) << 12) | (bit(w, 7) << 11) | (bits(w, 30, 25) << 5) |
                    (bits(w, 11, 8) << 1),
                13);
}
int64_t imm_u(uint32_t w) {
    return sext(w & 0xfffff000u, 32);
}
int64_t imm_j(uint32_t w) {
    return sext((bit(w, 31) << 20) | (bits(w, 19, 12) << 12) | (bit(w, 20) << 11) |
                    (bits(w, 30, 21) << 1),
                21);
}

// rd, rs1, imm (I-type).
decoded_insn i_type(const fields& f, opcode op) {
    auto d = with(f, op);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.imm = imm_i(f.w);
    return d;
}

// rd, rs1, rs2 (R-type).
decoded_insn r_type(const fields& f, opcode op) {
    auto d = with(f, op);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.rs2 = f.rs2;
    return d;
}

// RV64I shifts by an immediate (ch. 5.2): shamt is imm[5:0] (imm[4:0] for the W forms) and the
// bits above it select logical/arithmetic; any other value there is illegal.
decoded_insn shift_imm(const fields& f, opcode op, unsigned shamt_bits) {
    auto d = with(f, op);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.imm = bits(f.w, 19 + shamt_bits, 20);
    return d;
}

decoded_insn illegal(const fields& f) {
    return with(f, opcode::illegal);
}

// LOAD (ch. 2.6, 5.3): lb lh lw ld lbu lhu lwu by funct3; 111 is illegal.
decoded_insn decode_load(const fields& f) {
    constexpr opcode ops[8] = {opcode::lb,  opcode::lh,  opcode::lw,  opcode::ld,
                               opcode::lbu, opcode::lhu, opcode::lwu, opcode::illegal};
    return i_type(f, ops[f.f3]);
}

// STORE (ch. 2.6, 5.3): sb sh sw sd by funct3.
decoded_insn decode_store(const fields& f) {
    constexpr opcode ops[8] = {opcode::sb,      opcode::sh,      opcode::sw,      opcode::sd,
                               opcode::illegal, opcode::illegal, opcode::illegal, opcode::illegal};
    auto d = with(f, ops[f.f3]);
    d.rs1 = f.rs1;
    d.rs2 = f.rs2;
    d.imm = imm_s(f.w);
    return d;
}

// BRANCH (ch. 2.5): funct3 010 and 011 are illegal.
decoded_insn decode_branch(const fields& f) {
    constexpr opcode ops[8] = {opcode::beq, opcode::bne, opcode::illegal, opcode::illegal,
                               opcode::blt, opcode::bge, opcode::bltu,    opcode::bgeu};
    auto d = with(f, ops[f.f3]);
    d.rs1 = f.rs1;
    d.rs2 = f.rs2;
    d.imm = imm_b(f.w);
    return d;
}

// OP-IMM (ch. 2.4, 5.2).
decoded_insn decode_op_imm(const fields& f) {
    switch (f.f3) {
    case 0:
        return i_type(f, opcode::addi);
    case 2:
        return i_type(f, opcode::slti);
    case 3:
        return i_type(f, opcode::sltiu);
    case 4:
        return i_type(f, opcode::xori);
    case 6:
        return i_type(f, opcode::ori);
    case 7:
        return i_type(f, opcode::andi);
    case 1:
        return bits(f.w, 31, 26) == 0 ? shift_imm(f, opcode::slli, 6) : illegal(f);
    default: // 5
        if (bits(f.w, 31, 26) == 0)
            return shift_imm(f, opcode::srli, 6);
        if (bits(f.w, 31, 26) == 0x10)
            return shift_imm(f, opcode::srai, 6);
        return illegal(f);
    }
}

// OP-IMM-32 (ch. 5.2): addiw, slliw, srliw, sraiw.
decoded_insn decode_op_imm_32(const fields& f) {
    switch (f.f3) {
    case 0:
        return i_type(f, opcode::addiw);
    case 1:
        return f.f7 == 0 ? shift_imm(f, opcode::slliw, 5) : illegal(f);
    case 5:
        if (f.f7 == 0)
            return shift_imm(f, opcode::srliw, 5);
        if (f.f7 == 0x20)
            return shift_imm(f, opcode::sraiw, 5);
        return illegal(f);
    default:
        return illegal(f);
    }
}

// OP (ch. 2.4; M ch. 7.1 with funct7 = 0000001).
decoded_insn decode_op(const fields& f) {
    constexpr opcode base[8] = {opcode::add,  opcode::sll, opcode::slt, opcode::sltu,
                                opcode::xor_, opcode::srl, opcode::or_, opcode::and_};
    constexpr opcode muldiv[8] = {opcode::mul, opcode::mulh, opcode::mulhsu, opcode::mulhu,
                                  opcode::div, opcode::divu, opcode::rem,    opcode::remu};
    switch (f.f7) {
    case 0x00:
        return r_type(f, base[f.f3]);
    case 0x01:
        return r_type(f, muldiv[f.f3]);
    case 0x20:
        if (f.f3 == 0)
            return r_type(f, opcode::sub);
        if (f.f3 == 5)
            return r_type(f, opcode::sra);
        return illegal(f);
    default:
        return illegal(f);
    }
}

// OP-32 (ch. 5.2; M ch. 7.1, 7.2).
decoded_insn decode_op_32(const fields& f) {
    constexpr opcode base[8] = {opcode::addw,    opcode::sllw, opcode::illegal, opcode::illegal,
                                opcode::illegal, opcode::srlw, opcode::illegal, opcode::illegal};
    constexpr opcode muldiv[8] = {opcode::mulw, opcode::illegal, opcode::illegal, opcode::illegal,
                                  opcode::divw, opcode::divuw,   opcode::remw,    opcode::remuw};
    switch (f.f7) {
    case 0x00:
        return r_type(f, base[f.f3]);
    case 0x01:
        return r_type(f, muldiv[f.f3]);
    case 0x20:
        if (f.f3 == 0)
            return r_type(f, opcode::subw);
        if (f.f3 == 5)
            return r_type(f, opcode::sraw);
        return illegal(f);
    default:
        return illegal(f);
    }
}

// MISC-MEM (ch. 2.7, Zifencei ch. 3). The unused fields of FENCE (fm values other than 0000 and
// 1000, rs1, rd) and of FENCE.I (imm, rs1, rd) are reserved and "base implementations shall
// ignore" them, so every funct3 = 000 word is a fence and every 001 word a fence.i.
decoded_insn decode_misc_mem(const fields& f) {
    if (f.f3 == 0) {
        auto d = i_type(f, opcode::fence);
        d.rd = 0;
        d.rs1 = 0;
        return d;
    }
    if (f.f3 == 1)
        return i_type(f, opcode::fence_i);
    return illegal(f);
}

// SYSTEM (ch. 2.8 ecall/ebreak, Zicsr ch. 9; privileged sret/mret/wfi/sfence.vma in Volume II
// ch. 3.3.2, 3.3.3, 4.2.1, which fix every field).
decoded_insn decode_system(const fields& f) {
    if (f.f3 == 0) {
        switch (f.w) {
        case 0x00000073:
            return with(f, opcode::ecall);
        case 0x00100073:
            return with(f, opcode::ebreak);
        case 0x10200073:
            return with(f, opcode::sret);
        case 0x30200073:
            return with(f, opcode::mret);
        case 0x10500073:
            return with(f, opcode::wfi);
        default:
            break;
        }
        if (f.f7 == 0x09 && f.rd == 0)
            return r_type(f, opcode::sfence_vma);
        return illegal(f);
    }
    constexpr opcode csr[8] = {opcode::illegal, opcode::csrrw,  opcode::csrrs,  opcode::csrrc,
                               opcode::illegal, opcode::csrrwi, opcode::csrrsi, opcode::csrrci};
    auto d = with(f, csr[f.f3]);
    d.rd = f.rd;
    d.rs1 = f.rs1;
    d.imm = bits(f.w, 31, 20); // the CSR number, unsigned
    return d;
}

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

} // namespace

decoded_insn decode_32(uint32_t w) {
    const fields f{w,
                   bits(w, 6, 0),
                   bits(w, 11, 7),
                   bits(w, 14, 12),
                   bits(w, 19, 15),
                   bits(w, 24, 20),
                   bits(w, 31, 25)};
    decoded_insn d;
    switch (f.opc) {
    case op_lui:
    case op_auipc:
        d = with(f, f.opc == op_lui ? opcode::lui : opcode::auipc);
        d.rd = f.rd;
        d.imm = imm_u(w);
        break;
    case op_jal:
        d = with(f, opcode::jal);
        d.rd = f.rd;
        d.imm = imm_j(w);
        break;
    case op_jalr:
        d = f.f3 == 0 ? i_type(f, opcode::jalr) : illegal(f);
        break;
    case op_branch:
        d = decode_branch(f);
        break;
    case op_load:
        d = decode_load(f);
        break;
    case op_store:
        d = decode_store(f);
        break;
    case op_op_imm:
        d = decode_op_imm(f);
        break;
    case op_op_imm_32:
        d = decode_op_imm_32(f);
        break;
    case op_op:
        d = decode_op(f);
        break;
    case op_op_32:
        d = decode_op_32(f);
        break;
    case op_misc_mem:
        d = decode_misc_mem(f);
        break;
    case op_system:
        d = decode_system(f);
        break;
    case op_amo:
        d = decode_amo(f);
        break;
    case op_load_fp:
        d = decode_fp_mem(f, false);
        break;
    case op_store_fp:
        d = decode_fp_mem(f, true);
        break;
    case op_madd:
    case op_msub:
    case op_nmsub:
    case op_nmadd:
        d = decode_fma(f);
        break;
    case op_op_fp:
        d = decode_op_fp(f);
        break;
    default:
        d = illegal(f);
        break; // includes the 48-bit and longer prefixes (ch. 1.5)
    }
    if (d.op == opcode::illegal) {
        // Fields of an illegal word mean nothing; keep only the bits.
        d = decoded_insn{};
        d.raw = w;
        d.length = 4;
    }
    classify(d);
    return d;
}

void classify(decoded_insn& d) {
    auto in = [&](opcode lo, opcode hi) { return d.op >= lo && d.op <= hi; };
    d.cls = insn_class::refuse;
    d.refusal = error::ok;
    if (in(opcode::lui, opcode::fence) || in(opcode::mul, opcode::remuw)) {
        d.cls = insn_class::simulate;
    } else if (in(opcode::amoswap_w, opcode::amomaxu_w) ||
               in(opcode::amoswap_d, opcode::amomaxu_d) || in(opcode::flw, opcode::fmv_d_x)) {
        d.cls = insn_class::out_of_line;
    } else if (d.op == opcode::ecall) {
        d.refusal = error::insn_ecall;
    } else if (d.op == opcode::ebreak) {
        d.refusal = error::insn_ebreak;
    } else if (d.op == opcode::fence_i) {
        d.refusal = error::insn_fence_i;
    } else if (in(opcode::csrrw, opcode::csrrci)) {
        d.refusal = error::insn_csr;
    } else if (in(opcode::sret, opcode::sfence_vma)) {
        d.refusal = error::insn_privileged;
    } else if (d.op == opcode::lr_w || d.op == opcode::sc_w || d.op == opcode::lr_d ||
               d.op == opcode::sc_d) {
        d.refusal = error::insn_lr_sc;
    } else {
        d.op = opcode::illegal;
        d.refusal = error::insn_illegal;
    }
}

} // namespace detail

decoded_insn decode_bits(uint32_t bits) {
    if ((bits & 3) == 3)
        return detail::decode_32(bits);
    return detail::decode_16(static_cast<uint16_t>(bits));
}

result<decoded_insn> decode(const uint8_t* bytes, size_t available) {
    if (bytes == nullptr || available < 2)
        return error::addr_outside_text;
    // Little-endian parcels (ch. 1.5): the low parcel first; its low two bits give the length.
    uint32_t lo = uint32_t{bytes[0]} | (uint32_t{bytes[1]} << 8);
    if ((lo & 3) != 3)
        return detail::decode_16(static_cast<uint16_t>(lo));
    if (available < 4)
        return error::addr_outside_text;
    uint32_t hi = uint32_t{bytes[2]} | (uint32_t{bytes[3]} << 8);
    return detail::decode_32(lo | (hi << 16));
}

} // namespace ruprobes

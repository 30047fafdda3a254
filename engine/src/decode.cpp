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

// RV64C decoder: every 16-bit encoding expanded to the base instruction it stands for.
//
// Compressed formats (Unprivileged ISA v20191213, ch. 16.2, table 16.1); rd'/rs1'/rs2' are
// 3-bit fields naming x8..x15 (or f8..f15):
//
//   15  13 12  11  10   7 6   5 4    2 1 0
//  | funct4    |  rd/rs1  |    rs2    | op |  CR
//  |funct3| imm|  rd/rs1  |    imm    | op |  CI
//  |funct3|   imm         |    rs2    | op |  CSS
//  |funct3|   imm             | rd'   | op |  CIW
//  |funct3| imm   | rs1'| imm | rd'   | op |  CL
//  |funct3| imm   | rs1'| imm | rs2'  | op |  CS
//  |   funct6       |rd'/rs1'|f2| rs2'| op |  CA
//  |funct3| offset | rs1' |  offset   | op |  CB
//  |funct3|    jump target            | op |  CJ
//
// The opcode map is table 16.5 (quadrant 0), 16.6 (quadrant 1) and 16.7 (quadrant 2); the RV64
// column applies (c.ld/c.sd/c.ldsp/c.sdsp, c.addiw, c.subw/c.addw; no c.jal, no c.flw). Reserved
// encodings are illegal; HINTs (e.g. c.li with rd = x0, c.slli with shamt = 0) are valid and
// decode to their base instruction, which has no architectural effect.
#include "decode_detail.hpp"

namespace ruprobes::detail {
namespace {

decoded_insn with(uint16_t h, opcode op) {
    decoded_insn d;
    d.raw = h;
    d.length = 2;
    d.op = op;
    return d;
}

decoded_insn reg_imm(uint16_t h, opcode op, uint32_t rd, uint32_t rs1, int64_t imm) {
    auto d = with(h, op);
    d.rd = static_cast<uint8_t>(rd);
    d.rs1 = static_cast<uint8_t>(rs1);
    d.imm = imm;
    return d;
}

decoded_insn reg_reg(uint16_t h, opcode op, uint32_t rd, uint32_t rs1, uint32_t rs2) {
    auto d = with(h, op);
    d.rd = static_cast<uint8_t>(rd);
    d.rs1 = static_cast<uint8_t>(rs1);
    d.rs2 = static_cast<uint8_t>(rs2);
    return d;
}

decoded_insn store(uint16_t h, opcode op, uint32_t rs1, uint32_t rs2, int64_t imm) {
    auto d = with(h, op);
    d.rs1 = static_cast<uint8_t>(rs1);
    d.rs2 = static_cast<uint8_t>(rs2);
    d.imm = imm;
    return d;
}

decoded_insn illegal(uint16_t h) {
    return with(h, opcode::illegal);
}

// The 3-bit register fields name x8..x15 (ch. 16.2, table 16.2).
uint32_t reg_prime(uint16_t h, unsigned lo) {
    return bits(h, lo + 2, lo) + 8;
}

// CL/CS offsets scaled by 4 (c.lw, c.sw): uimm[5:3] = inst[12:10], uimm[2] = inst[6],
// uimm[6] = inst[5].
uint32_t uimm_w(uint16_t h) {
    return (bits(h, 12, 10) << 3) | (bit(h, 6) << 2) | (bit(h, 5) << 6);
}

// CL/CS offsets scaled by 8 (c.ld, c.sd, c.fld, c.fsd): uimm[5:3] = inst[12:10],
// uimm[7:6] = inst[6:5].
uint32_t uimm_d(uint16_t h) {
    return (bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6);
}

// The CI immediate imm[5] = inst[12], imm[4:0] = inst[6:2], sign-extended.
int64_t ci_imm(uint16_t h) {
    return sext((bit(h, 12) << 5) | bits(h, 6, 2), 6);
}

// The CI shift amount shamt[5] = inst[12], shamt[4:0] = inst[6:2] (unsigned).
uint32_t ci_shamt(uint16_t h) {
    return (bit(h, 12) << 5) | bits(h, 6, 2);
}

// Quadrant 0 (table 16.5).
decoded_insn quadrant0(uint16_t h) {
    const uint32_t rdp = reg_prime(h, 2), rs1p = reg_prime(h, 7);
    switch (bits(h, 15, 13)) {
    case 0: { // c.addi4spn: nzuimm[5:4|9:6|2|3] = inst[12:5]; nzuimm = 0 is reserved
        uint32_t imm =
            (bits(h, 12, 11) << 4) | (bits(h, 10, 7) << 6) | (bit(h, 6) << 2) | (bit(h, 5) << 3);
        if (imm == 0)
            return illegal(h);
        return reg_imm(h, opcode::addi, rdp, 2, imm);
    }
    case 1:
        return reg_imm(h, opcode::fld, rdp, rs1p, uimm_d(h));
    case 2:
        return reg_imm(h, opcode::lw, rdp, rs1p, uimm_w(h));
    case 3:
        return reg_imm(h, opcode::ld, rdp, rs1p, uimm_d(h));
    case 5:
        return store(h, opcode::fsd, rs1p, rdp, uimm_d(h));
    case 6:
        return store(h, opcode::sw, rs1p, rdp, uimm_w(h));
    case 7:
        return store(h, opcode::sd, rs1p, rdp, uimm_d(h));
    default:
        return illegal(h); // 100: reserved
    }
}

// Quadrant 1, funct3 = 100: the register-register and immediate ALU group (table 16.6).
decoded_insn misc_alu(uint16_t h) {
    const uint32_t r = reg_prime(h, 7), rs2p = reg_prime(h, 2);
    switch (bits(h, 11, 10)) {
    case 0:
        return reg_imm(h, opcode::srli, r, r, ci_shamt(h));
    case 1:
        return reg_imm(h, opcode::srai, r, r, ci_shamt(h));
    case 2:
        return reg_imm(h, opcode::andi, r, r, ci_imm(h));
    default: {
        constexpr opcode ops[8] = {opcode::sub,  opcode::xor_, opcode::or_,     opcode::and_,
                                   opcode::subw, opcode::addw, opcode::illegal, opcode::illegal};
        opcode op = ops[(bit(h, 12) << 2) | bits(h, 6, 5)];
        return reg_reg(h, op, r, r, rs2p);
    }
    }
}

// Quadrant 1 (table 16.6).
decoded_insn quadrant1(uint16_t h) {
    const uint32_t rd = bits(h, 11, 7), rs1p = reg_prime(h, 7);
    switch (bits(h, 15, 13)) {
    case 0:
        return reg_imm(h, opcode::addi, rd, rd, ci_imm(h)); // c.addi / c.nop
    case 1:                                                 // c.addiw; rd = x0 reserved
        return rd == 0 ? illegal(h) : reg_imm(h, opcode::addiw, rd, rd, ci_imm(h));
    case 2:
        return reg_imm(h, opcode::addi, rd, 0, ci_imm(h)); // c.li
    case 3: {
        if (rd == 2) { // c.addi16sp: nzimm[9] = inst[12], nzimm[4|6|8:7|5] = inst[6:2]
            int64_t imm = sext((bit(h, 12) << 9) | (bit(h, 6) << 4) | (bit(h, 5) << 6) |
                                   (bits(h, 4, 3) << 7) | (bit(h, 2) << 5),
                               10);
            return imm == 0 ? illegal(h) : reg_imm(h, opcode::addi, 2, 2, imm);
        }
        // c.lui: nzimm[17] = inst[12], nzimm[16:12] = inst[6:2]; nzimm = 0 reserved
        int64_t imm = sext((bit(h, 12) << 17) | (bits(h, 6, 2) << 12), 18);
        return imm == 0 ? illegal(h) : reg_imm(h, opcode::lui, rd, 0, imm);
    }
    case 4:
        return misc_alu(h);
    case 5: { // c.j: offset[11|4|9:8|10|6|7|3:1|5] = inst[12:2]
        int64_t imm = sext((bit(h, 12) << 11) | (bit(h, 11) << 4) | (bits(h, 10, 9) << 8) |
                               (bit(h, 8) << 10) | (bit(h, 7) << 6) | (bit(h, 6) << 7) |
                               (bits(h, 5, 3) << 1) | (bit(h, 2) << 5),
                           12);
        return reg_imm(h, opcode::jal, 0, 0, imm);
    }
    default: { // c.beqz / c.bnez: offset[8|4:3] = inst[12:10], offset[7:6|2:1|5] = inst[6:2]
        int64_t imm = sext((bit(h, 12) << 8) | (bits(h, 11, 10) << 3) | (bits(h, 6, 5) << 6) |
                               (bits(h, 4, 3) << 1) | (bit(h, 2) << 5),
                           9);
        auto d = store(h, bits(h, 15, 13) == 6 ? opcode::beq : opcode::bne, rs1p, 0, imm);
        return d;
    }
    }
}

// Quadrant 2 (table 16.7).
decoded_insn quadrant2(uint16_t h) {
    const uint32_t rd = bits(h, 11, 7), rs2 = bits(h, 6, 2);
    // CI sp-relative loads: uimm[5] = inst[12]; uimm[4:3|8:6] (d) or uimm[4:2|7:6] (w) = inst[6:2]
    const uint32_t uimm_lsp_d = (bit(h, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
    const uint32_t uimm_lsp_w = (bit(h, 12) << 5) | (bits(h, 6, 4) << 2) | (bits(h, 3, 2) << 6);
    // CSS sp-relative stores: uimm[5:3|8:6] (d) or uimm[5:2|7:6] (w) = inst[12:7]
    const uint32_t uimm_ssp_d = (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6);
    const uint32_t uimm_ssp_w = (bits(h, 12, 9) << 2) | (bits(h, 8, 7) << 6);
    switch (bits(h, 15, 13)) {
    case 0:
        return reg_imm(h, opcode::slli, rd, rd, ci_shamt(h)); // c.slli
    case 1:
        return reg_imm(h, opcode::fld, rd, 2, uimm_lsp_d); // c.fldsp
    case 2:                                                // c.lwsp; rd = x0 reserved
        return rd == 0 ? illegal(h) : reg_imm(h, opcode::lw, rd, 2, uimm_lsp_w);
    case 3: // c.ldsp; rd = x0 reserved
        return rd == 0 ? illegal(h) : reg_imm(h, opcode::ld, rd, 2, uimm_lsp_d);
    case 4:
        if (bit(h, 12) == 0) {
            if (rs2 == 0) // c.jr; rs1 = x0 reserved
                return rd == 0 ? illegal(h) : reg_imm(h, opcode::jalr, 0, rd, 0);
            return reg_reg(h, opcode::add, rd, 0, rs2); // c.mv
        }
        if (rs2 == 0) {
            if (rd == 0)
                return with(h, opcode::ebreak);        // c.ebreak
            return reg_imm(h, opcode::jalr, 1, rd, 0); // c.jalr
        }
        return reg_reg(h, opcode::add, rd, rd, rs2); // c.add
    case 5:
        return store(h, opcode::fsd, 2, rs2, uimm_ssp_d); // c.fsdsp
    case 6:
        return store(h, opcode::sw, 2, rs2, uimm_ssp_w); // c.swsp
    default:
        return store(h, opcode::sd, 2, rs2, uimm_ssp_d); // c.sdsp
    }
}

} // namespace

decoded_insn decode_16(uint16_t h) {
    decoded_insn d;
    switch (h & 3) {
    case 0:
        d = quadrant0(h);
        break;
    case 1:
        d = quadrant1(h);
        break;
    default:
        d = quadrant2(h);
        break;
    }
    if (d.op == opcode::illegal) {
        d = decoded_insn{};
        d.raw = h;
        d.length = 2;
    }
    classify(d);
    return d;
}

} // namespace ruprobes::detail

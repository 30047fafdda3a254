// RV64GC instruction decoding: bytes of user text -> one decoded instruction with its length,
// operation, operand fields and the engine's class for it (simulate / out-of-line / refuse).
//
// Spec: "The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA", v20191213 — RV32I/RV64I
// ch. 2 and 5, M ch. 7, A ch. 8, F ch. 11, D ch. 12, Zicsr ch. 9, Zifencei ch. 3, C ch. 16
// ("RVC opcode map", tables 16.5-16.7), opcode map ch. 24 (table 24.1); privileged sret/mret/wfi/
// sfence.vma from Volume II v20211203 ch. 3.3 and 4.2.
//
// Usage (probe registration and the hit path):
//
//     auto d = ruprobes::decode(text + offset, text_size - offset);
//     if (!d) return d.err();                           // addr_outside_text: instruction cut off
//     if (d->cls == insn_class::refuse) return d->refusal;   // insn_ecall, insn_csr, ...
//     // d->length is 2 or 4: write c.ebreak or ebreak of that length over it.
//     // At the hit: d->cls == simulate -> ruprobes::simulate(*d, pc, regs, mem) (simulate.hpp);
//     //             d->cls == out_of_line -> copy d->length bytes (d->raw) into an XOL slot.
//
// Compressed instructions are expanded to the base instruction they stand for (spec ch. 16: "each
// RVC instruction expands into a single base instruction"): c.addi4spn decodes as `addi rd, x2,
// imm` with length 2, c.j as `jal x0, imm`, c.jr as `jalr x0, 0(rs1)`, c.beqz as `beq rs1, x0`, and
// so on. Code that links (jal/jalr) or falls through must use `pc + length`, never `pc + 4`.
#pragma once

#include "ruprobes/base.hpp"

namespace ruprobes {

// What the engine does with a displaced instruction after a probe hit.
enum class insn_class : uint8_t {
    simulate,    // executed in the kernel by simulate(): RV64I, M, C integer, fence (no-op)
    out_of_line, // valid but not simulated (F, D, AMOs): single-stepped from an XOL slot
    refuse,      // cannot be probed: decoded_insn::refusal says why
};

// Every operation of RV64GC plus the privileged instructions the decoder recognises to refuse.
// Compressed forms decode to the base operation they expand to (see the file comment).
enum class opcode : uint16_t {
    illegal = 0,
    // RV64I (ch. 2, 5)
    lui,
    auipc,
    jal,
    jalr,
    beq,
    bne,
    blt,
    bge,
    bltu,
    bgeu,
    lb,
    lh,
    lw,
    ld,
    lbu,
    lhu,
    lwu,
    sb,
    sh,
    sw,
    sd,
    addi,
    slti,
    sltiu,
    xori,
    ori,
    andi,
    slli,
    srli,
    srai,
    add,
    sub,
    sll,
    slt,
    sltu,
    xor_,
    srl,
    sra,
    or_,
    and_,
    addiw,
    slliw,
    srliw,
    sraiw,
    addw,
    subw,
    sllw,
    srlw,
    sraw,
    fence,
    ecall,
    ebreak,
    // Zifencei (ch. 3)
    fence_i,
    // Zicsr (ch. 9)
    csrrw,
    csrrs,
    csrrc,
    csrrwi,
    csrrsi,
    csrrci,
    // M (ch. 7)
    mul,
    mulh,
    mulhsu,
    mulhu,
    div,
    divu,
    rem,
    remu,
    mulw,
    divw,
    divuw,
    remw,
    remuw,
    // A (ch. 8); the _w/_d suffix is the access width
    lr_w,
    sc_w,
    amoswap_w,
    amoadd_w,
    amoxor_w,
    amoand_w,
    amoor_w,
    amomin_w,
    amomax_w,
    amominu_w,
    amomaxu_w,
    lr_d,
    sc_d,
    amoswap_d,
    amoadd_d,
    amoxor_d,
    amoand_d,
    amoor_d,
    amomin_d,
    amomax_d,
    amominu_d,
    amomaxu_d,
    // F (ch. 11)
    flw,
    fsw,
    fmadd_s,
    fmsub_s,
    fnmsub_s,
    fnmadd_s,
    fadd_s,
    fsub_s,
    fmul_s,
    fdiv_s,
    fsqrt_s,
    fsgnj_s,
    fsgnjn_s,
    fsgnjx_s,
    fmin_s,
    fmax_s,
    fcvt_w_s,
    fcvt_wu_s,
    fcvt_l_s,
    fcvt_lu_s,
    fmv_x_w,
    fclass_s,
    feq_s,
    flt_s,
    fle_s,
    fcvt_s_w,
    fcvt_s_wu,
    fcvt_s_l,
    fcvt_s_lu,
    fmv_w_x,
    // D (ch. 12)
    fld,
    fsd,
    fmadd_d,
    fmsub_d,
    fnmsub_d,
    fnmadd_d,
    fadd_d,
    fsub_d,
    fmul_d,
    fdiv_d,
    fsqrt_d,
    fsgnj_d,
    fsgnjn_d,
    fsgnjx_d,
    fmin_d,
    fmax_d,
    fcvt_s_d,
    fcvt_d_s,
    fcvt_w_d,
    fcvt_wu_d,
    fcvt_l_d,
    fcvt_lu_d,
    fmv_x_d,
    fclass_d,
    feq_d,
    flt_d,
    fle_d,
    fcvt_d_w,
    fcvt_d_wu,
    fcvt_d_l,
    fcvt_d_lu,
    fmv_d_x,
    // Privileged (Volume II): recognised only to be refused
    sret,
    mret,
    wfi,
    sfence_vma,
    count_ // number of opcodes; not an operation
};

// One decoded instruction. Plain data; cheap to copy and to keep in a probe record.
struct decoded_insn {
    uint32_t raw = 0;   // the instruction bits as read (upper 16 bits zero when length == 2)
    uint8_t length = 4; // 2 (compressed) or 4; derived from the low bits, (raw & 3) == 3 -> 4
    opcode op = opcode::illegal;
    insn_class cls = insn_class::refuse;
    error refusal = error::insn_illegal; // why cls == refuse; error::ok for the other classes
    uint8_t rd = 0;                      // destination register number (x or f, by op), 0 when none
    uint8_t rs1 = 0;                     // first source register (x or f); uimm[4:0] for csrr*i
    uint8_t rs2 = 0;                     // second source register (x or f)
    uint8_t rs3 = 0;                     // third source (fmadd & co.)
    uint8_t rm = 0;  // F/D: the funct3 field (rounding mode where the op has one);
                     // A: aq << 1 | rl; 0 for everything else
    int64_t imm = 0; // sign-extended immediate, in bytes for offsets (branch/jump targets are
                     // pc + imm); the shift amount for shifts; the CSR number (unsigned) for
                     // csr*; for lui/auipc the value added, already shifted left by 12; for
                     // fence its fm|pred|succ bits as an I-immediate; 0 when none

    bool compressed() const { return length == 2; }
};

// Decodes the instruction at `bytes`, read little-endian (spec ch. 1.5: "instructions are stored
// in memory as a sequence of 16-bit little-endian parcels"). Needs 2 available bytes for a
// compressed instruction and 4 for any other; otherwise fails with error::addr_outside_text (the
// instruction runs past the end of the text the caller has). Every other input decodes: invalid
// or reserved encodings come back with cls == refuse and refusal == insn_illegal, unprobeable
// ones with their specific refusal (insn_ecall, insn_ebreak, insn_csr, insn_privileged,
// insn_fence_i, insn_lr_sc). Pure function, no side effects.
result<decoded_insn> decode(const uint8_t* bytes, size_t available);

// Decodes an instruction given as its bits: the low 16 bits alone when (bits & 3) != 3 (the
// upper half is then ignored), all 32 bits otherwise. Never fails; see decode().
decoded_insn decode_bits(uint32_t bits);

// A short, stable mnemonic for `op` ("addi", "fcvt.d.s", "amoswap.w", ...); "illegal" for
// opcode::illegal and out-of-range values.
const char* opcode_name(opcode op);

// Writes the assembly text of `d` into `buf` (always NUL-terminated when size > 0, truncated to
// fit): GNU operand order, ABI register names, compressed instructions as the base instruction
// they expand to, branch/jump offsets relative to the instruction ("beq a0,a1,-16"); illegal
// encodings as "illegal 0x<bits>". Returns the length of the whole text, like snprintf.
size_t format_insn(const decoded_insn& d, char* buf, size_t size);

// Whether `d` may carry a probe: ok for simulate and out_of_line, d.refusal for refuse.
inline result<void> probeable(const decoded_insn& d) {
    if (d.cls == insn_class::refuse)
        return d.refusal;
    return {};
}

} // namespace ruprobes

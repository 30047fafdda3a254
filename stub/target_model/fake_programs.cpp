// The fake kernel's programs, assembled by hand with the RV64 encodings
// (RISC-V Unprivileged ISA, chapter 2 "RV32I Base Integer Instruction Set", 2.2-2.5; and
// chapter 16 "C" for c.nop).
#include "target_model/fake_backend.hpp"

namespace ruprobes::target {
namespace {

// I-type: imm[11:0] | rs1 | funct3 | rd | opcode
uint32_t i_type(uint32_t opcode, uint32_t funct3, uint32_t rd, uint32_t rs1, int32_t imm) {
    return (static_cast<uint32_t>(imm) & 0xfff) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) {
    return i_type(0x13, 0, rd, rs1, imm);
}
// J-type: imm[20] | imm[10:1] | imm[11] | imm[19:12] | rd | 1101111
uint32_t jal(uint32_t rd, int32_t offset) {
    uint32_t imm = static_cast<uint32_t>(offset);
    return ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3ff) << 21 | ((imm >> 11) & 1) << 20 |
           ((imm >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}
// B-type: imm[12] | imm[10:5] | rs2 | rs1 | funct3 | imm[4:1] | imm[11] | 1100011
uint32_t branch(uint32_t funct3, uint32_t rs1, uint32_t rs2, int32_t offset) {
    uint32_t imm = static_cast<uint32_t>(offset);
    return ((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 |
           funct3 << 12 | ((imm >> 1) & 0xf) << 8 | ((imm >> 11) & 1) << 7 | 0x63;
}
constexpr uint32_t ecall = 0x00000073;
constexpr uint16_t c_nop = 0x0001;
constexpr uint32_t a0 = 10, a7 = 17, t0 = 5;

struct assembler {
    std::vector<uint8_t> bytes;
    void w32(uint32_t v) {
        for (int i = 0; i < 4; i++)
            bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void w16(uint16_t v) {
        bytes.push_back(static_cast<uint8_t>(v));
        bytes.push_back(static_cast<uint8_t>(v >> 8));
    }
};

} // namespace

std::vector<fake_program> fake_programs() {
    std::vector<fake_program> out;
    {
        assembler a;
        a.w32(addi(a0, 0, 0));  // 0x10000
        a.w16(c_nop);           // 0x10004
        a.w32(addi(a0, a0, 1)); // 0x10006
        a.w32(jal(0, -6));      // 0x1000a -> 0x10004
        out.push_back({"/bin/loop", 0x10000, a.bytes, 0x10000});
    }
    {
        assembler a;
        a.w32(addi(a0, 0, 0));        // 0x10000
        a.w32(addi(t0, 0, 3));        // 0x10004
        a.w16(c_nop);                 // 0x10008
        a.w32(addi(a0, a0, 1));       // 0x1000a
        a.w32(branch(1, a0, t0, -6)); // 0x1000e bne -> 0x10008
        a.w32(addi(a7, 0, 93));       // 0x10012
        a.w32(ecall);                 // 0x10016
        out.push_back({"/bin/count", 0x10000, a.bytes, 0x10000});
    }
    return out;
}

} // namespace ruprobes::target

// Encoders for the few RV64GC instructions the engine tests assemble by hand (Unprivileged ISA
// v20191213: base formats ch. 2.2-2.3, compressed formats ch. 16.2, A ch. 8).
#pragma once

#include <cstdint>

namespace ruprobes::test::rv {

enum reg : uint32_t {
    zero = 0,
    ra = 1,
    sp = 2,
    gp = 3,
    tp = 4,
    t0 = 5,
    t1 = 6,
    t2 = 7,
    s0 = 8,
    s1 = 9,
    a0 = 10,
    a1 = 11,
    a2 = 12,
    a3 = 13,
    a4 = 14,
    a5 = 15,
    a6 = 16,
    a7 = 17
};

constexpr uint32_t r_type(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd,
                          uint32_t opc) {
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
constexpr uint32_t i_type(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
    return (static_cast<uint32_t>(imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
constexpr uint32_t s_type(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t opc) {
    uint32_t u = static_cast<uint32_t>(imm) & 0xfff;
    return (u >> 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 31) << 7 | opc;
}

constexpr uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) {
    return i_type(imm, rs1, 0, rd, 0x13);
}
constexpr uint32_t add(uint32_t rd, uint32_t rs1, uint32_t rs2) {
    return r_type(0, rs2, rs1, 0, rd, 0x33);
}
constexpr uint32_t ld(uint32_t rd, uint32_t rs1, int32_t imm) {
    return i_type(imm, rs1, 3, rd, 0x03);
}
constexpr uint32_t sd(uint32_t rs2, uint32_t rs1, int32_t imm) {
    return s_type(imm, rs2, rs1, 3, 0x23);
}
constexpr uint32_t jalr(uint32_t rd, uint32_t rs1, int32_t imm) {
    return i_type(imm, rs1, 0, rd, 0x67);
}
constexpr uint32_t jal(uint32_t rd, int32_t offset) {
    uint32_t u = static_cast<uint32_t>(offset);
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}
constexpr uint32_t beq(uint32_t rs1, uint32_t rs2, int32_t offset) {
    uint32_t u = static_cast<uint32_t>(offset);
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 |
           ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
constexpr uint32_t auipc(uint32_t rd, uint32_t upper20) {
    return upper20 << 12 | rd << 7 | 0x17;
}
constexpr uint32_t amoadd_w(uint32_t rd, uint32_t rs2, uint32_t rs1) {
    return r_type(0, rs2, rs1, 2, rd, 0x2f);
}
constexpr uint32_t lr_w(uint32_t rd, uint32_t rs1) {
    return r_type(0b0001000, 0, rs1, 2, rd, 0x2f);
}
constexpr uint32_t ret = jalr(zero, ra, 0);
constexpr uint32_t ecall = 0x00000073;
constexpr uint32_t ebreak = 0x00100073;
constexpr uint32_t rdcycle_a0 = 0xc0002573; // csrrs a0, cycle, x0
constexpr uint32_t fence_i = 0x0000100f;
constexpr uint32_t wfi = 0x10500073;

// Compressed (ch. 16). The encoders return 16-bit values.
constexpr uint32_t c_nop = 0x0001;
constexpr uint32_t c_ebreak = 0x9002;
constexpr uint32_t c_unimp = 0x0000; // the all-zero parcel: defined illegal
constexpr uint32_t c_addi(uint32_t rd, int32_t imm) {
    uint32_t u = static_cast<uint32_t>(imm);
    return ((u >> 5) & 1) << 12 | rd << 7 | (u & 31) << 2 | 0x1;
}
constexpr uint32_t c_jr(uint32_t rs1) {
    return 0x8002 | rs1 << 7;
}
constexpr uint32_t c_mv(uint32_t rd, uint32_t rs2) {
    return 0x8002 | rd << 7 | rs2 << 2;
}

} // namespace ruprobes::test::rv

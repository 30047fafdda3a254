// host_step: which instructions the daemon executes itself for a gdb single step, and that it
// computes what the instruction does (the engine's simulator; its semantics are tested in the
// engine's own tests).
#include "target_model/host_step.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace ruprobes::target;

namespace {

constexpr uint64_t pc = 0x10000;

std::vector<uint8_t> le32(uint32_t v) {
    return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
std::vector<uint8_t> le16(uint16_t v) {
    return {uint8_t(v), uint8_t(v >> 8)};
}

registers start() {
    registers r;
    r.pc = pc;
    for (int i = 1; i < 32; i++)
        r.x[i] = 0x1000 + i;
    r.x[10] = 5;         // a0
    r.x[11] = 7;         // a1
    r.x[1] = 0x7fffe000; // ra: a return-probe trampoline, say
    r.x[2] = 0x7fff0000; // sp
    return r;
}

// Everything but `changed` (and pc) is as before.
void expect_only(const registers& before, const registers& after, int changed) {
    for (int i = 0; i < 32; i++) {
        if (i != changed) {
            EXPECT_EQ(after.x[i], before.x[i]) << "x" << i;
        }
    }
}

TEST(host_step, integer_arithmetic_writes_rd_and_moves_pc_by_the_length) {
    registers r = start();
    auto a = host_step(r, le32(0x00150513)); // addi a0,a0,1
    ASSERT_TRUE(a);
    EXPECT_EQ(a->x[10], 6u);
    EXPECT_EQ(a->pc, pc + 4);
    expect_only(r, *a, 10);

    auto c = host_step(r, le16(0x0505)); // c.addi a0,1
    ASSERT_TRUE(c);
    EXPECT_EQ(c->x[10], 6u);
    EXPECT_EQ(c->pc, pc + 2);

    auto m = host_step(r, le32(0x02b50533)); // mul a0,a0,a1
    ASSERT_TRUE(m);
    EXPECT_EQ(m->x[10], 35u);

    auto d = host_step(r, le32(0x02054533)); // div a0,a0,zero: -1 (no trap on RISC-V)
    ASSERT_TRUE(d);
    EXPECT_EQ(d->x[10], ~uint64_t{0});

    auto s = host_step(r, le32(0x00b10533)); // add a0,sp,a1: reading sp is fine
    ASSERT_TRUE(s);
    EXPECT_EQ(s->x[10], r.x[2] + 7);

    auto mv = host_step(r, le16(0x852e)); // c.mv a0,a1
    ASSERT_TRUE(mv);
    EXPECT_EQ(mv->x[10], 7u);
}

TEST(host_step, lui_auipc_branches_and_jal_without_link_register) {
    registers r = start();
    auto lui = host_step(r, le32(0x12345537)); // lui a0,0x12345
    ASSERT_TRUE(lui);
    EXPECT_EQ(lui->x[10], 0x12345000u);
    auto auipc = host_step(r, le32(0x00000517)); // auipc a0,0
    ASSERT_TRUE(auipc);
    EXPECT_EQ(auipc->x[10], pc);

    auto beq = host_step(r, le32(0x00b50463)); // beq a0,a1,+8: not taken (5 != 7)
    ASSERT_TRUE(beq);
    EXPECT_EQ(beq->pc, pc + 4);
    auto bne = host_step(r, le32(0x00b51463)); // bne a0,a1,+8: taken
    ASSERT_TRUE(bne);
    EXPECT_EQ(bne->pc, pc + 8);
    expect_only(r, *bne, -1);

    auto j = host_step(r, le32(0xff9ff06f)); // j -8
    ASSERT_TRUE(j);
    EXPECT_EQ(j->pc, pc - 8);
    expect_only(r, *j, -1);
}

TEST(host_step, memory_control_transfer_through_registers_and_system_are_the_kernels) {
    registers r = start();
    EXPECT_FALSE(host_step(r, le32(0x00013503))); // ld a0,0(sp)
    EXPECT_FALSE(host_step(r, le32(0x00a13023))); // sd a0,0(sp)
    EXPECT_FALSE(host_step(r, le32(0x00008067))); // ret (jalr x0,0(ra))
    EXPECT_FALSE(host_step(r, le16(0x8082)));     // c.jr ra
    EXPECT_FALSE(host_step(r, le32(0x00000073))); // ecall
    EXPECT_FALSE(host_step(r, le32(0x00100073))); // ebreak
    EXPECT_FALSE(host_step(r, le16(0x9002)));     // c.ebreak
    EXPECT_FALSE(host_step(r, le32(0xc0002573))); // csrr a0,cycle
    EXPECT_FALSE(host_step(r, le32(0x0ff0000f))); // fence
    EXPECT_FALSE(host_step(r, le32(0x0000100f))); // fence.i
    EXPECT_FALSE(host_step(r, le32(0x00b6252f))); // amoadd.w a0,a1,(a2)
    EXPECT_FALSE(host_step(r, le32(0x1005252f))); // lr.w a0,(a0)
    EXPECT_FALSE(host_step(r, le32(0x02b57553))); // fadd.d fa0,fa0,fa1
    EXPECT_FALSE(host_step(r, le32(0x00000000))); // illegal
}

TEST(host_step, nothing_that_reads_or_writes_ra_or_writes_sp) {
    // The kernel shows ra translated while a return probe is pending (and the translation
    // depends on sp): those instructions are stepped where the raw values are.
    registers r = start();
    EXPECT_FALSE(host_step(r, le32(0x00008513))); // mv a0,ra
    EXPECT_FALSE(host_step(r, le32(0x008000ef))); // jal ra,8
    EXPECT_FALSE(host_step(r, le32(0xff010113))); // addi sp,sp,-16
    EXPECT_FALSE(host_step(r, le16(0x1141)));     // c.addi sp,-16
    EXPECT_FALSE(host_step(r, le16(0x717d)));     // c.addi16sp sp,-16
}

TEST(host_step, incomplete_instruction_bytes_are_refused) {
    registers r = start();
    EXPECT_FALSE(host_step(r, {}));
    EXPECT_FALSE(host_step(r, std::vector<uint8_t>{0x13}));
    EXPECT_FALSE(host_step(
        r, std::vector<uint8_t>{0x13, 0x05, 0x15})); // a 32-bit instruction's first 3 bytes
}

} // namespace

// Decoder unit tests: lengths, little-endian reads, fields of every format, the expansion of
// compressed instructions and the engine's class for each kind of instruction.
//
// Encodings were produced with the GNU assembler (riscv64-linux-gnu-as -march=rv64gc) and checked
// with objdump; section numbers refer to the Unprivileged ISA v20191213.
#include "ruprobes/insn.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using ruprobes::decode;
using ruprobes::decode_bits;
using ruprobes::decoded_insn;
using ruprobes::error;
using ruprobes::insn_class;
using ruprobes::opcode;

struct expect_fields {
    uint32_t bits;
    opcode op;
    int rd, rs1, rs2;
    int64_t imm;
    const char* text; // the assembler's spelling, for failure messages
};

void check(const expect_fields& e, unsigned length) {
    SCOPED_TRACE(e.text);
    decoded_insn d = decode_bits(e.bits);
    EXPECT_EQ(d.length, length);
    EXPECT_STREQ(ruprobes::opcode_name(d.op), ruprobes::opcode_name(e.op));
    if (e.rd >= 0) {
        EXPECT_EQ(d.rd, e.rd);
    }
    if (e.rs1 >= 0) {
        EXPECT_EQ(d.rs1, e.rs1);
    }
    if (e.rs2 >= 0) {
        EXPECT_EQ(d.rs2, e.rs2);
    }
    EXPECT_EQ(d.imm, e.imm);
}

// ch. 1.5: the low two bits of the first (lowest-addressed) 16-bit parcel give the length, and
// parcels are little-endian.
TEST(decode, length_and_little_endian) {
    const uint8_t addi[] = {0x13, 0x05, 0xf0, 0xff}; // addi a0, zero, -1 = 0xfff00513
    auto d = decode(addi, 4);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->raw, 0xfff00513u);
    EXPECT_EQ(d->length, 4);
    EXPECT_EQ(d->op, opcode::addi);
    EXPECT_EQ(d->rd, 10);
    EXPECT_EQ(d->imm, -1);
    EXPECT_EQ(d->cls, insn_class::simulate);
    EXPECT_EQ(d->refusal, error::ok);

    const uint8_t cebreak[] = {0x02, 0x90}; // c.ebreak = 0x9002
    auto c = decode(cebreak, 2);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->length, 2);
    EXPECT_TRUE(c->compressed());
    EXPECT_EQ(c->raw, 0x9002u);
    EXPECT_EQ(c->refusal, error::insn_ebreak);

    // A compressed instruction needs 2 bytes only, even when more would be readable.
    const uint8_t cli_then_junk[] = {0x7d, 0x56, 0xff, 0xff}; // c.li a2, -1 = 0x567d
    auto li = decode(cli_then_junk, 4);
    ASSERT_TRUE(li.ok());
    EXPECT_EQ(li->length, 2);
    EXPECT_EQ(li->raw, 0x567du);
}

TEST(decode, truncated_input_is_an_error) {
    const uint8_t addi[] = {0x13, 0x05, 0xf0, 0xff};
    EXPECT_EQ(decode(addi, 3).err(), error::addr_outside_text);
    EXPECT_EQ(decode(addi, 2).err(), error::addr_outside_text);
    EXPECT_EQ(decode(addi, 1).err(), error::addr_outside_text);
    EXPECT_EQ(decode(addi, 0).err(), error::addr_outside_text);
    EXPECT_EQ(decode(nullptr, 4).err(), error::addr_outside_text);
    const uint8_t c[] = {0x7d, 0x56};
    EXPECT_TRUE(decode(c, 2).ok());
    EXPECT_EQ(decode(c, 1).err(), error::addr_outside_text);
}

// RV64I formats (ch. 2.2-2.8, 5): immediates at their extremes, sign-extended.
TEST(decode, base_formats_and_immediates) {
    const expect_fields cases[] = {
        {0xfffff2b7, opcode::lui, 5, -1, -1, -4096, "lui t0, 0xfffff"},
        {0x80000017, opcode::auipc, 0, -1, -1, -2147483648LL, "auipc zero, 0x80000"},
        {0x800000ef, opcode::jal, 1, -1, -1, -1048576, "jal ra, -1048576"},
        {0x7ffff06f, opcode::jal, 0, -1, -1, 1048574, "jal zero, 1048574"},
        {0x800302e7, opcode::jalr, 5, 6, -1, -2048, "jalr t0, -2048(t1)"},
        {0x80b50063, opcode::beq, -1, 10, 11, -4096, "beq a0, a1, -4096"},
        {0x7eb57fe3, opcode::bgeu, -1, 10, 11, 4094, "bgeu a0, a1, 4094"},
        {0xfff58503, opcode::lb, 10, 11, -1, -1, "lb a0, -1(a1)"},
        {0x7ff5e503, opcode::lwu, 10, 11, -1, 2047, "lwu a0, 2047(a1)"},
        {0x81f13023, opcode::sd, -1, 2, 31, -2048, "sd t6, -2048(sp)"},
        {0x03f59513, opcode::slli, 10, 11, -1, 63, "slli a0, a1, 63"},
        {0x43f5d513, opcode::srai, 10, 11, -1, 63, "srai a0, a1, 63"},
        {0x41f5d51b, opcode::sraiw, 10, 11, -1, 31, "sraiw a0, a1, 31"},
        {0x0005d51b, opcode::srliw, 10, 11, -1, 0, "srliw a0, a1, 0"},
        {0x40c58533, opcode::sub, 10, 11, 12, 0, "sub a0, a1, a2"},
        {0x02c5a533, opcode::mulhsu, 10, 11, 12, 0, "mulhsu a0, a1, a2"},
        {0x02c5f53b, opcode::remuw, 10, 11, 12, 0, "remuw a0, a1, a2"},
    };
    for (const auto& c : cases) {
        check(c, 4);
        EXPECT_EQ(decode_bits(c.bits).cls, insn_class::simulate) << c.text;
    }
}

// ch. 16 tables 16.5-16.7: each compressed instruction expands to one base instruction.
TEST(decode, compressed_expansions) {
    const expect_fields cases[] = {
        {0x1fe8, opcode::addi, 10, 2, -1, 1020, "c.addi4spn a0, sp, 1020"},
        {0x0040, opcode::addi, 8, 2, -1, 4, "c.addi4spn s0, sp, 4"},
        {0x5f7c, opcode::lw, 15, 14, -1, 124, "c.lw a5, 124(a4)"},
        {0x7d64, opcode::ld, 9, 10, -1, 248, "c.ld s1, 248(a0)"},
        {0xc33c, opcode::sw, -1, 14, 15, 64, "c.sw a5, 64(a4)"},
        {0xe504, opcode::sd, -1, 10, 9, 8, "c.sd s1, 8(a0)"},
        {0x0001, opcode::addi, 0, 0, -1, 0, "c.nop"},
        {0x1501, opcode::addi, 10, 10, -1, -32, "c.addi a0, -32"},
        {0x25fd, opcode::addiw, 11, 11, -1, 31, "c.addiw a1, 31"},
        {0x567d, opcode::addi, 12, 0, -1, -1, "c.li a2, -1"},
        {0x7101, opcode::addi, 2, 2, -1, -512, "c.addi16sp sp, -512"},
        {0x617d, opcode::addi, 2, 2, -1, 496, "c.addi16sp sp, 496"},
        {0x66fd, opcode::lui, 13, -1, -1, 0x1f000, "c.lui a3, 0x1f"},
        {0x7681, opcode::lui, 13, -1, -1, -0x20000, "c.lui a3, 0xfffe0"},
        {0x937d, opcode::srli, 14, 14, -1, 63, "c.srli a4, 63"},
        {0x8785, opcode::srai, 15, 15, -1, 1, "c.srai a5, 1"},
        {0x9801, opcode::andi, 8, 8, -1, -32, "c.andi s0, -32"},
        {0x8c05, opcode::sub, 8, 8, 9, 0, "c.sub s0, s1"},
        {0x8d2d, opcode::xor_, 10, 10, 11, 0, "c.xor a0, a1"},
        {0x8e55, opcode::or_, 12, 12, 13, 0, "c.or a2, a3"},
        {0x8f7d, opcode::and_, 14, 14, 15, 0, "c.and a4, a5"},
        {0x9c1d, opcode::subw, 8, 8, 15, 0, "c.subw s0, a5"},
        {0x9ca9, opcode::addw, 9, 9, 10, 0, "c.addw s1, a0"},
        {0xb001, opcode::jal, 0, -1, -1, -2048, "c.j -2048"},
        {0xaffd, opcode::jal, 0, -1, -1, 2046, "c.j 2046"},
        {0xd001, opcode::beq, -1, 8, 0, -256, "c.beqz s0, -256"},
        {0xeffd, opcode::bne, -1, 15, 0, 254, "c.bnez a5, 254"},
        {0x12fe, opcode::slli, 5, 5, -1, 63, "c.slli t0, 63"},
        {0x50fe, opcode::lw, 1, 2, -1, 252, "c.lwsp ra, 252(sp)"},
        {0x797e, opcode::ld, 18, 2, -1, 504, "c.ldsp s2, 504(sp)"},
        {0x8082, opcode::jalr, 0, 1, -1, 0, "c.jr ra"},
        {0x857e, opcode::add, 10, 0, 31, 0, "c.mv a0, t6"},
        {0x9282, opcode::jalr, 1, 5, -1, 0, "c.jalr t0"},
        {0x911a, opcode::add, 2, 2, 6, 0, "c.add sp, t1"},
        {0xdf9e, opcode::sw, -1, 2, 7, 252, "c.swsp t2, 252(sp)"},
        {0xfff2, opcode::sd, -1, 2, 28, 504, "c.sdsp t3, 504(sp)"},
    };
    for (const auto& c : cases) {
        check(c, 2);
        EXPECT_EQ(decode_bits(c.bits).cls, insn_class::simulate) << c.text;
    }
}

// The upper half of a 32-bit argument is ignored for a compressed instruction.
TEST(decode, compressed_ignores_upper_half) {
    decoded_insn d = decode_bits(0xdead567d);
    EXPECT_EQ(d.length, 2);
    EXPECT_EQ(d.raw, 0x567du);
    EXPECT_EQ(d.op, opcode::addi);
}

// FP loads/stores (C and base), F/D arithmetic and AMOs are valid but not simulated.
TEST(decode, out_of_line_class) {
    const expect_fields cases[] = {
        {0x3c68, opcode::fld, 10, 8, -1, 248, "c.fld fa0, 248(s0)"},
        {0xa408, opcode::fsd, -1, 8, 10, 8, "c.fsd fa0, 8(s0)"},
        {0x307e, opcode::fld, 0, 2, -1, 504, "c.fldsp ft0, 504(sp)"},
        {0xbfa2, opcode::fsd, -1, 2, 8, 504, "c.fsdsp fs0, 504(sp)"},
    };
    for (const auto& c : cases) {
        check(c, 2);
        EXPECT_EQ(decode_bits(c.bits).cls, insn_class::out_of_line) << c.text;
    }
    struct {
        uint32_t bits;
        opcode op;
    } const full[] = {
        {0x0cc5a52f, opcode::amoswap_w}, {0xe0c5b52f, opcode::amomaxu_d},
        {0xff812507, opcode::flw},       {0x00a13827, opcode::fsd},
        {0x6ac58543, opcode::fmadd_d},   {0x68c5f54f, opcode::fnmadd_s},
        {0x5a05f553, opcode::fsqrt_d},   {0x4015f553, opcode::fcvt_s_d},
        {0x42058553, opcode::fcvt_d_s},  {0xc2359553, opcode::fcvt_lu_d},
        {0xe2058553, opcode::fmv_x_d},   {0xe0059553, opcode::fclass_s},
        {0xa2c5a553, opcode::feq_d},     {0xf0058553, opcode::fmv_w_x},
    };
    for (const auto& c : full) {
        decoded_insn d = decode_bits(c.bits);
        SCOPED_TRACE(ruprobes::opcode_name(c.op));
        EXPECT_EQ(d.op, c.op);
        EXPECT_EQ(d.length, 4);
        EXPECT_EQ(d.cls, insn_class::out_of_line);
        EXPECT_EQ(d.refusal, error::ok);
    }
    decoded_insn fma = decode_bits(0x6ac58543); // fmadd.d fa0, fa1, fa2, fa3, rne
    EXPECT_EQ(fma.rd, 10);
    EXPECT_EQ(fma.rs1, 11);
    EXPECT_EQ(fma.rs2, 12);
    EXPECT_EQ(fma.rs3, 13);
    EXPECT_EQ(fma.rm, 0);
}

// DESIGN.md §3: each unprobeable kind has its own refusal.
TEST(decode, refusals_have_distinct_reasons) {
    struct {
        uint32_t bits;
        error why;
        const char* text;
    } const cases[] = {
        {0x00000073, error::insn_ecall, "ecall"},
        {0x00100073, error::insn_ebreak, "ebreak"},
        {0x9002, error::insn_ebreak, "c.ebreak"},
        {0xc0002573, error::insn_csr, "csrrs a0, cycle, zero (rdcycle)"},
        {0x0032d573, error::insn_csr, "csrrwi a0, fcsr, 5"},
        {0x10200073, error::insn_privileged, "sret"},
        {0x30200073, error::insn_privileged, "mret"},
        {0x10500073, error::insn_privileged, "wfi"},
        {0x12b50073, error::insn_privileged, "sfence.vma a0, a1"},
        {0x12000073, error::insn_privileged, "sfence.vma"},
        {0x0000100f, error::insn_fence_i, "fence.i"},
        {0x1005a52f, error::insn_lr_sc, "lr.w a0, (a1)"},
        {0x1ec5b52f, error::insn_lr_sc, "sc.d.aqrl a0, a2, (a1)"},
    };
    for (const auto& c : cases) {
        decoded_insn d = decode_bits(c.bits);
        EXPECT_EQ(d.cls, insn_class::refuse) << c.text;
        EXPECT_EQ(d.refusal, c.why) << c.text << ": " << ruprobes::error_name(d.refusal);
        EXPECT_EQ(ruprobes::probeable(d).err(), c.why) << c.text;
    }
    EXPECT_EQ(decode_bits(0xc0002573).imm, 0xc00); // the CSR number (cycle)
}

// Fences are simulated as no-ops: fm/rs1/rd are reserved and ignored (ch. 2.7).
TEST(decode, fences_are_simulated) {
    for (uint32_t w : {0x0330000fu, 0x8330000fu, 0x0ff0000fu, 0xffff8f8fu}) {
        decoded_insn d = decode_bits(w);
        EXPECT_EQ(d.op, opcode::fence) << std::hex << w;
        EXPECT_EQ(d.cls, insn_class::simulate) << std::hex << w;
    }
}

// Reserved and invalid encodings are refused as illegal.
TEST(decode, illegal_encodings) {
    struct {
        uint32_t bits;
        const char* why;
    } const cases[] = {
        // Compressed (ch. 16, tables 16.5-16.7).
        {0x0000, "all-zero parcel: c.addi4spn with nzuimm = 0"},
        {0x0004, "c.addi4spn a1, sp, 0: nzuimm = 0 reserved"},
        {0x8000, "quadrant 0 funct3 100: reserved"},
        {0x6101, "c.addi16sp sp, 0: nzimm = 0 reserved"},
        {0x6081, "c.lui ra, 0: nzimm = 0 reserved"},
        {0x6001, "c.lui zero, 0: nzimm = 0 reserved"},
        {0x2001, "c.addiw zero, 0: rd = x0 reserved"},
        {0x2005, "c.addiw zero, 1: rd = x0 reserved"},
        {0x4002, "c.lwsp zero, 0(sp): rd = x0 reserved"},
        {0x6002, "c.ldsp zero, 0(sp): rd = x0 reserved"},
        {0x8002, "c.jr zero: rs1 = x0 reserved"},
        {0x9c41, "CA funct6 100111 funct2 10: reserved"},
        {0x9c61, "CA funct6 100111 funct2 11: reserved"},
        // 32-bit.
        {0xffffffff, "all ones: a >80-bit prefix, not RV64GC"},
        {0x0000001f, "48-bit prefix"},
        {0x00002067, "jalr with funct3 != 0"},
        {0x00002063, "branch funct3 010"},
        {0x00007003, "load funct3 111"},
        {0x00004023, "store funct3 100"},
        {0x04059513, "slli with imm[11:6] = 000001"},
        {0x0205951b, "slliw with shamt[5] set"},
        {0x02000033 | (2u << 25), "OP with funct7 0000010"},
        {0x4000103b, "OP-32 funct7 0100000 funct3 001"},
        {0x0000200f, "MISC-MEM funct3 010"},
        {0x00200073, "uret: not in RV64GC"},
        {0x00004073, "SYSTEM funct3 100"},
        {0x1015a52f, "lr.w with rs2 != 0"},
        {0x2805a52f, "AMO funct5 00101"},
        {0x0005952f, "AMO funct3 001"},
        {0x00004007, "LOAD-FP funct3 100 (flq)"},
        {0x04c58543, "fmadd.h (fmt 10)"},
        {0x6ac5d543, "fmadd.d with rm = 101"},
        {0x0ac5e553, "fadd.d with rm = 110"},
        {0x5a15f553, "fsqrt.d with rs2 != 0"},
        {0xe2059553 | (1u << 20), "fclass.d with rs2 != 0"},
        {0x00000057, "OP-V: not in RV64GC"},
        {0x0000000b, "custom-0"},
    };
    for (const auto& c : cases) {
        decoded_insn d = decode_bits(c.bits);
        EXPECT_EQ(d.op, opcode::illegal) << c.why << ": " << ruprobes::opcode_name(d.op);
        EXPECT_EQ(d.cls, insn_class::refuse) << c.why;
        EXPECT_EQ(d.refusal, error::insn_illegal) << c.why;
        EXPECT_EQ(d.length, (c.bits & 3) == 3 ? 4 : 2) << c.why;
    }
}

// HINTs (ch. 16.7, table 16.3 / 2.9) are valid instructions without effect: probeable.
TEST(decode, hints_are_valid) {
    const expect_fields cases[] = {
        {0x4005, opcode::addi, 0, 0, -1, 1, "c.li zero, 1"},
        {0x6005, opcode::lui, 0, -1, -1, 0x1000, "c.lui zero, 1"},
        {0x0005, opcode::addi, 0, 0, -1, 1, "c.addi zero, 1"},
        {0x0502, opcode::slli, 10, 10, -1, 0, "c.slli a0, 0"},
        {0x8006, opcode::add, 0, 0, 1, 0, "c.mv zero, ra"},
        {0x9006, opcode::add, 0, 0, 1, 0, "c.add zero, ra"},
        {0x8101, opcode::srli, 10, 10, -1, 0, "c.srli a0, 0"},
    };
    for (const auto& c : cases) {
        check(c, 2);
        EXPECT_EQ(decode_bits(c.bits).cls, insn_class::simulate) << c.text;
    }
}

// Every 16-bit parcel decodes to something consistent: length 2, a class that matches its
// refusal, and illegal exactly when the opcode is illegal.
TEST(decode, all_compressed_parcels_are_consistent) {
    unsigned legal = 0;
    for (uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 3) == 3)
            continue;
        decoded_insn d = decode_bits(h);
        ASSERT_EQ(d.length, 2) << std::hex << h;
        ASSERT_EQ(d.raw, h);
        ASSERT_EQ(d.op == opcode::illegal, d.refusal == error::insn_illegal) << std::hex << h;
        ASSERT_EQ(d.cls == insn_class::refuse, d.refusal != error::ok) << std::hex << h;
        if (d.op != opcode::illegal)
            ++legal;
    }
    // 49152 parcels; the reserved ones listed in tables 16.5-16.7 are a small minority.
    EXPECT_GT(legal, 45000u);
}

TEST(decode, opcode_names) {
    EXPECT_STREQ(ruprobes::opcode_name(opcode::illegal), "illegal");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::lui), "lui");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::xor_), "xor");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::fence_i), "fence.i");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::amomaxu_d), "amomaxu.d");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::fmv_d_x), "fmv.d.x");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::sfence_vma), "sfence.vma");
    EXPECT_STREQ(ruprobes::opcode_name(opcode::count_), "illegal");
}

} // namespace

namespace {

std::string text_of(uint32_t bits) {
    char buf[64];
    size_t n = ruprobes::format_insn(decode_bits(bits), buf, sizeof buf);
    EXPECT_EQ(n, std::strlen(buf));
    return buf;
}

// Assembly text follows the GNU assembler's operand order (objdump -M no-aliases spelling).
TEST(decode, format_insn_text) {
    EXPECT_EQ(text_of(0xfff00513), "addi a0,zero,-1");
    EXPECT_EQ(text_of(0xfffff2b7), "lui t0,0xfffff");
    EXPECT_EQ(text_of(0x800302e7), "jalr t0,-2048(t1)");
    EXPECT_EQ(text_of(0x80b50063), "beq a0,a1,-4096");
    EXPECT_EQ(text_of(0x81f13023), "sd t6,-2048(sp)");
    EXPECT_EQ(text_of(0x02c5a533), "mulhsu a0,a1,a2");
    EXPECT_EQ(text_of(0x00000073), "ecall");
    EXPECT_EQ(text_of(0x0330000f), "fence");
    EXPECT_EQ(text_of(0xc0002573), "csrrs a0,0xc00,zero");
    EXPECT_EQ(text_of(0x0032d573), "csrrwi a0,0x3,5");
    EXPECT_EQ(text_of(0x1005a52f), "lr.w a0,(a1)");
    EXPECT_EQ(text_of(0x1ec5b52f), "sc.d.aq.rl a0,a2,(a1)");
    EXPECT_EQ(text_of(0x0cc5a52f), "amoswap.w.aq a0,a2,(a1)");
    EXPECT_EQ(text_of(0x6ac58543), "fmadd.d fa0,fa1,fa2,fa3");
    EXPECT_EQ(text_of(0xc2359553), "fcvt.lu.d a0,fa1");
    EXPECT_EQ(text_of(0xf0058553), "fmv.w.x fa0,a1");
    EXPECT_EQ(text_of(0xa2c5a553), "feq.d a0,fa1,fa2");
    EXPECT_EQ(text_of(0x12b50073), "sfence.vma a0,a1");
    // Compressed: the expansion.
    EXPECT_EQ(text_of(0x1fe8), "addi a0,sp,1020"); // c.addi4spn
    EXPECT_EQ(text_of(0x8082), "jalr zero,0(ra)"); // c.jr ra
    EXPECT_EQ(text_of(0xeffd), "bne a5,zero,254"); // c.bnez
    EXPECT_EQ(text_of(0x3c68), "fld fa0,248(s0)"); // c.fld
    EXPECT_EQ(text_of(0x9002), "ebreak");          // c.ebreak
    EXPECT_EQ(text_of(0x0000), "illegal 0x0");
    EXPECT_EQ(text_of(0xffffffff), "illegal 0xffffffff");
}

TEST(decode, format_insn_truncates_safely) {
    char buf[8];
    std::memset(buf, 'x', sizeof buf);
    size_t n = ruprobes::format_insn(decode_bits(0x81f13023), buf, sizeof buf);
    EXPECT_EQ(n, std::strlen("sd t6,-2048(sp)"));
    EXPECT_STREQ(buf, "sd t6,-");
    EXPECT_EQ(ruprobes::format_insn(decode_bits(0x73), buf, 0), 5u); // nothing written
    EXPECT_EQ(buf[0], 's');
    char one[1] = {'x'};
    ruprobes::format_insn(decode_bits(0x73), one, 1);
    EXPECT_EQ(one[0], '\0');
}

// Every 16-bit parcel and a sweep of 32-bit words format without overrunning.
TEST(decode, format_insn_everything) {
    char buf[48];
    for (uint32_t h = 0; h < 0x10000; ++h) {
        buf[47] = 'z';
        size_t n = ruprobes::format_insn(decode_bits(h), buf, 47);
        ASSERT_LT(n, 47u) << std::hex << h;
        ASSERT_EQ(buf[47], 'z');
    }
    uint32_t w = 0x12345677;
    for (int i = 0; i < 200000; ++i) {
        w = w * 1664525u + 1013904223u;
        size_t n = ruprobes::format_insn(decode_bits(w | 3), buf, 47);
        ASSERT_LT(n, 47u) << std::hex << w;
    }
}

} // namespace

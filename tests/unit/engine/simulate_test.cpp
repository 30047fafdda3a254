// Simulator unit tests: hand-written cases for the semantics the spec pins down (section numbers
// of the Unprivileged ISA v20191213). The differential test (tests/unit/engine/diff/) compares
// the simulator with real execution on 100,000+ generated cases.
#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using ruprobes::decode_bits;
using ruprobes::error;
using ruprobes::register_file;
using ruprobes::sim_fault;

constexpr uint64_t pc0 = 0x10000;
constexpr uint64_t mem_base = 0x80000;

// A flat user memory window [mem_base, mem_base + size); everything else faults.
class fake_memory final : public ruprobes::memory_port {
public:
    explicit fake_memory(size_t size = 256) : bytes(size, 0) {}
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        ++loads;
        if (!inside(addr, size))
            return false;
        out = 0;
        std::memcpy(&out, &bytes[addr - mem_base], size);
        return true;
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        ++stores;
        if (!inside(addr, size))
            return false;
        std::memcpy(&bytes[addr - mem_base], &value, size);
        return true;
    }
    bool inside(uint64_t addr, unsigned size) const {
        return addr >= mem_base && addr - mem_base + size <= bytes.size();
    }
    std::vector<uint8_t> bytes;
    int loads = 0, stores = 0;
};

struct machine {
    register_file regs;
    fake_memory mem;

    // Runs one instruction at pc0; expects success and returns the next pc.
    uint64_t run(uint32_t bits, uint64_t pc = pc0) {
        auto d = decode_bits(bits);
        EXPECT_EQ(d.cls, ruprobes::insn_class::simulate) << std::hex << bits;
        auto r = ruprobes::simulate(d, pc, regs, mem);
        EXPECT_TRUE(r.ok()) << std::hex << bits << ": " << ruprobes::error_name(r.err());
        return r.ok() ? *r : 0;
    }
};

constexpr uint32_t r_type(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd,
                          uint32_t opc) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
constexpr uint32_t i_type(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
    return (static_cast<uint32_t>(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
constexpr uint32_t s_type(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t opc) {
    uint32_t u = static_cast<uint32_t>(imm) & 0xfff;
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | opc;
}
constexpr uint32_t b_type(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
    uint32_t u = static_cast<uint32_t>(imm);
    return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
           (f3 << 12) | (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}

// Register-register ALU op: rd = x10, rs1 = x11, rs2 = x12.
uint64_t op_rr(uint32_t f7, uint32_t f3, uint64_t a, uint64_t b, bool word = false) {
    machine m;
    m.regs.set(11, a);
    m.regs.set(12, b);
    EXPECT_EQ(m.run(r_type(f7, 12, 11, f3, 10, word ? 0x3b : 0x33)), pc0 + 4);
    return m.regs.get(10);
}

constexpr uint64_t i64_min = 0x8000000000000000ull;
constexpr uint64_t all_ones = ~0ull;

// ch. 2.4 / 5.2: x0 is hard-wired to zero; writes are dropped.
TEST(simulate, x0_stays_zero) {
    machine m;
    m.regs.x[0] = 0x1234; // garbage in the array must not be read
    m.regs.set(5, 7);
    m.run(i_type(5, 5, 0, 0, 0x13)); // addi zero, t0, 5
    EXPECT_EQ(m.regs.get(0), 0u);
    m.run(i_type(1, 0, 0, 6, 0x13)); // addi t1, zero, 1
    EXPECT_EQ(m.regs.get(6), 1u);
}

// ch. 2.4: lui/auipc; ch. 5.2: the 32-bit result is sign-extended on RV64.
TEST(simulate, lui_auipc) {
    machine m;
    m.run(0xfffff2b7); // lui t0, 0xfffff
    EXPECT_EQ(m.regs.get(5), 0xfffffffffffff000ull);
    m.run(0x80000297, 0x1000); // auipc t0, 0x80000
    EXPECT_EQ(m.regs.get(5), 0x1000 + 0xffffffff80000000ull);
    m.run(0x66fd); // c.lui a3, 0x1f
    EXPECT_EQ(m.regs.get(13), 0x1f000u);
    m.run(0x7681); // c.lui a3, 0xfffe0
    EXPECT_EQ(m.regs.get(13), 0xfffffffffffe0000ull);
}

// ch. 2.5: jal/jalr link pc + length; jalr clears bit 0 and reads rs1 before writing rd.
TEST(simulate, jumps_link_and_target) {
    machine m;
    EXPECT_EQ(m.run(0x800000ef), pc0 - 1048576); // jal ra, -1048576
    EXPECT_EQ(m.regs.get(1), pc0 + 4);
    EXPECT_EQ(m.run(0x7ffff06f), pc0 + 1048574); // jal zero, 1048574
    EXPECT_EQ(m.regs.get(0), 0u);

    m.regs.set(1, 0x5001);
    EXPECT_EQ(m.run(i_type(-1, 1, 0, 1, 0x67)), 0x5000u); // jalr ra, -1(ra): rd == rs1
    EXPECT_EQ(m.regs.get(1), pc0 + 4);
    m.regs.set(6, 0x7003);
    EXPECT_EQ(m.run(0x800302e7), 0x6802u); // jalr t0, -2048(t1): 0x6803 with bit 0 cleared
    EXPECT_EQ(m.regs.get(5), pc0 + 4);

    // ch. 16.4: c.j/c.jr/c.jalr; c.jalr links pc + 2.
    EXPECT_EQ(m.run(0xb001), pc0 - 2048); // c.j -2048
    EXPECT_EQ(m.run(0xaffd), pc0 + 2046); // c.j 2046
    m.regs.set(1, 0x4445);
    EXPECT_EQ(m.run(0x8082), 0x4444u); // c.jr ra
    m.regs.set(5, 0x9000);
    EXPECT_EQ(m.run(0x9282), 0x9000u); // c.jalr t0
    EXPECT_EQ(m.regs.get(1), pc0 + 2);
    m.regs.set(1, 0x3000);
    EXPECT_EQ(m.run(0x9082), 0x3000u); // c.jalr ra: target read before the link is written
    EXPECT_EQ(m.regs.get(1), pc0 + 2);
}

// ch. 2.5: every branch, taken and not taken, both directions; signed vs unsigned compares.
TEST(simulate, branches) {
    struct {
        uint32_t f3;
        uint64_t a, b;
        bool taken;
    } const cases[] = {
        {0, 5, 5, true},        {0, 5, 6, false},        // beq
        {1, 5, 6, true},        {1, 5, 5, false},        // bne
        {4, all_ones, 0, true}, {4, 0, all_ones, false}, // blt: -1 < 0
        {5, 0, all_ones, true}, {5, all_ones, 0, false}, // bge
        {5, 7, 7, true},                                 // bge equal
        {6, 0, all_ones, true}, {6, all_ones, 0, false}, // bltu
        {7, all_ones, 0, true}, {7, 0, all_ones, false}, // bgeu
        {7, 7, 7, true},
    };
    for (int32_t off : {-4096, -2, 8, 4094}) {
        for (const auto& c : cases) {
            machine m;
            m.regs.set(10, c.a);
            m.regs.set(11, c.b);
            uint64_t next = m.run(b_type(off, 11, 10, c.f3));
            EXPECT_EQ(next, c.taken ? pc0 + off : pc0 + 4) << "funct3 " << c.f3 << " off " << off;
        }
    }
    machine m;
    m.regs.set(8, 0);
    EXPECT_EQ(m.run(0xd001), pc0 - 256); // c.beqz s0, -256: taken
    m.regs.set(8, 1);
    EXPECT_EQ(m.run(0xd001), pc0 + 2); // not taken: pc + 2
    m.regs.set(15, 1);
    EXPECT_EQ(m.run(0xeffd), pc0 + 254); // c.bnez a5, 254
}

// ch. 2.6 / 5.3: loads sign- or zero-extend by width; stores write the low bytes.
TEST(simulate, loads_and_stores_every_width) {
    machine m;
    const uint8_t pattern[8] = {0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0xf8};
    std::memcpy(m.mem.bytes.data() + 16, pattern, 8);
    m.regs.set(11, mem_base + 17); // base + imm (-1) = mem_base + 16
    struct {
        uint32_t f3;
        uint64_t value;
    } const loads[] = {
        {0, 0xffffffffffffff81ull}, // lb
        {1, 0xffffffffffff8281ull}, // lh
        {2, 0xffffffff84838281ull}, // lw
        {3, 0xf887868584838281ull}, // ld
        {4, 0x81},                  // lbu
        {5, 0x8281},                // lhu
        {6, 0x84838281},            // lwu
    };
    for (const auto& l : loads) {
        m.run(i_type(-1, 11, l.f3, 10, 0x03));
        EXPECT_EQ(m.regs.get(10), l.value) << "funct3 " << l.f3;
    }
    m.regs.set(12, 0x1122334455667788ull);
    for (uint32_t f3 = 0; f3 < 4; ++f3) {
        std::fill(m.mem.bytes.begin(), m.mem.bytes.end(), 0);
        m.run(s_type(-1, 12, 11, f3, 0x23)); // s{b,h,w,d} a2, -1(a1)
        unsigned n = 1u << f3;
        for (unsigned i = 0; i < 10; ++i) {
            uint8_t want = i < n ? static_cast<uint8_t>(0x88 - 0x11 * i) : 0;
            EXPECT_EQ(m.mem.bytes[16 + i], want) << "funct3 " << f3 << " byte " << i;
        }
    }
}

// A load into x0 still performs the access (and may fault); the value is dropped.
TEST(simulate, load_into_x0_accesses_memory) {
    machine m;
    m.regs.set(11, 0x10);
    auto d = decode_bits(i_type(0, 11, 3, 0, 0x03)); // ld zero, 0(a1): outside the window
    sim_fault f;
    auto r = ruprobes::simulate(d, pc0, m.regs, m.mem, &f);
    EXPECT_EQ(r.err(), error::fault_load);
    EXPECT_EQ(f.addr, 0x10u);
    EXPECT_EQ(m.mem.loads, 1);
}

// Issue 3 item 2: a faulting access yields the fault and changes no register and no memory.
TEST(simulate, faults_change_nothing) {
    machine m;
    for (unsigned i = 1; i < 32; ++i)
        m.regs.set(i, 0x1000 + i);
    m.regs.set(11, mem_base + 250); // ld at +250 straddles the end of the 256-byte window
    const register_file before = m.regs;
    sim_fault f;
    auto r = ruprobes::simulate(decode_bits(i_type(0, 11, 3, 11, 0x03)), pc0, m.regs, m.mem, &f);
    EXPECT_EQ(r.err(), error::fault_load);
    EXPECT_FALSE(f.is_store);
    EXPECT_EQ(f.addr, mem_base + 250);
    EXPECT_EQ(std::memcmp(&before, &m.regs, sizeof before), 0);

    const auto mem_before = m.mem.bytes;
    r = ruprobes::simulate(decode_bits(s_type(8, 12, 11, 3, 0x23)), pc0, m.regs, m.mem, &f);
    EXPECT_EQ(r.err(), error::fault_store);
    EXPECT_TRUE(f.is_store);
    EXPECT_EQ(f.addr, mem_base + 258);
    EXPECT_EQ(m.mem.bytes, mem_before);
    EXPECT_EQ(std::memcmp(&before, &m.regs, sizeof before), 0);

    // No fault record requested: still reported.
    m.regs.set(11, mem_base + 254);
    r = ruprobes::simulate(decode_bits(0x4188), pc0, m.regs, m.mem); // c.lw a0, 0(a1)
    EXPECT_EQ(r.err(), error::fault_load);
}

// ch. 16.3: sp-relative compressed loads/stores and the sp adjustments.
TEST(simulate, compressed_stack_forms) {
    machine m;
    m.regs.set(28, 0x0102030405060708ull);
    m.regs.set(2, mem_base - 504 + 8);
    m.run(0xfff2); // c.sdsp t3, 504(sp): at mem_base + 8
    uint64_t stored = 0;
    std::memcpy(&stored, m.mem.bytes.data() + 8, 8);
    EXPECT_EQ(stored, 0x0102030405060708ull);
    m.regs.set(2, mem_base + 8 - 504);
    m.run(0x797e); // c.ldsp s2, 504(sp)
    EXPECT_EQ(m.regs.get(18), 0x0102030405060708ull);
    m.regs.set(2, mem_base + 8 - 252);
    m.run(0x50fe); // c.lwsp ra, 252(sp): sign-extends
    EXPECT_EQ(m.regs.get(1), 0x05060708u);
    m.regs.set(7, 0xfedcba98u);
    m.run(0xdf9e); // c.swsp t2, 252(sp)
    m.run(0x50fe);
    EXPECT_EQ(m.regs.get(1), 0xfffffffffedcba98ull);

    m.regs.set(2, 0x10000);
    m.run(0x7101); // c.addi16sp sp, -512
    EXPECT_EQ(m.regs.get(2), 0x10000u - 512);
    m.run(0x1fe8); // c.addi4spn a0, sp, 1020
    EXPECT_EQ(m.regs.get(10), 0x10000u - 512 + 1020);
    m.run(0x567d); // c.li a2, -1
    EXPECT_EQ(m.regs.get(12), all_ones);
    m.regs.set(11, 0x7fffffff);
    m.run(0x25fd); // c.addiw a1, 31: overflows 32 bits, sign-extends
    EXPECT_EQ(m.regs.get(11), 0xffffffff8000001eull);
    m.regs.set(31, 42);
    m.run(0x857e); // c.mv a0, t6
    EXPECT_EQ(m.regs.get(10), 42u);
}

// ch. 2.4 / 5.2: shift amounts are the low 6 bits (5 for *W) of rs2; W results sign-extend.
TEST(simulate, shifts_and_word_ops) {
    EXPECT_EQ(op_rr(0x00, 1, 1, 64 + 3), 8u);                       // sll uses rs2[5:0]
    EXPECT_EQ(op_rr(0x00, 1, 1, 63), i64_min);                      // sll 63
    EXPECT_EQ(op_rr(0x00, 5, i64_min, 63), 1u);                     // srl 63
    EXPECT_EQ(op_rr(0x20, 5, i64_min, 63), all_ones);               // sra 63
    EXPECT_EQ(op_rr(0x20, 5, i64_min, 0), i64_min);                 // sra 0
    EXPECT_EQ(op_rr(0x00, 1, 1, 31, true), 0xffffffff80000000ull);  // sllw 31
    EXPECT_EQ(op_rr(0x00, 1, 1, 32, true), 1u);                     // sllw uses rs2[4:0]: 32 -> 0
    EXPECT_EQ(op_rr(0x00, 5, 0xffffffff80000000ull, 31, true), 1u); // srlw 31
    EXPECT_EQ(op_rr(0x00, 5, 0x0000000180000000ull, 0, true), 0xffffffff80000000ull); // srlw 0
    EXPECT_EQ(op_rr(0x20, 5, 0x80000000u, 31, true), all_ones);                       // sraw 31
    EXPECT_EQ(op_rr(0x00, 0, 0x7fffffff, 1, true), 0xffffffff80000000ull);            // addw
    EXPECT_EQ(op_rr(0x20, 0, 0, 1, true), all_ones);                                  // subw
    EXPECT_EQ(op_rr(0x00, 2, all_ones, 0), 1u);                                       // slt -1 < 0
    EXPECT_EQ(op_rr(0x00, 3, all_ones, 0), 0u); // sltu max < 0: no

    machine m;
    m.regs.set(11, 5);
    m.run(i_type(-1, 11, 3, 10, 0x13)); // sltiu a0, a1, -1: compares against 2^64 - 1
    EXPECT_EQ(m.regs.get(10), 1u);
    m.regs.set(11, 0x12345678);
    m.run(i_type(0, 11, 1, 10, 0x1b)); // slliw a0, a1, 0 == sext.w
    EXPECT_EQ(m.regs.get(10), 0x12345678u);
    m.regs.set(11, 0xabcdef0087654321ull);
    m.run(i_type(0, 11, 0, 10, 0x1b)); // addiw a0, a1, 0
    EXPECT_EQ(m.regs.get(10), 0xffffffff87654321ull);
}

// ch. 7.1: multiplication, high halves signed/unsigned.
TEST(simulate, multiply) {
    EXPECT_EQ(op_rr(1, 0, 3, all_ones), all_ones - 2);               // mul
    EXPECT_EQ(op_rr(1, 1, all_ones, all_ones), 0u);                  // mulh (-1 * -1)
    EXPECT_EQ(op_rr(1, 3, all_ones, all_ones), all_ones - 1);        // mulhu
    EXPECT_EQ(op_rr(1, 2, all_ones, all_ones), all_ones);            // mulhsu (-1 * (2^64-1))
    EXPECT_EQ(op_rr(1, 1, i64_min, i64_min), 0x4000000000000000ull); // mulh
    EXPECT_EQ(op_rr(1, 3, 0x123456789abcdef0ull, 0x0fedcba987654321ull),
              0x0121fa00ad77d742ull); // mulhu, checked with 128-bit arithmetic below
    unsigned __int128 p =
        static_cast<unsigned __int128>(0x123456789abcdef0ull) * 0x0fedcba987654321ull;
    EXPECT_EQ(static_cast<uint64_t>(p >> 64), 0x0121fa00ad77d742ull);
    EXPECT_EQ(op_rr(1, 0, 0x100000000ull, 0x7fffffff, true), 0u); // mulw: low 32 bits
    EXPECT_EQ(op_rr(1, 0, 0x10000, 0x8000, true), 0xffffffff80000000ull);
}

// ch. 7.2, table 7.1: division by zero and overflow do not trap.
TEST(simulate, divide_special_cases) {
    // div, divu, rem, remu by zero
    EXPECT_EQ(op_rr(1, 4, 42, 0), all_ones);
    EXPECT_EQ(op_rr(1, 5, 42, 0), all_ones);
    EXPECT_EQ(op_rr(1, 6, 42, 0), 42u);
    EXPECT_EQ(op_rr(1, 7, 42, 0), 42u);
    // signed overflow: -2^63 / -1
    EXPECT_EQ(op_rr(1, 4, i64_min, all_ones), i64_min);
    EXPECT_EQ(op_rr(1, 6, i64_min, all_ones), 0u);
    // rounding toward zero, remainder has the dividend's sign
    EXPECT_EQ(op_rr(1, 4, static_cast<uint64_t>(-7), 2), static_cast<uint64_t>(-3));
    EXPECT_EQ(op_rr(1, 6, static_cast<uint64_t>(-7), 2), static_cast<uint64_t>(-1));
    EXPECT_EQ(op_rr(1, 5, all_ones, 2), all_ones >> 1);
    EXPECT_EQ(op_rr(1, 7, all_ones, 2), 1u);
    // W forms: operands are the low 32 bits, results sign-extended
    EXPECT_EQ(op_rr(1, 4, 42, 0x100000000ull, true), all_ones);          // divw by (low) zero
    EXPECT_EQ(op_rr(1, 5, 42, 0, true), all_ones);                       // divuw by zero
    EXPECT_EQ(op_rr(1, 6, 0x80000000u, 0, true), 0xffffffff80000000ull); // remw: dividend, sext
    EXPECT_EQ(op_rr(1, 7, 0x80000000u, 0, true), 0xffffffff80000000ull); // remuw: same
    EXPECT_EQ(op_rr(1, 4, 0x80000000u, 0xffffffffu, true), 0xffffffff80000000ull); // overflow
    EXPECT_EQ(op_rr(1, 6, 0x80000000u, 0xffffffffu, true), 0u);
    EXPECT_EQ(op_rr(1, 5, 0xfffffffeu, 1, true), 0xfffffffffffffffeull); // divuw sign-extends
    EXPECT_EQ(op_rr(1, 7, 0x1fffffffeull, 0xffffffffu, true), 0xfffffffffffffffeull);
}

// Instructions that are not of the simulate class are rejected without side effects.
TEST(simulate, rejects_other_classes) {
    machine m;
    m.regs.set(10, 1);
    const register_file before = m.regs;
    for (uint32_t w : {0x00000073u, 0x9002u, 0x3c68u, 0x0cc5a52fu, 0x0000u, 0xc0002573u}) {
        auto r = ruprobes::simulate(decode_bits(w), pc0, m.regs, m.mem);
        EXPECT_EQ(r.err(), error::invalid_argument) << std::hex << w;
    }
    EXPECT_EQ(std::memcmp(&before, &m.regs, sizeof before), 0);
    EXPECT_EQ(m.mem.loads + m.mem.stores, 0);
}

// Fences are no-ops that advance the pc.
TEST(simulate, fence_advances) {
    machine m;
    EXPECT_EQ(m.run(0x0330000f), pc0 + 4);
    EXPECT_EQ(m.mem.loads + m.mem.stores, 0);
}

} // namespace

namespace {

// The built-in table a kernel runs at boot (engine/src/simulate_selftest.cpp) passes on the host.
TEST(simulate, builtin_selftest_passes) {
    auto report = ruprobes::insn_selftest();
    EXPECT_GT(report.cases, 40u);
    EXPECT_TRUE(report.ok()) << "case " << report.failed_case << " bits " << std::hex
                             << report.failed_bits;
}

} // namespace

namespace {

// The array overload works in place on a caller's registers (a trap frame) and leaves its x[0]
// slot alone.
TEST(simulate, in_place_on_a_register_array) {
    uint64_t frame[32];
    for (int i = 0; i < 32; ++i)
        frame[i] = 0x1000 + i;
    fake_memory mem;
    // add a0, a0, a1
    auto r = ruprobes::simulate(decode_bits(0x00b50533), pc0, frame, mem);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, pc0 + 4);
    EXPECT_EQ(frame[10], 0x100aull + 0x100b);
    EXPECT_EQ(frame[0], 0x1000u);                                     // untouched
    r = ruprobes::simulate(decode_bits(0x00000513), pc0, frame, mem); // addi a0, zero, 0
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(frame[10], 0u); // x0 read as 0, not as frame[0]
    r = ruprobes::simulate(decode_bits(0x00a00013), pc0, frame, mem); // addi zero, zero, 10
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(frame[0], 0x1000u); // x0 never written
    // A fault leaves the array unchanged.
    frame[11] = 0x10;
    uint64_t before[32];
    std::memcpy(before, frame, sizeof frame);
    sim_fault f;
    r = ruprobes::simulate(decode_bits(0x0005b503), pc0, frame, mem, &f); // ld a0, 0(a1)
    EXPECT_EQ(r.err(), error::fault_load);
    EXPECT_EQ(std::memcmp(before, frame, sizeof frame), 0);
}

} // namespace

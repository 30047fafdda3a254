#include "case_gen.hpp"

#include "ruprobes/insn.hpp"

#include <cstring>
#include <optional>
#include <random>

namespace ruprobes::diff {
namespace {

using ruprobes::decoded_insn;
using ruprobes::insn_class;
using ruprobes::opcode;

// Base encodings (Unprivileged ISA v20191213, ch. 2.2-2.3).
uint32_t enc_r(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t enc_i(int64_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
    return (static_cast<uint32_t>(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t enc_s(int64_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
    auto u = static_cast<uint32_t>(imm & 0xfff);
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | 0x23;
}
uint32_t enc_b(int64_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
    auto u = static_cast<uint32_t>(imm);
    return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
           (f3 << 12) | (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
uint32_t enc_j(int64_t imm, uint32_t rd) {
    auto u = static_cast<uint32_t>(imm);
    return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) |
           (((u >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}
// c.j (ch. 16.4, CJ format): offset[11|4|9:8|10|6|7|3:1|5] in inst[12:2].
uint16_t enc_cj(int64_t imm, uint32_t f3) {
    auto u = static_cast<uint32_t>(imm);
    uint32_t b = (((u >> 11) & 1) << 12) | (((u >> 4) & 1) << 11) | (((u >> 8) & 3) << 9) |
                 (((u >> 10) & 1) << 8) | (((u >> 6) & 1) << 7) | (((u >> 7) & 1) << 6) |
                 (((u >> 1) & 7) << 3) | (((u >> 5) & 1) << 2);
    return static_cast<uint16_t>((f3 << 13) | b | 1);
}
// c.beqz/c.bnez (CB): offset[8|4:3] in inst[12:10], offset[7:6|2:1|5] in inst[6:2].
uint16_t enc_cb(int64_t imm, uint32_t rs1p, bool bnez) {
    auto u = static_cast<uint32_t>(imm);
    uint32_t b = (((u >> 8) & 1) << 12) | (((u >> 3) & 3) << 10) | (((u >> 6) & 3) << 5) |
                 (((u >> 1) & 3) << 3) | (((u >> 5) & 1) << 2);
    return static_cast<uint16_t>(((bnez ? 7u : 6u) << 13) | b | (rs1p << 7) | 1);
}
// CI-format shifts and c.li/c.addi: imm[5] in inst[12], imm[4:0] in inst[6:2].
uint16_t enc_ci(uint32_t f3, uint32_t rd, uint32_t imm6, uint32_t quadrant) {
    return static_cast<uint16_t>((f3 << 13) | (((imm6 >> 5) & 1) << 12) | (rd << 7) |
                                 ((imm6 & 31) << 2) | quadrant);
}

constexpr uint64_t special_values[] = {
    0,
    1,
    2,
    ~0ull,
    ~0ull - 1,
    0x8000000000000000ull,
    0x7fffffffffffffffull,
    0x80000000ull,
    0xffffffff80000000ull,
    0x7fffffffull,
    0xffffffffull,
    0x100000000ull,
    0xffffffff7fffffffull,
    0x0000000180000000ull,
    31,
    32,
    63,
    64,
};
constexpr size_t n_special = sizeof(special_values) / sizeof(special_values[0]);

bool is_load(opcode op) {
    return op >= opcode::lb && op <= opcode::lwu;
}
bool is_store(opcode op) {
    return op >= opcode::sb && op <= opcode::sd;
}
bool is_branch(opcode op) {
    return op >= opcode::beq && op <= opcode::bgeu;
}
unsigned access_size(opcode op) {
    switch (op) {
    case opcode::lb:
    case opcode::lbu:
    case opcode::sb:
        return 1;
    case opcode::lh:
    case opcode::lhu:
    case opcode::sh:
        return 2;
    case opcode::lw:
    case opcode::lwu:
    case opcode::sw:
    case opcode::flw:
    case opcode::fsw:
        return 4;
    default:
        return 8;
    }
}
bool fp_or_amo_memory(opcode op) {
    return op == opcode::flw || op == opcode::fld || op == opcode::fsw || op == opcode::fsd ||
           (op >= opcode::amoswap_w && op <= opcode::amomaxu_w) ||
           (op >= opcode::amoswap_d && op <= opcode::amomaxu_d);
}

// Operand values a targeted case wants in rs1/rs2 (applied before the layout fix-ups).
struct operands {
    std::optional<uint64_t> rs1, rs2;
};

class generator {
public:
    explicit generator(uint64_t seed) : rng_(seed) {}

    uint64_t u64() { return rng_(); }
    uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
    bool chance(unsigned percent) { return below(100) < percent; }
    uint32_t reg() { return static_cast<uint32_t>(below(32)); }
    uint32_t reg_nonzero() { return 1 + static_cast<uint32_t>(below(31)); }

    // A register value: special values, small numbers, or anything.
    uint64_t value() {
        switch (below(4)) {
        case 0:
            return special_values[below(n_special)];
        case 1:
            return static_cast<uint64_t>(static_cast<int64_t>(below(65)) - 32);
        case 2:
            return u64() >> below(64);
        default:
            return u64();
        }
    }

    // Adds a case for `bits` when it can run in the harness; returns whether it did.
    bool add(uint32_t bits, const char* category, operands ops = {}) {
        const decoded_insn d = ruprobes::decode_bits(bits);
        case_in c{};
        c.insn = d.raw;
        for (int i = 1; i < 32; ++i)
            c.regs[i] = value();
        while (c.regs[2] - (signal_stack_addr - signal_stack_guard) <
               signal_stack_size + 2 * signal_stack_guard)
            c.regs[2] = value(); // see signal_stack_guard
        for (auto& b : c.window)
            b = static_cast<uint8_t>(u64());
        if (d.cls == insn_class::simulate) {
            c.kind = kind_simulate;
            if (ops.rs1 && d.rs1 != 0)
                c.regs[d.rs1] = *ops.rs1;
            if (ops.rs2 && d.rs2 != 0)
                c.regs[d.rs2] = *ops.rs2;
            if (!fix_simulate(d, c, ops.rs1.has_value() || ops.rs2.has_value()))
                return false;
        } else if (d.cls == insn_class::out_of_line) {
            c.kind = kind_out_of_line;
            if (fp_or_amo_memory(d.op)) {
                if (d.rs1 == 0)
                    return false;
                // Naturally aligned inside the window (AMOs require it, ch. 8.4).
                uint64_t slot = below(window_size / 8) * 8;
                c.regs[d.rs1] = window_addr + slot - static_cast<uint64_t>(d.imm);
            }
        } else if (d.refusal == error::insn_illegal) {
            c.kind = kind_illegal;
        } else {
            return false; // ecall, csr, ...: not executed here
        }
        out_.cases.push_back(c);
        out_.categories.emplace_back(category);
        return true;
    }

    generated_cases take() { return std::move(out_); }

    size_t count() const { return out_.cases.size(); }

private:
    // Places memory accesses and jump targets where the harness can observe them; false when
    // the case cannot run there (a jump onto itself or into its own second half would loop).
    bool fix_simulate(const decoded_insn& d, case_in& c, bool operands_forced) {
        const auto imm = static_cast<uint64_t>(d.imm);
        if (is_load(d.op) || is_store(d.op)) {
            if (d.rs1 == 0)
                return true; // address = imm: near 0 or at the top, faults; kept as a fault case
            const unsigned size = access_size(d.op);
            uint64_t addr = chance(12) ? fault_base + below(fault_size - 8)
                                       : window_addr + below(window_size - size + 1);
            c.regs[d.rs1] = addr - imm;
            return true;
        }
        if (d.op == opcode::jalr) {
            if (d.rs1 == 0)
                return true; // target = imm: outside the code area, a fetch fault
            int64_t delta = 0;
            while (delta == 0 || (d.length == 4 && delta == 2))
                delta = 2 * (static_cast<int64_t>(below(1 << 20)) - (1 << 19));
            uint64_t target = insn_addr + static_cast<uint64_t>(delta) + (chance(50) ? 1 : 0);
            c.regs[d.rs1] = target - imm;
            return true;
        }
        if (d.op == opcode::jal || is_branch(d.op)) {
            if (d.imm == 0 || (d.length == 4 && d.imm == 2))
                return false;
            if (is_branch(d.op) && !operands_forced) {
                // Make taken and not-taken both common: equal, adjacent or unrelated operands.
                uint64_t a = d.rs1 ? c.regs[d.rs1] : 0;
                switch (below(3)) {
                case 0:
                    if (d.rs2 != 0)
                        c.regs[d.rs2] = a;
                    else if (d.rs1 != 0)
                        c.regs[d.rs1] = 0;
                    break;
                case 1:
                    if (d.rs2 != 0 && d.rs2 != d.rs1)
                        c.regs[d.rs2] = a + (chance(50) ? 1 : -1);
                    break;
                default:
                    break;
                }
            }
        }
        return true;
    }

    std::mt19937_64 rng_;
    generated_cases out_;
};

// Random words of the integer major opcodes (table 24.1), with funct7 steered to the values that
// exist so that most draws are valid.
void random_32(generator& g, size_t n) {
    constexpr uint32_t majors[] = {0x03, 0x0f, 0x13, 0x17, 0x1b, 0x23,
                                   0x33, 0x37, 0x3b, 0x63, 0x67, 0x6f};
    constexpr uint32_t funct7s[] = {0x00, 0x01, 0x20};
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        uint32_t opc = majors[g.below(sizeof majors / sizeof majors[0])];
        uint32_t w = (static_cast<uint32_t>(g.u64()) & ~0x7fu) | opc;
        if (opc == 0x33 || opc == 0x3b || (opc == 0x1b && g.chance(50)))
            w = (w & 0x01ffffffu) | (funct7s[g.below(3)] << 25);
        if (opc == 0x13 && g.chance(50)) // shifts: imm[11:6] must be 000000 or 010000
            w = (w & 0x03ffffffu) | (g.chance(50) ? 0x40000000u : 0);
        auto d = ruprobes::decode_bits(w);
        if (d.cls == insn_class::simulate)
            g.add(w, "random32");
    }
}

// Every 16-bit parcel once (all of RVC, ch. 16): simulate-class ones are compared with the CPU,
// illegal ones must raise SIGILL and the FP loads/stores must execute.
void every_16(generator& g) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 3) == 3)
            continue;
        auto d = ruprobes::decode_bits(h);
        g.add(h, d.cls == insn_class::simulate      ? "every16"
                 : d.cls == insn_class::out_of_line ? "every16-ool"
                                                    : "every16-ill");
    }
}

// M (ch. 7): every operation against special operand pairs, including rs2 = x0 and rd = x0.
void muldiv(generator& g, size_t n) {
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        bool word = g.chance(50);
        uint32_t f3 = static_cast<uint32_t>(g.below(8));
        if (word && f3 >= 1 && f3 <= 3)
            f3 = 0; // no mulhw
        uint32_t rd = g.chance(10) ? 0 : g.reg_nonzero();
        uint32_t rs1 = g.reg_nonzero(), rs2 = g.chance(5) ? 0 : g.reg_nonzero();
        operands ops;
        ops.rs1 = special_values[g.below(n_special)];
        ops.rs2 = g.chance(15) ? 0 : special_values[g.below(n_special)];
        if (g.chance(10)) { // signed overflow: most negative / -1
            ops.rs1 = word ? 0xffffffff80000000ull : 0x8000000000000000ull;
            ops.rs2 = ~0ull;
        }
        g.add(enc_r(1, rs2, rs1, f3, rd, word ? 0x3b : 0x33), "muldiv", ops);
    }
}

// Shifts (ch. 2.4, 5.2) by immediates 0/31/32/63 and by registers holding amounts that need
// masking; compressed shifts too.
void shifts(generator& g, size_t n) {
    constexpr uint32_t amounts[] = {0, 1, 31, 32, 33, 63};
    constexpr uint64_t reg_amounts[] = {0, 31, 32, 63, 64, 95, 127, ~0ull, 0xffffffe0ull};
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        uint32_t rd = g.chance(10) ? 0 : g.reg_nonzero(), rs1 = g.reg(), rs2 = g.reg_nonzero();
        uint32_t sh = amounts[g.below(6)];
        operands ops;
        ops.rs1 = g.value();
        switch (g.below(5)) {
        case 0: { // slli / srli / srai
            constexpr uint32_t forms[3][2] = {{1, 0x00}, {5, 0x00}, {5, 0x10}};
            auto f = forms[g.below(3)];
            g.add(enc_i((f[1] << 6) | sh, rs1, f[0], rd, 0x13), "shift-imm", ops);
            break;
        }
        case 1: { // slliw / srliw / sraiw: 5-bit amounts
            constexpr uint32_t forms[3][2] = {{1, 0x00}, {5, 0x00}, {5, 0x20}};
            auto f = forms[g.below(3)];
            g.add(enc_i((f[1] << 5) | (sh & 31), rs1, f[0], rd, 0x1b), "shift-imm", ops);
            break;
        }
        case 2:
        case 3: { // sll/srl/sra, sllw/srlw/sraw by a register
            constexpr uint32_t forms[3][2] = {{1, 0x00}, {5, 0x00}, {5, 0x20}};
            auto f = forms[g.below(3)];
            ops.rs2 = reg_amounts[g.below(sizeof reg_amounts / sizeof reg_amounts[0])];
            g.add(enc_r(f[1], rs2, rs1, f[0], rd, g.chance(50) ? 0x33 : 0x3b), "shift-reg", ops);
            break;
        }
        default: { // c.slli / c.srli / c.srai
            uint32_t which = static_cast<uint32_t>(g.below(3));
            if (which == 0)
                g.add(enc_ci(0, g.reg(), sh, 2), "shift-c", ops);
            else
                g.add(enc_ci(4, ((which - 1) << 3) | static_cast<uint32_t>(g.below(8)), sh, 1),
                      "shift-c", ops);
            break;
        }
        }
    }
}

// Branches (ch. 2.5): each condition taken and not taken, forward and backward, at the offset
// extremes; c.beqz/c.bnez.
void branches(generator& g, size_t n) {
    constexpr int64_t offsets[] = {-4096, -4094, -2048, -4, -2, 4, 6, 2048, 4094};
    constexpr uint32_t conds[] = {0, 1, 4, 5, 6, 7};
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        int64_t off =
            g.chance(50) ? offsets[g.below(9)] : 2 * (static_cast<int64_t>(g.below(4096)) - 2048);
        uint64_t a = g.value();
        uint64_t b;
        switch (g.below(4)) {
        case 0:
            b = a;
            break;
        case 1:
            b = a + 1;
            break;
        case 2:
            b = a - 1;
            break;
        default:
            b = g.value();
            break;
        }
        operands ops{a, b};
        if (g.chance(20)) {
            int64_t coff = 2 * (static_cast<int64_t>(g.below(256)) - 128);
            ops.rs1 = g.chance(50) ? 0 : a;
            g.add(enc_cb(coff, static_cast<uint32_t>(g.below(8)), g.chance(50)), "branch-c", ops);
        } else {
            g.add(enc_b(off, g.reg(), g.reg(), conds[g.below(6)]), "branch", ops);
        }
    }
}

// Jumps (ch. 2.5, 16.4): jal/c.j to both ends of their range, jalr with rd == rs1 and odd
// targets, c.jr/c.jalr.
void jumps(generator& g, size_t n) {
    constexpr int64_t offsets[] = {-1048576, -1048574, -4, 4, 8, 1048572, 1048574};
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        switch (g.below(5)) {
        case 0: {
            int64_t off = g.chance(50) ? offsets[g.below(7)]
                                       : 2 * (static_cast<int64_t>(g.below(1 << 20)) - (1 << 19));
            g.add(enc_j(off, g.chance(30) ? 0 : g.reg()), "jal");
            break;
        }
        case 1: {
            int64_t off = g.chance(30) ? (g.chance(50) ? -2048 : 2046)
                                       : 2 * (static_cast<int64_t>(g.below(2048)) - 1024);
            g.add(enc_cj(off, 5), "jal-c");
            break;
        }
        case 2:
        case 3: {
            uint32_t rs1 = g.reg_nonzero();
            uint32_t rd = g.chance(30) ? rs1 : (g.chance(20) ? 0 : g.reg());
            int64_t imm = g.chance(30) ? (g.chance(50) ? -2048 : 2047)
                                       : static_cast<int64_t>(g.below(4096)) - 2048;
            g.add(enc_i(imm, rs1, 0, rd, 0x67), "jalr");
            break;
        }
        default: { // c.jr (funct4 1000) / c.jalr (1001) with rs2 = 0
            uint32_t rs1 = g.reg_nonzero();
            g.add((g.chance(50) ? 0x8002u : 0x9002u) | (rs1 << 7), "jalr-c");
            break;
        }
        }
    }
}

// Loads and stores of every width (ch. 2.6, 5.3, 16.3) with offset extremes, rd = x0 and
// rd = rs1; the fix-up points the base into the window (or the fault area).
void memory(generator& g, size_t n) {
    constexpr int64_t imms[] = {-2048, -1, 0, 1, 7, 2047};
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        int64_t imm = g.chance(40) ? imms[g.below(6)] : static_cast<int64_t>(g.below(4096)) - 2048;
        uint32_t rs1 = g.reg_nonzero();
        switch (g.below(4)) {
        case 0:
        case 1: {
            uint32_t f3 = static_cast<uint32_t>(g.below(7));
            uint32_t rd = g.chance(15) ? 0 : (g.chance(20) ? rs1 : g.reg());
            g.add(enc_i(imm, rs1, f3, rd, 0x03), "load");
            break;
        }
        case 2:
            g.add(enc_s(imm, g.reg(), rs1, static_cast<uint32_t>(g.below(4))), "store");
            break;
        default: { // compressed loads/stores: c.lw c.ld c.sw c.sd c.lwsp c.ldsp c.swsp c.sdsp
            uint32_t h = static_cast<uint32_t>(g.u64()) & 0xffff;
            constexpr uint32_t forms[][2] = {{0, 2}, {0, 3}, {0, 6}, {0, 7},
                                             {2, 2}, {2, 3}, {2, 6}, {2, 7}};
            auto f = forms[g.below(8)];
            h = (h & 0x1ffcu) | (f[1] << 13) | f[0];
            g.add(h, "memory-c");
            break;
        }
        }
    }
}

// Upper immediates and the compressed constant forms (ch. 2.4, 16.5).
void constants(generator& g, size_t n) {
    size_t goal = g.count() + n;
    while (g.count() < goal) {
        uint32_t rd = g.chance(15) ? 0 : g.reg();
        uint32_t imm20 = g.chance(30) ? (g.chance(50) ? 0x80000u : 0x7ffffu)
                                      : static_cast<uint32_t>(g.below(1 << 20));
        switch (g.below(4)) {
        case 0:
            g.add((imm20 << 12) | (rd << 7) | 0x37, "upper");
            break;
        case 1:
            g.add((imm20 << 12) | (rd << 7) | 0x17, "upper");
            break;
        default: {
            uint32_t h = static_cast<uint32_t>(g.u64()) & 0x1ffc;
            // c.addi4spn, c.addi, c.addiw, c.li, c.lui/c.addi16sp, c.mv/c.add
            constexpr uint32_t forms[][2] = {{0, 0}, {1, 0}, {1, 1}, {1, 2}, {1, 3}, {2, 4}};
            auto f = forms[g.below(6)];
            g.add((f[1] << 13) | h | f[0], "const-c");
            break;
        }
        }
    }
}

// The V extension's encodings (OP-V, and LOAD-FP/STORE-FP with widths 000, 101, 110, 111; spec
// v1.0 ch. 7.3): not RV64GC, so the decoder calls them illegal, but qemu-riscv64 7.2 executes
// vector loads and stores even on a CPU model without V. They are left out of the SIGILL check.
bool vector_encoding(uint32_t w) {
    if ((w & 3) != 3)
        return false;
    const uint32_t opc = w & 0x7f, width = (w >> 12) & 7;
    return opc == 0x57 || ((opc == 0x07 || opc == 0x27) && (width == 0 || width >= 5));
}

// Random words the decoder calls illegal must raise SIGILL; random F/D/A words it calls
// out-of-line must execute.
void classes(generator& g, size_t n_illegal, size_t n_out_of_line) {
    size_t have = 0;
    while (have < n_illegal) {
        uint32_t w = static_cast<uint32_t>(g.u64());
        if (g.chance(30))
            w &= 0xffff;
        auto d = ruprobes::decode_bits(w);
        if (d.cls == insn_class::refuse && d.refusal == error::insn_illegal && !vector_encoding(w))
            have += g.add(w, "illegal") ? 1 : 0;
    }
    constexpr uint32_t fp_majors[] = {0x07, 0x27, 0x2f, 0x43, 0x47, 0x4b, 0x4f, 0x53};
    have = 0;
    while (have < n_out_of_line) {
        uint32_t w = static_cast<uint32_t>(g.u64());
        if (g.chance(25)) {
            w &= 0xffff; // c.fld, c.fsd, c.fldsp, c.fsdsp live in the 16-bit space
        } else {
            w = (w & ~0x7fu) | fp_majors[g.below(8)];
            if ((w & 0x7f) == 0x53 && g.chance(70)) // steer funct7 to defined OP-FP values
                w = (w & 0x01ffffffu) | ((static_cast<uint32_t>(g.below(0x80)) & 0x7d) << 25);
        }
        auto d = ruprobes::decode_bits(w);
        if (d.cls == insn_class::out_of_line)
            have += g.add(w, "out-of-line") ? 1 : 0;
    }
}

} // namespace

generated_cases generate_cases(uint64_t seed, size_t random_target) {
    generator g(seed);
    const size_t unit = random_target / 16;
    every_16(g);
    random_32(g, unit * 6);
    muldiv(g, unit * 2);
    shifts(g, unit);
    branches(g, unit * 2);
    jumps(g, unit * 2);
    memory(g, unit);
    constants(g, unit);
    classes(g, unit * 2, unit);
    return g.take();
}

} // namespace ruprobes::diff

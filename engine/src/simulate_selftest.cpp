// A short built-in table of decode + simulate cases, one or two per instruction family, with
// values worked out from the spec (Unprivileged ISA v20191213; the same cases as the host unit
// tests). It runs wherever the engine is built, so a kernel can prove at boot that its build of
// the decoder and simulator (its compiler, its flags) computes what the host tests checked.
#include "ruprobes/simulate.hpp"

namespace ruprobes {
namespace {

constexpr uint64_t mem_base = 0x80000;
constexpr unsigned mem_size = 64;
constexpr uint64_t pc0 = 0x10000;
constexpr uint64_t ones = ~uint64_t{0};
constexpr uint64_t i64_min = uint64_t{1} << 63;

// 64 bytes of user memory at mem_base, initialised to 0x80, 0x81, ...; all else faults.
class table_memory final : public memory_port {
public:
    table_memory() {
        for (unsigned i = 0; i < mem_size; i++)
            bytes_[i] = static_cast<uint8_t>(0x80 + i);
    }
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        out = 0;
        if (addr < mem_base || addr - mem_base > mem_size - size)
            return false;
        for (unsigned i = 0; i < size; i++)
            out |= uint64_t{bytes_[addr - mem_base + i]} << (8 * i);
        return true;
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        if (addr < mem_base || addr - mem_base > mem_size - size)
            return false;
        for (unsigned i = 0; i < size; i++)
            bytes_[addr - mem_base + i] = static_cast<uint8_t>(value >> (8 * i));
        return true;
    }

private:
    uint8_t bytes_[mem_size];
};

enum class want : uint8_t { next_rel, next_abs, fault_load };

// Registers a and b get values va and vb, then `bits` runs at pc0; register `out` must hold
// `expect` and the next pc must be pc0 + next (next_rel) or next (next_abs). Memory persists from
// one case to the next (a store is checked by the load after it).
struct sim_case {
    uint32_t bits;
    uint8_t a;
    uint64_t va;
    uint8_t b;
    uint64_t vb;
    uint8_t out;
    uint64_t expect;
    want kind;
    int64_t next;
};

constexpr sim_case sim_cases[] = {
    {0xfff00513, 0, 0, 0, 0, 10, ones, want::next_rel, 4},                    // addi a0, zero, -1
    {0x00528013, 5, 7, 0, 0, 0, 0, want::next_rel, 4},                        // addi zero, t0, 5
    {0x567d, 0, 0, 0, 0, 12, ones, want::next_rel, 2},                        // c.li a2, -1
    {0xfffff2b7, 0, 0, 0, 0, 5, 0xfffffffffffff000, want::next_rel, 4},       // lui t0, 0xfffff
    {0x80000297, 0, 0, 0, 0, 5, pc0 + 0xffffffff80000000, want::next_rel, 4}, // auipc t0
    {0x800000ef, 0, 0, 0, 0, 1, pc0 + 4, want::next_rel, -1048576},           // jal ra, -1M
    {0x9282, 5, 0x9000, 0, 0, 1, pc0 + 2, want::next_abs, 0x9000},            // c.jalr t0
    {0x800302e7, 6, 0x7003, 0, 0, 5, pc0 + 4, want::next_abs, 0x6802},        // jalr t0,-2048(t1)
    {0x80b50063, 10, 5, 11, 5, 0, 0, want::next_rel, -4096},                  // beq taken back
    {0x7eb57fe3, 10, 0, 11, ones, 0, 0, want::next_rel, 4},                   // bgeu not taken
    {0xd001, 8, 0, 0, 0, 0, 0, want::next_rel, -256},                         // c.beqz s0, -256
    {0x02c5c533, 11, 42, 12, 0, 10, ones, want::next_rel, 4},                 // div by zero
    {0x02c5e533, 11, i64_min, 12, ones, 10, 0, want::next_rel, 4},            // rem overflow
    {0x02c5c53b, 11, 0x80000000, 12, ones, 10, 0xffffffff80000000, want::next_rel, 4}, // divw
    {0x02c5f53b, 11, 0x80000000, 12, 0, 10, 0xffffffff80000000, want::next_rel, 4},    // remuw /0
    {0x02c5b533, 11, ones, 12, ones, 10, ones - 1, want::next_rel, 4},                 // mulhu
    {0x02c59533, 11, i64_min, 12, i64_min, 10, uint64_t{1} << 62, want::next_rel, 4},  // mulh
    {0x02c5a533, 11, ones, 12, ones, 10, ones, want::next_rel, 4},                     // mulhsu
    {0x40c5d53b, 11, 0x80000000, 12, 31, 10, ones, want::next_rel, 4},                 // sraw 31
    {0x00c59533, 11, 1, 12, 67, 10, 8, want::next_rel, 4},                     // sll: 67 & 63
    {0x43f5d513, 11, i64_min, 0, 0, 10, ones, want::next_rel, 4},              // srai a0, a1, 63
    {0x25fd, 11, 0x7fffffff, 0, 0, 11, 0xffffffff8000001e, want::next_rel, 2}, // c.addiw a1, 31
    {0xfff5b513, 11, 5, 0, 0, 10, 1, want::next_rel, 4},                       // sltiu a0,a1,-1
    {0xfff58503, 11, mem_base + 1, 0, 0, 10, 0xffffffffffffff80, want::next_rel, 4},       // lb
    {0x7ff5e503, 11, mem_base + 4 - 2047, 0, 0, 10, 0x87868584, want::next_rel, 4},        // lwu
    {0x50fe, 2, mem_base + 16 - 252, 0, 0, 1, 0xffffffff93929190, want::next_rel, 2},      // c.lwsp
    {0x797e, 2, mem_base + 24 - 504, 0, 0, 18, 0x9f9e9d9c9b9a9998, want::next_rel, 2},     // c.ldsp
    {0x81f13023, 2, mem_base + 8 + 2048, 31, 0x0102030405060708, 0, 0, want::next_rel, 4}, // sd
    {0x0085b503, 11, mem_base, 0, 0, 10, 0x0102030405060708, want::next_rel, 4}, // ld a0, 8(a1)
    {0x7101, 2, 0x10000, 0, 0, 2, 0xfe00, want::next_rel, 2},                    // c.addi16sp
    {0x1fe8, 2, 0x10000, 0, 0, 10, 0x103fc, want::next_rel, 2},                  // c.addi4spn
    {0x857e, 31, 42, 0, 0, 10, 42, want::next_rel, 2},                           // c.mv a0, t6
    {0x0005b503, 11, 0x10, 10, 0x77, 10, 0x77, want::fault_load, 0x10},          // ld: faults
    {0x0330000f, 0, 0, 0, 0, 0, 0, want::next_rel, 4},                           // fence
};

struct class_case {
    uint32_t bits;
    insn_class cls;
    error refusal;
};

constexpr class_case class_cases[] = {
    {0x00000073, insn_class::refuse, error::insn_ecall},      // ecall
    {0x9002, insn_class::refuse, error::insn_ebreak},         // c.ebreak
    {0xc0002573, insn_class::refuse, error::insn_csr},        // rdcycle a0
    {0x10200073, insn_class::refuse, error::insn_privileged}, // sret
    {0x0000100f, insn_class::refuse, error::insn_fence_i},    // fence.i
    {0x1005a52f, insn_class::refuse, error::insn_lr_sc},      // lr.w
    {0x0000, insn_class::refuse, error::insn_illegal},        // all-zero parcel
    {0x6101, insn_class::refuse, error::insn_illegal},        // c.addi16sp sp, 0 (reserved)
    {0x6ac58543, insn_class::out_of_line, error::ok},         // fmadd.d
    {0x3c68, insn_class::out_of_line, error::ok},             // c.fld
    {0x0cc5a52f, insn_class::out_of_line, error::ok},         // amoswap.w.aq
};

constexpr uint32_t n_sim = sizeof(sim_cases) / sizeof(sim_cases[0]);
constexpr uint32_t n_class = sizeof(class_cases) / sizeof(class_cases[0]);

bool run(const sim_case& c, table_memory& mem) {
    const decoded_insn d = decode_bits(c.bits);
    if (d.cls != insn_class::simulate)
        return false;
    register_file regs;
    regs.set(c.a, c.va);
    regs.set(c.b, c.vb);
    sim_fault fault;
    result<uint64_t> next = simulate(d, pc0, regs, mem, &fault);
    if (regs.get(c.out) != c.expect)
        return false;
    switch (c.kind) {
    case want::next_rel:
        return next.ok() && *next == pc0 + static_cast<uint64_t>(c.next);
    case want::next_abs:
        return next.ok() && *next == static_cast<uint64_t>(c.next);
    case want::fault_load:
        return next.err() == error::fault_load && !fault.is_store &&
               fault.addr == static_cast<uint64_t>(c.next);
    }
    return false;
}

} // namespace

insn_selftest_report insn_selftest() {
    insn_selftest_report report;
    report.cases = n_sim + n_class;
    table_memory mem;
    for (uint32_t i = 0; i < n_sim; i++) {
        if (!run(sim_cases[i], mem)) {
            report.failed_case = i + 1;
            report.failed_bits = sim_cases[i].bits;
            return report;
        }
    }
    for (uint32_t i = 0; i < n_class; i++) {
        const decoded_insn d = decode_bits(class_cases[i].bits);
        if (d.cls != class_cases[i].cls || d.refusal != class_cases[i].refusal) {
            report.failed_case = n_sim + i + 1;
            report.failed_bits = class_cases[i].bits;
            return report;
        }
    }
    return report;
}

} // namespace ruprobes

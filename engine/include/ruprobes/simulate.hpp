// Simulation of one displaced instruction in the kernel: all RV64I, M and C integer instructions
// (the ones decode() classes insn_class::simulate), against a register file and a memory port.
// A simulated probe hit costs one trap: the caller sets the user pc to the returned next pc.
//
// Spec: Unprivileged ISA v20191213, RV64I ch. 2 and 5, M ch. 7, C ch. 16 (compressed forms are
// simulated through the base instruction they expand to; see insn.hpp).
#pragma once

#include "ruprobes/base.hpp"
#include "ruprobes/insn.hpp"

namespace ruprobes {

// The integer registers x0..x31 of the interrupted user thread. x[0] is never read (get(0) is 0)
// and writes to x0 are dropped, whatever the array holds. The pc is passed separately.
struct register_file {
    uint64_t x[32] = {};

    uint64_t get(unsigned r) const { return r == 0 ? 0 : x[r & 31]; }
    void set(unsigned r, uint64_t v) {
        if (r != 0)
            x[r & 31] = v;
    }
};

// Access to the user address space of the interrupted thread (the kernel implements it with its
// copy_from_user / copy_to_user; tests with a fake buffer). Sizes are 1, 2, 4 or 8; values are
// little-endian, zero-extended to 64 bits on load. Addresses may be misaligned (RV64 permits
// misaligned accesses to succeed; the port decides). A port must be all-or-nothing: a store that
// fails has written nothing, so a faulting instruction leaves memory unchanged.
//
// The default implementations fault, so a port overrides what it supports. Not pure virtual (no
// __cxa_pure_virtual needed in a freestanding kernel) and without a virtual destructor (no
// operator delete needed): ports are never deleted through this base.
class memory_port {
public:
    // Reads `size` bytes at user address `addr` into `out`; false when the access faults.
    virtual bool load(uint64_t addr, unsigned size, uint64_t& out) {
        (void)addr;
        (void)size;
        out = 0;
        return false;
    }
    // Writes the low `size` bytes of `value` at user address `addr`; false when the access faults
    // (and then nothing was written).
    virtual bool store(uint64_t addr, unsigned size, uint64_t value) {
        (void)addr;
        (void)size;
        (void)value;
        return false;
    }

protected:
    ~memory_port() = default;
};

// The memory access that made a simulated instruction fault: the fault the real instruction would
// have raised (load/store access or page fault at `addr`).
struct sim_fault {
    bool is_store = false; // false: load fault, true: store/AMO fault
    uint64_t addr = 0;     // effective address of the faulting access (rs1 + imm), also
                           // when only a later byte of a misaligned access is unmapped
};

// The instructions simulate() runs without touching memory: upper immediates, jumps, branches,
// the integer register-immediate and register-register operations with their *W forms, and fence.
constexpr bool register_only(opcode op) {
    return (op >= opcode::lui && op <= opcode::bgeu) ||
           (op >= opcode::addi && op <= opcode::sraw) || op == opcode::fence;
}

// A 32-bit result sign-extended to 64 bits, as every RV64 *W instruction writes it (ch. 5.2).
constexpr uint64_t sext32(uint64_t v) {
    return static_cast<uint64_t>(
        static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))));
}

// Executes a register_only() instruction `op` at `pc` on the registers x[] in place, its
// operands `rd`, `rs1`, `rs2`, its immediate `imm` (sign-extended as insn.hpp gives it) and the
// address of the next instruction `next`; returns the next pc. The one definition of these
// instructions' semantics: simulate() runs them through it, and the hit path calls it directly
// with the operands it keeps in a site's hot line. `Regs` says how an operand names a register:
// Regs::read(x, r) (x0 reads as zero), Regs::write(x, r, v) for the result and Regs::link(x, r,
// v) for a jump's link (neither changes x0). Operands are read before rd is written. Ch. 2.4
// integer computational (shift amounts masked to 6 bits), 2.5 control transfer (the link is
// pc + length, jalr clears bit 0 of its target), 5.2 the *W forms (5-bit shift amounts, 32-bit
// results sign-extended), 2.7 fence (the trap already ordered memory).
// A register's value as a signed number (the signed comparisons and shifts).
[[gnu::always_inline]] inline int64_t sa(uint64_t v) {
    return static_cast<int64_t>(v);
}

template <class Regs>
[[gnu::always_inline]] inline uint64_t
simulate_register_only(opcode op, uint64_t* x, unsigned rd, unsigned rs1, unsigned rs2,
                       uint64_t imm, uint64_t pc, uint64_t next) {
    uint64_t v = 0;
    switch (op) {
    case opcode::lui:
        v = imm;
        break;
    case opcode::auipc:
        v = pc + imm;
        break;
    case opcode::jal:
        Regs::link(x, rd, next);
        return pc + imm;
    case opcode::jalr: {
        uint64_t target = (Regs::read(x, rs1) + imm) & ~uint64_t{1};
        Regs::link(x, rd, next);
        return target;
    }
    case opcode::beq:
        return Regs::read(x, rs1) == Regs::read(x, rs2) ? pc + imm : next;
    case opcode::bne:
        return Regs::read(x, rs1) != Regs::read(x, rs2) ? pc + imm : next;
    case opcode::blt:
        return sa(Regs::read(x, rs1)) < sa(Regs::read(x, rs2)) ? pc + imm : next;
    case opcode::bge:
        return sa(Regs::read(x, rs1)) >= sa(Regs::read(x, rs2)) ? pc + imm : next;
    case opcode::bltu:
        return Regs::read(x, rs1) < Regs::read(x, rs2) ? pc + imm : next;
    case opcode::bgeu:
        return Regs::read(x, rs1) >= Regs::read(x, rs2) ? pc + imm : next;
    case opcode::addi:
        v = Regs::read(x, rs1) + imm;
        break;
    case opcode::slti:
        v = sa(Regs::read(x, rs1)) < sa(imm) ? 1 : 0;
        break;
    case opcode::sltiu:
        v = Regs::read(x, rs1) < imm ? 1 : 0;
        break;
    case opcode::xori:
        v = Regs::read(x, rs1) ^ imm;
        break;
    case opcode::ori:
        v = Regs::read(x, rs1) | imm;
        break;
    case opcode::andi:
        v = Regs::read(x, rs1) & imm;
        break;
    case opcode::slli:
        v = Regs::read(x, rs1) << (imm & 63);
        break;
    case opcode::srli:
        v = Regs::read(x, rs1) >> (imm & 63);
        break;
    case opcode::srai:
        v = static_cast<uint64_t>(sa(Regs::read(x, rs1)) >> (imm & 63));
        break;
    case opcode::add:
        v = Regs::read(x, rs1) + Regs::read(x, rs2);
        break;
    case opcode::sub:
        v = Regs::read(x, rs1) - Regs::read(x, rs2);
        break;
    case opcode::sll:
        v = Regs::read(x, rs1) << (Regs::read(x, rs2) & 63);
        break;
    case opcode::slt:
        v = sa(Regs::read(x, rs1)) < sa(Regs::read(x, rs2)) ? 1 : 0;
        break;
    case opcode::sltu:
        v = Regs::read(x, rs1) < Regs::read(x, rs2) ? 1 : 0;
        break;
    case opcode::xor_:
        v = Regs::read(x, rs1) ^ Regs::read(x, rs2);
        break;
    case opcode::srl:
        v = Regs::read(x, rs1) >> (Regs::read(x, rs2) & 63);
        break;
    case opcode::sra:
        v = static_cast<uint64_t>(sa(Regs::read(x, rs1)) >> (Regs::read(x, rs2) & 63));
        break;
    case opcode::or_:
        v = Regs::read(x, rs1) | Regs::read(x, rs2);
        break;
    case opcode::and_:
        v = Regs::read(x, rs1) & Regs::read(x, rs2);
        break;
    case opcode::addiw:
        v = sext32(Regs::read(x, rs1) + imm);
        break;
    case opcode::slliw:
        v = sext32(static_cast<uint32_t>(Regs::read(x, rs1)) << (imm & 31));
        break;
    case opcode::srliw:
        v = sext32(static_cast<uint32_t>(Regs::read(x, rs1)) >> (imm & 31));
        break;
    case opcode::sraiw:
        v = sext32(static_cast<uint32_t>(static_cast<int32_t>(Regs::read(x, rs1)) >> (imm & 31)));
        break;
    case opcode::addw:
        v = sext32(Regs::read(x, rs1) + Regs::read(x, rs2));
        break;
    case opcode::subw:
        v = sext32(Regs::read(x, rs1) - Regs::read(x, rs2));
        break;
    case opcode::sllw:
        v = sext32(static_cast<uint32_t>(Regs::read(x, rs1)) << (Regs::read(x, rs2) & 31));
        break;
    case opcode::srlw:
        v = sext32(static_cast<uint32_t>(Regs::read(x, rs1)) >> (Regs::read(x, rs2) & 31));
        break;
    case opcode::sraw:
        v = sext32(static_cast<uint32_t>(static_cast<int32_t>(Regs::read(x, rs1)) >>
                                         (Regs::read(x, rs2) & 31)));
        break;
    case opcode::fence:
        return next;
    default: // register_only() admits nothing else
        __builtin_unreachable();
    }
    Regs::write(x, rd, v);
    return next;
}

// Executes `insn` as if the user thread had run it at `pc`. Returns the next pc (pc + length for
// everything but taken branches and jumps). Fails with:
//   - error::fault_load / error::fault_store when the memory port refused the access; `*fault`
//     (when non-null) gets the address; no register and no memory have changed;
//   - error::invalid_argument when insn.cls != insn_class::simulate (nothing changed).
// Pure apart from `regs` and the port: no globals, no allocation.
result<uint64_t> simulate(const decoded_insn& insn, uint64_t pc, register_file& regs,
                          memory_port& mem, sim_fault* fault = nullptr);

// The same on a bare array of the 32 integer registers x0..x31 (for example the start of a trap
// frame, without copying it or aliasing it as a register_file): x[0] is never read (x0 reads as
// 0) and never written; x[1..31] are read and written in place, and not at all on failure.
result<uint64_t> simulate(const decoded_insn& insn, uint64_t pc, uint64_t* x, memory_port& mem,
                          sim_fault* fault = nullptr);

// Outcome of insn_selftest(): how many cases ran and the first that failed (1-based, 0: none).
struct insn_selftest_report {
    uint32_t cases = 0;
    uint32_t failed_case = 0;
    uint32_t failed_bits = 0; // the instruction of the failed case
    bool ok() const { return failed_case == 0; }
};

// Runs a built-in table of decode + simulate cases (every instruction family, spec-derived
// values; no allocation, no port hooks). A kernel calls it at boot to prove that its own build
// of the engine computes what the host tests checked; the host unit tests call it too.
insn_selftest_report insn_selftest();

} // namespace ruprobes

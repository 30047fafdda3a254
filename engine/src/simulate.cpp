// The instruction simulator: RV64I (ch. 2, 5), M (ch. 7) and, through their expansions, the C
// integer instructions (ch. 16) of the Unprivileged ISA v20191213.
#include "ruprobes/simulate.hpp"

namespace ruprobes {
namespace {

constexpr uint64_t sext_n(uint64_t v, unsigned bytes) {
    unsigned shift = 64 - 8 * bytes;
    return static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
}

constexpr bool negative(uint64_t v) {
    return static_cast<int64_t>(v) < 0;
}

// The upper 64 bits of the unsigned 128-bit product, from 32-bit halves (no __int128, so the
// guest build needs no libgcc helper).
constexpr uint64_t mul_high_unsigned(uint64_t a, uint64_t b) {
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo;
    uint64_t hi_lo = a_hi * b_lo;
    uint64_t lo_hi = a_lo * b_hi;
    uint64_t hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

// mulh: signed x signed. Two's complement correction of the unsigned product: a negative
// operand contributes -2^64 * other.
constexpr uint64_t mul_high_signed(uint64_t a, uint64_t b) {
    uint64_t h = mul_high_unsigned(a, b);
    if (negative(a))
        h -= b;
    if (negative(b))
        h -= a;
    return h;
}

// mulhsu: signed rs1 x unsigned rs2.
constexpr uint64_t mul_high_signed_unsigned(uint64_t a, uint64_t b) {
    uint64_t h = mul_high_unsigned(a, b);
    if (negative(a))
        h -= b;
    return h;
}

// Division (ch. 7.2, table 7.1): division by zero gives all ones (quotient) / the dividend
// (remainder); signed overflow (most negative / -1) gives the dividend / 0. No trap either way.
constexpr uint64_t div_signed(uint64_t a, uint64_t b, unsigned bits) {
    int64_t x = bits == 32 ? static_cast<int32_t>(a) : static_cast<int64_t>(a);
    int64_t y = bits == 32 ? static_cast<int32_t>(b) : static_cast<int64_t>(b);
    int64_t min = bits == 32 ? INT32_MIN : INT64_MIN;
    if (y == 0)
        return ~uint64_t{0};
    if (x == min && y == -1)
        return static_cast<uint64_t>(x);
    int64_t q = x / y;
    return bits == 32 ? sext32(static_cast<uint64_t>(q)) : static_cast<uint64_t>(q);
}

constexpr uint64_t rem_signed(uint64_t a, uint64_t b, unsigned bits) {
    int64_t x = bits == 32 ? static_cast<int32_t>(a) : static_cast<int64_t>(a);
    int64_t y = bits == 32 ? static_cast<int32_t>(b) : static_cast<int64_t>(b);
    int64_t min = bits == 32 ? INT32_MIN : INT64_MIN;
    if (y == 0)
        return static_cast<uint64_t>(x);
    if (x == min && y == -1)
        return 0;
    return static_cast<uint64_t>(x % y); // x % y of 32-bit values already fits sign-extended
}

constexpr uint64_t div_unsigned(uint64_t a, uint64_t b, unsigned bits) {
    if (bits == 32) {
        uint32_t x = static_cast<uint32_t>(a), y = static_cast<uint32_t>(b);
        return y == 0 ? ~uint64_t{0} : sext32(x / y);
    }
    return b == 0 ? ~uint64_t{0} : a / b;
}

constexpr uint64_t rem_unsigned(uint64_t a, uint64_t b, unsigned bits) {
    if (bits == 32) {
        uint32_t x = static_cast<uint32_t>(a), y = static_cast<uint32_t>(b);
        return sext32(y == 0 ? x : x % y);
    }
    return b == 0 ? a : a % b;
}

struct access {
    unsigned size;
    bool sign;
};

// Width and signedness of a load (ch. 2.6, 5.3).
constexpr access load_access(opcode op) {
    switch (op) {
    case opcode::lb:
        return {1, true};
    case opcode::lh:
        return {2, true};
    case opcode::lw:
        return {4, true};
    case opcode::ld:
        return {8, false};
    case opcode::lbu:
        return {1, false};
    case opcode::lhu:
        return {2, false};
    default:
        return {4, false}; // lwu
    }
}

constexpr unsigned store_size(opcode op) {
    switch (op) {
    case opcode::sb:
        return 1;
    case opcode::sh:
        return 2;
    case opcode::sw:
        return 4;
    default:
        return 8; // sd
    }
}

// The value an M instruction (ch. 7) writes to rd.
uint64_t multiply_divide(opcode op, uint64_t a, uint64_t b) {
    switch (op) {
    case opcode::mul:
        return a * b;
    case opcode::mulh:
        return mul_high_signed(a, b);
    case opcode::mulhsu:
        return mul_high_signed_unsigned(a, b);
    case opcode::mulhu:
        return mul_high_unsigned(a, b);
    case opcode::div:
        return div_signed(a, b, 64);
    case opcode::divu:
        return div_unsigned(a, b, 64);
    case opcode::rem:
        return rem_signed(a, b, 64);
    case opcode::remu:
        return rem_unsigned(a, b, 64);
    case opcode::mulw:
        return sext32(a * b);
    case opcode::divw:
        return div_signed(a, b, 32);
    case opcode::divuw:
        return div_unsigned(a, b, 32);
    case opcode::remw:
        return rem_signed(a, b, 32);
    case opcode::remuw:
        return rem_unsigned(a, b, 32);
    default:
        return 0; // not reached: simulate() dispatches only M opcodes here
    }
}

// x0..x31 in the caller's array: x[0] is never read (reads as 0) and never written.
struct register_view {
    uint64_t* x;
    uint64_t get(unsigned r) const { return r == 0 ? 0 : x[r & 31]; }
    void set(unsigned r, uint64_t v) const {
        if (r != 0)
            x[r & 31] = v;
    }
};

// Register numbers, as decode() gives them, for simulate_register_only().
struct register_numbers {
    static uint64_t read(const uint64_t* x, unsigned r) { return r == 0 ? 0 : x[r & 31]; }
    static void write(uint64_t* x, unsigned r, uint64_t v) {
        if (r != 0)
            x[r & 31] = v;
    }
    static void link(uint64_t* x, unsigned r, uint64_t v) { write(x, r, v); }
};

} // namespace

result<uint64_t> simulate(const decoded_insn& in, uint64_t pc, register_file& regs,
                          memory_port& mem, sim_fault* fault) {
    return simulate(in, pc, regs.x, mem, fault);
}

result<uint64_t> simulate(const decoded_insn& in, uint64_t pc, uint64_t* x, memory_port& mem,
                          sim_fault* fault) {
    register_view regs{x};
    if (in.cls != insn_class::simulate)
        return error::invalid_argument;
    // Operands are read before rd is written: rd may equal rs1 (jalr ra, 0(ra); c.add).
    const uint64_t a = regs.get(in.rs1);
    const uint64_t b = regs.get(in.rs2);
    const uint64_t imm = static_cast<uint64_t>(in.imm);
    const uint64_t next = pc + in.length; // instruction length is data (2 or 4)

    if (register_only(in.op))
        return simulate_register_only<register_numbers>(in.op, x, in.rd, in.rs1, in.rs2, imm, pc,
                                                        next);
    switch (in.op) {
    case opcode::lb:
    case opcode::lh:
    case opcode::lw:
    case opcode::ld:
    case opcode::lbu:
    case opcode::lhu:
    case opcode::lwu: { // ch. 2.6: the access happens (and may fault) even when rd is x0
        const access acc = load_access(in.op);
        const uint64_t addr = a + imm;
        uint64_t v = 0;
        if (!mem.load(addr, acc.size, v)) {
            if (fault)
                *fault = sim_fault{false, addr};
            return error::fault_load;
        }
        if (acc.size < 8)
            v = acc.sign ? sext_n(v, acc.size) : v & ((uint64_t{1} << (8 * acc.size)) - 1);
        regs.set(in.rd, v);
        return next;
    }
    case opcode::sb:
    case opcode::sh:
    case opcode::sw:
    case opcode::sd: {
        const uint64_t addr = a + imm;
        if (!mem.store(addr, store_size(in.op), b)) {
            if (fault)
                *fault = sim_fault{true, addr};
            return error::fault_store;
        }
        return next;
    }
    default:
        break;
    }
    if (in.op >= opcode::mul && in.op <= opcode::remuw) {
        regs.set(in.rd, multiply_divide(in.op, a, b));
        return next;
    }
    return error::invalid_argument; // a simulate-class opcode this switch forgot: never silent
}

} // namespace ruprobes

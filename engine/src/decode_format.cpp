// Assembly text of a decoded instruction, for logs, refusal messages and test reports. GNU
// assembler operand order with ABI register names; compressed instructions print as the base
// instruction they expand to; offsets of branches and jumps are relative to the instruction.
#include "ruprobes/insn.hpp"

namespace ruprobes {
namespace {

constexpr const char* x_names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                     "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                     "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                     "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
constexpr const char* f_names[32] = {"ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
                                     "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
                                     "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
                                     "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

// Appends to a caller's buffer, always NUL-terminated, silently truncating.
class text {
public:
    text(char* buf, size_t size) : buf_(buf), size_(size) {
        if (size_ > 0)
            buf_[0] = '\0';
    }
    text& put(char c) {
        if (len_ + 1 < size_) {
            buf_[len_] = c;
            buf_[len_ + 1] = '\0';
        }
        ++len_;
        return *this;
    }
    text& put(const char* s) {
        while (*s)
            put(*s++);
        return *this;
    }
    text& dec(int64_t v) {
        uint64_t u = static_cast<uint64_t>(v);
        if (v < 0) {
            put('-');
            u = 0 - u;
        }
        char digits[20];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + u % 10);
            u /= 10;
        } while (u != 0);
        while (n > 0)
            put(digits[--n]);
        return *this;
    }
    text& hex(uint64_t v) {
        put("0x");
        int shift = 60;
        while (shift > 0 && ((v >> shift) & 0xf) == 0)
            shift -= 4;
        for (; shift >= 0; shift -= 4)
            put("0123456789abcdef"[(v >> shift) & 0xf]);
        return *this;
    }
    text& x(unsigned r) { return put(x_names[r & 31]); }
    text& f(unsigned r) { return put(f_names[r & 31]); }
    text& comma() { return put(','); }
    // imm(base), as in loads and stores
    text& mem(int64_t imm, unsigned base) { return dec(imm).put('(').x(base).put(')'); }
    size_t length() const { return len_; }

private:
    char* buf_;
    size_t size_;
    size_t len_ = 0;
};

bool in(opcode op, opcode lo, opcode hi) {
    return op >= lo && op <= hi;
}

// F/D operations whose rd is an integer register, and those whose rs1 is.
bool fp_rd_is_x(opcode op) {
    switch (op) {
    case opcode::fcvt_w_s:
    case opcode::fcvt_wu_s:
    case opcode::fcvt_l_s:
    case opcode::fcvt_lu_s:
    case opcode::fmv_x_w:
    case opcode::fclass_s:
    case opcode::feq_s:
    case opcode::flt_s:
    case opcode::fle_s:
    case opcode::fcvt_w_d:
    case opcode::fcvt_wu_d:
    case opcode::fcvt_l_d:
    case opcode::fcvt_lu_d:
    case opcode::fmv_x_d:
    case opcode::fclass_d:
    case opcode::feq_d:
    case opcode::flt_d:
    case opcode::fle_d:
        return true;
    default:
        return false;
    }
}
bool fp_rs1_is_x(opcode op) {
    switch (op) {
    case opcode::fcvt_s_w:
    case opcode::fcvt_s_wu:
    case opcode::fcvt_s_l:
    case opcode::fcvt_s_lu:
    case opcode::fmv_w_x:
    case opcode::fcvt_d_w:
    case opcode::fcvt_d_wu:
    case opcode::fcvt_d_l:
    case opcode::fcvt_d_lu:
    case opcode::fmv_d_x:
        return true;
    default:
        return false;
    }
}
// One-source F/D operations (no rs2 operand).
bool fp_unary(opcode op) {
    return op == opcode::fsqrt_s || op == opcode::fsqrt_d || op == opcode::fcvt_s_d ||
           op == opcode::fcvt_d_s || op == opcode::fclass_s || op == opcode::fclass_d ||
           op == opcode::fmv_x_w || op == opcode::fmv_x_d || fp_rs1_is_x(op) ||
           in(op, opcode::fcvt_w_s, opcode::fcvt_lu_s) ||
           in(op, opcode::fcvt_w_d, opcode::fcvt_lu_d);
}

void operands(text& t, const decoded_insn& d) {
    const opcode op = d.op;
    if (op == opcode::lui || op == opcode::auipc) {
        t.x(d.rd).comma().hex((static_cast<uint64_t>(d.imm) >> 12) & 0xfffff);
    } else if (op == opcode::jal) {
        t.x(d.rd).comma().dec(d.imm);
    } else if (op == opcode::jalr || in(op, opcode::lb, opcode::lwu)) {
        t.x(d.rd).comma().mem(d.imm, d.rs1);
    } else if (in(op, opcode::beq, opcode::bgeu)) {
        t.x(d.rs1).comma().x(d.rs2).comma().dec(d.imm);
    } else if (in(op, opcode::sb, opcode::sd)) {
        t.x(d.rs2).comma().mem(d.imm, d.rs1);
    } else if (in(op, opcode::addi, opcode::srai) || in(op, opcode::addiw, opcode::sraiw)) {
        t.x(d.rd).comma().x(d.rs1).comma().dec(d.imm);
    } else if (in(op, opcode::add, opcode::and_) || in(op, opcode::addw, opcode::sraw) ||
               in(op, opcode::mul, opcode::remuw)) {
        t.x(d.rd).comma().x(d.rs1).comma().x(d.rs2);
    } else if (in(op, opcode::csrrw, opcode::csrrc)) {
        t.x(d.rd).comma().hex(static_cast<uint64_t>(d.imm)).comma().x(d.rs1);
    } else if (in(op, opcode::csrrwi, opcode::csrrci)) {
        t.x(d.rd).comma().hex(static_cast<uint64_t>(d.imm)).comma().dec(d.rs1);
    } else if (op == opcode::lr_w || op == opcode::lr_d) {
        t.x(d.rd).comma().put('(').x(d.rs1).put(')');
    } else if (in(op, opcode::sc_w, opcode::amomaxu_w) || in(op, opcode::sc_d, opcode::amomaxu_d)) {
        t.x(d.rd).comma().x(d.rs2).comma().put('(').x(d.rs1).put(')');
    } else if (op == opcode::flw || op == opcode::fld) {
        t.f(d.rd).comma().mem(d.imm, d.rs1);
    } else if (op == opcode::fsw || op == opcode::fsd) {
        t.f(d.rs2).comma().mem(d.imm, d.rs1);
    } else if (in(op, opcode::fmadd_s, opcode::fnmadd_s) ||
               in(op, opcode::fmadd_d, opcode::fnmadd_d)) {
        t.f(d.rd).comma().f(d.rs1).comma().f(d.rs2).comma().f(d.rs3);
    } else if (in(op, opcode::fadd_s, opcode::fmv_w_x) || in(op, opcode::fadd_d, opcode::fmv_d_x)) {
        fp_rd_is_x(op) ? t.x(d.rd) : t.f(d.rd);
        t.comma();
        fp_rs1_is_x(op) ? t.x(d.rs1) : t.f(d.rs1);
        if (!fp_unary(op))
            t.comma().f(d.rs2);
    } else if (op == opcode::sfence_vma) {
        t.x(d.rs1).comma().x(d.rs2);
    }
}

} // namespace

size_t format_insn(const decoded_insn& d, char* buf, size_t size) {
    text t(buf, size);
    if (d.op == opcode::illegal || d.op >= opcode::count_) {
        t.put("illegal ").hex(d.raw);
        return t.length();
    }
    t.put(opcode_name(d.op));
    if (in(d.op, opcode::amoswap_w, opcode::amomaxu_w) ||
        in(d.op, opcode::amoswap_d, opcode::amomaxu_d) || in(d.op, opcode::lr_w, opcode::sc_w) ||
        in(d.op, opcode::lr_d, opcode::sc_d)) {
        if (d.rm & 2)
            t.put(".aq");
        if (d.rm & 1)
            t.put(".rl");
    }
    const size_t before = t.length();
    t.put(' ');
    operands(t, d);
    if (t.length() == before + 1) { // no operands: drop the space
        if (before < size)
            buf[before] = '\0';
        return before;
    }
    return t.length();
}

} // namespace ruprobes

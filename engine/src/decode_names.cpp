// Mnemonics of the decoder's opcodes, for logs, error messages and test reports.
#include "ruprobes/insn.hpp"

namespace ruprobes {
namespace {

// Indexed by opcode; the order must follow the enum in insn.hpp (checked below by size).
constexpr const char* names[] = {
    "illegal",   "lui",       "auipc",     "jal",       "jalr",      "beq",       "bne",
    "blt",       "bge",       "bltu",      "bgeu",      "lb",        "lh",        "lw",
    "ld",        "lbu",       "lhu",       "lwu",       "sb",        "sh",        "sw",
    "sd",        "addi",      "slti",      "sltiu",     "xori",      "ori",       "andi",
    "slli",      "srli",      "srai",      "add",       "sub",       "sll",       "slt",
    "sltu",      "xor",       "srl",       "sra",       "or",        "and",       "addiw",
    "slliw",     "srliw",     "sraiw",     "addw",      "subw",      "sllw",      "srlw",
    "sraw",      "fence",     "ecall",     "ebreak",    "fence.i",   "csrrw",     "csrrs",
    "csrrc",     "csrrwi",    "csrrsi",    "csrrci",    "mul",       "mulh",      "mulhsu",
    "mulhu",     "div",       "divu",      "rem",       "remu",      "mulw",      "divw",
    "divuw",     "remw",      "remuw",     "lr.w",      "sc.w",      "amoswap.w", "amoadd.w",
    "amoxor.w",  "amoand.w",  "amoor.w",   "amomin.w",  "amomax.w",  "amominu.w", "amomaxu.w",
    "lr.d",      "sc.d",      "amoswap.d", "amoadd.d",  "amoxor.d",  "amoand.d",  "amoor.d",
    "amomin.d",  "amomax.d",  "amominu.d", "amomaxu.d", "flw",       "fsw",       "fmadd.s",
    "fmsub.s",   "fnmsub.s",  "fnmadd.s",  "fadd.s",    "fsub.s",    "fmul.s",    "fdiv.s",
    "fsqrt.s",   "fsgnj.s",   "fsgnjn.s",  "fsgnjx.s",  "fmin.s",    "fmax.s",    "fcvt.w.s",
    "fcvt.wu.s", "fcvt.l.s",  "fcvt.lu.s", "fmv.x.w",   "fclass.s",  "feq.s",     "flt.s",
    "fle.s",     "fcvt.s.w",  "fcvt.s.wu", "fcvt.s.l",  "fcvt.s.lu", "fmv.w.x",   "fld",
    "fsd",       "fmadd.d",   "fmsub.d",   "fnmsub.d",  "fnmadd.d",  "fadd.d",    "fsub.d",
    "fmul.d",    "fdiv.d",    "fsqrt.d",   "fsgnj.d",   "fsgnjn.d",  "fsgnjx.d",  "fmin.d",
    "fmax.d",    "fcvt.s.d",  "fcvt.d.s",  "fcvt.w.d",  "fcvt.wu.d", "fcvt.l.d",  "fcvt.lu.d",
    "fmv.x.d",   "fclass.d",  "feq.d",     "flt.d",     "fle.d",     "fcvt.d.w",  "fcvt.d.wu",
    "fcvt.d.l",  "fcvt.d.lu", "fmv.d.x",   "sret",      "mret",      "wfi",       "sfence.vma",
};
static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(opcode::count_),
              "names[] must list every opcode, in enum order");

} // namespace

const char* opcode_name(opcode op) {
    auto i = static_cast<size_t>(op);
    if (i >= static_cast<size_t>(opcode::count_))
        return "illegal";
    return names[i];
}

} // namespace ruprobes

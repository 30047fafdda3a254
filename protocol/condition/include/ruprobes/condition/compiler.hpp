// Probe conditions for JSON-RPC clients: a small C-like expression over a thread's registers,
// its ids and its user memory, compiled into GDB agent-expression bytecode (the same bytecode
// gdb sends with `Z0,addr,kind;X…`, evaluated by the engine at each hit).
//
// The language (docs/jsonrpc.md, "Conditions"):
//   operands   decimal and 0x hex integers; registers x0..x31 and their ABI names (zero, ra, sp,
//              gp, tp, t0-t6, s0-s11, fp, a0-a7), arg0..arg7 (= a0..a7), pc, pid, tid, and on
//              return probes ret / retval (= a0 at the return);
//   operators  C's, with C's precedence: ?: || && | ^ & == != < <= > >= << >> + - * / % and
//              unary - ! ~ *, parentheses, casts;
//   types      u8 u16 u32 u64 s8 s16 s32 s64, uintN_t/intN_t, char short int long (optionally
//              unsigned), and pointers to them: `*(u32 *)(a1 + 8)` reads 4 bytes of user memory.
// Values are 64-bit. Registers, pid, tid and integer literals are signed (`long`); an operation
// with an unsigned operand is unsigned, as in C. A load reads the type's width and zero- or
// sign-extends it. && || ?: evaluate lazily, so `a0 != 0 && *(u8 *)a0 == 47` never reads
// address 0.
#pragma once

#include <tl/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ruprobes::condition {

// Bounds, checked at compile time so the kernel never refuses what compiled.
inline constexpr size_t max_source = 1024;  // characters of one condition
inline constexpr size_t max_bytecode = 500; // bytes of bytecode (the kernel takes 512 per list)
inline constexpr unsigned max_nesting = 32; // parentheses, unary operators and ?: deep
inline constexpr unsigned max_stack = 64;   // values on the evaluation stack (the engine's bound)

// Pseudo-registers of the engine's agent-expression interpreter beyond gdb's numbering (x0..x31 =
// 0..31, pc = 32): the hit's process and thread ids.
inline constexpr uint16_t reg_pid = 0x1000;
inline constexpr uint16_t reg_tid = 0x1001;

// Where the condition is used: `ret` exists only on return probes.
struct compile_options {
    bool return_probe = false;
};

// The first problem of a condition: `column` is 1-based, in characters of the source.
struct compile_error {
    unsigned column = 0;
    std::string reason;
};

// The bytecode of one expression (ending in `end`), or the first error (tl::expected, the
// host's one result type).
using compile_result = tl::expected<std::vector<uint8_t>, compile_error>;

compile_result compile(std::string_view source, const compile_options& options = {});

} // namespace ruprobes::condition

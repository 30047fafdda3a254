// GDB agent expressions: a bounded, memory-safe interpreter for the bytecode gdb sends with
// breakpoint conditions (`Z0,addr,kind;X len,bytes`) and tracepoint actions (GDB manual,
// appendix "Agent Expressions", opcode values as in gdb's ax.def).
//
// Freestanding: no allocation, no global state, never panics. Every evaluation is bounded by an
// instruction budget and a stack depth; user memory is read through the environment's reader
// (the port's os_copy_from_user in the kernel), and a faulting read ends the evaluation with
// error::expr_fault.
#pragma once

#include "ruprobes/base.hpp"

namespace ruprobes::agent_expr {

// Opcodes (gdb's ax.def numbers; they are the wire format).
enum class op : uint8_t {
    float_ = 0x01,
    add = 0x02,
    sub = 0x03,
    mul = 0x04,
    div_signed = 0x05,
    div_unsigned = 0x06,
    rem_signed = 0x07,
    rem_unsigned = 0x08,
    lsh = 0x09,
    rsh_signed = 0x0a,
    rsh_unsigned = 0x0b,
    trace = 0x0c,
    trace_quick = 0x0d,
    log_not = 0x0e,
    bit_and = 0x0f,
    bit_or = 0x10,
    bit_xor = 0x11,
    bit_not = 0x12,
    equal = 0x13,
    less_signed = 0x14,
    less_unsigned = 0x15,
    ext = 0x16,
    ref8 = 0x17,
    ref16 = 0x18,
    ref32 = 0x19,
    ref64 = 0x1a,
    ref_float = 0x1b,
    ref_double = 0x1c,
    ref_long_double = 0x1d,
    l_to_d = 0x1e,
    d_to_l = 0x1f,
    if_goto = 0x20,
    goto_ = 0x21,
    const8 = 0x22,
    const16 = 0x23,
    const32 = 0x24,
    const64 = 0x25,
    reg = 0x26,
    end = 0x27,
    dup = 0x28,
    pop = 0x29,
    zero_ext = 0x2a,
    swap = 0x2b,
    getv = 0x2c,
    setv = 0x2d,
    tracev = 0x2e,
    tracenz = 0x2f,
    trace16 = 0x30,
    pick = 0x32,
    rot = 0x33,
    printf = 0x34,
};

// Pseudo-registers for `reg` beyond gdb's x0..x31 (0..31) and pc (32).
inline constexpr uint16_t reg_pid = 0x1000;
inline constexpr uint16_t reg_tid = 0x1001;

// Bounds of one evaluation.
inline constexpr size_t max_stack = 64;        // values on the stack (gdbserver: 100)
inline constexpr uint32_t max_steps = 4096;    // opcodes executed
inline constexpr size_t max_expr_bytes = 1024; // bytes of one expression
inline constexpr size_t max_collect = 4096;    // bytes one trace/tracenz opcode may collect

// What an expression can see and do. Only `x`/`pc` and `read_memory` are needed for conditions;
// the rest serves tracepoint actions and may stay null.
struct environment {
    const uint64_t* x = nullptr; // x0..x31 (gdb register numbers 0..31)
    uint64_t pc = 0;             // gdb register 32
    // The hit's process and thread ids, read as the pseudo-registers reg_pid and reg_tid (beyond
    // gdb's numbering: conditions compiled by the daemon for JSON-RPC probes use them). Without
    // `has_thread_ids` those registers fail with error::expr_register.
    uint64_t pid = 0;
    uint64_t tid = 0;
    bool has_thread_ids = false;
    // Reads `len` bytes of user memory at `addr` into `dst`: 0, or non-zero when any byte is
    // unreadable (the evaluation then fails with error::expr_fault).
    int (*read_memory)(void* user, uint64_t addr, void* dst, size_t len) = nullptr;
    // Trace state variables ($name in gdb, numbered from 1): getv/setv/tracev on a number
    // >= variable_count (or without variables) fail with error::expr_variable.
    uint64_t* variables = nullptr;
    uint32_t variable_count = 0;
    // Collection for trace, trace_quick, trace16, tracenz (memory) and tracev (variables). Null:
    // the memory is still read (a fault is still an error) and nothing is recorded. Non-zero
    // return: the collection failed (e.g. the trace buffer is full) and evaluation stops with
    // error::no_space.
    int (*collect_memory)(void* user, uint64_t addr, const uint8_t* bytes, size_t len) = nullptr;
    int (*collect_variable)(void* user, uint32_t number, uint64_t value) = nullptr;
    void* user = nullptr;
};

// Where and why an evaluation stopped, for error reports.
struct diagnosis {
    uint32_t offset = 0;     // bytecode offset of the opcode that failed
    uint64_t fault_addr = 0; // expr_fault: the first address of the failed read
    uint32_t steps = 0;      // opcodes executed
};

// Checks `code` without running it: every opcode is known and has its operands, every goto
// lands on an opcode inside the expression, and the expression is at most max_expr_bytes.
// error::expr_invalid for malformed bytecode, error::expr_unsupported for floating point.
result<void> validate(std::span<const uint8_t> code);

// Runs `code` and returns the value on top of the stack at `end` (0 when the stack is empty).
// Errors: expr_invalid (malformed bytecode, running off the end), expr_unsupported (floating
// point), expr_stack (over/underflow), expr_divide_by_zero, expr_budget (more than max_steps
// opcodes), expr_register (a register gdb numbers beyond pc), expr_fault (unreadable memory),
// expr_variable, no_space (a collector refused). `why` (may be null) says where it stopped.
result<uint64_t> evaluate(std::span<const uint8_t> code, const environment& env,
                          diagnosis* why = nullptr);

// A breakpoint's condition list as the wire carries it (protocol/README.md, probe_add): one or
// more expressions, each `u16 length` (little-endian) then its bytecode.
// Checks the list's framing and validate()s each expression.
result<void> validate_condition_list(std::span<const uint8_t> list);

// Whether the breakpoint should stop: true when any expression of the list is non-zero or fails
// to evaluate (gdb then hears of the hit and decides), false only when every one is 0. A list
// whose framing is broken holds (true). Opcodes are checked only where evaluation reaches them:
// validate_condition_list the list once, at registration (the C ABI's uprobes_condition_check).
bool condition_list_holds(std::span<const uint8_t> list, const environment& env);

} // namespace ruprobes::agent_expr

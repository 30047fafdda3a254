// The error numbers and the result type shared by the engine, the kernel <-> host wire protocol and
// the ports: the contract between the parts, so that none of them sits on another. Freestanding:
// no exceptions, no allocation, only headers that need no runtime support.
#pragma once

#include <cstdint>
#include <utility>

namespace ruprobes {

// Every way an engine call can fail. Stable numbers: they cross the C ABI and the wire protocol.
enum class error : int32_t {
    ok = 0,
    // Refusals at registration: the instruction at the site cannot be probed safely.
    insn_ecall = 1,         // ecall: the kernel must see the real trap
    insn_ebreak = 2,        // ebreak/c.ebreak already there: not ours to displace
    insn_csr = 3,           // CSR access (csrr*, including rdcycle/rdtime)
    insn_privileged = 4,    // sret/mret/wfi/sfence.vma and the like
    insn_fence_i = 5,       // fence.i: must run where the program put it
    insn_lr_sc = 6,         // lr/sc: a trap between them makes sc fail forever
    insn_illegal = 7,       // not a valid RV64GC encoding
    addr_misaligned = 8,    // not 2-byte aligned
    addr_not_boundary = 9,  // in the middle of an instruction
    addr_outside_text = 10, // not in the program's executable text
    // Registry and arming.
    no_space = 20,       // a fixed pool is full
    not_found = 21,      // no such probe / process / program
    already_exists = 22, // same consumer, same site
    text_changed = 23,   // disarm found other bytes than the breakpoint it wrote
    invalid_argument = 24,
    // Execution of a displaced instruction.
    fault_load = 30,   // simulated load faulted (address in the fault record)
    fault_store = 31,  // simulated store faulted
    fault_fetch = 32,  // could not read the original instruction
    not_ours = 40,     // an ebreak the engine did not place
    port_failure = 41, // a port hook failed
    // Agent expressions (conditions): refused at registration or failed at evaluation.
    expr_invalid = 50,        // malformed bytecode (unknown opcode, truncated, bad goto)
    expr_unsupported = 51,    // floating-point opcodes
    expr_stack = 52,          // stack overflow or underflow
    expr_divide_by_zero = 53, // div/rem by 0
    expr_budget = 54,         // more opcodes executed than an evaluation may run
    expr_register = 55,       // a register number beyond pc
    expr_fault = 56,          // user memory that cannot be read
    expr_variable = 57,       // an unknown trace state variable
};

// A short, stable, human-readable name for `e` ("insn_ecall", ...); "unknown" for a number that
// is not an `error`. Inline so that code using only this header (the wire codec) can name errors.
constexpr const char* error_name(error e) {
    switch (e) {
    case error::ok:
        return "ok";
    case error::insn_ecall:
        return "insn_ecall";
    case error::insn_ebreak:
        return "insn_ebreak";
    case error::insn_csr:
        return "insn_csr";
    case error::insn_privileged:
        return "insn_privileged";
    case error::insn_fence_i:
        return "insn_fence_i";
    case error::insn_lr_sc:
        return "insn_lr_sc";
    case error::insn_illegal:
        return "insn_illegal";
    case error::addr_misaligned:
        return "addr_misaligned";
    case error::addr_not_boundary:
        return "addr_not_boundary";
    case error::addr_outside_text:
        return "addr_outside_text";
    case error::no_space:
        return "no_space";
    case error::not_found:
        return "not_found";
    case error::already_exists:
        return "already_exists";
    case error::text_changed:
        return "text_changed";
    case error::invalid_argument:
        return "invalid_argument";
    case error::fault_load:
        return "fault_load";
    case error::fault_store:
        return "fault_store";
    case error::fault_fetch:
        return "fault_fetch";
    case error::not_ours:
        return "not_ours";
    case error::port_failure:
        return "port_failure";
    case error::expr_invalid:
        return "expr_invalid";
    case error::expr_unsupported:
        return "expr_unsupported";
    case error::expr_stack:
        return "expr_stack";
    case error::expr_divide_by_zero:
        return "expr_divide_by_zero";
    case error::expr_budget:
        return "expr_budget";
    case error::expr_register:
        return "expr_register";
    case error::expr_fault:
        return "expr_fault";
    case error::expr_variable:
        return "expr_variable";
    }
    return "unknown";
}

// Either a value or an error. Freestanding: no exceptions, no allocation.
template <typename T>
class [[nodiscard]] result {
public:
    result(T value) : value_(std::move(value)), error_(error::ok) {}
    result(error e) : value_(), error_(e) {}

    bool ok() const { return error_ == error::ok; }
    explicit operator bool() const { return ok(); }
    error err() const { return error_; }
    // The value; on an error a checked failure (a trap), never a default value.
    T& value() { return checked(); }
    const T& value() const { return const_cast<result*>(this)->checked(); }
    T& operator*() { return checked(); }
    const T& operator*() const { return const_cast<result*>(this)->checked(); }
    T* operator->() { return &checked(); }
    const T* operator->() const { return &const_cast<result*>(this)->checked(); }

private:
    T& checked() {
        if (error_ != error::ok)
            __builtin_trap(); // a broken invariant of the caller: the value of an error
        return value_;
    }

    T value_;
    error error_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() : error_(error::ok) {}
    result(error e) : error_(e) {}
    bool ok() const { return error_ == error::ok; }
    explicit operator bool() const { return ok(); }
    error err() const { return error_; }

private:
    error error_;
};

} // namespace ruprobes

// Propagates the error of an expression returning result<...>; evaluates to its value.
#define RUPROBES_TRY(expr)                                                                         \
    ({                                                                                             \
        auto _ruprobes_r = (expr);                                                                 \
        if (!_ruprobes_r.ok())                                                                     \
            return _ruprobes_r.err();                                                              \
        std::move(*_ruprobes_r);                                                                   \
    })

// For result<void>.
#define RUPROBES_TRY_VOID(expr)                                                                    \
    do {                                                                                           \
        auto _ruprobes_r = (expr);                                                                 \
        if (!_ruprobes_r.ok())                                                                     \
            return _ruprobes_r.err();                                                              \
    } while (0)

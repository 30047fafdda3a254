// GDB agent-expression interpreter (GDB manual, appendix "Agent Expressions", "Bytecode
// Descriptions"). Stack notation there: `a b => a+b` pops b (the top) and a, pushes the sum.
#include "ruprobes/agent_expr.hpp"

namespace ruprobes::agent_expr {
namespace {

// Operand bytes after the opcode byte: -1 for an unknown opcode, -2 for printf (variable).
constexpr int operand_bytes(uint8_t code) {
    switch (static_cast<op>(code)) {
    case op::float_:
    case op::add:
    case op::sub:
    case op::mul:
    case op::div_signed:
    case op::div_unsigned:
    case op::rem_signed:
    case op::rem_unsigned:
    case op::lsh:
    case op::rsh_signed:
    case op::rsh_unsigned:
    case op::trace:
    case op::log_not:
    case op::bit_and:
    case op::bit_or:
    case op::bit_xor:
    case op::bit_not:
    case op::equal:
    case op::less_signed:
    case op::less_unsigned:
    case op::ref8:
    case op::ref16:
    case op::ref32:
    case op::ref64:
    case op::ref_float:
    case op::ref_double:
    case op::ref_long_double:
    case op::l_to_d:
    case op::d_to_l:
    case op::end:
    case op::dup:
    case op::pop:
    case op::swap:
    case op::tracenz:
    case op::rot:
        return 0;
    case op::trace_quick:
    case op::ext:
    case op::const8:
    case op::zero_ext:
    case op::pick:
        return 1;
    case op::if_goto:
    case op::goto_:
    case op::const16:
    case op::reg:
    case op::getv:
    case op::setv:
    case op::tracev:
    case op::trace16:
        return 2;
    case op::const32:
        return 4;
    case op::const64:
        return 8;
    case op::printf:
        return -2;
    }
    return -1;
}

constexpr bool is_floating_point(uint8_t code) {
    switch (static_cast<op>(code)) {
    case op::float_:
    case op::ref_float:
    case op::ref_double:
    case op::ref_long_double:
    case op::l_to_d:
    case op::d_to_l:
        return true;
    default:
        return false;
    }
}

// Big-endian operand of `n` bytes at code[at] (the caller checked the bounds).
uint64_t operand(std::span<const uint8_t> code, size_t at, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | code[at + static_cast<size_t>(i)];
    return v;
}

// Length of the instruction at `pc` (opcode + operands), or 0 when it is unknown or truncated.
// printf: `u8 nargs, u16 len, format[len]` with a NUL-terminated format.
size_t insn_length(std::span<const uint8_t> code, size_t pc) {
    int n = operand_bytes(code[pc]);
    if (n == -1)
        return 0;
    if (n == -2) {
        if (pc + 4 > code.size())
            return 0;
        size_t len = static_cast<size_t>(operand(code, pc + 2, 2));
        if (len == 0 || pc + 4 + len > code.size() || code[pc + 4 + len - 1] != 0)
            return 0;
        return 4 + len;
    }
    if (pc + 1 + static_cast<size_t>(n) > code.size())
        return 0;
    return 1 + static_cast<size_t>(n);
}

// Sign-extends the low `bits` bits of v (1..64; 0 or more than 64 leave v as is).
uint64_t sign_extend(uint64_t v, uint64_t bits) {
    if (bits == 0 || bits >= 64)
        return v;
    uint64_t shift = 64 - bits;
    return static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
}

uint64_t zero_extend(uint64_t v, uint64_t bits) {
    if (bits == 0 || bits >= 64)
        return v;
    return v & ((uint64_t{1} << bits) - 1);
}

class machine {
public:
    machine(std::span<const uint8_t> code, const environment& env, diagnosis* why)
        : code_(code), env_(env), why_(why) {}

    result<uint64_t> run();

private:
    error fail(error e) {
        if (why_ != nullptr) {
            why_->offset = static_cast<uint32_t>(pc_);
            why_->steps = steps_;
        }
        return e;
    }
    result<void> push(uint64_t v) {
        if (depth_ == max_stack)
            return error::expr_stack;
        stack_[depth_++] = v;
        return {};
    }
    result<uint64_t> pop() {
        if (depth_ == 0)
            return error::expr_stack;
        return stack_[--depth_];
    }
    result<void> read(uint64_t addr, void* dst, size_t len) {
        if (env_.read_memory == nullptr || env_.read_memory(env_.user, addr, dst, len) != 0) {
            if (why_ != nullptr)
                why_->fault_addr = addr;
            return error::expr_fault;
        }
        return {};
    }
    result<uint64_t> load(uint64_t addr, size_t len) {
        uint8_t bytes[8] = {};
        RUPROBES_TRY_VOID(read(addr, bytes, len));
        uint64_t v = 0;
        for (size_t i = len; i-- > 0;) // RISC-V is little-endian
            v = (v << 8) | bytes[i];
        return v;
    }
    result<uint64_t*> variable(uint64_t number) {
        if (env_.variables == nullptr || number >= env_.variable_count)
            return error::expr_variable;
        return &env_.variables[number];
    }
    // Reads `len` bytes at `addr` in chunks and hands them to the collector; with `stop_at_nul`
    // (tracenz) stops after the first NUL.
    result<void> collect(uint64_t addr, uint64_t len, bool stop_at_nul);
    result<void> step(uint8_t code, uint64_t arg);

    std::span<const uint8_t> code_;
    const environment& env_;
    diagnosis* why_;
    size_t pc_ = 0;
    size_t next_ = 0; // where the opcode at pc_ continues
    uint32_t steps_ = 0;
    size_t depth_ = 0;
    bool done_ = false;
    uint64_t stack_[max_stack];
};

result<void> machine::collect(uint64_t addr, uint64_t len, bool stop_at_nul) {
    if (len > max_collect)
        return error::expr_invalid;
    uint8_t chunk[64];
    uint64_t done = 0;
    while (done < len) {
        size_t n = static_cast<size_t>(len - done < sizeof chunk ? len - done : sizeof chunk);
        RUPROBES_TRY_VOID(read(addr + done, chunk, n));
        bool nul_seen = false;
        if (stop_at_nul) {
            for (size_t i = 0; i < n; i++) {
                if (chunk[i] == 0) {
                    n = i + 1;
                    nul_seen = true;
                    break;
                }
            }
        }
        if (env_.collect_memory != nullptr &&
            env_.collect_memory(env_.user, addr + done, chunk, n) != 0)
            return error::no_space;
        done += n;
        if (nul_seen)
            break;
    }
    return {};
}

result<void> machine::step(uint8_t code, uint64_t arg) {
    switch (static_cast<op>(code)) {
    case op::add:
    case op::sub:
    case op::mul:
    case op::div_signed:
    case op::div_unsigned:
    case op::rem_signed:
    case op::rem_unsigned:
    case op::lsh:
    case op::rsh_signed:
    case op::rsh_unsigned:
    case op::bit_and:
    case op::bit_or:
    case op::bit_xor:
    case op::equal:
    case op::less_signed:
    case op::less_unsigned: {
        uint64_t b = RUPROBES_TRY(pop());
        uint64_t a = RUPROBES_TRY(pop());
        auto sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
        uint64_t r = 0;
        switch (static_cast<op>(code)) {
        case op::add:
            r = a + b;
            break;
        case op::sub:
            r = a - b;
            break;
        case op::mul:
            r = a * b;
            break;
        case op::div_signed:
        case op::rem_signed:
            if (b == 0)
                return error::expr_divide_by_zero;
            if (sb == -1) // INT64_MIN / -1 wraps, as the hardware's div does
                r = static_cast<op>(code) == op::div_signed ? 0 - a : 0;
            else
                r = static_cast<uint64_t>(static_cast<op>(code) == op::div_signed ? sa / sb
                                                                                  : sa % sb);
            break;
        case op::div_unsigned:
        case op::rem_unsigned:
            if (b == 0)
                return error::expr_divide_by_zero;
            r = static_cast<op>(code) == op::div_unsigned ? a / b : a % b;
            break;
        case op::lsh:
            r = b >= 64 ? 0 : a << b;
            break;
        case op::rsh_signed:
            r = static_cast<uint64_t>(sa >> (b >= 64 ? 63 : b));
            break;
        case op::rsh_unsigned:
            r = b >= 64 ? 0 : a >> b;
            break;
        case op::bit_and:
            r = a & b;
            break;
        case op::bit_or:
            r = a | b;
            break;
        case op::bit_xor:
            r = a ^ b;
            break;
        case op::equal:
            r = a == b;
            break;
        case op::less_signed:
            r = sa < sb;
            break;
        default: // less_unsigned
            r = a < b;
            break;
        }
        return push(r);
    }
    case op::log_not:
        return push(RUPROBES_TRY(pop()) == 0);
    case op::bit_not:
        return push(~RUPROBES_TRY(pop()));
    case op::ext:
        return push(sign_extend(RUPROBES_TRY(pop()), arg));
    case op::zero_ext:
        return push(zero_extend(RUPROBES_TRY(pop()), arg));
    case op::ref8:
        return push(RUPROBES_TRY(load(RUPROBES_TRY(pop()), 1)));
    case op::ref16:
        return push(RUPROBES_TRY(load(RUPROBES_TRY(pop()), 2)));
    case op::ref32:
        return push(RUPROBES_TRY(load(RUPROBES_TRY(pop()), 4)));
    case op::ref64:
        return push(RUPROBES_TRY(load(RUPROBES_TRY(pop()), 8)));
    case op::if_goto:
    case op::goto_:
        if (arg >= code_.size())
            return error::expr_invalid; // a jump out of the expression
        if (static_cast<op>(code) == op::goto_ || RUPROBES_TRY(pop()) != 0)
            next_ = static_cast<size_t>(arg);
        break;
    case op::const8:
    case op::const16:
    case op::const32:
    case op::const64:
        return push(arg);
    case op::reg:
        if (arg < 32)
            return push(env_.x != nullptr ? env_.x[arg] : 0);
        if (arg == 32)
            return push(env_.pc);
        if (env_.has_thread_ids && arg == reg_pid)
            return push(env_.pid);
        if (env_.has_thread_ids && arg == reg_tid)
            return push(env_.tid);
        return error::expr_register;
    case op::end:
        done_ = true;
        break;
    case op::dup: {
        uint64_t a = RUPROBES_TRY(pop());
        RUPROBES_TRY_VOID(push(a));
        return push(a);
    }
    case op::pop:
        RUPROBES_TRY(pop());
        break;
    case op::swap: {
        uint64_t b = RUPROBES_TRY(pop());
        uint64_t a = RUPROBES_TRY(pop());
        RUPROBES_TRY_VOID(push(b));
        return push(a);
    }
    case op::pick: // a ... b => a ... b a, with n items between (pick 0 = dup)
        if (arg >= depth_)
            return error::expr_stack;
        return push(stack_[depth_ - 1 - arg]);
    case op::rot: { // a b c => c a b
        uint64_t c = RUPROBES_TRY(pop());
        uint64_t b = RUPROBES_TRY(pop());
        uint64_t a = RUPROBES_TRY(pop());
        RUPROBES_TRY_VOID(push(c));
        RUPROBES_TRY_VOID(push(a));
        return push(b);
    }
    case op::getv:
        return push(*RUPROBES_TRY(variable(arg)));
    case op::setv: { // v => v
        if (depth_ == 0)
            return error::expr_stack;
        *RUPROBES_TRY(variable(arg)) = stack_[depth_ - 1];
        break;
    }
    case op::tracev: {
        uint64_t v = *RUPROBES_TRY(variable(arg));
        if (env_.collect_variable != nullptr &&
            env_.collect_variable(env_.user, static_cast<uint32_t>(arg), v) != 0)
            return error::no_space;
        break;
    }
    case op::trace: // addr size =>
    case op::tracenz: {
        uint64_t size = RUPROBES_TRY(pop());
        uint64_t addr = RUPROBES_TRY(pop());
        RUPROBES_TRY_VOID(collect(addr, size, static_cast<op>(code) == op::tracenz));
        break;
    }
    case op::trace_quick: // addr => addr
    case op::trace16:
        if (depth_ == 0)
            return error::expr_stack;
        RUPROBES_TRY_VOID(collect(stack_[depth_ - 1], arg, false));
        break;
    case op::printf: { // args... chan fn => (a dprintf with style "agent": no console here)
        uint64_t nargs = operand(code_, pc_ + 1, 1);
        if (depth_ < nargs + 2)
            return error::expr_stack;
        depth_ -= static_cast<size_t>(nargs + 2);
        break;
    }
    default:
        return is_floating_point(code) ? error::expr_unsupported : error::expr_invalid;
    }
    return {};
}

result<uint64_t> machine::run() {
    if (code_.size() > max_expr_bytes)
        return fail(error::expr_invalid);
    while (!done_) {
        if (pc_ >= code_.size())
            return fail(error::expr_invalid); // ran off the end without `end`
        if (steps_ == max_steps)
            return fail(error::expr_budget);
        steps_++;
        uint8_t code = code_[pc_];
        size_t len = insn_length(code_, pc_);
        if (len == 0)
            return fail(error::expr_invalid);
        int n = operand_bytes(code);
        uint64_t arg = n > 0 ? operand(code_, pc_ + 1, n) : 0;
        next_ = pc_ + len;
        auto r = step(code, arg);
        if (!r.ok())
            return fail(r.err());
        if (!done_)
            pc_ = next_;
    }
    if (why_ != nullptr) {
        why_->offset = static_cast<uint32_t>(pc_);
        why_->steps = steps_;
    }
    return depth_ == 0 ? 0 : stack_[depth_ - 1];
}

} // namespace

result<void> validate(std::span<const uint8_t> code) {
    if (code.empty() || code.size() > max_expr_bytes)
        return error::expr_invalid;
    // Opcode starts, to check goto targets: one bit per byte of the expression.
    uint8_t starts[max_expr_bytes / 8] = {};
    for (size_t pc = 0; pc < code.size();) {
        size_t len = insn_length(code, pc);
        if (len == 0)
            return error::expr_invalid;
        if (is_floating_point(code[pc]))
            return error::expr_unsupported;
        starts[pc / 8] = static_cast<uint8_t>(starts[pc / 8] | (1u << (pc % 8)));
        pc += len;
    }
    for (size_t pc = 0; pc < code.size(); pc += insn_length(code, pc)) {
        auto o = static_cast<op>(code[pc]);
        if (o != op::if_goto && o != op::goto_)
            continue;
        auto target = static_cast<size_t>(operand(code, pc + 1, 2));
        if (target >= code.size() || (starts[target / 8] & (1u << (target % 8))) == 0)
            return error::expr_invalid;
    }
    return {};
}

result<uint64_t> evaluate(std::span<const uint8_t> code, const environment& env, diagnosis* why) {
    machine m(code, env, why);
    return m.run();
}

namespace {

// Calls f(expression) for each expression of a condition list; false on bad framing.
template <typename F>
bool for_each_condition(std::span<const uint8_t> list, F&& f) {
    size_t at = 0;
    while (at < list.size()) {
        if (list.size() - at < 2)
            return false;
        size_t len = list[at] | (static_cast<size_t>(list[at + 1]) << 8);
        at += 2;
        if (len > list.size() - at)
            return false;
        if (!f(list.subspan(at, len)))
            return true; // the callee has its answer
        at += len;
    }
    return true;
}

} // namespace

result<void> validate_condition_list(std::span<const uint8_t> list) {
    if (list.empty())
        return error::expr_invalid;
    error first = error::ok;
    bool framed = for_each_condition(list, [&](std::span<const uint8_t> code) {
        first = validate(code).err();
        return first == error::ok;
    });
    if (!framed)
        return error::expr_invalid;
    return first;
}

bool condition_list_holds(std::span<const uint8_t> list, const environment& env) {
    bool holds = false;
    bool framed = for_each_condition(list, [&](std::span<const uint8_t> code) {
        auto r = evaluate(code, env);
        holds = !r.ok() || *r != 0;
        return !holds;
    });
    return holds || !framed || list.empty();
}

} // namespace ruprobes::agent_expr

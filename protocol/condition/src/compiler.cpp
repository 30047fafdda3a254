#include "ruprobes/condition/compiler.hpp"

#include "lexer.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <optional>

namespace ruprobes::condition {
namespace {

// GDB agent-expression opcodes (gdb's ax.def numbers) this compiler emits.
enum op : uint8_t {
    op_add = 0x02,
    op_sub = 0x03,
    op_mul = 0x04,
    op_div_signed = 0x05,
    op_div_unsigned = 0x06,
    op_rem_signed = 0x07,
    op_rem_unsigned = 0x08,
    op_lsh = 0x09,
    op_rsh_signed = 0x0a,
    op_rsh_unsigned = 0x0b,
    op_log_not = 0x0e,
    op_bit_and = 0x0f,
    op_bit_or = 0x10,
    op_bit_xor = 0x11,
    op_bit_not = 0x12,
    op_equal = 0x13,
    op_less_signed = 0x14,
    op_less_unsigned = 0x15,
    op_ext = 0x16,
    op_ref8 = 0x17,
    op_ref16 = 0x18,
    op_ref32 = 0x19,
    op_ref64 = 0x1a,
    op_if_goto = 0x20,
    op_goto = 0x21,
    op_const8 = 0x22,
    op_const16 = 0x23,
    op_const32 = 0x24,
    op_const64 = 0x25,
    op_reg = 0x26,
    op_end = 0x27,
    op_swap = 0x2b,
    op_zero_ext = 0x2a,
};

// ---- types ----------------------------------------------------------------------------------

// The static type of a value on the stack (always 64 bits wide there).
struct value_type {
    bool is_signed = true;
    unsigned pointee = 0; // a pointer to `pointee` bytes; 0: not a pointer
    bool pointee_signed = false;
};

struct scalar {
    unsigned bytes = 8;
    bool is_signed = true;
};

struct type_name {
    std::string_view name;
    scalar type;
};

constexpr std::array<type_name, 20> type_names = {{
    {"u8", {1, false}},       {"u16", {2, false}},      {"u32", {4, false}},
    {"u64", {8, false}},      {"s8", {1, true}},        {"s16", {2, true}},
    {"s32", {4, true}},       {"s64", {8, true}},       {"uint8_t", {1, false}},
    {"uint16_t", {2, false}}, {"uint32_t", {4, false}}, {"uint64_t", {8, false}},
    {"int8_t", {1, true}},    {"int16_t", {2, true}},   {"int32_t", {4, true}},
    {"int64_t", {8, true}},   {"char", {1, true}},      {"short", {2, true}},
    {"int", {4, true}},       {"long", {8, true}},
}};

std::optional<scalar> builtin_type(std::string_view name) {
    for (const type_name& t : type_names)
        if (t.name == name)
            return t.type;
    return std::nullopt;
}

// ---- registers ------------------------------------------------------------------------------

struct register_name {
    std::string_view name;
    uint16_t number;
};

constexpr std::array<register_name, 35> register_names = {{
    {"zero", 0}, {"ra", 1},  {"sp", 2},  {"gp", 3},  {"tp", 4},  {"t0", 5},  {"t1", 6},
    {"t2", 7},   {"s0", 8},  {"fp", 8},  {"s1", 9},  {"a0", 10}, {"a1", 11}, {"a2", 12},
    {"a3", 13},  {"a4", 14}, {"a5", 15}, {"a6", 16}, {"a7", 17}, {"s2", 18}, {"s3", 19},
    {"s4", 20},  {"s5", 21}, {"s6", 22}, {"s7", 23}, {"s8", 24}, {"s9", 25}, {"s10", 26},
    {"s11", 27}, {"t3", 28}, {"t4", 29}, {"t5", 30}, {"t6", 31}, {"pc", 32}, {"pid", reg_pid},
}};

// x0..x31 and arg0..arg7 by their number suffix.
std::optional<uint16_t> numbered_register(std::string_view name, std::string_view prefix,
                                          unsigned first, unsigned count) {
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    std::string_view digits = name.substr(prefix.size());
    if (digits.size() > 1 && digits[0] == '0')
        return std::nullopt;
    unsigned n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n >= count)
        return std::nullopt;
    return static_cast<uint16_t>(first + n);
}

// ---- the compiler ---------------------------------------------------------------------------

class compiler {
public:
    compiler(std::string_view source, const compile_options& options)
        : source_(source), options_(options) {}

    compile_result run() {
        if (source_.size() > max_source)
            return tl::unexpected(compile_error{
                1, "the condition is " + std::to_string(source_.size()) +
                       " characters long; at most " + std::to_string(max_source) + " are allowed"});
        advance();
        if (current_.kind == token_kind::end)
            fail(1, "the condition is empty");
        expression();
        if (current_.kind != token_kind::end)
            fail(current_.column,
                 "unexpected '" + std::string(current_.text) + "' after the end of the expression");
        emit(op_end);
        if (code_.size() > max_bytecode)
            fail(1, "the condition compiles to " + std::to_string(code_.size()) +
                        " bytes of bytecode; at most " + std::to_string(max_bytecode) + " fit");
        if (max_depth_ > max_stack)
            fail(1, "the condition needs " + std::to_string(max_depth_) +
                        " values on the evaluation stack; at most " + std::to_string(max_stack) +
                        " fit");
        if (error_)
            return tl::unexpected(std::move(*error_));
        return std::move(code_);
    }

private:
    // Records the first error and ends the input: every parsing function then returns at once
    // (at the end token), so the first error is the one reported.
    void fail(unsigned column, std::string reason) {
        if (!error_)
            error_ = compile_error{column, std::move(reason)};
        pos_ = source_.size();
        current_ = token{token_kind::end, "end of the condition", column};
    }

    // ---- lexing ----

    void advance() {
        if (error_)
            return;
        auto next = next_token(source_, pos_);
        if (!next)
            return fail(next.error().column, std::move(next.error().reason));
        current_ = *next;
    }

    bool at(std::string_view punct) const {
        return current_.kind == token_kind::punct && current_.text == punct;
    }

    void expect(std::string_view punct, const char* what) {
        if (!at(punct))
            fail(current_.column, std::string("expected '") + std::string(punct) + "' " + what +
                                      ", found '" + std::string(current_.text) + "'");
        advance();
    }

    // ---- emitting ----

    void emit(uint8_t byte) { code_.push_back(byte); }

    void emit16(uint16_t v) {
        emit(static_cast<uint8_t>(v >> 8));
        emit(static_cast<uint8_t>(v));
    }

    void push(int n = 1) {
        depth_ += static_cast<unsigned>(n);
        if (depth_ > max_depth_)
            max_depth_ = depth_;
    }

    void pop(unsigned n = 1) { depth_ -= n; }

    void emit_const(uint64_t v) {
        if (v <= 0xff) {
            emit(op_const8);
            emit(static_cast<uint8_t>(v));
        } else if (v <= 0xffff) {
            emit(op_const16);
            emit16(static_cast<uint16_t>(v));
        } else if (v <= 0xffffffff) {
            emit(op_const32);
            for (int shift = 24; shift >= 0; shift -= 8)
                emit(static_cast<uint8_t>(v >> shift));
        } else {
            emit(op_const64);
            for (int shift = 56; shift >= 0; shift -= 8)
                emit(static_cast<uint8_t>(v >> shift));
        }
        push();
    }

    void emit_reg(uint16_t number) {
        emit(op_reg);
        emit16(number);
        push();
    }

    // A binary operator: pops two values, pushes one.
    void emit_binary(uint8_t opcode) {
        emit(opcode);
        pop();
    }

    // A jump whose target is patched later; returns where its operand is.
    size_t emit_jump(uint8_t opcode) {
        emit(opcode);
        size_t at = code_.size();
        emit16(0);
        if (opcode == op_if_goto)
            pop();
        return at;
    }

    void land_jump(size_t operand_at) {
        size_t target = code_.size();
        code_[operand_at] = static_cast<uint8_t>(target >> 8);
        code_[operand_at + 1] = static_cast<uint8_t>(target);
    }

    // ---- parsing: C precedence, lowest first ----

    class nesting {
    public:
        nesting(compiler& c, unsigned column) : c_(c) {
            if (++c_.nesting_ > max_nesting)
                c_.fail(column, "the condition is nested too deeply (more than " +
                                    std::to_string(max_nesting) + " levels)");
        }
        ~nesting() { c_.nesting_--; }

    private:
        compiler& c_;
    };

    value_type expression() { return conditional(); }

    value_type conditional() {
        value_type c = logical_or();
        if (!at("?"))
            return c;
        nesting guard(*this, current_.column);
        advance();
        emit(op_log_not);
        size_t to_else = emit_jump(op_if_goto);
        unsigned base = depth_;
        value_type then_type = expression();
        expect(":", "in the conditional expression ?:");
        size_t to_end = emit_jump(op_goto);
        land_jump(to_else);
        depth_ = base;
        value_type else_type = conditional();
        land_jump(to_end);
        value_type t = then_type;
        t.is_signed = then_type.is_signed && else_type.is_signed;
        return t;
    }

    value_type logical_or() {
        value_type t = logical_and();
        while (at("||")) {
            advance();
            size_t to_true = emit_jump(op_if_goto);
            unsigned base = depth_;
            logical_and();
            emit(op_log_not);
            emit(op_log_not);
            size_t to_end = emit_jump(op_goto);
            land_jump(to_true);
            depth_ = base;
            emit_const(1);
            land_jump(to_end);
            t = value_type{};
        }
        return t;
    }

    value_type logical_and() {
        value_type t = bitwise(0);
        while (at("&&")) {
            advance();
            emit(op_log_not);
            size_t to_false = emit_jump(op_if_goto);
            unsigned base = depth_;
            bitwise(0);
            emit(op_log_not);
            emit(op_log_not);
            size_t to_end = emit_jump(op_goto);
            land_jump(to_false);
            depth_ = base;
            emit_const(0);
            land_jump(to_end);
            t = value_type{};
        }
        return t;
    }

    // | (level 0), ^ (1), & (2).
    value_type bitwise(int level) {
        static constexpr std::array<std::string_view, 3> symbols = {"|", "^", "&"};
        static constexpr std::array<uint8_t, 3> opcodes = {op_bit_or, op_bit_xor, op_bit_and};
        auto operand = [&] { return level == 2 ? equality() : bitwise(level + 1); };
        value_type t = operand();
        while (at(symbols[static_cast<size_t>(level)])) {
            advance();
            value_type r = operand();
            emit_binary(opcodes[static_cast<size_t>(level)]);
            t = arithmetic_result(t, r);
        }
        return t;
    }

    value_type equality() {
        value_type t = relational();
        while (at("==") || at("!=")) {
            bool negate = at("!=");
            advance();
            relational();
            emit_binary(op_equal);
            if (negate)
                emit(op_log_not);
            t = value_type{};
        }
        return t;
    }

    value_type relational() {
        value_type t = shift();
        while (at("<") || at("<=") || at(">") || at(">=")) {
            std::string_view o = current_.text;
            advance();
            value_type r = shift();
            uint8_t less = is_unsigned(t) || is_unsigned(r) ? op_less_unsigned : op_less_signed;
            // a < b: less. a > b: b < a. a <= b: !(b < a). a >= b: !(a < b).
            if (o == ">" || o == "<=")
                emit(op_swap);
            emit_binary(less);
            if (o == "<=" || o == ">=")
                emit(op_log_not);
            t = value_type{};
        }
        return t;
    }

    value_type shift() {
        value_type t = additive();
        while (at("<<") || at(">>")) {
            bool left = at("<<");
            advance();
            additive();
            emit_binary(left ? op_lsh : is_unsigned(t) ? op_rsh_unsigned : op_rsh_signed);
            t = value_type{t.is_signed && t.pointee == 0};
        }
        return t;
    }

    value_type additive() {
        value_type t = multiplicative();
        while (at("+") || at("-")) {
            bool plus = at("+");
            advance();
            value_type r = multiplicative();
            if (t.pointee != 0 && r.pointee != 0) {
                if (plus)
                    fail(current_.column, "two pointers cannot be added");
                emit_binary(op_sub); // elements between two pointers, as in C
                if (t.pointee > 1) {
                    emit_const(t.pointee);
                    emit_binary(op_div_signed);
                }
                t = value_type{};
                continue;
            }
            if (t.pointee != 0 || r.pointee != 0) {
                // Pointer arithmetic scales the integer by the pointee's size, as in C.
                value_type p = t.pointee != 0 ? t : r;
                if (r.pointee != 0) {
                    if (!plus)
                        fail(current_.column, "a pointer cannot be subtracted from an integer");
                    emit(op_swap);
                }
                if (p.pointee > 1) {
                    emit_const(p.pointee);
                    emit_binary(op_mul);
                }
                emit_binary(plus ? op_add : op_sub);
                t = p;
                continue;
            }
            emit_binary(plus ? op_add : op_sub);
            t = arithmetic_result(t, r);
        }
        return t;
    }

    value_type multiplicative() {
        value_type t = unary();
        while (at("*") || at("/") || at("%")) {
            std::string_view o = current_.text;
            advance();
            value_type r = unary();
            value_type result = arithmetic_result(t, r);
            bool u = !result.is_signed;
            if (o == "*")
                emit_binary(op_mul);
            else if (o == "/")
                emit_binary(u ? op_div_unsigned : op_div_signed);
            else
                emit_binary(u ? op_rem_unsigned : op_rem_signed);
            t = result;
        }
        return t;
    }

    value_type unary() {
        if (at("-") || at("+") || at("!") || at("~") || at("*") || (at("(") && type_follows())) {
            nesting guard(*this, current_.column);
            return prefixed();
        }
        return postfix();
    }

    // A unary operator, a dereference or a cast, and its operand.
    value_type prefixed() {
        if (at("-") || at("+") || at("!") || at("~")) {
            std::string_view o = current_.text;
            advance();
            size_t start = code_.size();
            value_type t = unary();
            if (o == "+")
                return t;
            if (o == "!") {
                emit(op_log_not);
                return value_type{};
            }
            if (o == "~") {
                emit(op_bit_not);
                return value_type{t.is_signed && t.pointee == 0};
            }
            // Negation: a literal folds into its constant; anything else is 0 - x.
            if (auto v = literal_at(start)) {
                code_.resize(start);
                pop();
                emit_const(0 - *v);
                return t;
            }
            emit_const(0);
            emit(op_swap);
            emit_binary(op_sub);
            return value_type{t.is_signed && t.pointee == 0};
        }
        if (at("*")) {
            unsigned column = current_.column;
            advance();
            value_type t = unary();
            if (t.pointee == 0) {
                fail(column, "only a pointer can be dereferenced: cast it first, as in "
                             "*(u32 *)(a1 + 8)");
                return value_type{};
            }
            static constexpr std::array<uint8_t, 9> loads = {0, op_ref8, op_ref16, 0, op_ref32, 0,
                                                             0, 0,       op_ref64};
            emit(loads[t.pointee]);
            if (t.pointee_signed && t.pointee < 8) {
                emit(op_ext);
                emit(static_cast<uint8_t>(t.pointee * 8));
            }
            return value_type{t.pointee_signed};
        }
        return cast();
    }

    // The value of the constant instruction that makes up all of code_[start..), if it is one.
    std::optional<uint64_t> literal_at(size_t start) const {
        size_t n = code_.size() - start;
        if (n < 2)
            return std::nullopt;
        uint8_t o = code_[start];
        size_t width = o == op_const8    ? 1
                       : o == op_const16 ? 2
                       : o == op_const32 ? 4
                       : o == op_const64 ? 8
                                         : 0;
        if (width == 0 || n != 1 + width)
            return std::nullopt;
        uint64_t v = 0;
        for (size_t i = 0; i < width; i++)
            v = (v << 8) | code_[start + 1 + i];
        return v;
    }

    // After `(`: does a type name follow (a cast)?
    bool type_follows() {
        size_t save = pos_;
        token saved = current_;
        advance();
        if (error_)
            return false;
        bool is_type = current_.kind == token_kind::name &&
                       (builtin_type(current_.text) || current_.text == "unsigned" ||
                        current_.text == "signed" || current_.text == "void");
        pos_ = save;
        current_ = saved;
        return is_type;
    }

    // `( type [*] ) unary`
    value_type cast() {
        advance(); // (
        unsigned column = current_.column;
        std::optional<scalar> s;
        if (current_.text == "void") {
            advance();
        } else if (current_.text == "unsigned" || current_.text == "signed") {
            bool is_signed = current_.text == "signed";
            advance();
            s = scalar{4, is_signed}; // `unsigned` alone is `unsigned int`
            if (current_.kind == token_kind::name &&
                (current_.text == "char" || current_.text == "short" || current_.text == "int" ||
                 current_.text == "long")) {
                s->bytes = builtin_type(current_.text)->bytes;
                advance();
            }
        } else {
            s = builtin_type(current_.text);
            advance();
        }
        if (s && s->bytes == 8 && current_.kind == token_kind::name && current_.text == "long")
            advance(); // long long
        bool pointer = at("*");
        if (pointer)
            advance();
        if (at("*"))
            fail(current_.column, "pointers to pointers are not supported: dereference one level "
                                  "at a time, as in *(u64 *)*(u64 *)a0");
        expect(")", "to close the cast");
        if (!s && !pointer)
            fail(column, "a value cannot be cast to void");
        unary();
        if (pointer) // void *: an address that cannot be dereferenced
            return s ? value_type{false, s->bytes, s->is_signed} : value_type{false};
        if (!s)
            return value_type{};
        if (s->bytes < 8) {
            emit(s->is_signed ? op_ext : op_zero_ext);
            emit(static_cast<uint8_t>(s->bytes * 8));
        }
        return value_type{s->is_signed};
    }

    value_type postfix() {
        value_type t = primary();
        if (at("["))
            fail(current_.column, "indexing is not supported: write *(TYPE *)(ADDRESS + OFFSET)");
        return t;
    }

    value_type primary() {
        token t = current_;
        switch (t.kind) {
        case token_kind::number:
            advance();
            emit_const(t.value);
            return value_type{!t.is_unsigned};
        case token_kind::name: {
            advance();
            if (at("("))
                fail(t.column, "function calls are not supported ('" + std::string(t.text) + "')");
            emit_reg(register_number(t));
            return value_type{};
        }
        case token_kind::punct:
            if (t.text == "(") {
                nesting guard(*this, t.column);
                advance();
                value_type v = expression();
                expect(")", "to close the parenthesis");
                return v;
            }
            fail(t.column, "expected a value, found '" + std::string(t.text) + "'");
            return value_type{};
        case token_kind::end:
            break;
        }
        fail(t.column, "the condition ends where a value is expected");
        return value_type{};
    }

    uint16_t register_number(const token& t) {
        std::string_view name = t.text;
        if (name == "ret" || name == "retval") {
            if (!options_.return_probe)
                fail(t.column, "'" + std::string(name) +
                                   "' is only available on return probes (kind \"return\")");
            return 10; // a0 at the return
        }
        if (name == "tid")
            return reg_tid;
        for (const register_name& r : register_names)
            if (r.name == name)
                return r.number;
        if (auto n = numbered_register(name, "x", 0, 32))
            return *n;
        if (auto n = numbered_register(name, "arg", 10, 8))
            return *n;
        if (builtin_type(name) || name == "unsigned" || name == "signed" || name == "void")
            fail(t.column, "a type name ('" + std::string(name) + "') where a value is expected");
        else
            fail(t.column, "unknown name '" + std::string(name) +
                               "': use a register (x0-x31, a0-a7, arg0-arg7, sp, ra, pc, ...), "
                               "pid, tid, or ret on return probes");
        return 0;
    }

    static bool is_unsigned(const value_type& t) { return !t.is_signed || t.pointee != 0; }

    static value_type arithmetic_result(const value_type& a, const value_type& b) {
        return value_type{!is_unsigned(a) && !is_unsigned(b)};
    }

    std::string_view source_;
    compile_options options_;
    size_t pos_ = 0;
    token current_;
    std::vector<uint8_t> code_;
    unsigned depth_ = 0;
    unsigned max_depth_ = 0;
    unsigned nesting_ = 0;
    std::optional<compile_error> error_;
};

} // namespace

compile_result compile(std::string_view source, const compile_options& options) {
    return compiler(source, options).run();
}

} // namespace ruprobes::condition

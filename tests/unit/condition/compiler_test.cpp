// The probe-condition compiler, run through the engine's own agent-expression interpreter: what
// a condition means is what the kernel computes from its bytecode.
#include "ruprobes/agent_expr.hpp"
#include "ruprobes/condition/compiler.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using namespace ruprobes;
namespace cond = ruprobes::condition;

// A trapped thread: registers, 64 bytes of user memory at 0x1000, ids 42/43.
struct thread {
    uint64_t x[32] = {};
    uint8_t memory[64] = {};
    static constexpr uint64_t base = 0x1000;
    uint32_t reads = 0;

    agent_expr::environment env() {
        agent_expr::environment e;
        e.x = x;
        e.pc = 0x10184;
        e.pid = 42;
        e.tid = 43;
        e.has_thread_ids = true;
        e.read_memory = [](void* self, uint64_t addr, void* dst, size_t len) {
            auto* t = static_cast<thread*>(self);
            t->reads++;
            if (addr < base || addr - base > sizeof t->memory ||
                len > sizeof t->memory - (addr - base))
                return 1;
            std::memcpy(dst, t->memory + (addr - base), len);
            return 0;
        };
        e.user = this;
        return e;
    }
};

std::vector<uint8_t> compiled(std::string_view source, bool return_probe = false) {
    auto r = cond::compile(source, cond::compile_options{return_probe});
    if (!r) {
        ADD_FAILURE() << source << ": column " << r.error().column << ": " << r.error().reason;
        return {};
    }
    auto code = *r;
    EXPECT_TRUE(agent_expr::validate(code).ok()) << source;
    return code;
}

// The value of `source` for thread `t` (and its evaluation error as a failure).
uint64_t eval(thread& t, std::string_view source, bool return_probe = false) {
    auto code = compiled(source, return_probe);
    auto r = agent_expr::evaluate(code, t.env());
    EXPECT_TRUE(r.ok()) << source << ": " << error_name(r.err());
    return r.ok() ? *r : 0xdeadbeef;
}

int64_t eval_signed(thread& t, std::string_view source) {
    return static_cast<int64_t>(eval(t, source));
}

cond::compile_error error_of(std::string_view source, bool return_probe = false) {
    auto r = cond::compile(source, cond::compile_options{return_probe});
    EXPECT_FALSE(r.has_value()) << source << " compiled";
    return r ? cond::compile_error{} : r.error();
}

TEST(ConditionCompiler, RegistersByEveryName) {
    thread t;
    for (int i = 0; i < 32; i++)
        t.x[i] = 100 + static_cast<uint64_t>(i);
    EXPECT_EQ(eval(t, "a0"), 110u);
    EXPECT_EQ(eval(t, "arg0"), 110u);
    EXPECT_EQ(eval(t, "a7"), 117u);
    EXPECT_EQ(eval(t, "arg7"), 117u);
    EXPECT_EQ(eval(t, "x31"), 131u);
    EXPECT_EQ(eval(t, "t6"), 131u);
    EXPECT_EQ(eval(t, "sp"), 102u);
    EXPECT_EQ(eval(t, "ra"), 101u);
    EXPECT_EQ(eval(t, "fp"), 108u);
    EXPECT_EQ(eval(t, "s0"), 108u);
    EXPECT_EQ(eval(t, "s11"), 127u);
    EXPECT_EQ(eval(t, "zero"),
              100u); // the interpreter reads the frame's slot; x0 is 0 in a real one
    EXPECT_EQ(eval(t, "pc"), 0x10184u);
    EXPECT_EQ(eval(t, "pid"), 42u);
    EXPECT_EQ(eval(t, "tid"), 43u);
    EXPECT_EQ(eval(t, "ret", true), 110u);
    EXPECT_EQ(eval(t, "retval", true), 110u);
}

TEST(ConditionCompiler, PrecedenceAndAssociativityAreCs) {
    thread t;
    EXPECT_EQ(eval(t, "1 + 2 * 3"), 7u);
    EXPECT_EQ(eval(t, "(1 + 2) * 3"), 9u);
    EXPECT_EQ(eval(t, "10 - 2 - 3"), 5u);
    EXPECT_EQ(eval(t, "100 / 10 / 5"), 2u);
    EXPECT_EQ(eval(t, "1 << 4 | 1"), 17u);
    EXPECT_EQ(eval(t, "6 & 3 ^ 1"), 3u); // & binds tighter than ^
    EXPECT_EQ(eval(t, "1 | 2 ^ 3"), 1u); // ^ binds tighter than |
    EXPECT_EQ(eval(t, "1 + 1 == 2 && 3 > 2"), 1u);
    EXPECT_EQ(eval(t, "0 || 0 && 1"), 0u);
    EXPECT_EQ(eval(t, "1 || 0 && 0"), 1u);
    EXPECT_EQ(eval(t, "7 % 4 == 3 ? 10 : 20"), 10u);
    EXPECT_EQ(eval(t, "0 ? 1 : 0 ? 2 : 3"), 3u);
    EXPECT_EQ(eval(t, "!0 + !5 + ~0 + 1"), 1u);
    EXPECT_EQ(eval(t, "- -4"), 4u);
    EXPECT_EQ(eval(t, "+4"), 4u);
}

TEST(ConditionCompiler, ComparisonsInBothDirections) {
    thread t;
    t.x[10] = 3;
    t.x[11] = 5;
    EXPECT_EQ(eval(t, "a0 < a1"), 1u);
    EXPECT_EQ(eval(t, "a0 > a1"), 0u);
    EXPECT_EQ(eval(t, "a1 > a0"), 1u);
    EXPECT_EQ(eval(t, "a0 <= 3"), 1u);
    EXPECT_EQ(eval(t, "a0 <= 2"), 0u);
    EXPECT_EQ(eval(t, "a0 >= 3"), 1u);
    EXPECT_EQ(eval(t, "a0 >= 4"), 0u);
    EXPECT_EQ(eval(t, "a0 == 3"), 1u);
    EXPECT_EQ(eval(t, "a0 != 3"), 0u);
}

TEST(ConditionCompiler, SignednessFollowsC) {
    thread t;
    t.x[10] = static_cast<uint64_t>(-1);
    EXPECT_EQ(eval(t, "a0 < 0"), 1u);        // registers are signed longs
    EXPECT_EQ(eval(t, "(u64)a0 < 0"), 0u);   // unsigned compare
    EXPECT_EQ(eval(t, "a0 < 0u"), 0u);       // an unsigned operand makes it unsigned
    EXPECT_EQ(eval_signed(t, "-7 / 2"), -3); // signed division truncates toward zero
    EXPECT_EQ(eval_signed(t, "-7 % 2"), -1);
    EXPECT_EQ(eval(t, "(u32)a0"), 0xffffffffu); // truncation zero-extends
    EXPECT_EQ(eval_signed(t, "(s32)a0"), -1);   // and sign-extends for a signed type
    EXPECT_EQ(eval_signed(t, "(s8)0x80"), -128);
    EXPECT_EQ(eval(t, "(unsigned char)0x1ff"), 0xffu);
    EXPECT_EQ(eval(t, "(unsigned)a0"), 0xffffffffu);
    EXPECT_EQ(eval_signed(t, "a0 >> 1"), -1); // arithmetic shift of a signed value
    EXPECT_EQ(eval(t, "(u64)a0 >> 63"), 1u);  // logical shift of an unsigned one
    EXPECT_EQ(eval(t, "0xffffffffffffffff == a0"), 1u);
    EXPECT_EQ(eval(t, "-1 == a0"), 1u);
}

TEST(ConditionCompiler, LoadsReadTheTypesWidthAndExtendIt) {
    thread t;
    const uint8_t bytes[] = {0x81, 0x82, 0x83, 0x84, 0x44, 0x33, 0x22, 0x11, 0xfe, 0xff};
    std::memcpy(t.memory, bytes, sizeof bytes);
    t.x[11] = thread::base;
    EXPECT_EQ(eval(t, "*(u8 *)a1"), 0x81u);
    EXPECT_EQ(eval_signed(t, "*(s8 *)a1"), -127);
    EXPECT_EQ(eval(t, "*(u16 *)a1"), 0x8281u);
    EXPECT_EQ(eval(t, "*(u32 *)(a1 + 4)"), 0x11223344u);
    EXPECT_EQ(eval(t, "*(uint32_t *)(a1 + 4) == 0x11223344"), 1u);
    EXPECT_EQ(eval(t, "*(u64 *)a1"), 0x1122334484838281u);
    EXPECT_EQ(eval_signed(t, "*(short *)(a1 + 8)"), -2);
    EXPECT_EQ(eval(t, "*((u32 *)a1 + 1)"), 0x11223344u); // pointer arithmetic scales
    EXPECT_EQ(eval(t, "*(1 + (u16 *)a1)"), 0x8483u);
    EXPECT_EQ(eval(t, "((u32 *)a1 + 3) - (u32 *)a1"), 3u);
}

TEST(ConditionCompiler, LogicalOperatorsDoNotEvaluateWhatTheyNeedNot) {
    thread t;
    t.x[10] = 0; // a null pointer: reading it faults
    EXPECT_EQ(eval(t, "a0 != 0 && *(u8 *)a0 == 1"), 0u);
    EXPECT_EQ(eval(t, "a0 == 0 || *(u8 *)a0 == 1"), 1u);
    EXPECT_EQ(eval(t, "a0 ? *(u8 *)a0 : 7"), 7u);
    EXPECT_EQ(t.reads, 0u);
    // And a read that does happen and faults is an evaluation error (the kernel then records
    // the hit: a condition that cannot be evaluated holds).
    auto code = compiled("*(u8 *)a0 == 1");
    EXPECT_EQ(agent_expr::evaluate(code, t.env()).err(), error::expr_fault);
}

TEST(ConditionCompiler, ErrorsPointAtTheColumn) {
    struct expected_error {
        const char* source;
        unsigned column;
        const char* reason_contains;
    };
    const expected_error cases[] = {
        {"", 1, "empty"},
        {"   ", 1, "empty"},
        {"a0 == ", 7, "ends where a value is expected"},
        {"a0 == foo", 7, "unknown name 'foo'"},
        {"a0 == x32", 7, "unknown name 'x32'"},
        {"arg8 > 1", 1, "unknown name 'arg8'"},
        {"*a0 == 1", 1, "only a pointer can be dereferenced"},
        {"a0 # 1", 4, "unexpected character '#'"},
        {"a0 3", 4, "unexpected '3' after the end"},
        {"(a0 == 3", 9, "expected ')'"},
        {"0x", 1, "needs digits"},
        {"12ab", 3, "in a number"},
        {"99999999999999999999", 1, "does not fit in 64 bits"},
        {"a0 == 1 ? 2", 12, "expected ':'"},
        {"strlen(a0)", 1, "function calls are not supported"},
        {"a0[1]", 3, "indexing is not supported"},
        {"*(u32 **)a0", 8, "pointers to pointers"},
        {"(void)a0", 2, "cannot be cast to void"},
        {"*(void *)a0", 1, "only a pointer can be dereferenced"},
        {"u32 + 1", 1, "a type name"},
        {"a0 == \x01", 7, "unexpected byte 0x01"},
    };
    for (const expected_error& c : cases) {
        cond::compile_error e = error_of(c.source);
        EXPECT_EQ(e.column, c.column) << c.source << ": " << e.reason;
        EXPECT_NE(e.reason.find(c.reason_contains), std::string::npos)
            << c.source << ": " << e.reason;
    }
    cond::compile_error ret = error_of("ret == 1");
    EXPECT_EQ(ret.column, 1u);
    EXPECT_NE(ret.reason.find("only available on return probes"), std::string::npos);
}

TEST(ConditionCompiler, BoundsAreCheckedBeforeTheKernelSeesIt) {
    // Nesting: 40 parentheses are refused, 20 compile.
    EXPECT_NE(error_of(std::string(40, '(') + "1" + std::string(40, ')')).reason.find("nested"),
              std::string::npos);
    thread t;
    EXPECT_EQ(eval(t, std::string(20, '(') + "1" + std::string(20, ')')), 1u);
    EXPECT_NE(error_of(std::string(40, '-') + "1").reason.find("nested"), std::string::npos);
    // Size: 300 terms are 1,200 bytes of bytecode, more than a probe's condition may hold.
    std::string sum = "a0";
    for (int i = 0; i < 299; i++)
        sum += "+a0";
    cond::compile_error big = error_of(sum);
    EXPECT_NE(big.reason.find("bytes of bytecode"), std::string::npos) << big.reason;
    // Source length.
    EXPECT_NE(error_of(std::string(2000, ' ') + "1").reason.find("characters long"),
              std::string::npos);
}

TEST(ConditionCompiler, LiteralsAndNegativeConstantsAreCompact) {
    // `a0 == -1` needs no subtraction at run time: reg, const64, equal, end.
    auto code = compiled("a0 == -1");
    ASSERT_EQ(code.size(), 3u + 9u + 1u + 1u);
    EXPECT_EQ(code[3], 0x25); // const64
    auto small = compiled("a0 == 3");
    EXPECT_EQ(small.size(), 3u + 2u + 1u + 1u);
}

} // namespace

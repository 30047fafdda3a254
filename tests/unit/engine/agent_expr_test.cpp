// The agent-expression interpreter on hand-assembled bytecode: each opcode, the bounds and the
// failures. gdb_conditions_test.cpp runs the bytecode gdb really sends.
#include "ruprobes/agent_expr.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using namespace ruprobes;
using namespace ruprobes::agent_expr;

// A few bytes of user memory at 0x1000 and the registers of a trapped thread.
struct fake_thread {
    uint64_t x[32] = {};
    uint8_t memory[64] = {};
    uint64_t variables[4] = {};
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> collected;
    std::vector<std::pair<uint32_t, uint64_t>> collected_vars;
    static constexpr uint64_t base = 0x1000;

    environment env() {
        environment e;
        e.x = x;
        e.pc = 0x10184;
        e.read_memory = [](void* self, uint64_t addr, void* dst, size_t len) {
            auto* t = static_cast<fake_thread*>(self);
            if (addr < base || addr - base > sizeof t->memory ||
                len > sizeof t->memory - (addr - base))
                return 1;
            std::memcpy(dst, t->memory + (addr - base), len);
            return 0;
        };
        e.variables = variables;
        e.variable_count = 4;
        e.collect_memory = [](void* self, uint64_t addr, const uint8_t* bytes, size_t len) {
            static_cast<fake_thread*>(self)->collected.push_back(
                {addr, std::vector<uint8_t>(bytes, bytes + len)});
            return 0;
        };
        e.collect_variable = [](void* self, uint32_t number, uint64_t value) {
            static_cast<fake_thread*>(self)->collected_vars.push_back({number, value});
            return 0;
        };
        e.user = this;
        return e;
    }
};

constexpr uint8_t o(op x) {
    return static_cast<uint8_t>(x);
}

result<uint64_t> run(fake_thread& t, const std::vector<uint8_t>& code, diagnosis* why = nullptr) {
    return evaluate(code, t.env(), why);
}

uint64_t value(fake_thread& t, const std::vector<uint8_t>& code) {
    auto r = run(t, code);
    EXPECT_TRUE(r.ok()) << error_name(r.err());
    return r.ok() ? *r : 0xdeadbeef;
}

std::vector<uint8_t> binary(uint64_t a, uint64_t b, op operation) {
    return {o(op::const64),   uint8_t(a >> 56), uint8_t(a >> 48), uint8_t(a >> 40),
            uint8_t(a >> 32), uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8),
            uint8_t(a),       o(op::const64),   uint8_t(b >> 56), uint8_t(b >> 48),
            uint8_t(b >> 40), uint8_t(b >> 32), uint8_t(b >> 24), uint8_t(b >> 16),
            uint8_t(b >> 8),  uint8_t(b),       o(operation),     o(op::end)};
}

TEST(AgentExpr, Arithmetic) {
    fake_thread t;
    EXPECT_EQ(value(t, binary(7, 5, op::add)), 12u);
    EXPECT_EQ(value(t, binary(7, 5, op::sub)), 2u);
    EXPECT_EQ(value(t, binary(5, 7, op::sub)), uint64_t(-2));
    EXPECT_EQ(value(t, binary(7, 5, op::mul)), 35u);
    EXPECT_EQ(value(t, binary(uint64_t(-7), 2, op::div_signed)), uint64_t(-3));
    EXPECT_EQ(value(t, binary(uint64_t(-7), 2, op::div_unsigned)), uint64_t(-7) / 2);
    EXPECT_EQ(value(t, binary(uint64_t(-7), 2, op::rem_signed)), uint64_t(-1));
    EXPECT_EQ(value(t, binary(7, 4, op::rem_unsigned)), 3u);
    EXPECT_EQ(value(t, binary(1, 63, op::lsh)), uint64_t(1) << 63);
    EXPECT_EQ(value(t, binary(1, 64, op::lsh)), 0u);
    EXPECT_EQ(value(t, binary(uint64_t(-16), 2, op::rsh_signed)), uint64_t(-4));
    EXPECT_EQ(value(t, binary(uint64_t(-16), 200, op::rsh_signed)), uint64_t(-1));
    EXPECT_EQ(value(t, binary(uint64_t(-16), 60, op::rsh_unsigned)), 15u);
    EXPECT_EQ(value(t, binary(0xc, 0xa, op::bit_and)), 8u);
    EXPECT_EQ(value(t, binary(0xc, 0xa, op::bit_or)), 0xeu);
    EXPECT_EQ(value(t, binary(0xc, 0xa, op::bit_xor)), 6u);
    // INT64_MIN / -1 wraps like the hardware's div, it does not trap.
    EXPECT_EQ(value(t, binary(uint64_t(1) << 63, uint64_t(-1), op::div_signed)), uint64_t(1) << 63);
    EXPECT_EQ(value(t, binary(uint64_t(1) << 63, uint64_t(-1), op::rem_signed)), 0u);
}

TEST(AgentExpr, Comparisons) {
    fake_thread t;
    EXPECT_EQ(value(t, binary(3, 3, op::equal)), 1u);
    EXPECT_EQ(value(t, binary(3, 4, op::equal)), 0u);
    EXPECT_EQ(value(t, binary(uint64_t(-1), 1, op::less_signed)), 1u);
    EXPECT_EQ(value(t, binary(uint64_t(-1), 1, op::less_unsigned)), 0u);
    EXPECT_EQ(value(t, {o(op::const8), 0, o(op::log_not), o(op::end)}), 1u);
    EXPECT_EQ(value(t, {o(op::const8), 9, o(op::log_not), o(op::end)}), 0u);
    EXPECT_EQ(value(t, {o(op::const8), 0, o(op::bit_not), o(op::end)}), ~uint64_t(0));
}

TEST(AgentExpr, ConstantsAreBigEndianAndExtensions) {
    fake_thread t;
    EXPECT_EQ(value(t, {o(op::const16), 0x12, 0x34, o(op::end)}), 0x1234u);
    EXPECT_EQ(value(t, {o(op::const32), 0x12, 0x34, 0x56, 0x78, o(op::end)}), 0x12345678u);
    EXPECT_EQ(value(t, {o(op::const8), 0xff, o(op::ext), 8, o(op::end)}), ~uint64_t(0));
    EXPECT_EQ(value(t, {o(op::const8), 0x7f, o(op::ext), 8, o(op::end)}), 0x7fu);
    EXPECT_EQ(value(t, {o(op::const16), 0xff, 0xf0, o(op::zero_ext), 8, o(op::end)}), 0xf0u);
    EXPECT_EQ(value(t, {o(op::const8), 0xff, o(op::ext), 64, o(op::end)}), 0xffu);
}

TEST(AgentExpr, RegistersAndMemory) {
    fake_thread t;
    t.x[10] = 3;                // a0
    t.x[2] = fake_thread::base; // sp
    uint64_t word = 0x1122334455667788;
    std::memcpy(t.memory + 8, &word, 8);
    EXPECT_EQ(value(t, {o(op::reg), 0, 10, o(op::end)}), 3u);
    EXPECT_EQ(value(t, {o(op::reg), 0, 32, o(op::end)}), 0x10184u); // pc
    std::vector<uint8_t> sp8 = {o(op::reg), 0, 2, o(op::const8), 8, o(op::add)};
    auto ref = [&](op r) {
        auto c = sp8;
        c.push_back(o(r));
        c.push_back(o(op::end));
        return value(t, c);
    };
    EXPECT_EQ(ref(op::ref8), 0x88u);
    EXPECT_EQ(ref(op::ref16), 0x7788u);
    EXPECT_EQ(ref(op::ref32), 0x55667788u);
    EXPECT_EQ(ref(op::ref64), word);
    // A register gdb numbers after pc (an FP register) is not readable here.
    auto r = run(t, {o(op::reg), 0, 33, o(op::end)});
    EXPECT_EQ(r.err(), error::expr_register);
}

TEST(AgentExpr, FaultingReadIsAnErrorWithItsAddress) {
    fake_thread t;
    diagnosis why;
    auto r = run(t, {o(op::const8), 0, o(op::ref32), o(op::end)}, &why);
    EXPECT_EQ(r.err(), error::expr_fault);
    EXPECT_EQ(why.fault_addr, 0u);
    EXPECT_EQ(why.offset, 2u);
    // Straddling the end of readable memory faults too.
    r = run(t, {o(op::const16), 0x10, 0x3c, o(op::ref64), o(op::end)}, &why);
    EXPECT_EQ(r.err(), error::expr_fault);
    EXPECT_EQ(why.fault_addr, 0x103cu);
    environment no_memory;
    EXPECT_EQ(
        evaluate(std::vector<uint8_t>{o(op::const8), 0, o(op::ref8), o(op::end)}, no_memory).err(),
        error::expr_fault);
}

TEST(AgentExpr, GotoAndIfGoto) {
    fake_thread t;
    // if (a0) 7 else 9
    std::vector<uint8_t> code = {o(op::reg),     0, 10, // 0
                                 o(op::if_goto), 0, 11, // 3
                                 o(op::const8),  9,     // 6
                                 o(op::goto_),   0, 13, // 8
                                 o(op::const8),  7,     // 11
                                 o(op::end)};           // 13
    EXPECT_EQ(value(t, code), 9u);
    t.x[10] = 1;
    EXPECT_EQ(value(t, code), 7u);
    EXPECT_TRUE(validate(code).ok());
}

TEST(AgentExpr, StackOperations) {
    fake_thread t;
    EXPECT_EQ(value(t, {o(op::const8), 4, o(op::dup), o(op::mul), o(op::end)}), 16u);
    EXPECT_EQ(value(t, {o(op::const8), 1, o(op::const8), 2, o(op::pop), o(op::end)}), 1u);
    EXPECT_EQ(value(t, {o(op::const8), 1, o(op::const8), 2, o(op::swap), o(op::sub), o(op::end)}),
              1u);
    // pick 1: a b => a b a
    EXPECT_EQ(value(t, {o(op::const8), 5, o(op::const8), 2, o(op::pick), 1, o(op::end)}), 5u);
    // rot: a b c => c a b (top b)
    EXPECT_EQ(
        value(t, {o(op::const8), 1, o(op::const8), 2, o(op::const8), 3, o(op::rot), o(op::end)}),
        2u);
    EXPECT_EQ(value(t, {o(op::const8), 1, o(op::const8), 2, o(op::const8), 3, o(op::rot),
                        o(op::pop), o(op::pop), o(op::end)}),
              3u);
    EXPECT_EQ(value(t, {o(op::end)}), 0u); // an empty stack at end: 0 (a tracepoint action)
}

TEST(AgentExpr, TraceStateVariables) {
    fake_thread t;
    t.variables[1] = 41;
    // $v1 = $v1 + 1, then tracev 1
    EXPECT_EQ(value(t, {o(op::getv), 0, 1, o(op::const8), 1, o(op::add), o(op::setv), 0, 1,
                        o(op::tracev), 0, 1, o(op::end)}),
              42u);
    EXPECT_EQ(t.variables[1], 42u);
    ASSERT_EQ(t.collected_vars.size(), 1u);
    EXPECT_EQ(t.collected_vars[0], (std::pair<uint32_t, uint64_t>{1, 42}));
    EXPECT_EQ(run(t, {o(op::getv), 0, 4, o(op::end)}).err(), error::expr_variable);
}

TEST(AgentExpr, TraceOpcodesCollectMemory) {
    fake_thread t;
    std::memcpy(t.memory, "hi\0xyz", 6);
    // trace_quick 4 keeps the address; trace pops addr and size; tracenz stops after the NUL.
    std::vector<uint8_t> code = {o(op::const16),
                                 0x10,
                                 0x00,
                                 o(op::trace_quick),
                                 4,
                                 o(op::const8),
                                 6,
                                 o(op::trace),
                                 o(op::const16),
                                 0x10,
                                 0x00,
                                 o(op::const8),
                                 6,
                                 o(op::tracenz),
                                 o(op::const16),
                                 0x10,
                                 0x02,
                                 o(op::trace16),
                                 0,
                                 3,
                                 o(op::end)};
    EXPECT_EQ(value(t, code), 0x1002u);
    ASSERT_EQ(t.collected.size(), 4u);
    EXPECT_EQ(t.collected[0].second.size(), 4u);
    EXPECT_EQ(t.collected[1].second.size(), 6u);
    EXPECT_EQ(t.collected[2].second, (std::vector<uint8_t>{'h', 'i', 0}));
    EXPECT_EQ(t.collected[3].first, 0x1002u);
    EXPECT_EQ(t.collected[3].second.size(), 3u);
}

TEST(AgentExpr, PrintfPopsItsArguments) {
    fake_thread t;
    // 7 (kept), arg 1, chan, fn, printf nargs=1 "x\0"
    EXPECT_EQ(value(t, {o(op::const8), 7, o(op::const8), 1, o(op::const8), 0, o(op::const8), 0,
                        o(op::printf), 1, 0, 2, 'x', 0, o(op::end)}),
              7u);
    // Unterminated format: malformed.
    EXPECT_EQ(validate(std::vector<uint8_t>{o(op::printf), 0, 0, 1, 'x', o(op::end)}).err(),
              error::expr_invalid);
}

TEST(AgentExpr, Failures) {
    fake_thread t;
    EXPECT_EQ(run(t, binary(1, 0, op::div_signed)).err(), error::expr_divide_by_zero);
    EXPECT_EQ(run(t, binary(1, 0, op::rem_unsigned)).err(), error::expr_divide_by_zero);
    EXPECT_EQ(run(t, {o(op::add), o(op::end)}).err(), error::expr_stack);
    EXPECT_EQ(run(t, {o(op::const8), 1}).err(), error::expr_invalid);  // no end
    EXPECT_EQ(run(t, {o(op::const16), 1}).err(), error::expr_invalid); // truncated
    EXPECT_EQ(run(t, {0xff, o(op::end)}).err(), error::expr_invalid);
    EXPECT_EQ(run(t, {o(op::float_), o(op::end)}).err(), error::expr_unsupported);
    EXPECT_EQ(run(t, {o(op::pick), 0, o(op::end)}).err(), error::expr_stack);
    // Endless loop: the budget ends it.
    diagnosis why;
    EXPECT_EQ(run(t, {o(op::goto_), 0, 0}, &why).err(), error::expr_budget);
    EXPECT_EQ(why.steps, max_steps);
    // Stack overflow: dup forever.
    EXPECT_EQ(run(t, {o(op::const8), 1, o(op::dup), o(op::goto_), 0, 2}).err(), error::expr_stack);
    // A goto into the middle of an instruction: refused by validate.
    EXPECT_EQ(validate(std::vector<uint8_t>{o(op::goto_), 0, 1, o(op::end)}).err(),
              error::expr_invalid);
    EXPECT_EQ(validate(std::vector<uint8_t>{o(op::goto_), 0, 9, o(op::end)}).err(),
              error::expr_invalid);
    EXPECT_EQ(validate(std::vector<uint8_t>{o(op::ref_double), o(op::end)}).err(),
              error::expr_unsupported);
    EXPECT_EQ(validate(std::vector<uint8_t>{}).err(), error::expr_invalid);
    EXPECT_EQ(validate(std::vector<uint8_t>(max_expr_bytes + 1, o(op::dup))).err(),
              error::expr_invalid);
}

std::vector<uint8_t> list_of(std::initializer_list<std::vector<uint8_t>> exprs) {
    std::vector<uint8_t> l;
    for (const auto& e : exprs) {
        l.push_back(uint8_t(e.size()));
        l.push_back(uint8_t(e.size() >> 8));
        l.insert(l.end(), e.begin(), e.end());
    }
    return l;
}

TEST(AgentExpr, ConditionListHoldsWhenAnyIsTrueOrFails) {
    fake_thread t;
    auto is3 = std::vector<uint8_t>{o(op::reg), 0, 10, o(op::const8), 3, o(op::equal), o(op::end)};
    auto is5 = std::vector<uint8_t>{o(op::reg), 0, 10, o(op::const8), 5, o(op::equal), o(op::end)};
    auto faults = std::vector<uint8_t>{o(op::const8), 0, o(op::ref8), o(op::end)};
    auto list = list_of({is3, is5});
    EXPECT_TRUE(validate_condition_list(list).ok());
    t.x[10] = 4;
    EXPECT_FALSE(condition_list_holds(list, t.env()));
    t.x[10] = 5;
    EXPECT_TRUE(condition_list_holds(list, t.env()));
    t.x[10] = 3;
    EXPECT_TRUE(condition_list_holds(list, t.env()));
    t.x[10] = 4;
    EXPECT_TRUE(condition_list_holds(list_of({is3, faults}), t.env())); // an error stops
    // Bad framing.
    auto cut = list;
    cut.pop_back();
    EXPECT_EQ(validate_condition_list(cut).err(), error::expr_invalid);
    EXPECT_TRUE(condition_list_holds(cut, t.env()));
    EXPECT_EQ(validate_condition_list(std::vector<uint8_t>{3}).err(), error::expr_invalid);
    EXPECT_EQ(validate_condition_list(list_of({is3, {0xfe}})).err(), error::expr_invalid);
}

} // namespace

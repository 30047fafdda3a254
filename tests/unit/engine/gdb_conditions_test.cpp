// The agent expressions gdb-multiarch really sends: data/gdb_conditions.log holds, for each
// `break fib if EXPR` on /bin/fib, the Z0 packet gdb sent to ruprobesd (captured with
// `set debug remote 1`, see the file's header). Each bytecode is validated and evaluated for
// many values of n (in a0, as at fib's entry) and memory, and must agree with the same
// expression computed here in C++.
#include "ruprobes/agent_expr.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

using namespace ruprobes;
using namespace ruprobes::agent_expr;

struct capture {
    uint64_t addr = 0;                    // the breakpoint address (fib)
    std::vector<std::vector<uint8_t>> xs; // the X entries
};

std::vector<uint8_t> unhex(const std::string& s) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < s.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
    return out;
}

// expression -> its Z0 packet, from the log.
std::map<std::string, capture> load() {
    std::ifstream in(RUPROBES_GDB_CONDITIONS);
    std::map<std::string, capture> out;
    std::string line, expr;
    const std::regex expr_line("^expr: (.*)$");
    // gdb writes the X entries back to back: ;Xlen,bytesXlen,bytes
    const std::regex packet_line(
        "Sending packet: \\$Z0,([0-9a-f]+),[0-9a-f]+;((X[0-9a-f]+,[0-9a-f]+)+)#");
    const std::regex x_entry("X([0-9a-f]+),([0-9a-f]+)");
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, expr_line)) {
            expr = m[1];
        } else if (!expr.empty() && std::regex_search(line, m, packet_line)) {
            capture c;
            c.addr = std::stoull(m[1], nullptr, 16);
            std::string xs = m[2];
            for (std::sregex_iterator it(xs.begin(), xs.end(), x_entry), end; it != end; ++it) {
                auto bytes = unhex((*it)[2]);
                EXPECT_EQ(bytes.size(), std::stoul((*it)[1], nullptr, 16)) << line;
                c.xs.push_back(bytes);
            }
            out.emplace(expr, c);
            expr.clear();
        }
    }
    return out;
}

// A thread at fib's entry: n in a0, sp into an 8-byte-aligned stack window whose first word is
// `stack0`, pc at fib, the text bytes at pc.
struct thread_at_fib {
    uint64_t x[32] = {};
    uint64_t pc = 0;
    uint8_t stack[64] = {};
    uint8_t text[8] = {};
    static constexpr uint64_t sp = 0x3ff000;

    environment env() {
        environment e;
        e.x = x;
        e.pc = pc;
        e.read_memory = [](void* self, uint64_t addr, void* dst, size_t len) {
            auto* t = static_cast<thread_at_fib*>(self);
            if (addr >= sp && addr - sp + len <= sizeof t->stack) {
                std::memcpy(dst, t->stack + (addr - sp), len);
                return 0;
            }
            if (addr >= t->pc && addr - t->pc + len <= sizeof t->text) {
                std::memcpy(dst, t->text + (addr - t->pc), len);
                return 0;
            }
            return 1;
        };
        e.user = this;
        return e;
    }
};

using truth = std::function<bool(int64_t n, const thread_at_fib&)>;

// The expressions of the capture and what each means in C (fib's n is an unsigned long).
const std::vector<std::pair<std::string, truth>>& expressions() {
    using u64 = uint64_t;
    static const std::vector<std::pair<std::string, truth>> table = {
        {"n==3", [](int64_t n, auto&) { return u64(n) == 3; }},
        {"n!=3", [](int64_t n, auto&) { return u64(n) != 3; }},
        {"n>2 && n<5", [](int64_t n, auto&) { return u64(n) > 2 && u64(n) < 5; }},
        {"n==3 || n==4", [](int64_t n, auto&) { return u64(n) == 3 || u64(n) == 4; }},
        {"n%2==1", [](int64_t n, auto&) { return u64(n) % 2 == 1; }},
        {"n/3==2", [](int64_t n, auto&) { return u64(n) / 3 == 2; }},
        {"(long)n-10<0", [](int64_t n, auto&) { return n - 10 < 0; }},
        {"n<<2==12", [](int64_t n, auto&) { return (u64(n) << 2) == 12; }},
        {"(n&1)==0", [](int64_t n, auto&) { return (u64(n) & 1) == 0; }},
        {"(n|8)==9", [](int64_t n, auto&) { return (u64(n) | 8) == 9; }},
        {"(n^1)==2", [](int64_t n, auto&) { return (u64(n) ^ 1) == 2; }},
        {"~n==-4", [](int64_t n, auto&) { return ~u64(n) == u64(-4); }},
        {"!n", [](int64_t n, auto&) { return n == 0; }},
        {"-n==-3", [](int64_t n, auto&) { return u64(0) - u64(n) == u64(-3); }},
        {"n>=3", [](int64_t n, auto&) { return u64(n) >= 3; }},
        {"n<=3", [](int64_t n, auto&) { return u64(n) <= 3; }},
        {"(unsigned char)n==3", [](int64_t n, auto&) { return uint8_t(n) == 3; }},
        {"(short)n==3", [](int64_t n, auto&) { return int16_t(n) == 3; }},
        {"(int)n==3", [](int64_t n, auto&) { return int32_t(n) == 3; }},
        {"n*3==9", [](int64_t n, auto&) { return u64(n) * 3 == 9; }},
        {"$sp!=0", [](int64_t, auto& t) { return t.x[2] != 0; }},
        {"$pc==fib", [](int64_t, auto&) { return true; }},
        {"$ra!=0", [](int64_t, auto& t) { return t.x[1] != 0; }},
        {"*(unsigned long *)$sp==0",
         [](int64_t, auto& t) {
             uint64_t v;
             std::memcpy(&v, t.stack, 8);
             return v == 0;
         }},
        {"*(unsigned char *)$pc==0x13", [](int64_t, auto& t) { return t.text[0] == 0x13; }},
        {"*(unsigned short *)$pc!=0",
         [](int64_t, auto& t) { return t.text[0] != 0 || t.text[1] != 0; }},
        {"*(unsigned int *)$pc!=0",
         [](int64_t, auto& t) { return t.text[0] | t.text[1] | t.text[2] | t.text[3]; }},
        {"n>2 ? n==3 : n==0", [](int64_t n, auto&) { return u64(n) > 2 ? n == 3 : n == 0; }},
    };
    return table;
}

TEST(GdbConditions, EveryCapturedExpressionAgreesWithC) {
    auto captured = load();
    ASSERT_FALSE(captured.empty()) << "no capture in " << RUPROBES_GDB_CONDITIONS;
    for (const auto& [expr, meaning] : expressions()) {
        SCOPED_TRACE(expr);
        auto it = captured.find(expr);
        ASSERT_NE(it, captured.end()) << "not in the capture";
        ASSERT_EQ(it->second.xs.size(), 1u);
        const auto& code = it->second.xs[0];
        ASSERT_TRUE(validate(code).ok()) << error_name(validate(code).err());
        for (int64_t n : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 255, 259, 65539, -1, -3, -4}) {
            for (int variant = 0; variant < 2; variant++) {
                thread_at_fib t;
                t.x[10] = static_cast<uint64_t>(n);
                t.x[2] = thread_at_fib::sp;
                t.x[1] = variant == 0 ? 0x10200 : 0;
                t.pc = it->second.addr;
                uint64_t word = variant == 0 ? 0 : 0x1234;
                std::memcpy(t.stack, &word, 8);
                uint8_t text[8] = {0x13, 0x01, 0x01, 0xfe, 0, 0, 0, 0};
                if (variant == 1)
                    text[0] = 0x41;
                std::memcpy(t.text, text, 8);
                auto r = evaluate(code, t.env());
                ASSERT_TRUE(r.ok()) << "n=" << n << ": " << error_name(r.err());
                EXPECT_EQ(*r != 0, meaning(n, t)) << "n=" << n << " variant " << variant;
            }
        }
    }
}

// A read of unmapped memory (address 8) fails the evaluation: the breakpoint then stops.
TEST(GdbConditions, AFaultingConditionIsAnErrorAndHolds) {
    auto captured = load();
    auto it = captured.find("*(unsigned long *)8==1");
    ASSERT_NE(it, captured.end());
    thread_at_fib t;
    t.x[2] = thread_at_fib::sp;
    diagnosis why;
    auto r = evaluate(it->second.xs[0], t.env(), &why);
    EXPECT_EQ(r.err(), error::expr_fault);
    EXPECT_EQ(why.fault_addr, 8u);
    std::vector<uint8_t> list = {uint8_t(it->second.xs[0].size()), 0};
    list.insert(list.end(), it->second.xs[0].begin(), it->second.xs[0].end());
    EXPECT_TRUE(condition_list_holds(list, t.env()));
}

// ---- tracepoint actions: data/gdb_tracepoint_actions.log, gdb's `maint agent` listings ----------

// The listing of `command`, assembled back into bytecode (gdb prints opcode names and operands).
std::vector<uint8_t> assemble(const std::string& command) {
    static const std::map<std::string, std::pair<op, int>> ops = {
        {"add", {op::add, 0}},
        {"sub", {op::sub, 0}},
        {"mul", {op::mul, 0}},
        {"div_signed", {op::div_signed, 0}},
        {"div_unsigned", {op::div_unsigned, 0}},
        {"rem_signed", {op::rem_signed, 0}},
        {"rem_unsigned", {op::rem_unsigned, 0}},
        {"less_signed", {op::less_signed, 0}},
        {"less_unsigned", {op::less_unsigned, 0}},
        {"equal", {op::equal, 0}},
        {"trace", {op::trace, 0}},
        {"end", {op::end, 0}},
        {"pop", {op::pop, 0}},
        {"swap", {op::swap, 0}},
        {"ext", {op::ext, 1}},
        {"zero_ext", {op::zero_ext, 1}},
        {"const8", {op::const8, 1}},
        {"trace_quick", {op::trace_quick, 1}},
        {"reg", {op::reg, 2}},
        {"getv", {op::getv, 2}},
        {"setv", {op::setv, 2}},
        {"tracev", {op::tracev, 2}},
        {"if_goto", {op::if_goto, 2}},
        {"goto", {op::goto_, 2}},
    };
    std::ifstream in(RUPROBES_GDB_TRACEPOINT_ACTIONS);
    std::string line;
    bool inside = false;
    std::vector<uint8_t> code;
    const std::regex insn("^ *([0-9]+)  ([a-z_0-9]+)(?: ([0-9]+))?$");
    while (std::getline(in, line)) {
        if (line.rfind("command: ", 0) == 0) {
            if (inside)
                break;
            inside = line == "command: " + command;
            continue;
        }
        std::smatch m;
        if (!inside || !std::regex_match(line, m, insn))
            continue;
        EXPECT_EQ(std::stoul(m[1]), code.size()) << line;
        auto it = ops.find(m[2]);
        if (it == ops.end()) {
            ADD_FAILURE() << "opcode not in the test's table: " << line;
            return {};
        }
        code.push_back(static_cast<uint8_t>(it->second.first));
        uint64_t arg = m[3].matched ? std::stoull(m[3]) : 0;
        for (int i = it->second.second - 1; i >= 0; i--)
            code.push_back(static_cast<uint8_t>(arg >> (8 * i)));
    }
    EXPECT_FALSE(code.empty()) << "no listing for " << command;
    return code;
}

struct collector {
    std::vector<std::pair<uint64_t, size_t>> memory;
    std::vector<std::pair<uint32_t, uint64_t>> variables;
    uint64_t tsv[2] = {0, 41};

    void attach(environment& e) {
        e.variables = tsv;
        e.variable_count = 2;
        e.collect_memory = [](void*, uint64_t addr, const uint8_t*, size_t len) {
            last()->memory.push_back({addr, len});
            return 0;
        };
        e.collect_variable = [](void*, uint32_t number, uint64_t value) {
            last()->variables.push_back({number, value});
            return 0;
        };
        *slot() = this;
    }
    static collector** slot() {
        static collector* c = nullptr;
        return &c;
    }
    static collector* last() { return *slot(); }
};

TEST(GdbTracepointActions, CollectAndStateVariablesAsGdbCompiledThem) {
    thread_at_fib t;
    t.x[2] = thread_at_fib::sp;
    t.x[10] = 7;
    auto run = [&](const std::string& command, collector& c) {
        auto code = assemble("maint " + command);
        EXPECT_TRUE(validate(code).ok()) << command;
        environment e = t.env();
        c.attach(e);
        return evaluate(code, e);
    };
    {
        collector c; // collect *(unsigned long *)$sp: 8 bytes at sp
        ASSERT_TRUE(run("agent -at fib, *(unsigned long *)$sp", c).ok());
        ASSERT_EQ(c.memory.size(), 1u);
        EXPECT_EQ(c.memory[0], (std::pair<uint64_t, size_t>{thread_at_fib::sp, 8}));
    }
    {
        collector c; // collect *(char *)$sp@5
        ASSERT_TRUE(run("agent -at fib, *(char *)$sp@5", c).ok());
        ASSERT_EQ(c.memory.size(), 1u);
        EXPECT_EQ(c.memory[0].second, 5u);
    }
    {
        collector c; // collect $calls: tracev
        ASSERT_TRUE(run("agent -at fib, $calls", c).ok());
        ASSERT_EQ(c.variables.size(), 1u);
        EXPECT_EQ(c.variables[0], (std::pair<uint32_t, uint64_t>{1, 41}));
    }
    {
        collector c; // teval $calls = $calls + 1
        auto r = run("agent-eval -at fib, $calls = $calls + 1", c);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, 42u);
        EXPECT_EQ(c.tsv[1], 42u);
    }
    struct {
        const char* command;
        uint64_t n;
        uint64_t want;
    } evals[] = {
        {"agent-eval -at fib, (short)n < 0", 7, 0},
        {"agent-eval -at fib, (short)n < 0", 0x8000, 1},
        {"agent-eval -at fib, (long)n / 3 == -1", uint64_t(-3), 1},
        {"agent-eval -at fib, (long)n / 3 == -1", 3, 0},
        {"agent-eval -at fib, n % 7", 23, 2},
        {"agent-eval -at fib, n>2 && n<5", 4, 1},
        {"agent-eval -at fib, n>2 && n<5", 5, 0},
        {"agent-eval -at fib, n>2 && n<5", 2, 0},
        {"agent -at fib, (char)n", 300, 0}, // collects nothing from memory: the value is popped
    };
    for (const auto& c : evals) {
        collector col;
        t.x[10] = c.n;
        auto r = run(c.command, col);
        ASSERT_TRUE(r.ok()) << c.command;
        EXPECT_EQ(*r, c.want) << c.command << " n=" << c.n;
        EXPECT_TRUE(col.memory.empty());
    }
}

// Two breakpoints with conditions at one address: gdb sends both in one Z0.
TEST(GdbConditions, TwoConditionsAtOneAddressStopWhenEitherHolds) {
    auto captured = load();
    auto it = captured.find("two breakpoints: n==3, n==5");
    ASSERT_NE(it, captured.end());
    ASSERT_EQ(it->second.xs.size(), 2u);
    std::vector<uint8_t> list;
    for (const auto& x : it->second.xs) {
        list.push_back(uint8_t(x.size()));
        list.push_back(uint8_t(x.size() >> 8));
        list.insert(list.end(), x.begin(), x.end());
    }
    ASSERT_TRUE(validate_condition_list(list).ok());
    for (uint64_t n = 0; n < 8; n++) {
        thread_at_fib t;
        t.x[10] = n;
        EXPECT_EQ(condition_list_holds(list, t.env()), n == 3 || n == 5) << n;
    }
}

} // namespace

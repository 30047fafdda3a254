// Fuzz target: the probe-condition compiler (the text comes from JSON-RPC clients, so from
// outside). Nothing may crash (ASan/UBSan in the fuzz build), and whatever compiles must be
// bytecode the kernel accepts: it validates, fits the bounds, and evaluates without running off
// its end; an error names a column inside the text. A violation traps.
//
// Input layout: [0] bit 0 compiles for a return probe; [1..] the condition's text.
#include "ruprobes/agent_expr.hpp"
#include "ruprobes/condition/compiler.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int no_memory(void*, uint64_t, void*, size_t) {
    return 1;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    namespace cond = ruprobes::condition;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto r = cond::compile(text, cond::compile_options{(data[0] & 1) != 0});
    if (!r) {
        CHECK(!r.error().reason.empty());
        CHECK(r.error().column >= 1 && r.error().column <= text.size() + 1);
        return 0;
    }
    const auto& code = *r;
    CHECK(code.size() <= cond::max_bytecode);
    CHECK(ruprobes::agent_expr::validate(code).ok());
    uint64_t x[32] = {};
    for (int i = 0; i < 32; i++)
        x[i] = 0x1000u * static_cast<uint64_t>(i);
    ruprobes::agent_expr::environment env;
    env.x = x;
    env.pc = 0x10000;
    env.pid = 7;
    env.tid = 7;
    env.has_thread_ids = true;
    env.read_memory = no_memory;
    auto v = ruprobes::agent_expr::evaluate(code, env);
    // Compiled code never runs off its end, overflows the stack or names an unknown register;
    // memory faults and division by zero are the expression's own.
    CHECK(v.ok() || v.err() == ruprobes::error::expr_fault ||
          v.err() == ruprobes::error::expr_divide_by_zero);
    return 0;
}

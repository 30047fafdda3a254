// Fuzz target: the agent-expression interpreter (the bytecode comes from gdb through the daemon,
// so from outside) on arbitrary bytecode, registers, memory and trace state variables. Nothing
// may crash (ASan/UBSan in the fuzz build) and the contracts of agent_expr.hpp must hold; a
// violation traps.
//
// Input layout (missing bytes read as zero):
//   [0]       flags: bit 0 runs the rest as a condition list instead of one expression
//   [1..256]  x0..x31, 8 bytes each, little-endian
//   [257..320] a 64-byte window of user memory at 0x1000 (every other address faults)
//   [321..]   the bytecode (or condition list)
#include "ruprobes/agent_expr.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

constexpr uint64_t window_base = 0x1000;
constexpr size_t window_size = 64;
constexpr size_t header = 1 + 256 + window_size;

struct world {
    uint64_t x[32] = {};
    uint8_t memory[window_size] = {};
    uint64_t variables[8] = {};
    size_t collected = 0;
};

int read_window(void* user, uint64_t addr, void* dst, size_t len) {
    auto* w = static_cast<world*>(user);
    CHECK(len <= ruprobes::agent_expr::max_collect);
    if (addr < window_base || addr - window_base > window_size ||
        len > window_size - (addr - window_base))
        return 1;
    std::memcpy(dst, w->memory + (addr - window_base), len);
    return 0;
}

int collect(void* user, uint64_t, const uint8_t*, size_t len) {
    auto* w = static_cast<world*>(user);
    w->collected += len;
    return w->collected > 1024 ? 1 : 0; // a buffer that fills up
}

int collect_variable(void*, uint32_t number, uint64_t) {
    CHECK(number < 8);
    return 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    uint8_t head[header] = {};
    std::memcpy(head, data, size < header ? size : header);
    world w;
    std::memcpy(w.x, head + 1, sizeof w.x);
    std::memcpy(w.memory, head + 257, window_size);
    std::span<const uint8_t> code(data + (size < header ? size : header),
                                  size < header ? 0 : size - header);

    ruprobes::agent_expr::environment env;
    env.x = w.x;
    env.pc = 0x10184;
    env.read_memory = read_window;
    env.variables = w.variables;
    env.variable_count = 8;
    env.collect_memory = collect;
    env.collect_variable = collect_variable;
    env.user = &w;

    if (head[0] & 1) {
        bool valid = ruprobes::agent_expr::validate_condition_list(code).ok();
        bool holds = ruprobes::agent_expr::condition_list_holds(code, env);
        // Broken framing never hides a hit.
        size_t at = 0;
        while (at + 2 <= code.size())
            at += 2 + (code[at] | size_t{code[at + 1]} << 8);
        CHECK(at == code.size() || holds);
        CHECK(!valid || at == code.size());
        return 0;
    }
    auto checked = ruprobes::agent_expr::validate(code);
    ruprobes::agent_expr::diagnosis why;
    auto r = ruprobes::agent_expr::evaluate(code, env, &why);
    CHECK(why.steps <= ruprobes::agent_expr::max_steps);
    CHECK(why.offset <= code.size());
    if (checked.ok()) // validated bytecode has only known, integer opcodes
        CHECK(r.err() != ruprobes::error::expr_unsupported);
    return 0;
}

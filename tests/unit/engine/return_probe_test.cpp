// Return probes: ra hijack to the trampoline, per-thread return stacks, recursion at and past
// the depth limit, longjmp, fork and exit.
#include "engine_fixture.hpp"

#include <algorithm>
#include <cstring>

namespace ruprobes::test {
namespace {

using return_probe_test = engine_test;

std::vector<uint64_t> return_values(const std::vector<uprobes_hit>& hits) {
    std::vector<uint64_t> out;
    for (const uprobes_hit& h : hits) {
        if (h.kind == UPROBES_KIND_RETURN) {
            EXPECT_TRUE(h.flags & UPROBES_HIT_RETURN_VALUE);
            out.push_back(h.retval);
        }
    }
    return out;
}

// Runs main -> f(n) on a fresh thread and returns the result (a0 at sum::end).
uint64_t run_sum(engine_test& t, cpu& c, uint64_t n) {
    c.ctx.x[rv::a0] = n;
    EXPECT_EQ(c.run(sum::end), cpu::outcome::reached);
    (void)t;
    return c.ctx.x[rv::a0];
}

TEST_F(return_probe_test, reports_each_return_of_a_recursion_in_order) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int entry = add_probe(sum::f, UPROBES_KIND_ENTRY);
    int ret = add_probe(sum::f, UPROBES_KIND_RETURN);
    ASSERT_GT(entry, 0);
    ASSERT_GT(ret, 0);
    cpu c = thread_at(1, 1, sum::main);
    EXPECT_EQ(run_sum(*this, c, 10), 55u);
    std::vector<uint64_t> expect;
    for (uint64_t k = 0; k <= 10; k++)
        expect.push_back(k * (k + 1) / 2);
    EXPECT_EQ(return_values(hits), expect) << "innermost return first";
    EXPECT_EQ(uprobe_hit_count(entry), 11);
    EXPECT_EQ(uprobe_hit_count(ret), 11);
    for (const uprobes_hit& h : hits) {
        if (h.kind == UPROBES_KIND_RETURN) {
            EXPECT_EQ(h.pc, sum::f);
            EXPECT_TRUE(h.ra == sum::end || h.ra == sum::f_add) << std::hex << h.ra;
        }
    }
    uprobes_stats s = stats();
    EXPECT_EQ(s.return_hits, 11u);
    EXPECT_EQ(s.return_skipped, 0u);
    EXPECT_EQ(c.ctx.x[rv::ra], sum::end) << "the real return address is back in the caller";
}

TEST_F(return_probe_test, depth_64_is_exact) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::main);
    EXPECT_EQ(run_sum(*this, c, 63), 63u * 64 / 2); // f(63)..f(0): 64 active frames
    EXPECT_EQ(return_values(hits).size(), 64u);
    EXPECT_EQ(stats().return_skipped, 0u);
}

TEST_F(return_probe_test, deeper_recursion_is_counted_never_corrupted) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::main);
    EXPECT_EQ(run_sum(*this, c, 99), 99u * 100 / 2) << "the program's result is intact";
    std::vector<uint64_t> got = return_values(hits);
    ASSERT_EQ(got.size(), 64u) << "the 64 outermost calls are reported";
    // Outermost 64 frames are f(99)..f(36): their returns come innermost first.
    for (size_t i = 0; i < got.size(); i++) {
        uint64_t k = 36 + i;
        EXPECT_EQ(got[i], k * (k + 1) / 2);
    }
    EXPECT_EQ(stats().return_skipped, 36u);
    EXPECT_EQ(c.ctx.pc, sum::end);
}

TEST_F(return_probe_test, longjmp_drops_skipped_frames) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    machine.set_current(1, 1);
    uint64_t sp0 = stack_top - 256;
    // Three nested entries of f, each with a deeper sp.
    for (int i = 0; i < 3; i++) {
        uprobes_trap_context ctx = {};
        ctx.pc = sum::f;
        ctx.x[rv::ra] = 0x10100 + i * 4;
        ctx.x[rv::sp] = sp0 - 32 * i;
        ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
        EXPECT_EQ(ctx.x[rv::ra], xol_base) << "ra points at the trampoline";
    }
    // longjmp from the innermost to the outermost frame, which then returns.
    uprobes_trap_context ctx = {};
    ctx.pc = xol_base;
    ctx.x[rv::sp] = sp0;
    ctx.x[rv::a0] = 1234;
    ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(ctx.pc, 0x10100u) << "resumes at the outermost caller";
    ASSERT_EQ(return_values(hits), std::vector<uint64_t>{1234});
    EXPECT_EQ(stats().return_dropped, 2u);
    // Nothing left: another trampoline hit is not ours.
    ctx.pc = xol_base;
    EXPECT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_NOT_OURS);
}

TEST_F(return_probe_test, stale_entries_are_dropped_at_the_next_entry) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    machine.set_current(1, 1);
    uint64_t sp0 = stack_top - 256;
    // 200 calls that never return (each longjmp'ed out of) at the same depth: the stack must not
    // fill up with them.
    for (int i = 0; i < 200; i++) {
        uprobes_trap_context ctx = {};
        ctx.pc = sum::f;
        ctx.x[rv::ra] = 0x10100;
        ctx.x[rv::sp] = sp0 - 32;
        ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
        uprobes_trap_context deeper = ctx;
        deeper.pc = sum::f;
        deeper.x[rv::ra] = 0x10200;
        deeper.x[rv::sp] = sp0 - 64;
        ASSERT_EQ(uprobes_trap_handler(&deeper), UPROBES_TRAP_HANDLED);
    }
    EXPECT_EQ(stats().return_skipped, 0u);
    EXPECT_EQ(stats().return_dropped, 2u * 199);
}

TEST_F(return_probe_test, threads_have_separate_return_stacks) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu a = thread_at(1, 1, sum::main);
    a.ctx.x[rv::a0] = 3;
    // Thread 1 stops half way (at f's add after the innermost return) ...
    ASSERT_EQ(a.run(sum::f_add), cpu::outcome::reached);
    // ... thread 2 runs a whole recursion on its own stack ...
    cpu b = thread_at(1, 2, sum::main);
    b.ctx.x[rv::sp] = stack_top - 0x20000;
    EXPECT_EQ(run_sum(*this, b, 4), 10u);
    // ... and thread 1 finishes correctly.
    machine.set_current(1, 1);
    ASSERT_EQ(a.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(a.ctx.x[rv::a0], 6u);
    EXPECT_EQ(stats().threads_used, 2u);
    uprobes_on_thread_exit(1, 2);
    EXPECT_EQ(stats().threads_used, 1u);
}

TEST_F(return_probe_test, fork_copies_pending_returns_and_exit_frees_them) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu parent = thread_at(1, 1, sum::main);
    parent.ctx.x[rv::a0] = 5;
    // Run until the innermost call's add: 5 frames pending (f(5)..f(1)).
    ASSERT_EQ(parent.run(sum::f_add), cpu::outcome::reached);
    ASSERT_EQ(return_values(hits).size(), 1u);
    ASSERT_EQ(machine.fork(1, 1, 2, 2), 0);
    cpu child = parent;
    machine.set_current(2, 2);
    ASSERT_EQ(child.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(child.ctx.x[rv::a0], 15u);
    machine.set_current(1, 1);
    ASSERT_EQ(parent.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(parent.ctx.x[rv::a0], 15u);
    size_t from_child =
        std::count_if(hits.begin(), hits.end(), [](const uprobes_hit& h) { return h.pid == 2; });
    EXPECT_EQ(from_child, 5u);
    EXPECT_EQ(return_values(hits).size(), 11u);
    machine.exit(2);
    machine.exit(1);
    uprobes_stats s = stats();
    EXPECT_EQ(s.threads_used, 0u);
    EXPECT_EQ(s.processes_used, 0u);
    EXPECT_EQ(s.probes_used, 1u);
}

TEST_F(return_probe_test, debugger_views_show_real_return_addresses) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::main);
    uint64_t s0 = c.ctx.x[rv::sp];
    c.ctx.x[rv::a0] = 3;
    ASSERT_EQ(c.run(sum::f_add), cpu::outcome::reached); // f(3), f(2), f(1) pending
    // Each f saved its (hijacked) ra at 8(sp) of its 16-byte frame.
    uint64_t raw = 0;
    ASSERT_TRUE(machine.read(1, s0 - 8, &raw, 8, perm_r));
    EXPECT_EQ(raw, xol_base) << "the stack really holds the trampoline";
    uint64_t frames[3] = {};
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(uprobes_read_memory(1, s0 - 8 - 16 * i, &frames[i], 8), 0);
    EXPECT_EQ(frames[0], sum::end) << "f(3) returns to main";
    EXPECT_EQ(frames[1], sum::f_add) << "f(2) returns into f(3)";
    EXPECT_EQ(frames[2], sum::f_add);
    std::vector<uint8_t> block(48);
    ASSERT_EQ(uprobes_read_memory(1, s0 - 48, block.data(), block.size()), 0);
    uint64_t outer = 0;
    std::memcpy(&outer, block.data() + 40, 8);
    EXPECT_EQ(outer, sum::end) << "the same through a larger read";

    // ra itself right after an entry hit is the trampoline; the debugger sees the caller.
    cpu d = thread_at(1, 2, sum::f);
    d.ctx.x[rv::sp] = stack_top - 0x20000;
    d.ctx.x[rv::ra] = sum::end;
    ASSERT_EQ(uprobes_trap_handler(&d.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(d.ctx.x[rv::ra], xol_base);
    EXPECT_EQ(uprobes_program_ra(1, 2, &d.ctx), sum::end);
    EXPECT_EQ(uprobes_program_ra(1, 1, &c.ctx), c.ctx.x[rv::ra]) << "not the trampoline: as is";
}

TEST_F(return_probe_test, a_debugger_write_to_ra_redirects_the_pending_return) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::f);
    c.ctx.x[rv::sp] = stack_top - 0x100;
    c.ctx.x[rv::ra] = sum::end;
    EXPECT_EQ(uprobes_set_program_ra(1, 1, &c.ctx, sum::f_add), 0) << "no return pending yet";
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    ASSERT_EQ(c.ctx.x[rv::ra], xol_base);
    // The debugger writes the ra it was shown: nothing changes.
    EXPECT_EQ(uprobes_set_program_ra(1, 1, &c.ctx, sum::end), 1);
    EXPECT_EQ(uprobes_program_ra(1, 1, &c.ctx), sum::end);
    // Another address: the function returns there, through the trampoline (the probe fires).
    EXPECT_EQ(uprobes_set_program_ra(1, 1, &c.ctx, sum::f_add), 1);
    EXPECT_EQ(c.ctx.x[rv::ra], xol_base) << "the register keeps the trampoline";
    EXPECT_EQ(uprobes_program_ra(1, 1, &c.ctx), sum::f_add);
    c.ctx.pc = xol_base; // the function's ret
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, sum::f_add);
    EXPECT_EQ(c.ctx.x[rv::ra], sum::f_add);
    EXPECT_EQ(stats().return_hits, 1u);
}

TEST_F(return_probe_test, exec_without_xol_page_skips_returns_safely) {
    ASSERT_EQ(machine.exec(1, "/bin/sum", false), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::main);
    EXPECT_EQ(run_sum(*this, c, 3), 6u);
    EXPECT_TRUE(return_values(hits).empty());
    EXPECT_EQ(stats().return_skipped, 4u);
}

} // namespace
} // namespace ruprobes::test

// Memory views for debuggers and the exec/fork/exit hooks' effect on breakpoints.
#include "engine_fixture.hpp"

#include <cstring>

namespace ruprobes::test {
namespace {

using memory_view_test = engine_test;

TEST_F(memory_view_test, reads_show_original_bytes_under_breakpoints) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::addi), 0);
    ASSERT_GT(add_probe(sum::caddi), 0);
    std::vector<uint8_t> image = sum::image();
    std::vector<uint8_t> got(image.size());
    ASSERT_EQ(uprobes_read_memory(1, text_base, got.data(), got.size()), 0);
    EXPECT_EQ(got, image);
    // A read that starts inside a breakpoint.
    uint8_t two[2] = {};
    ASSERT_EQ(uprobes_read_memory(1, sum::addi + 2, two, 2), 0);
    EXPECT_EQ(two[0], image[sum::addi + 2 - text_base]);
    EXPECT_EQ(two[1], image[sum::addi + 3 - text_base]);
    EXPECT_EQ(uprobes_read_memory(1, 0xdead0000, two, 2), -UPROBES_E_FAULT_LOAD);
    // The process really has the breakpoint.
    EXPECT_EQ(machine.read32(1, sum::addi), 0x00100073u);
}

TEST_F(memory_view_test, writes_under_a_breakpoint_update_the_saved_original) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::addi);
    ASSERT_GT(id, 0);
    uint32_t replacement = rv::addi(rv::a0, rv::a0, 7);
    ASSERT_EQ(uprobes_write_memory(1, sum::addi, &replacement, 4), 0);
    EXPECT_EQ(machine.read32(1, sum::addi), 0x00100073u) << "the breakpoint stays";
    uint32_t seen = 0;
    ASSERT_EQ(uprobes_read_memory(1, sum::addi, &seen, 4), 0);
    EXPECT_EQ(seen, replacement);
    cpu c = thread_at(1, 1, sum::addi);
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 7u) << "the new instruction runs at the hit";
    EXPECT_EQ(hits.size(), 1u);
    ASSERT_EQ(uprobe_unregister(id), 0);
    EXPECT_EQ(machine.read32(1, sum::addi), replacement) << "and is what disarm restores";
    // Unprobeable bytes under a breakpoint are refused, nothing written.
    ASSERT_GT(add_probe(sum::f), 0);
    uint32_t ecall = rv::ecall;
    EXPECT_EQ(uprobes_write_memory(1, sum::f, &ecall, 4), -UPROBES_E_INSN_ECALL);
    EXPECT_EQ(machine.read32(1, sum::f), 0x00100073u);
    uint16_t c_nop = rv::c_nop;
    EXPECT_EQ(uprobes_write_memory(1, sum::f, &c_nop, 2), -UPROBES_E_INVALID_ARGUMENT)
        << "a 16-bit instruction under a 32-bit breakpoint would change the length";
}

TEST_F(memory_view_test, writes_elsewhere_reach_text_and_data) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    uint64_t value = 0x1122334455667788;
    ASSERT_EQ(uprobes_write_memory(1, data_base + 8, &value, 8), 0);
    uint64_t back = 0;
    ASSERT_TRUE(machine.read(1, data_base + 8, &back, 8, perm_r));
    EXPECT_EQ(back, value);
    uint32_t nop = rv::addi(rv::zero, rv::zero, 0);
    ASSERT_EQ(uprobes_write_memory(1, sum::tail, &nop, 4), 0) << "text is written by poke";
    EXPECT_EQ(machine.read32(1, sum::tail), nop);
    EXPECT_EQ(uprobes_write_memory(1, 0xdead0000, &nop, 4), -UPROBES_E_FAULT_STORE);
}

TEST_F(memory_view_test, fork_drops_breakpoints_only_the_parent_wanted) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    uint32_t orig = machine.read32(1, sum::addi);
    ASSERT_GT(add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP, 1), 0);
    ASSERT_GT(add_probe(sum::f), 0);
    ASSERT_EQ(machine.fork(1, 1, 2, 2), 0);
    EXPECT_EQ(machine.read32(2, sum::addi), orig);
    EXPECT_EQ(machine.read32(2, sum::f), 0x00100073u);
    EXPECT_EQ(machine.read32(1, sum::addi), 0x00100073u);
    // The child's breakpoints belong to the engine: it handles the hit.
    cpu c = thread_at(2, 2, sum::main);
    c.ctx.x[rv::a0] = 2;
    ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 3u);
    EXPECT_EQ(hits.size(), 3u);
}

TEST_F(memory_view_test, exec_replaces_the_previous_image_state) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::main);
    c.ctx.x[rv::a0] = 3;
    ASSERT_EQ(c.run(sum::f_add), cpu::outcome::reached); // returns pending
    EXPECT_EQ(stats().threads_used, 1u);
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0); // exec again: a new image
    EXPECT_EQ(stats().threads_used, 0u);
    EXPECT_EQ(stats().processes_used, 1u);
    EXPECT_EQ(machine.read32(1, sum::f), 0x00100073u);
    // The trampoline is back in the new xol page.
    EXPECT_EQ(machine.read32(1, xol_base), 0x00100073u);
}

TEST_F(memory_view_test, exec_of_another_program_switches_probe_sets) {
    std::vector<uint8_t> other = host_machine::code({rv::addi(rv::a0, rv::a0, 2), rv::c_nop});
    machine.add_program("/bin/other", other);
    ASSERT_GT(add_probe(sum::addi), 0);
    ASSERT_GT(add_probe(text_base, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/other"), 0);
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    EXPECT_EQ(machine.read32(1, sum::addi), 0x00100073u);
    ASSERT_EQ(machine.exec(1, "/bin/other"), 0);
    EXPECT_EQ(machine.read32(1, text_base), 0x00100073u) << "the new image's probe";
    cpu c = thread_at(1, 1, text_base);
    ASSERT_EQ(c.run(text_base + 4), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 2u);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].cookie, text_base);
    EXPECT_EQ(stats().programs_used, 2u);
    EXPECT_EQ(stats().processes_used, 1u);
}

class full_program_pool_test : public engine_test {
protected:
    const uprobes_limits* limits() override {
        l.max_programs = 1;
        return &l;
    }
    uprobes_limits l = {};
};

TEST_F(full_program_pool_test, exec_beyond_capacity_runs_unprobed) {
    machine.add_program("/bin/other", host_machine::code({rv::c_nop, rv::c_nop}));
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    EXPECT_EQ(machine.exec(2, "/bin/other"), -UPROBES_E_NO_SPACE);
    EXPECT_EQ(add_probe(text_base, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/other"),
              -UPROBES_E_NO_SPACE);
    machine.set_current(2, 2);
    uprobes_trap_context ctx = {};
    ctx.pc = text_base;
    EXPECT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_NOT_OURS);
    machine.exit(1);
    EXPECT_GT(add_probe(text_base, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/other"), 0)
        << "the slot is free again";
}

TEST_F(memory_view_test, seed_style_calls_work) {
    machine.processes[5] = host_process{5, "/bin/sum", {}, 0};
    machine.processes[5].regions.push_back({text_base, sum::image(), perm_r | perm_x});
    machine.set_current(5, 5);
    ASSERT_EQ(uprobes_init(), 0) << "per-exec call of the current process";
    static int calls = 0;
    int id = uprobe_register(
        "/bin/sum", sum::addi, [](uprobes_trap_context*, const uprobes_hit*, void*) { calls++; },
        nullptr, UPROBES_KIND_INSN);
    ASSERT_GT(id, 0);
    EXPECT_EQ(machine.read32(5, sum::addi), 0x00100073u);
    uprobes_trap_context ctx = {};
    ctx.pc = sum::addi;
    EXPECT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(ctx.pc, sum::addi + 4);
}

} // namespace
} // namespace ruprobes::test

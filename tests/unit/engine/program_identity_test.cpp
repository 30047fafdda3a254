// Program identity and program images: a program is the kernel's key (os_program_get), not a
// path; the image is obtained and released with the engine lock not held (the fixture's TearDown
// checks every os_program_get/put call for that, in every engine test).
#include "engine_fixture.hpp"

namespace ruprobes::test {
namespace {

class program_identity_test : public engine_test {
protected:
    // A breakpoint trap of thread (pid, pid) at `pc` with zeroed registers; the action.
    int trap_at(uint32_t pid, uint64_t pc, uprobes_trap_context& ctx) {
        machine.set_current(pid, pid);
        ctx = {};
        ctx.pc = pc;
        ctx.x[rv::sp] = stack_top - 64;
        uprobes_trap_info info = {};
        return uprobes_trap_handler_ex(&ctx, &info);
    }
};

TEST_F(program_identity_test, two_paths_of_one_program_are_one_program) {
    machine.add_alias("sum", "/bin/sum"); // exec'ed as "sum", registered as "/bin/sum"
    int id = add_probe(sum::addi);
    ASSERT_GT(id, 0);
    ASSERT_EQ(machine.exec(1, "sum"), 0);
    ASSERT_EQ(machine.exec(2, "/bin/sum"), 0);
    for (uint32_t pid : {1u, 2u}) {
        EXPECT_EQ(machine.read32(pid, sum::addi), 0x00100073u) << "armed in pid " << pid;
        uprobes_trap_context ctx;
        EXPECT_EQ(trap_at(pid, sum::addi, ctx), UPROBES_TRAP_HANDLED);
        EXPECT_EQ(ctx.pc, sum::addi + 4);
        EXPECT_EQ(ctx.x[rv::a0], 1u);
    }
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].probe_id, static_cast<uint32_t>(id));
    EXPECT_EQ(hits[1].probe_id, static_cast<uint32_t>(id));
    EXPECT_EQ(uprobe_hit_count(id), 2);
    EXPECT_EQ(stats().programs_used, 1u);

    // Under the other name, the same probe is the same probe; another one shares the site.
    EXPECT_EQ(add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, UPROBES_ANY_PID, "sum"),
              -UPROBES_E_ALREADY_EXISTS);
    int other =
        add_probe(sum::addi, UPROBES_KIND_ENTRY, UPROBES_MODE_TRACE, UPROBES_ANY_PID, "sum");
    ASSERT_GT(other, 0);
    EXPECT_EQ(stats().sites_used, 1u);
    EXPECT_EQ(uprobe_unregister(id), 0);
    EXPECT_EQ(uprobe_unregister(other), 0);
    EXPECT_EQ(machine.read32(1, sum::addi), rv::addi(rv::a0, rv::a0, 1)) << "restored";
    EXPECT_EQ(machine.read32(2, sum::addi), rv::addi(rv::a0, rv::a0, 1)) << "restored";
}

TEST_F(program_identity_test, listed_under_the_name_the_probe_used) {
    machine.add_alias("sum", "/bin/sum");
    ASSERT_EQ(machine.exec(1, "sum"), 0);
    int id = add_probe(sum::f);
    ASSERT_GT(id, 0);
    uint32_t cursor = 0;
    uprobes_probe_info info = {};
    ASSERT_EQ(uprobe_iterate(&cursor, &info), 1);
    EXPECT_EQ(info.id, id);
    EXPECT_STREQ(info.path, "/bin/sum");
    EXPECT_EQ(machine.read32(1, sum::f), 0x00100073u) << "armed in the running process";
    EXPECT_EQ(uprobe_unregister(id), 0);
}

TEST_F(program_identity_test, images_are_taken_outside_the_lock_and_given_back) {
    uint64_t gets = machine.program_gets;
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::caddi);
    ASSERT_GT(id, 0);
    EXPECT_EQ(add_probe(sum::addi + 2), -UPROBES_E_ADDR_NOT_BOUNDARY);
    EXPECT_EQ(add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/none"),
              -UPROBES_E_NOT_FOUND);
    EXPECT_EQ(machine.program_gets - gets, 4u) << "one os_program_get per call naming a path";
    EXPECT_EQ(machine.program_hooks_under_lock, 0u);
    EXPECT_EQ(machine.images_held, 0);
    EXPECT_EQ(uprobe_unregister(id), 0);
}

TEST_F(program_identity_test, register_and_exec_with_an_image_call_no_program_hook) {
    std::vector<uint8_t> text = sum::image();
    uprobes_program_image image = {};
    image.key = 0x5157; // the kernel's choice
    image.text_begin = text_base;
    image.text_end = text_base + text.size();
    image.text = text.data();
    uint64_t gets = machine.program_gets;
    ASSERT_EQ(machine.exec(3, "/bin/sum"), 0); // another key: the process is not this program's
    gets = machine.program_gets;

    uprobes_probe_spec spec = {};
    spec.addr = sum::addi;
    spec.kind = UPROBES_KIND_INSN;
    EXPECT_EQ(uprobe_register_image(&spec, nullptr), -UPROBES_E_INVALID_ARGUMENT);
    int id = uprobe_register_image(&spec, &image); // no name at all
    ASSERT_GT(id, 0);
    EXPECT_EQ(machine.read32(3, sum::addi), rv::addi(rv::a0, rv::a0, 1)) << "other key";

    // Process 4 runs the image's program: armed at exec, fires.
    machine.processes[4] = *machine.process(3);
    machine.processes[4].pid = 4;
    uprobes_program_image at_exec = image;
    at_exec.text = nullptr; // not needed at exec
    ASSERT_EQ(uprobes_on_exec_image(4, &at_exec, "/bin/sum", 0), 0);
    EXPECT_EQ(machine.read32(4, sum::addi), 0x00100073u);
    uprobes_trap_context ctx;
    EXPECT_EQ(trap_at(4, sum::addi, ctx), UPROBES_TRAP_HANDLED);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(machine.program_gets, gets) << "the kernel handed the image over";

    // Without text bytes a probe cannot be validated.
    spec.addr = sum::caddi;
    EXPECT_EQ(uprobe_register_image(&spec, &at_exec), -UPROBES_E_INVALID_ARGUMENT);
    image.key = 0;
    EXPECT_EQ(uprobe_register_image(&spec, &image), -UPROBES_E_INVALID_ARGUMENT);
    EXPECT_EQ(uprobe_unregister(id), 0);
    EXPECT_EQ(machine.read32(4, sum::addi), rv::addi(rv::a0, rv::a0, 1));
    uprobes_on_exit(4);
    machine.processes.erase(4);
}

} // namespace
} // namespace ruprobes::test

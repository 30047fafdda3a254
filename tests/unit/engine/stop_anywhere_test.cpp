// Stop-mode probes (debugger breakpoints) on every instruction class: accepted where trace
// probes are refused; resuming or stepping from them executes the original instruction once
// (out of line, or, for ecall and the program's own ebreak, by the kernel).
#include "engine_fixture.hpp"

namespace ruprobes::test {
namespace {

using stop_anywhere_test = engine_test;

constexpr uint64_t refused_sites[] = {sum::ecall,   sum::ebreak, sum::cebreak, sum::csr,
                                      sum::fence_i, sum::lr,     sum::wfi,     sum::unimp};

TEST_F(stop_anywhere_test, stop_mode_accepts_every_class_trace_keeps_its_refusals) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    for (uint64_t a : refused_sites) {
        EXPECT_LT(add_probe(a), 0) << std::hex << a << ": trace probe";
        EXPECT_LT(add_probe(a, UPROBES_KIND_RETURN, UPROBES_MODE_STOP), 0)
            << std::hex << a << ": a return probe must run the instruction at the hit";
        int id = add_probe(a, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
        EXPECT_GT(id, 0) << std::hex << a;
        // A trace probe joining the breakpoint's site is refused with the instruction's reason.
        EXPECT_LT(add_probe(a), 0) << std::hex << a;
    }
    EXPECT_EQ(add_probe(sum::ecall), -UPROBES_E_INSN_ECALL);
    EXPECT_EQ(add_probe(sum::lr), -UPROBES_E_INSN_LR_SC);
    EXPECT_EQ(machine.read32(1, sum::ecall), 0x00100073u) << "the ecall carries an ebreak";
    EXPECT_EQ(machine.read16(1, sum::cebreak), 0x9002u);
    EXPECT_EQ(stats().sites_used, std::size(refused_sites));
}

TEST_F(stop_anywhere_test, ecall_stop_resumes_and_steps_through_the_kernel) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::ecall, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    ASSERT_GT(id, 0);
    cpu c = thread_at(1, 1, sum::ecall);
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(c.ctx.pc, sum::ecall);
    EXPECT_EQ(c.last_info.probe_id, static_cast<uint32_t>(id));
    uprobes_trap_context before = c.ctx;
    // The kernel makes the system call: the engine leaves the thread where it is.
    EXPECT_EQ(uprobes_resume(&c.ctx), -UPROBES_E_INSN_ECALL);
    EXPECT_EQ(c.ctx.pc, before.pc);
    uprobes_trap_info info = {};
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), -UPROBES_E_INSN_ECALL);
    EXPECT_EQ(c.ctx.pc, before.pc);
}

TEST_F(stop_anywhere_test, a_breakpoint_on_the_programs_own_ebreak_leaves_that_trap_to_the_kernel) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::ebreak, UPROBES_KIND_INSN, UPROBES_MODE_STOP), 0);
    ASSERT_GT(add_probe(sum::cebreak, UPROBES_KIND_INSN, UPROBES_MODE_STOP), 0);
    cpu c = thread_at(1, 1, sum::ebreak);
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(uprobes_resume(&c.ctx), -UPROBES_E_INSN_EBREAK);
    EXPECT_EQ(c.ctx.pc, sum::ebreak);
    c.ctx.pc = sum::cebreak;
    uprobes_trap_info info = {};
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), -UPROBES_E_INSN_EBREAK);
    EXPECT_EQ(c.ctx.pc, sum::cebreak);
}

TEST_F(stop_anywhere_test, csr_fence_i_and_lr_run_once_out_of_line) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    for (uint64_t a : {sum::csr, sum::fence_i, sum::lr}) {
        ASSERT_GT(add_probe(a, UPROBES_KIND_INSN, UPROBES_MODE_STOP), 0) << std::hex << a;
        cpu c = thread_at(1, 1, a);
        c.ctx.x[rv::a1] = data_base;
        ASSERT_EQ(c.run(sum::tail), cpu::outcome::stopped) << std::hex << a;
        EXPECT_EQ(c.ctx.pc, a);
        uint64_t out_of_line = stats().out_of_line;
        // Resume: the original instruction goes to the thread's slot in the xol page.
        ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED) << std::hex << a;
        EXPECT_GE(c.ctx.pc, xol_base) << std::hex << a;
        EXPECT_LT(c.ctx.pc, xol_base + 4096) << std::hex << a;
        EXPECT_EQ(stats().out_of_line, out_of_line + 1) << std::hex << a;
        EXPECT_NE(machine.read32(1, c.ctx.pc), 0x00100073u) << "the original, not the breakpoint";
        // A step from the breakpoint goes out of line as well, and stops at the slot's ebreak.
        cpu s = thread_at(1, 1, a);
        s.ctx.x[rv::a1] = data_base;
        uprobes_trap_info info = {};
        ASSERT_EQ(uprobes_single_step(&s.ctx, &info), UPROBES_TRAP_HANDLED) << std::hex << a;
        EXPECT_GE(s.ctx.pc, xol_base) << std::hex << a;
    }
}

// A debugger that moves a stopped thread's pc (gdb's `jump`, a register write) onto another
// breakpoint: resuming runs from there as after a single step to it, so that breakpoint is hit
// (not passed over by executing its displaced instruction); with the pc left alone, resuming
// executes the stopped-at instruction.
TEST_F(stop_anywhere_test, resume_after_the_pc_was_moved_onto_another_breakpoint_hits_it) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int at_addi = add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    int at_caddi = add_probe(sum::caddi, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    ASSERT_GT(at_addi, 0);
    ASSERT_GT(at_caddi, 0);
    cpu c = thread_at(1, 1, sum::addi);
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    ASSERT_EQ(c.last_info.probe_id, static_cast<uint32_t>(at_addi));
    c.ctx.pc = sum::caddi; // moved
    uint64_t a0 = c.ctx.x[rv::a0];
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, sum::caddi) << "the c.addi's displaced instruction ran on resume";
    EXPECT_EQ(c.ctx.x[rv::a0], a0);
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(c.last_info.probe_id, static_cast<uint32_t>(at_caddi));
    EXPECT_EQ(c.ctx.pc, sum::caddi);
    // Not moved this time: resuming executes the c.addi and goes on.
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, sum::caddi + 2);
    EXPECT_EQ(c.ctx.x[rv::a0], a0 + 1);
}

// lr; addi; sc.w: a step (or a resume) from the lr runs the whole sequence in the slot, so no
// trap falls between lr and sc (a trap clears the reservation: an sc stepped alone always fails).
TEST_F(stop_anywhere_test, stepping_an_lr_runs_its_sequence_up_to_the_sc_at_once) {
    constexpr uint32_t sc_w_a2_a0_a1 =
        (0x03u << 27) | (rv::a0 << 20) | (rv::a1 << 15) | (2u << 12) | (rv::a2 << 7) | 0x2fu;
    machine.add_program("/bin/atomic",
                        host_machine::code({rv::lr_w(rv::a0, rv::a1), rv::addi(rv::a0, rv::a0, 1),
                                            sc_w_a2_a0_a1, rv::addi(rv::a3, rv::a3, 1)}));
    ASSERT_EQ(machine.exec(1, "/bin/atomic"), 0);
    ASSERT_GT(
        add_probe(text_base, UPROBES_KIND_INSN, UPROBES_MODE_STOP, UPROBES_ANY_PID, "/bin/atomic"),
        0);
    for (bool step : {true, false}) {
        cpu c = thread_at(1, 1, text_base);
        if (!step) { // a resume follows a stop there
            ASSERT_EQ(c.run(text_base + 16), cpu::outcome::stopped);
        }
        uprobes_trap_info info = {};
        ASSERT_EQ(step ? uprobes_single_step(&c.ctx, &info) : uprobes_resume(&c.ctx),
                  UPROBES_TRAP_HANDLED)
            << step;
        uint64_t slot = c.ctx.pc;
        ASSERT_GE(slot, xol_base);
        ASSERT_LT(slot, xol_base + 4096);
        EXPECT_EQ(machine.read32(1, slot), rv::lr_w(rv::a0, rv::a1)) << "the original lr";
        EXPECT_EQ(machine.read32(1, slot + 4), rv::addi(rv::a0, rv::a0, 1));
        EXPECT_EQ(machine.read32(1, slot + 8), sc_w_a2_a0_a1);
        EXPECT_EQ(machine.read32(1, slot + 12), 0x00100073u) << "then the slot's ebreak";
        // The slot's ebreak ends the step after the sc.
        c.ctx.pc = slot + 12;
        ASSERT_EQ(c.run(text_base + 16), step ? cpu::outcome::stopped : cpu::outcome::reached)
            << step;
        EXPECT_EQ(c.ctx.pc, step ? text_base + 12 : text_base + 16) << step;
    }
    // A breakpoint inside the sequence: a resume runs the lr alone, so that it is reached.
    ASSERT_GT(add_probe(text_base + 8, UPROBES_KIND_INSN, UPROBES_MODE_STOP, UPROBES_ANY_PID,
                        "/bin/atomic"),
              0);
    cpu c = thread_at(1, 1, text_base);
    ASSERT_EQ(c.run(text_base + 16), cpu::outcome::stopped);
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(machine.read32(1, c.ctx.pc), rv::lr_w(rv::a0, rv::a1));
    EXPECT_EQ(machine.read32(1, c.ctx.pc + 4), 0x00100073u) << "the lr alone, then the ebreak";
}

} // namespace
} // namespace ruprobes::test

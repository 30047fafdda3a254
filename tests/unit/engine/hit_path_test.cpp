// The hit path: handlers and hit records, simulation (one trap), out-of-line slots (two traps),
// stop mode and resume, not-ours ebreaks, faults, single-step.
#include "engine_fixture.hpp"

namespace ruprobes::test {
namespace {

using hit_path_test = engine_test;

TEST_F(hit_path_test, simulated_hit_runs_handlers_and_costs_one_trap) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    struct seen_t {
        int pre = 0, post = 0;
        uint64_t a0_pre = 0, a0_post = 0;
    } seen;
    uprobes_probe_spec spec = {};
    spec.path = "/bin/sum";
    spec.addr = sum::addi;
    spec.cookie = 77;
    spec.user = &seen;
    spec.handler = [](uprobes_trap_context* ctx, const uprobes_hit* hit, void* user) {
        auto* s = static_cast<seen_t*>(user);
        s->pre++;
        s->a0_pre = ctx->x[10];
        EXPECT_EQ(hit->pc, sum::addi);
    };
    spec.post_handler = [](uprobes_trap_context* ctx, const uprobes_hit*, void* user) {
        auto* s = static_cast<seen_t*>(user);
        s->post++;
        s->a0_post = ctx->x[10];
    };
    int id = uprobe_register_spec(&spec);
    ASSERT_GT(id, 0);

    cpu c = thread_at(1, 1, sum::addi);
    c.ctx.x[rv::a0] = 41;
    c.ctx.x[rv::a3] = 0x33;
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 1u);
    EXPECT_EQ(c.ctx.x[rv::a0], 42u);
    EXPECT_EQ(seen.pre, 1);
    EXPECT_EQ(seen.post, 1);
    EXPECT_EQ(seen.a0_pre, 41u);
    EXPECT_EQ(seen.a0_post, 42u);
    ASSERT_EQ(hits.size(), 1u);
    const uprobes_hit& h = hits[0];
    EXPECT_EQ(h.probe_id, static_cast<uint32_t>(id));
    EXPECT_EQ(h.kind, UPROBES_KIND_INSN);
    EXPECT_EQ(h.pid, 1u);
    EXPECT_EQ(h.tid, 1u);
    EXPECT_EQ(h.pc, sum::addi);
    EXPECT_EQ(h.a[0], 41u);
    EXPECT_EQ(h.a[3], 0x33u);
    EXPECT_EQ(h.sp, stack_top - 64);
    EXPECT_EQ(h.cookie, 77u);
    EXPECT_EQ(h.hit_count, 1u);
    EXPECT_GT(h.time_ns, 0u);
    EXPECT_EQ(uprobe_hit_count(id), 1);
    EXPECT_EQ(stats().simulated, 1u);
}

TEST_F(hit_path_test, compressed_and_pc_relative_sites_simulate) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::caddi), 0);
    ASSERT_GT(add_probe(sum::auipc), 0);
    ASSERT_GT(add_probe(sum::cjr), 0);
    cpu c = thread_at(1, 1, sum::caddi);
    c.ctx.x[rv::a0] = 1;
    ASSERT_EQ(c.run(sum::caddi + 2), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 2u);
    c.ctx.pc = sum::auipc;
    ASSERT_EQ(c.run(sum::auipc + 4), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], sum::auipc + 0x1000) << "auipc uses the probed pc";
    c.ctx.pc = sum::cjr;
    c.ctx.x[rv::ra] = sum::tail;
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 3u);
    EXPECT_EQ(hits.size(), 3u);
}

TEST_F(hit_path_test, out_of_line_slot_runs_amo_with_two_traps) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int posts = 0;
    uprobes_probe_spec spec = {};
    spec.path = "/bin/sum";
    spec.addr = sum::amoadd;
    spec.user = &posts;
    spec.post_handler = [](uprobes_trap_context* ctx, const uprobes_hit*, void* user) {
        ++*static_cast<int*>(user);
        EXPECT_EQ(ctx->pc, sum::amoadd + 4);
    };
    ASSERT_GT(uprobe_register_spec(&spec), 0);
    uint32_t word = 40;
    ASSERT_TRUE(machine.write(1, data_base, &word, 4, perm_w));
    cpu c = thread_at(1, 3, sum::amoadd);
    c.ctx.x[rv::a1] = 2;
    c.ctx.x[rv::a2] = data_base;
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 2u);
    EXPECT_EQ(c.ctx.x[rv::a0], 40u);
    ASSERT_TRUE(machine.read(1, data_base, &word, 4, perm_r));
    EXPECT_EQ(word, 42u);
    EXPECT_EQ(posts, 1);
    EXPECT_EQ(stats().out_of_line, 1u);
    // The slot is the thread's own, in the process's xol page, after the trampoline.
    uint64_t pokes = machine.pokes;
    c.ctx.pc = sum::amoadd;
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(machine.pokes, pokes) << "the slot already holds this instruction";
    EXPECT_EQ(posts, 2);
}

TEST_F(hit_path_test, stop_mode_stops_then_resume_executes_displaced_instruction) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    ASSERT_GT(id, 0);
    cpu c = thread_at(1, 1, sum::addi);
    c.ctx.x[rv::a0] = 5;
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::stopped);
    EXPECT_EQ(c.ctx.pc, sum::addi) << "stopped on the breakpoint";
    EXPECT_EQ(c.last_info.probe_id, static_cast<uint32_t>(id));
    EXPECT_EQ(c.ctx.x[rv::a0], 5u);
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, sum::addi + 4);
    EXPECT_EQ(c.ctx.x[rv::a0], 6u);
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
    EXPECT_EQ(hits.size(), 1u);
    // Resuming somewhere without a breakpoint changes nothing.
    uprobes_trap_context before = c.ctx;
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, before.pc);
}

TEST_F(hit_path_test, breakpoint_removed_while_stopped_resumes_on_the_original) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    ASSERT_GT(id, 0);
    cpu c = thread_at(1, 1, sum::addi);
    c.ctx.x[rv::a0] = 1;
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::stopped);
    ASSERT_EQ(uprobe_unregister(id), 0); // the debugger removes its breakpoint while stopped
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, sum::addi) << "nothing to step over: the original runs";
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 2u) << "exactly once";
    // A trap that raced with the removal (taken before, handled after) re-runs the original too.
    c.ctx.pc = sum::addi;
    EXPECT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, sum::addi);
    EXPECT_EQ(c.ctx.x[rv::a0], 2u);
}

TEST_F(hit_path_test, foreign_ebreaks_are_not_ours) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::addi), 0);
    cpu c = thread_at(1, 1, sum::ebreak);
    uprobes_trap_context before = c.ctx;
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::not_ours);
    EXPECT_EQ(c.ctx.pc, before.pc);
    machine.set_current(99, 1); // a process the engine never saw
    c.ctx.pc = sum::addi;
    EXPECT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_NOT_OURS);
    EXPECT_EQ(stats().not_ours, 2u);
    EXPECT_TRUE(hits.empty());
}

TEST_F(hit_path_test, pid_filter_and_condition_select_consumers) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_EQ(machine.exec(2, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 2), 0);
    uprobes_probe_spec spec = {};
    spec.path = "/bin/sum";
    spec.addr = sum::addi;
    spec.cookie = 5;
    spec.condition = [](const uprobes_trap_context* ctx, const uprobes_hit*, void*) {
        return ctx->x[10] == 100 ? 1 : 0;
    };
    int cond = uprobe_register_spec(&spec);
    ASSERT_GT(cond, 0);
    for (uint32_t pid : {1u, 2u}) {
        for (uint64_t a0 : {1u, 100u}) {
            cpu c = thread_at(pid, pid, sum::addi);
            c.ctx.x[rv::a0] = a0;
            ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
            EXPECT_EQ(c.ctx.x[rv::a0], a0 + 1);
        }
    }
    // pid 1 armed only by the conditional probe: fires once (a0 == 100); pid 2: 2 + 1.
    int for_pid1 = 0, for_pid2 = 0;
    for (const uprobes_hit& h : hits)
        (h.pid == 1 ? for_pid1 : for_pid2)++;
    EXPECT_EQ(for_pid1, 1);
    EXPECT_EQ(for_pid2, 3);
    EXPECT_EQ(uprobe_hit_count(cond), 2);
}

TEST_F(hit_path_test, simulated_load_fault_is_reported_with_its_address) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::load), 0);
    cpu c = thread_at(1, 1, sum::load);
    c.ctx.x[rv::a1] = 0xdead0000;
    c.ctx.x[rv::a0] = 9;
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::fault);
    EXPECT_EQ(c.last_info.action, UPROBES_TRAP_FAULT);
    EXPECT_EQ(c.last_info.error, UPROBES_E_FAULT_LOAD);
    EXPECT_EQ(c.last_info.fault_addr, 0xdead0000u);
    EXPECT_EQ(c.ctx.pc, sum::load) << "the fault is at the probed instruction";
    EXPECT_EQ(c.ctx.x[rv::a0], 9u);
}

TEST_F(hit_path_test, handler_may_redirect_the_thread) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    uprobes_probe_spec spec = {};
    spec.path = "/bin/sum";
    spec.addr = sum::addi;
    spec.handler = [](uprobes_trap_context* ctx, const uprobes_hit*, void*) {
        ctx->pc = sum::tail; // skip to the end
    };
    ASSERT_GT(uprobe_register_spec(&spec), 0);
    cpu c = thread_at(1, 1, sum::addi);
    c.ctx.x[rv::a0] = 3;
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 3u) << "the displaced instruction was skipped";
}

TEST_F(hit_path_test, single_step_looks_through_breakpoints) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::addi), 0);
    cpu c = thread_at(1, 1, sum::addi);
    c.ctx.x[rv::a0] = 1;
    uprobes_trap_info info = {};
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_STOP);
    EXPECT_EQ(c.ctx.pc, sum::caddi);
    EXPECT_EQ(c.ctx.x[rv::a0], 2u);
    EXPECT_TRUE(hits.empty()) << "a step runs no handlers";
    // Out of line: the step completes at the slot's ebreak with a STOP.
    c.ctx.pc = sum::amoadd;
    c.ctx.x[rv::a2] = data_base;
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(c.ctx.pc, sum::amoadd + 4);
    c.ctx.pc = sum::ecall;
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), -UPROBES_E_INSN_ECALL);
}

TEST_F(hit_path_test, threads_stopped_inside_the_xol_page_show_and_step_program_pcs) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int posts = 0;
    uprobes_probe_spec spec = {};
    spec.path = "/bin/sum";
    spec.addr = sum::amoadd;
    spec.user = &posts;
    spec.post_handler = [](uprobes_trap_context*, const uprobes_hit*, void* user) {
        ++*static_cast<int*>(user);
    };
    ASSERT_GT(uprobe_register_spec(&spec), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);

    // Stopped at the start of its slot: shows the probed pc; a step runs the slot and stops.
    cpu c = thread_at(1, 1, sum::amoadd);
    c.ctx.x[rv::a2] = data_base;
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    ASSERT_GE(c.ctx.pc, xol_base);
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::amoadd);
    uprobes_trap_info info = {};
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(c.ctx.pc, sum::amoadd + 4);
    EXPECT_EQ(posts, 1);

    // Stopped after the displaced instruction ran, before the slot's ebreak.
    c.ctx.pc = sum::amoadd;
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.run(sum::tail, 1), cpu::outcome::step_limit);
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::amoadd + 4);
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_STOP);
    EXPECT_EQ(c.ctx.pc, sum::amoadd + 4);
    EXPECT_EQ(posts, 2);

    // About to take the return trampoline: shows the return address; a step returns.
    c.ctx.pc = sum::f;
    c.ctx.x[rv::ra] = sum::end;
    uint64_t sp = c.ctx.x[rv::sp];
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    c.ctx.pc = c.ctx.x[rv::ra];
    c.ctx.x[rv::sp] = sp;
    c.ctx.x[rv::a0] = 99;
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::end);
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_STOP);
    EXPECT_EQ(c.ctx.pc, sum::end);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits.back().retval, 99u);
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::end) << "outside the xol page: ctx->pc";
}

TEST_F(hit_path_test, fault_in_slot_is_moved_back_to_the_probed_pc) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    cpu c = thread_at(1, 1, sum::amoadd);
    c.ctx.x[rv::a2] = 0xdead0000; // the AMO will fault in the slot
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::fault);
    EXPECT_GE(c.ctx.pc, xol_base);
    EXPECT_EQ(uprobes_fixup_fault(&c.ctx), 1);
    EXPECT_EQ(c.ctx.pc, sum::amoadd);
    EXPECT_EQ(uprobes_fixup_fault(&c.ctx), 0);
}

} // namespace
} // namespace ruprobes::test

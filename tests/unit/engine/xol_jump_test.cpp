// Out-of-line slots that jump back: with the xol page within a jal's reach of the text, a hit on
// an instruction run out of line costs one trap (the slot is the instruction, then `jal x0` to
// the one after the probed one). A page out of reach, a post handler or a single-step keep the
// slot's ebreak (two traps). A thread in such a slot still stands for a program pc (debugger
// view, single-step, fault, fork, unregister, exit).
#include "engine_fixture.hpp"

#include "ruprobes/insn.hpp"

namespace ruprobes::test {
namespace {

// "/bin/twice": the same amoadd.w at two addresses (one slot content, two jal targets) and a
// 16-bit instruction run out of line.
namespace twice {
inline constexpr uint64_t first = 0x10000;  // amoadd.w a0, a1, (a2)
inline constexpr uint64_t second = 0x10008; // amoadd.w a0, a1, (a2)
inline constexpr uint64_t cfld = 0x10010;   // c.fld fa0, 0(a0)
inline constexpr uint32_t c_fld_fa0_a0 = 0x2108;

inline std::vector<uint8_t> image() {
    return host_machine::code({
        rv::amoadd_w(rv::a0, rv::a1, rv::a2), // 0x10000
        rv::c_nop,
        rv::c_nop,                            // 0x10004, 0x10006
        rv::amoadd_w(rv::a0, rv::a1, rv::a2), // 0x10008
        rv::c_nop,
        rv::c_nop, // 0x1000c, 0x1000e
        c_fld_fa0_a0,
        rv::c_nop, // 0x10010, 0x10012
    });
}
} // namespace twice

class xol_jump_test : public engine_test {
protected:
    void SetUp() override {
        engine_test::SetUp();
        machine.add_program("/bin/twice", twice::image());
        machine.xol_page_at = near_xol_base;
    }

    // Thread 1 of pid 1 with 40 at data_base, a1 = 2, a2 = data_base.
    cpu amo_thread(uint64_t pc) {
        uint32_t word = 40;
        EXPECT_TRUE(machine.write(1, data_base, &word, 4, perm_w));
        cpu c = thread_at(1, 1, pc);
        c.ctx.x[rv::a1] = 2;
        c.ctx.x[rv::a2] = data_base;
        return c;
    }

    uint32_t data_word() {
        uint32_t word = 0;
        EXPECT_TRUE(machine.read(1, data_base, &word, 4, perm_r));
        return word;
    }

    // The first thread's slot (slot 0 is the return trampoline).
    static uint64_t slot_of(uint64_t xol) { return xol + 16; }

    // The jal a slot at `slot` ends with for an instruction of `length` bytes probed at `site`.
    static uint32_t jal_back(uint64_t slot, uint64_t site, unsigned length) {
        return rv::jal(rv::zero, static_cast<int32_t>((site + length) - (slot + length)));
    }

    int post_probe(uint64_t addr, int* posts) {
        uprobes_probe_spec spec = {};
        spec.path = "/bin/sum";
        spec.addr = addr;
        spec.user = posts;
        spec.post_handler = [](uprobes_trap_context*, const uprobes_hit*, void* user) {
            ++*static_cast<int*>(user);
        };
        return uprobe_register_spec(&spec);
    }
};

TEST_F(xol_jump_test, near_page_slot_jumps_back_and_the_hit_costs_one_trap) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    cpu c = amo_thread(sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 1u);
    EXPECT_EQ(c.ctx.x[rv::a0], 40u);
    EXPECT_EQ(data_word(), 42u);
    EXPECT_EQ(hits.size(), 1u);
    uprobes_stats s = stats();
    EXPECT_EQ(s.out_of_line, 1u);
    EXPECT_EQ(s.traps, 1u);
    const uint64_t slot = slot_of(near_xol_base);
    EXPECT_EQ(machine.read32(1, slot), rv::amoadd_w(rv::a0, rv::a1, rv::a2));
    EXPECT_EQ(machine.read32(1, slot + 4), jal_back(slot, sum::amoadd, 4));
    EXPECT_EQ(machine.read32(1, near_xol_base), rv::ebreak) << "the return trampoline stays";

    // The same site again: the slot already holds it.
    uint64_t pokes = machine.pokes;
    c.ctx.pc = sum::amoadd;
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 2u);
    EXPECT_EQ(machine.pokes, pokes);
    EXPECT_EQ(data_word(), 44u);
}

TEST_F(xol_jump_test, one_instruction_at_two_sites_jumps_back_to_each) {
    ASSERT_EQ(machine.exec(1, "/bin/twice"), 0);
    ASSERT_GT(add_probe(twice::first, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, UPROBES_ANY_PID,
                        "/bin/twice"),
              0);
    ASSERT_GT(add_probe(twice::second, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, UPROBES_ANY_PID,
                        "/bin/twice"),
              0);
    cpu c = amo_thread(twice::first);
    ASSERT_EQ(c.run(twice::first + 4), cpu::outcome::reached);
    c.ctx.pc = twice::second;
    ASSERT_EQ(c.run(twice::second + 4), cpu::outcome::reached) << "not back after the first";
    c.ctx.pc = twice::first;
    ASSERT_EQ(c.run(twice::first + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 3u);
    EXPECT_EQ(data_word(), 46u);
    EXPECT_EQ(hits.size(), 3u);
}

TEST_F(xol_jump_test, compressed_instruction_is_followed_by_the_jal) {
    ASSERT_EQ(machine.exec(1, "/bin/twice"), 0);
    ASSERT_EQ(decode_bits(twice::c_fld_fa0_a0).cls, insn_class::out_of_line);
    ASSERT_GT(add_probe(twice::cfld, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, UPROBES_ANY_PID,
                        "/bin/twice"),
              0);
    cpu c = thread_at(1, 1, twice::cfld);
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    const uint64_t slot = slot_of(near_xol_base);
    EXPECT_EQ(c.ctx.pc, slot);
    EXPECT_EQ(machine.read16(1, slot), twice::c_fld_fa0_a0);
    EXPECT_EQ(machine.read32(1, slot + 2), jal_back(slot, twice::cfld, 2));
    // The jal, taken by the test CPU (it runs no FP), lands after the probed instruction.
    c.ctx.pc = slot + 2;
    ASSERT_EQ(c.run(twice::cfld + 2, 1), cpu::outcome::step_limit);
    EXPECT_EQ(c.ctx.pc, twice::cfld + 2);
}

TEST_F(xol_jump_test, page_out_of_jal_reach_keeps_the_ebreak_and_two_traps) {
    // The slot's jal would go back 0x1005c - 0x110010 = -0xfffb4 bytes (in reach) with the page
    // at 0x110000, -0x100fb4 (out of reach, > 1 MiB) with it at 0x111000.
    machine.xol_page_at = 0x110000;
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    cpu c = amo_thread(sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 1u);
    EXPECT_EQ(machine.read32(1, slot_of(0x110000) + 4),
              jal_back(slot_of(0x110000), sum::amoadd, 4));

    machine.xol_page_at = 0x111000;
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    c = amo_thread(sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 2u);
    EXPECT_EQ(machine.read32(1, slot_of(0x111000) + 4), rv::ebreak);
    EXPECT_EQ(data_word(), 42u);

    machine.xol_page_at = xol_base; // far above the text
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    c = amo_thread(sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 2u);
    EXPECT_EQ(machine.read32(1, slot_of(xol_base) + 4), rv::ebreak);
    EXPECT_EQ(hits.size(), 3u);
}

TEST_F(xol_jump_test, post_handler_keeps_the_ebreak_until_it_is_removed) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int posts = 0;
    int post = post_probe(sum::amoadd, &posts);
    ASSERT_GT(post, 0);
    cpu c = amo_thread(sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 2u);
    EXPECT_EQ(posts, 1);
    const uint64_t slot = slot_of(near_xol_base);
    EXPECT_EQ(machine.read32(1, slot + 4), rv::ebreak);

    ASSERT_EQ(uprobe_unregister(post), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    c.ctx.pc = sum::amoadd;
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 3u) << "the slot now jumps back";
    EXPECT_EQ(machine.read32(1, slot + 4), jal_back(slot, sum::amoadd, 4));
    EXPECT_EQ(posts, 1);
    EXPECT_EQ(data_word(), 44u);
}

TEST_F(xol_jump_test, single_step_keeps_the_ebreak_and_a_resume_jumps_back) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    const uint64_t slot = slot_of(near_xol_base);
    cpu c = amo_thread(sum::amoadd);
    uprobes_trap_info info = {};
    ASSERT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(machine.read32(1, slot + 4), rv::ebreak) << "a step ends with a trap";
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(c.ctx.pc, sum::amoadd + 4);

    // A stop-mode probe: the resume runs the instruction in a slot that jumps back.
    ASSERT_GT(add_probe(sum::amoadd, UPROBES_KIND_INSN, UPROBES_MODE_STOP), 0);
    c.ctx.pc = sum::amoadd;
    ASSERT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    EXPECT_EQ(c.ctx.pc, sum::amoadd);
    ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, slot);
    EXPECT_EQ(machine.read32(1, slot + 4), jal_back(slot, sum::amoadd, 4));
    uint64_t traps = c.traps;
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, traps);
    EXPECT_EQ(data_word(), 44u);
}

TEST_F(xol_jump_test, thread_stopped_in_the_slot_shows_and_steps_program_pcs) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    const uint64_t slot = slot_of(near_xol_base);
    uprobes_trap_info info = {};

    // At the slot's start: the probed instruction, not yet run. A step runs it once (no handler
    // again) and stops after it.
    cpu c = amo_thread(sum::amoadd);
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    ASSERT_EQ(c.ctx.pc, slot);
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::amoadd);
    EXPECT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(c.ctx.pc, slot) << "a resume lets the slot run";
    int action = uprobes_single_step(&c.ctx, &info);
    if (action == UPROBES_TRAP_HANDLED)
        EXPECT_EQ(c.run(sum::tail), cpu::outcome::stopped);
    else
        EXPECT_EQ(action, UPROBES_TRAP_STOP);
    EXPECT_EQ(c.ctx.pc, sum::amoadd + 4);
    EXPECT_EQ(data_word(), 42u) << "the instruction ran once";
    EXPECT_EQ(hits.size(), 1u);

    // On the slot's jal, the instruction ran: the next instruction; a step is the jal.
    c.ctx.pc = sum::amoadd;
    ASSERT_EQ(c.run(sum::tail, 2), cpu::outcome::step_limit); // the trap, then the AMO
    ASSERT_EQ(c.ctx.pc, slot + 4);
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::amoadd + 4);
    EXPECT_EQ(uprobes_single_step(&c.ctx, &info), UPROBES_TRAP_STOP);
    EXPECT_EQ(c.ctx.pc, sum::amoadd + 4);
    EXPECT_EQ(data_word(), 44u);

    // The step took the thread out of the slot: the slot's pcs are its own again.
    c.ctx.pc = slot;
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), slot);
    c.ctx.pc = sum::end;
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::end);
}

TEST_F(xol_jump_test, fault_of_the_slot_instruction_is_reported_at_the_site) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    const uint64_t slot = slot_of(near_xol_base);
    cpu c = thread_at(1, 1, sum::amoadd);
    c.ctx.x[rv::a2] = 0xdead0000; // the AMO faults in the slot
    EXPECT_EQ(c.run(sum::tail), cpu::outcome::fault);
    EXPECT_EQ(c.ctx.pc, slot);
    EXPECT_EQ(uprobes_fixup_fault(&c.ctx), 1);
    EXPECT_EQ(c.ctx.pc, sum::amoadd);
    EXPECT_EQ(uprobes_fixup_fault(&c.ctx), 0);

    // After a hit that jumped back, a fault elsewhere in the page is not the slot's.
    c = amo_thread(sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    c.ctx.pc = slot + 4;
    EXPECT_EQ(uprobes_fixup_fault(&c.ctx), 0);
    EXPECT_EQ(c.ctx.pc, slot + 4);
}

TEST_F(xol_jump_test, probe_removed_or_process_forked_while_a_thread_is_in_the_slot) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::amoadd);
    ASSERT_GT(id, 0);
    const uint64_t slot = slot_of(near_xol_base);
    cpu c = amo_thread(sum::amoadd);
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    ASSERT_EQ(c.ctx.pc, slot);

    // The forked child's copy of the thread stands in its copy of the slot: the same program pc,
    // and it runs the instruction and jumps back on its own.
    ASSERT_EQ(machine.fork(1, 1, 2, 2), 0);
    EXPECT_EQ(uprobes_program_pc(2, 2, &c.ctx), sum::amoadd);
    cpu child = c;
    machine.set_current(2, 2);
    ASSERT_EQ(child.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(child.traps, 0u);
    uint32_t word = 0;
    ASSERT_TRUE(machine.read(2, data_base, &word, 4, perm_r));
    EXPECT_EQ(word, 42u);

    // The probe goes away while the parent is in its slot: it still finishes the instruction.
    machine.set_current(1, 1);
    ASSERT_EQ(uprobe_unregister(id), 0);
    EXPECT_EQ(machine.read32(1, sum::amoadd), rv::amoadd_w(rv::a0, rv::a1, rv::a2));
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 0u);
    EXPECT_EQ(data_word(), 42u);

    // Exit while in the slot, then a new image: a clean slate.
    ASSERT_GT(add_probe(sum::amoadd), 0);
    c = amo_thread(sum::amoadd);
    ASSERT_EQ(uprobes_trap_handler(&c.ctx), UPROBES_TRAP_HANDLED);
    machine.exit(1);
    machine.exit(2);
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    c = amo_thread(sum::amoadd);
    EXPECT_EQ(uprobes_program_pc(1, 1, &c.ctx), sum::amoadd);
    ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
    EXPECT_EQ(c.traps, 1u);
    EXPECT_EQ(data_word(), 42u);
}

TEST_F(xol_jump_test, return_trampoline_works_in_a_near_page) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    cpu c = thread_at(1, 1, sum::main);
    c.ctx.x[rv::a0] = 3;
    ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 6u);
    ASSERT_EQ(hits.size(), 4u);
    EXPECT_EQ(hits.back().retval, 6u);
    EXPECT_EQ(stats().return_hits, 4u);
}

} // namespace
} // namespace ruprobes::test

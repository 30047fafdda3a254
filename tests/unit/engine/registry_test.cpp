// Probe registry and arming: validation and refusals, breakpoints written and restored through
// the port, several consumers per site, arming at exec, capacities.
#include "engine_fixture.hpp"

#include <map>

namespace ruprobes::test {
namespace {

using registry_test = engine_test;

TEST_F(registry_test, refusals_have_distinct_errors) {
    EXPECT_EQ(add_probe(sum::addi + 1), -UPROBES_E_ADDR_MISALIGNED);
    EXPECT_EQ(add_probe(sum::addi + 2), -UPROBES_E_ADDR_NOT_BOUNDARY);
    EXPECT_EQ(add_probe(sum::text_end), -UPROBES_E_ADDR_OUTSIDE_TEXT);
    EXPECT_EQ(add_probe(0x1000), -UPROBES_E_ADDR_OUTSIDE_TEXT);
    EXPECT_EQ(add_probe(sum::ecall), -UPROBES_E_INSN_ECALL);
    EXPECT_EQ(add_probe(sum::ebreak), -UPROBES_E_INSN_EBREAK);
    EXPECT_EQ(add_probe(sum::cebreak), -UPROBES_E_INSN_EBREAK);
    EXPECT_EQ(add_probe(sum::csr), -UPROBES_E_INSN_CSR);
    EXPECT_EQ(add_probe(sum::fence_i), -UPROBES_E_INSN_FENCE_I);
    EXPECT_EQ(add_probe(sum::lr), -UPROBES_E_INSN_LR_SC);
    EXPECT_EQ(add_probe(sum::wfi), -UPROBES_E_INSN_PRIVILEGED);
    EXPECT_EQ(add_probe(sum::unimp), -UPROBES_E_INSN_ILLEGAL);
    EXPECT_EQ(add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/none"),
              -UPROBES_E_NOT_FOUND);
    EXPECT_EQ(add_probe(sum::addi, 7), -UPROBES_E_INVALID_ARGUMENT);
    EXPECT_STREQ(uprobes_error_name(-UPROBES_E_INSN_LR_SC), "insn_lr_sc");
    uprobes_stats s = stats();
    EXPECT_EQ(s.probes_used, 0u);
    EXPECT_EQ(s.sites_used, 0u);
    EXPECT_EQ(s.programs_used, 0u) << "a failed registration leaves no program behind";
}

TEST_F(registry_test, accepts_every_instruction_class_it_can_displace) {
    for (uint64_t a : {sum::main, sum::addi, sum::caddi, sum::f, sum::f_ret, sum::amoadd, sum::cjr,
                       sum::load, sum::auipc, sum::tail})
        EXPECT_GT(add_probe(a), 0) << std::hex << a;
}

TEST_F(registry_test, arms_running_processes_and_restores_exact_bytes) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_EQ(machine.exec(2, "/bin/sum"), 0);
    uint32_t orig32 = machine.read32(1, sum::addi);
    uint32_t orig16 = machine.read16(1, sum::caddi);
    int a = add_probe(sum::addi);
    int b = add_probe(sum::caddi);
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    for (uint32_t pid : {1u, 2u}) {
        EXPECT_EQ(machine.read32(pid, sum::addi), 0x00100073u) << "ebreak over a 32-bit insn";
        EXPECT_EQ(machine.read16(pid, sum::caddi), 0x9002u) << "c.ebreak over a 16-bit insn";
        EXPECT_EQ(machine.read16(pid, sum::caddi + 2), 0x0001u) << "nothing past the c.ebreak";
    }
    EXPECT_GE(machine.flushes, 4u) << "every poke is followed by an icache flush";
    EXPECT_EQ(uprobe_unregister(a), 0);
    EXPECT_EQ(uprobe_unregister(b), 0);
    for (uint32_t pid : {1u, 2u}) {
        EXPECT_EQ(machine.read32(pid, sum::addi), orig32);
        EXPECT_EQ(machine.read16(pid, sum::caddi), orig16);
    }
    EXPECT_EQ(machine.process(1)->regions[0].bytes, sum::image());
    EXPECT_EQ(uprobe_unregister(a), -UPROBES_E_NOT_FOUND);
}

TEST_F(registry_test, later_exec_arms_and_exit_forgets) {
    int id = add_probe(sum::f);
    ASSERT_GT(id, 0);
    ASSERT_EQ(machine.exec(7, "/bin/sum"), 0);
    EXPECT_EQ(machine.read32(7, sum::f), 0x00100073u);
    EXPECT_EQ(stats().processes_used, 1u);
    machine.exit(7);
    EXPECT_EQ(stats().processes_used, 0u);
    EXPECT_EQ(uprobe_unregister(id), 0);
    EXPECT_EQ(stats().programs_used, 0u);
}

TEST_F(registry_test, shared_site_restored_only_by_last_consumer) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    uint32_t orig = machine.read32(1, sum::f);
    int a = add_probe(sum::f, UPROBES_KIND_ENTRY);
    int b = add_probe(sum::f, UPROBES_KIND_RETURN);
    int c = add_probe(sum::f, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    ASSERT_GT(c, 0);
    EXPECT_EQ(stats().sites_used, 1u);
    EXPECT_EQ(stats().probes_used, 3u);
    EXPECT_EQ(add_probe(sum::f, UPROBES_KIND_ENTRY), -UPROBES_E_ALREADY_EXISTS);
    EXPECT_EQ(uprobe_unregister(b), 0);
    EXPECT_EQ(machine.read32(1, sum::f), 0x00100073u);
    EXPECT_EQ(uprobe_unregister(a), 0);
    EXPECT_EQ(machine.read32(1, sum::f), 0x00100073u);
    EXPECT_EQ(uprobe_unregister(c), 0);
    EXPECT_EQ(machine.read32(1, sum::f), orig);
    EXPECT_EQ(stats().sites_used, 0u);
}

TEST_F(registry_test, pid_filter_arms_only_that_process) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_EQ(machine.exec(2, "/bin/sum"), 0);
    uint32_t orig = machine.read32(1, sum::addi);
    int a = add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP, 2);
    ASSERT_GT(a, 0);
    EXPECT_EQ(machine.read32(1, sum::addi), orig);
    EXPECT_EQ(machine.read32(2, sum::addi), 0x00100073u);
    int b = add_probe(sum::addi);
    ASSERT_GT(b, 0);
    EXPECT_EQ(machine.read32(1, sum::addi), 0x00100073u);
    EXPECT_EQ(uprobe_unregister(b), 0);
    EXPECT_EQ(machine.read32(1, sum::addi), orig) << "pid 1 lost its only probe";
    EXPECT_EQ(machine.read32(2, sum::addi), 0x00100073u) << "pid 2 keeps its own";
    EXPECT_EQ(uprobe_unregister(a), 0);
    EXPECT_EQ(machine.read32(2, sum::addi), orig);
}

TEST_F(registry_test, disarm_reports_changed_text_and_leaves_it) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::addi);
    ASSERT_GT(id, 0);
    uint32_t other = rv::addi(rv::a1, rv::a1, 5);
    ASSERT_TRUE(machine.write(1, sum::addi, &other, 4, 0)); // someone else rewrote the text
    EXPECT_EQ(uprobe_unregister(id), -UPROBES_E_TEXT_CHANGED);
    EXPECT_EQ(machine.read32(1, sum::addi), other);
    EXPECT_EQ(stats().probes_used, 0u) << "the probe is gone anyway";
}

// Exec arms neighbouring sites with one read and one write per 16 bytes of text, with the same
// per-site checks as arming one site: a site whose text differs is left alone and reported.
TEST_F(registry_test, exec_arms_neighbouring_sites_together) {
    constexpr int wide = 40, narrow = 20;
    std::vector<uint32_t> words;
    for (int i = 0; i < wide; i++)
        words.push_back(rv::addi(rv::a0, rv::a0, 1));
    for (int i = 0; i < narrow; i++)
        words.push_back(rv::c_addi(rv::a0, 1));
    std::vector<uint8_t> image;
    std::vector<uint64_t> sites;
    for (uint32_t w : words) {
        sites.push_back(text_base + image.size());
        unsigned n = (w & 3) == 3 ? 4 : 2;
        for (unsigned b = 0; b < n; b++)
            image.push_back(static_cast<uint8_t>(w >> (8 * b)));
    }
    machine.add_program("/bin/dense", image);
    std::vector<int> ids;
    for (uint64_t a : sites) {
        ids.push_back(
            add_probe(a, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, UPROBES_ANY_PID, "/bin/dense"));
        ASSERT_GT(ids.back(), 0);
    }
    // The image changes under one site after registration: that process's text differs there.
    const size_t changed = 5;
    uint32_t other = rv::addi(rv::a1, rv::a1, 3);
    for (int b = 0; b < 4; b++)
        machine.programs.at("/bin/dense").text[sites[changed] - text_base + b] =
            static_cast<uint8_t>(other >> (8 * b));

    uint64_t pokes = machine.pokes;
    EXPECT_EQ(machine.exec(1, "/bin/dense"), -UPROBES_E_TEXT_CHANGED);
    uint64_t used = machine.pokes - pokes;
    EXPECT_LE(used, 1u + (4 * wide + 2 * narrow) / 16 + 1) << "one poke per 16 bytes (+ xol)";
    for (size_t i = 0; i < sites.size(); i++) {
        if (i == changed)
            EXPECT_EQ(machine.read32(1, sites[i]), other) << "left alone";
        else if (i < wide)
            EXPECT_EQ(machine.read32(1, sites[i]), 0x00100073u) << i;
        else
            EXPECT_EQ(machine.read16(1, sites[i]), 0x9002u) << i;
    }
    // Every armed site hits and simulates.
    machine.set_current(1, 1);
    for (size_t i = 0; i < sites.size(); i++) {
        if (i == changed)
            continue;
        uprobes_trap_context ctx = {};
        ctx.pc = sites[i];
        ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED) << i;
        EXPECT_EQ(ctx.x[rv::a0], 1u);
        EXPECT_EQ(ctx.pc, sites[i] + (i < wide ? 4 : 2));
    }
    // And unregistering restores every byte but the changed one.
    for (size_t i = 0; i < ids.size(); i++)
        EXPECT_EQ(uprobe_unregister(ids[i]), i == changed ? -UPROBES_E_TEXT_CHANGED : 0) << i;
    for (size_t i = 0; i < sites.size(); i++)
        EXPECT_EQ(machine.read16(1, sites[i]), (i == changed ? other : words[i]) & 0xffff) << i;
}

TEST_F(registry_test, failed_poke_rolls_back_registration) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    machine.fail_pokes = true;
    EXPECT_EQ(add_probe(sum::addi), -UPROBES_E_PORT_FAILURE);
    machine.fail_pokes = false;
    EXPECT_EQ(stats().probes_used, 0u);
    EXPECT_EQ(stats().sites_used, 0u);
}

TEST_F(registry_test, iterate_lists_every_probe_once) {
    int a = add_probe(sum::f, UPROBES_KIND_RETURN, UPROBES_MODE_TRACE, 4);
    int b = add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    int c = add_probe(sum::caddi);
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    ASSERT_GT(c, 0);
    ASSERT_EQ(uprobe_unregister(c), 0);
    std::map<int, uprobes_probe_info> seen;
    uint32_t cursor = 0;
    uprobes_probe_info info;
    while (uprobe_iterate(&cursor, &info) == 1)
        EXPECT_TRUE(seen.emplace(info.id, info).second);
    EXPECT_EQ(uprobe_iterate(&cursor, &info), 0);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[a].addr, sum::f);
    EXPECT_EQ(seen[a].kind, UPROBES_KIND_RETURN);
    EXPECT_EQ(seen[a].pid, 4u);
    EXPECT_EQ(seen[a].cookie, sum::f);
    EXPECT_STREQ(seen[a].path, "/bin/sum");
    EXPECT_EQ(seen[b].mode, UPROBES_MODE_STOP);
}

class small_registry_test : public engine_test {
protected:
    const uprobes_limits* limits() override {
        l.max_probes = 3;
        l.max_sites = 2;
        l.max_programs = 2;
        return &l;
    }
    uprobes_limits l = {};
};

TEST_F(small_registry_test, capacity_is_fixed_and_reported) {
    uprobes_stats s = stats();
    EXPECT_EQ(s.limits.max_probes, 3u);
    EXPECT_EQ(s.limits.max_sites, 2u);
    EXPECT_EQ(s.limits.max_return_depth, 64u);
    EXPECT_GT(add_probe(sum::addi), 0);
    EXPECT_GT(add_probe(sum::f), 0);
    EXPECT_EQ(add_probe(sum::main), -UPROBES_E_NO_SPACE) << "third site";
    EXPECT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0) << "third probe on an existing site";
    EXPECT_EQ(add_probe(sum::f, UPROBES_KIND_ENTRY), -UPROBES_E_NO_SPACE) << "fourth probe";
    EXPECT_EQ(stats().probes_used, 3u);
}

TEST(engine_init_test, rejects_bad_limits_and_short_memory) {
    host_machine machine;
    uprobes_limits l = {};
    l.max_return_depth = 10;
    EXPECT_EQ(uprobes_memory_required(&l), 0u);
    alignas(16) static uint8_t block[4096];
    EXPECT_EQ(uprobes_engine_init(&l, block, sizeof(block)), -UPROBES_E_INVALID_ARGUMENT);
    EXPECT_EQ(uprobes_engine_init(nullptr, block, sizeof(block)), -UPROBES_E_NO_SPACE);
    EXPECT_EQ(uprobes_engine_init(nullptr, block + 1, sizeof(block) - 1),
              -UPROBES_E_INVALID_ARGUMENT);
    EXPECT_STREQ(ruprobes_version(), "0.1.0");
}

} // namespace
} // namespace ruprobes::test

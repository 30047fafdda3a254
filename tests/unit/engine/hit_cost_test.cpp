// The hit path allocates nothing and does no work proportional to the number of probes:
// pool usage is unchanged by any number of hits, and the number of hash slots examined per
// lookup is the same with 1 and with 10,000 armed probes.
#include "engine_fixture.hpp"

namespace ruprobes::test {
namespace {

constexpr uint32_t many = 10000;

// "/bin/wide": `many` + 1 instructions addi a0, a0, 1 followed by c.nop c.nop.
std::vector<uint8_t> wide_image() {
    std::vector<uint8_t> out;
    for (uint32_t i = 0; i <= many; i++) {
        uint32_t w = rv::addi(rv::a0, rv::a0, 1);
        for (int b = 0; b < 4; b++)
            out.push_back(static_cast<uint8_t>(w >> (8 * b)));
    }
    for (uint32_t w : {rv::c_nop, rv::c_nop})
        for (int b = 0; b < 2; b++)
            out.push_back(static_cast<uint8_t>(w >> (8 * b)));
    return out;
}

class hit_cost_test : public engine_test {
protected:
    const uprobes_limits* limits() override {
        l.max_probes = many + 16;
        return &l;
    }
    void SetUp() override {
        engine_test::SetUp();
        machine.add_program("/bin/wide", wide_image());
        ASSERT_EQ(machine.exec(1, "/bin/wide"), 0);
    }

    // Traps once at every armed site in `addrs` (each a simulated addi), `rounds` times; returns
    // the hash slots examined per lookup.
    double slots_per_lookup(const std::vector<uint64_t>& addrs, int rounds) {
        machine.set_current(1, 1);
        uprobes_stats before = stats();
        for (int r = 0; r < rounds; r++) {
            for (uint64_t a : addrs) {
                uprobes_trap_context ctx = {};
                ctx.pc = a;
                EXPECT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
                EXPECT_EQ(ctx.pc, a + 4);
                EXPECT_EQ(ctx.x[rv::a0], 1u);
            }
        }
        uprobes_stats after = stats();
        uint64_t lookups = after.lookups - before.lookups;
        EXPECT_EQ(lookups, addrs.size() * rounds);
        return double(after.lookup_slots - before.lookup_slots) / double(lookups);
    }

    uprobes_limits l = {};
};

// Every lookup below misses the last-site cache: hits alternate between sites (two, then every
// armed one round-robin), so the hash table itself answers each of them.
TEST_F(hit_cost_test, lookup_work_does_not_grow_with_probe_count) {
    const std::vector<uint64_t> two = {text_base, text_base + 4};
    for (uint64_t a : two)
        ASSERT_GT(add_probe(a, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/wide"), 0);
    double with_two = slots_per_lookup(two, 100);

    std::vector<uint64_t> all = two;
    for (uint32_t i = 2; i < many; i++) {
        uint64_t a = text_base + 4ull * i;
        ASSERT_GT(add_probe(a, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/wide"), 0) << i;
        all.push_back(a);
    }
    EXPECT_EQ(stats().sites_used, many);
    double with_many = slots_per_lookup(all, 1);
    // Load factor <= 1/2 with linear probing: ~1.5 expected; bounded whatever the count.
    EXPECT_LE(with_many, 2.0) << "slots examined per lookup with " << many << " probes";
    // The same two sites cost no more slots than before the other 9,998 were added, up to the
    // collisions the fuller table may put in their way.
    double again = slots_per_lookup(two, 100);
    EXPECT_LE(again, with_two + 1.0) << "two sites: " << with_two << " slots, then " << again;
}

TEST_F(hit_cost_test, hits_take_nothing_from_the_pools) {
    // Every kind of hit: simulated insn, out-of-line (none in /bin/wide: use /bin/sum), return.
    ASSERT_EQ(machine.exec(2, "/bin/sum"), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_ENTRY), 0);
    ASSERT_GT(add_probe(sum::f, UPROBES_KIND_RETURN), 0);
    ASSERT_GT(add_probe(sum::amoadd), 0);
    ASSERT_GT(add_probe(text_base, UPROBES_KIND_INSN, UPROBES_MODE_TRACE, 0, "/bin/wide"), 0);

    auto one_round = [&] {
        cpu c = thread_at(2, 2, sum::main);
        c.ctx.x[rv::a0] = 20;
        ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
        c.ctx.pc = sum::amoadd;
        c.ctx.x[rv::a2] = data_base;
        ASSERT_EQ(c.run(sum::amoadd + 4), cpu::outcome::reached);
        machine.set_current(1, 1);
        uprobes_trap_context ctx = {};
        ctx.pc = text_base;
        ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
    };
    one_round(); // the first hit of a thread creates its record (return stack, xol slot)
    uprobes_stats before = stats();
    for (int i = 0; i < 1000; i++)
        one_round();
    uprobes_stats after = stats();
    EXPECT_EQ(after.hits - before.hits, 1000u * (21 + 21 + 1 + 1));
    EXPECT_EQ(after.probes_used, before.probes_used);
    EXPECT_EQ(after.sites_used, before.sites_used);
    EXPECT_EQ(after.programs_used, before.programs_used);
    EXPECT_EQ(after.processes_used, before.processes_used);
    EXPECT_EQ(after.threads_used, before.threads_used);
    EXPECT_EQ(after.return_skipped, 0u);
}

} // namespace
} // namespace ruprobes::test

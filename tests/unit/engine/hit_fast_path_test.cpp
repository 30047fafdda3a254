// The hit path's shortcuts behave exactly like the general path: a site with one plain consumer
// is served from its hot line (site_hot) and common instructions run inline (fast_op), while a
// site with several consumers goes through the consumer list and simulate(). Thousands of random
// simulate-class instructions are hit under both and compared register by register with
// simulate() itself (which the differential test checks against real execution).
#include "engine_fixture.hpp"
#include "ruprobes/simulate.hpp"
#include "ruprobes/site_index.hpp"

#include <map>
#include <random>
#include <set>

namespace ruprobes::test {
namespace {

constexpr uint32_t sites = 1500;

bool touches_memory(opcode op) {
    return (op >= opcode::lb && op <= opcode::sd);
}

// `sites` random instructions that the engine simulates without memory (every integer ALU,
// upper-immediate, jump and branch form, compressed and not), as a linear stream.
struct random_program {
    std::vector<uint8_t> bytes;
    std::vector<uint64_t> addrs;
    std::vector<decoded_insn> insns;

    explicit random_program(uint32_t seed) {
        std::mt19937 rng(seed);
        std::set<opcode> inline_forms;
        uint32_t others = 0;
        while (addrs.size() < sites) {
            uint32_t bits = static_cast<uint32_t>(rng());
            if (rng() % 3 == 0)
                bits &= 0xffff; // a compressed candidate when the low bits are not 11
            if (rng() % 4 != 0) {
                // Bias toward the forms the hit path runs inline: OP-IMM, OP-IMM-32, OP, OP-32,
                // LUI, AUIPC, JAL, JALR, BRANCH (spec table 24.1), funct7 0, 0x20 or M.
                static const uint32_t opcodes[] = {0x13, 0x1b, 0x33, 0x3b, 0x37,
                                                   0x17, 0x6f, 0x67, 0x63};
                static const uint32_t funct7s[] = {0x00, 0x20, 0x01};
                bits = (bits & ~0x7fu) | opcodes[rng() % 9];
                uint32_t opc = bits & 0x7f;
                if (opc == 0x33 || opc == 0x3b || (rng() % 2 == 0 && (opc == 0x13 || opc == 0x1b)))
                    bits = (bits & ~(0x7fu << 25)) | funct7s[rng() % 3] << 25;
                if (opc == 0x67)
                    bits &= ~(0x7u << 12); // jalr
            }
            decoded_insn d = decode_bits(bits);
            if (d.cls != insn_class::simulate || touches_memory(d.op))
                continue;
            opcode op = d.op;
            if ((op >= opcode::lui && op <= opcode::bgeu) ||
                (op >= opcode::addi && op <= opcode::sraw) || op == opcode::fence)
                inline_forms.insert(op);
            else
                others++;
            addrs.push_back(text_base + bytes.size());
            insns.push_back(d);
            for (unsigned b = 0; b < d.length; b++)
                bytes.push_back(static_cast<uint8_t>(bits >> (8 * b)));
        }
        EXPECT_GE(inline_forms.size(), 38u) << "every inline form is drawn (fence may not be)";
        EXPECT_GT(others, 50u) << "and forms that go through simulate() (M)";
    }
};

class hit_fast_path_test : public engine_test {
protected:
    const uprobes_limits* limits() override {
        l.max_probes = 2 * sites + 16;
        return &l;
    }

    int add_spec(uint64_t addr, uint64_t cookie, uprobes_handler_fn handler = nullptr,
                 void* user = nullptr) {
        uprobes_probe_spec spec = {};
        spec.path = "/bin/random";
        spec.addr = addr;
        spec.cookie = cookie;
        spec.handler = handler;
        spec.user = user;
        return uprobe_register_spec(&spec);
    }

    // Hits every site with random registers (x0 of the context holds garbage, which must be
    // neither read nor written) and compares with simulate() on a copy.
    void hit_all_and_compare(const random_program& prog, std::mt19937_64& rng) {
        machine.set_current(1, 1);
        for (size_t i = 0; i < prog.addrs.size(); i++) {
            for (int round = 0; round < 3; round++) {
                uprobes_trap_context ctx = {};
                for (auto& x : ctx.x)
                    x = rng();
                if (round == 1)
                    for (auto& x : ctx.x)
                        x = static_cast<uint64_t>(static_cast<int64_t>(x) >> 40); // small values
                ctx.pc = prog.addrs[i];
                register_file expected;
                for (int r = 0; r < 32; r++)
                    expected.x[r] = ctx.x[r];
                result<uint64_t> next = simulate(prog.insns[i], ctx.pc, expected, nullptr_port);
                ASSERT_TRUE(next.ok());
                ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
                char text[64];
                format_insn(prog.insns[i], text, sizeof text);
                ASSERT_EQ(ctx.pc, *next) << text;
                for (int r = 0; r < 32; r++)
                    ASSERT_EQ(ctx.x[r], expected.x[r]) << text << " x" << r;
            }
        }
    }

    struct no_memory final : memory_port {
    } nullptr_port;
    uprobes_limits l = {};
};

TEST_F(hit_fast_path_test, one_consumer_and_several_consumers_execute_like_simulate) {
    random_program prog(2024);
    machine.add_program("/bin/random", prog.bytes);
    ASSERT_EQ(machine.exec(1, "/bin/random"), 0);
    std::vector<int> first;
    for (uint64_t a : prog.addrs) {
        first.push_back(add_spec(a, a));
        ASSERT_GT(first.back(), 0);
    }
    std::mt19937_64 rng(7);
    hit_all_and_compare(prog, rng); // one plain consumer per site: the hot line alone
    uint64_t simulated = stats().simulated;
    EXPECT_EQ(simulated, 3u * sites);
    EXPECT_EQ(hits.size(), 3u * sites);
    EXPECT_EQ(stats().hits, 3u * sites);

    // A second consumer at every site: the general path.
    for (uint64_t a : prog.addrs)
        ASSERT_GT(add_spec(a, a + 1), 0);
    hits.clear();
    hit_all_and_compare(prog, rng);
    EXPECT_EQ(hits.size(), 6u * sites);
    EXPECT_EQ(stats().simulated, simulated + 3u * sites);

    // Back to one consumer: the hot line again, hit counts carried on.
    for (int id : first)
        ASSERT_EQ(uprobe_unregister(id), 0);
    hits.clear();
    hit_all_and_compare(prog, rng);
    ASSERT_EQ(hits.size(), 3u * sites);
    EXPECT_EQ(hits.back().cookie, prog.addrs.back() + 1);
    EXPECT_EQ(hits.back().hit_count, 6u);
}

TEST_F(hit_fast_path_test, single_consumer_record_handler_and_counts) {
    random_program prog(99);
    machine.add_program("/bin/random", prog.bytes);
    ASSERT_EQ(machine.exec(1, "/bin/random"), 0);
    struct seen_t {
        int calls = 0;
        uprobes_hit last = {};
    } seen;
    auto handler = [](uprobes_trap_context* ctx, const uprobes_hit* hit, void* user) {
        auto* s = static_cast<seen_t*>(user);
        s->calls++;
        s->last = *hit;
        EXPECT_EQ(ctx->pc, hit->pc) << "the handler runs before the displaced instruction";
    };
    uint64_t addr = prog.addrs[10];
    int id = add_spec(addr, 4242, handler, &seen);
    ASSERT_GT(id, 0);
    machine.set_current(1, 3);
    machine.clock_ns = 5555;
    for (uint64_t n = 1; n <= 3; n++) {
        uprobes_trap_context ctx = {};
        for (int r = 1; r < 32; r++)
            ctx.x[r] = 100 * n + r;
        ctx.pc = addr;
        uprobes_trap_info info = {};
        ASSERT_EQ(uprobes_trap_handler_ex(&ctx, &info), UPROBES_TRAP_HANDLED);
        EXPECT_EQ(info.action, UPROBES_TRAP_HANDLED);
        ASSERT_EQ(seen.calls, static_cast<int>(n));
        ASSERT_EQ(hits.size(), n);
        for (const uprobes_hit* h : {&seen.last, &hits.back()}) {
            EXPECT_EQ(h->probe_id, static_cast<uint32_t>(id));
            EXPECT_EQ(h->kind, UPROBES_KIND_INSN);
            EXPECT_EQ(h->mode, UPROBES_MODE_TRACE);
            EXPECT_EQ(h->flags, 0u);
            EXPECT_EQ(h->pid, 1u);
            EXPECT_EQ(h->tid, 3u);
            EXPECT_EQ(h->pc, addr);
            EXPECT_EQ(h->time_ns, 5554u + n) << "one time stamp per trap";
            for (int k = 0; k < 8; k++)
                EXPECT_EQ(h->a[k], 100 * n + 10 + k);
            EXPECT_EQ(h->sp, 100 * n + 2);
            EXPECT_EQ(h->ra, 100 * n + 1);
            EXPECT_EQ(h->retval, 0u);
            EXPECT_EQ(h->cookie, 4242u);
            EXPECT_EQ(h->hit_count, n);
        }
    }
    EXPECT_EQ(uprobe_hit_count(id), 3);

    // A pid filter for another process: no hit, the instruction still runs.
    ASSERT_EQ(uprobe_unregister(id), 0);
    uprobes_probe_spec spec = {};
    spec.path = "/bin/random";
    spec.addr = addr;
    spec.pid = 9;
    ASSERT_GT(uprobe_register_spec(&spec), 0);
    ASSERT_EQ(machine.exec(9, "/bin/random"), 0);
    machine.set_current(1, 1);
    uprobes_trap_context ctx = {};
    ctx.pc = addr;
    ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(hits.size(), 3u);
    machine.set_current(9, 9);
    ctx.pc = addr;
    ASSERT_EQ(uprobes_trap_handler(&ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(hits.size(), 4u);
}

TEST_F(hit_fast_path_test, single_stop_probe_stops_before_the_instruction) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    int id = add_probe(sum::addi, UPROBES_KIND_INSN, UPROBES_MODE_STOP);
    ASSERT_GT(id, 0);
    machine.set_current(1, 1);
    uprobes_trap_context ctx = {};
    ctx.pc = sum::addi;
    ctx.x[rv::a0] = 5;
    uprobes_trap_info info = {};
    ASSERT_EQ(uprobes_trap_handler_ex(&ctx, &info), UPROBES_TRAP_STOP);
    EXPECT_EQ(info.probe_id, static_cast<uint32_t>(id));
    EXPECT_EQ(ctx.pc, sum::addi);
    EXPECT_EQ(ctx.x[rv::a0], 5u);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].mode, UPROBES_MODE_STOP);
    ASSERT_EQ(uprobes_resume(&ctx), UPROBES_TRAP_HANDLED);
    EXPECT_EQ(ctx.pc, sum::addi + 4);
    EXPECT_EQ(ctx.x[rv::a0], 6u);
    EXPECT_EQ(hits.size(), 1u) << "resume runs no handlers";
}

// Entry and return probes on one site: served from the hot line when the return probe is for
// every pid (the return is hijacked after the entry handlers, before a stop), by the general path
// when it has a pid filter; both report the same.
TEST_F(hit_fast_path_test, entry_and_return_on_one_site_stop_then_return) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    for (uint32_t return_pid : {uint32_t{UPROBES_ANY_PID}, 1u}) {
        hits.clear();
        int entry = add_probe(sum::f, UPROBES_KIND_ENTRY, UPROBES_MODE_STOP);
        int ret = add_probe(sum::f, UPROBES_KIND_RETURN, UPROBES_MODE_TRACE, return_pid);
        ASSERT_GT(entry, 0);
        ASSERT_GT(ret, 0);
        cpu c = thread_at(1, 1, sum::main);
        c.ctx.x[rv::a0] = 3;
        int stops = 0;
        cpu::outcome o;
        while ((o = c.run(sum::end)) == cpu::outcome::stopped) {
            stops++;
            EXPECT_EQ(c.ctx.pc, sum::f);
            EXPECT_EQ(c.last_info.probe_id, static_cast<uint32_t>(entry));
            EXPECT_EQ(c.ctx.x[rv::ra], xol_base) << "hijacked before the stop";
            ASSERT_EQ(uprobes_resume(&c.ctx), UPROBES_TRAP_HANDLED);
        }
        ASSERT_EQ(o, cpu::outcome::reached);
        EXPECT_EQ(stops, 4) << "f(3), f(2), f(1), f(0)";
        EXPECT_EQ(c.ctx.x[rv::a0], 6u);
        EXPECT_EQ(c.ctx.x[rv::ra], sum::end);
        std::vector<uint64_t> returns;
        int entries = 0;
        for (const uprobes_hit& h : hits) {
            if (h.kind == UPROBES_KIND_RETURN) {
                EXPECT_EQ(h.probe_id, static_cast<uint32_t>(ret));
                EXPECT_NE(h.flags & UPROBES_HIT_RETURN_VALUE, 0u);
                returns.push_back(h.retval);
            } else {
                EXPECT_EQ(h.probe_id, static_cast<uint32_t>(entry));
                EXPECT_EQ(h.mode, UPROBES_MODE_STOP);
                EXPECT_EQ(h.hit_count, static_cast<uint64_t>(++entries));
            }
        }
        EXPECT_EQ(entries, 4);
        EXPECT_EQ(returns, (std::vector<uint64_t>{0, 1, 3, 6})) << "pid filter " << return_pid;
        EXPECT_EQ(uprobe_unregister(entry), 0);
        EXPECT_EQ(uprobe_unregister(ret), 0);
    }
}

// The hit table (site_index): random inserts and erases against std::map, with a tiny table so
// that probe runs wrap around its end and deletions shift them.
TEST(site_index_test, matches_a_reference_map_under_random_inserts_and_erases) {
    constexpr uint32_t capacity = 40;
    const uint32_t slots = site_index::slots_for(capacity);
    std::vector<site_index::slot> memory(slots);
    site_index table;
    table.attach(memory.data(), slots);
    std::map<uint64_t, uint32_t> reference; // addr -> site
    std::vector<uint64_t> key_of(capacity, 0);
    std::vector<uint32_t> free_sites;
    for (uint32_t s = capacity; s-- > 0;)
        free_sites.push_back(s);
    std::mt19937_64 rng(4321);
    uint64_t examined = 0;
    for (int step = 0; step < 100000; step++) {
        uint64_t addr = 0x10000 + 2 * (rng() % 90);
        auto it = reference.find(addr);
        if (rng() % 2 == 0) {
            if (it == reference.end() && !free_sites.empty()) {
                uint32_t s = free_sites.back();
                free_sites.pop_back();
                ASSERT_TRUE(table.insert(site_index::hash(5, addr), s).ok());
                reference[addr] = s;
                key_of[s] = addr;
            }
        } else if (it != reference.end()) {
            EXPECT_TRUE(table.erase(site_index::hash(5, addr), it->second));
            EXPECT_FALSE(table.erase(site_index::hash(5, addr), it->second));
            free_sites.push_back(it->second);
            reference.erase(it);
        }
        ASSERT_EQ(table.size(), reference.size());
        if (step % 53 == 0) {
            for (uint64_t a = 0x10000; a < 0x10000 + 2 * 90; a += 2) {
                uint32_t found = table.find(
                    site_index::hash(5, a),
                    [&](uint32_t s) { return key_of[s] == a && reference.count(a) != 0; },
                    &examined);
                auto r = reference.find(a);
                ASSERT_EQ(found != site_index::empty, r != reference.end()) << std::hex << a;
                if (found != site_index::empty) {
                    EXPECT_EQ(found, r->second);
                }
                EXPECT_EQ(table.find(
                              site_index::hash(6, a), [&](uint32_t) { return false; }, &examined),
                          site_index::empty)
                    << "a key that matches nothing";
            }
        }
    }
    EXPECT_EQ(table.insert(1, 1).ok(), reference.size() + 1 <= slots / 2);
}

TEST(site_index_test, consecutive_addresses_spread_over_the_table) {
    constexpr uint32_t count = 10000;
    const uint32_t slots = site_index::slots_for(count);
    std::vector<site_index::slot> memory(slots);
    site_index table;
    table.attach(memory.data(), slots);
    for (uint32_t i = 0; i < count; i++)
        ASSERT_TRUE(table.insert(site_index::hash(0, 0x10000 + 4 * i), i).ok());
    uint64_t examined = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t a = 0x10000 + 4 * i;
        ASSERT_EQ(table.find(
                      site_index::hash(0, a), [&](uint32_t s) { return s == i; }, &examined),
                  i);
    }
    // The lookup and its home slot, plus the slots beyond it that find() counted.
    EXPECT_LE(double(count + examined) / count, 1.5);
}

// A free slot never answers a lookup, whatever the tag: find() compares the home slot's tag
// before its site, so a free slot's tag must never name that slot as its home, also after erases.
TEST(site_index_test, a_free_slot_never_matches_a_tag) {
    constexpr uint32_t slots = 16;
    std::vector<site_index::slot> memory(slots);
    site_index table;
    table.attach(memory.data(), slots);
    const auto probe_every_tag = [&](const char* when) {
        uint64_t examined = 0;
        for (uint32_t home = 0; home < slots; home++) {
            for (uint32_t low : {0u, 1u, 0x0fffffffu}) {
                const uint32_t tag = home << 28 | low; // 16 slots: the top 4 bits are the home
                uint32_t found = table.find(
                    tag,
                    [&](uint32_t s) {
                        EXPECT_NE(s, site_index::empty) << when;
                        return false;
                    },
                    &examined);
                EXPECT_EQ(found, site_index::empty) << when << " tag " << std::hex << tag;
            }
        }
    };
    probe_every_tag("empty");
    for (uint32_t i = 0; i < 8; i++)
        ASSERT_TRUE(table.insert(0x12345678u * (i + 1), i).ok());
    for (uint32_t i = 0; i < 8; i++)
        ASSERT_TRUE(table.erase(0x12345678u * (i + 1), i));
    probe_every_tag("after erases");
}

} // namespace
} // namespace ruprobes::test

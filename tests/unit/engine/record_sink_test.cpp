// The record sink (uprobes_set_record_sink): a trace-mode hit on the hot path with no handler and
// a cookie of 0 is written once, straight into the sink's storage; every other hit still goes to
// the hit sink; a sink out of room loses the record and nothing else.
#include "engine_fixture.hpp"

#include <cstring>

namespace ruprobes::test {
namespace {

struct record_sink {
    std::vector<uprobes_hit_record> committed;
    uprobes_hit_record slot = {};
    bool full = false;
    bool reserved = false; // a record reserved and not committed yet
    uint64_t next_seq = 1;
    int refused = 0;

    static uprobes_hit_record* reserve(void* user) {
        auto* s = static_cast<record_sink*>(user);
        EXPECT_FALSE(s->reserved) << "reserve twice without commit";
        if (s->full) {
            s->refused++;
            return nullptr;
        }
        std::memset(&s->slot, 0xa5, sizeof s->slot); // whatever the slot held before
        s->slot.seq = s->next_seq;
        s->reserved = true;
        return &s->slot;
    }
    static void commit(uprobes_hit_record* r, void* user) {
        auto* s = static_cast<record_sink*>(user);
        EXPECT_EQ(r, &s->slot);
        EXPECT_TRUE(s->reserved);
        s->reserved = false;
        s->next_seq++;
        s->committed.push_back(*r);
    }
};

class record_sink_test : public engine_test {
protected:
    void SetUp() override {
        engine_test::SetUp();
        uprobes_set_record_sink(&record_sink::reserve, &record_sink::commit, &records);
    }
    void TearDown() override {
        uprobes_set_record_sink(nullptr, nullptr, nullptr);
        engine_test::TearDown();
    }

    int add(uint64_t addr, uint64_t cookie, uint8_t mode = UPROBES_MODE_TRACE) {
        uprobes_probe_spec spec = {};
        spec.path = "/bin/sum";
        spec.addr = addr;
        spec.kind = UPROBES_KIND_INSN;
        spec.mode = mode;
        spec.pid = UPROBES_ANY_PID;
        spec.cookie = cookie;
        return uprobe_register_spec(&spec);
    }

    record_sink records;
};

TEST_F(record_sink_test, a_plain_trace_hit_is_written_into_the_sink_once) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    const int id = add(sum::addi, 0);
    ASSERT_GT(id, 0);
    for (int i = 0; i < 2; i++) { // the first hit, and one the last-site line answers
        cpu c = thread_at(1, 7, sum::addi);
        c.ctx.x[rv::a0] = 41 + i;
        c.ctx.x[rv::a1] = 0x1111;
        c.ctx.x[rv::a7] = 0x7777;
        c.ctx.x[rv::ra] = 0x4242;
        ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
        EXPECT_EQ(c.ctx.x[rv::a0], 42u + i); // the instruction ran
    }
    EXPECT_TRUE(hits.empty()) << "the hit sink gets no copy";
    ASSERT_EQ(records.committed.size(), 2u);
    for (size_t i = 0; i < 2; i++) {
        const uprobes_hit_record& r = records.committed[i];
        EXPECT_EQ(r.seq, 1 + i);
        EXPECT_EQ(r.probe_id, static_cast<uint32_t>(id));
        EXPECT_EQ(r.kind, UPROBES_KIND_INSN);
        EXPECT_EQ(r.flags, 0u);
        EXPECT_EQ(r.reserved, 0u);
        EXPECT_EQ(r.pid, 1u);
        EXPECT_EQ(r.tid, 7u);
        EXPECT_EQ(r.pc, sum::addi);
        EXPECT_EQ(r.a[0], 41u + i);
        EXPECT_EQ(r.a[1], 0x1111u);
        EXPECT_EQ(r.a[7], 0x7777u);
        EXPECT_EQ(r.sp, stack_top - 64);
        EXPECT_EQ(r.ra, 0x4242u);
        EXPECT_EQ(r.ret, 0u);
        EXPECT_NE(r.time_ns, 0xa5a5a5a5a5a5a5a5u);
    }
    EXPECT_EQ(stats().hits, 2u);
}

TEST_F(record_sink_test, hits_with_a_cookie_or_stop_mode_go_to_the_hit_sink) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add(sum::addi, 99), 0);
    cpu c = thread_at(1, 1, sum::addi);
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].cookie, 99u);
    EXPECT_TRUE(records.committed.empty());

    ASSERT_GT(add(sum::caddi, 0, UPROBES_MODE_STOP), 0);
    cpu s = thread_at(1, 2, sum::caddi);
    EXPECT_EQ(s.run(sum::end), cpu::outcome::stopped);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[1].pc, sum::caddi);
    EXPECT_TRUE(records.committed.empty());
}

// A handler sees the context and may move the pc: its probe's hits go to the handler and the
// hit sink, never into the record sink, and a redirect skips the displaced instruction.
TEST_F(record_sink_test, a_probe_with_a_handler_is_not_written_into_the_sink) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    uprobes_probe_spec spec = {};
    spec.path = "/bin/sum";
    spec.addr = sum::addi;
    spec.kind = UPROBES_KIND_INSN;
    spec.mode = UPROBES_MODE_TRACE;
    spec.pid = UPROBES_ANY_PID;
    spec.handler = [](uprobes_trap_context* ctx, const uprobes_hit*, void* user) {
        if (*static_cast<bool*>(user))
            ctx->pc = sum::caddi; // skip the addi
    };
    bool redirect = false;
    spec.user = &redirect;
    ASSERT_GT(uprobe_register_spec(&spec), 0);
    for (int i = 0; i < 2; i++) { // the addi runs, then the handler skips it
        redirect = i == 1;
        cpu c = thread_at(1, 1, sum::addi);
        c.ctx.x[rv::a0] = 1;
        ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
        EXPECT_EQ(c.ctx.x[rv::a0], redirect ? 1u : 2u);
    }
    EXPECT_EQ(hits.size(), 2u);
    EXPECT_TRUE(records.committed.empty());
    EXPECT_EQ(stats().hits, 2u);
}

TEST_F(record_sink_test, a_full_sink_loses_the_record_and_the_thread_goes_on) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add(sum::addi, 0), 0);
    records.full = true;
    cpu c = thread_at(1, 1, sum::addi);
    c.ctx.x[rv::a0] = 1;
    ASSERT_EQ(c.run(sum::caddi), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 2u);
    EXPECT_EQ(records.refused, 1);
    EXPECT_TRUE(records.committed.empty());
    EXPECT_TRUE(hits.empty());
    EXPECT_EQ(stats().hits, 1u);
}

} // namespace
} // namespace ruprobes::test

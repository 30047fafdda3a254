// The record sink (uprobes_set_record_sink): a trace-mode hit on the hot path with no handler and
// a cookie of 0 is written once, straight into the sink's storage, and so is the return of a
// site's only return probe of that kind; every other hit still goes to the hit sink; a sink out
// of room loses the record and nothing else.
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

    int add(uint64_t addr, uint64_t cookie, uint8_t mode = UPROBES_MODE_TRACE,
            uint8_t kind = UPROBES_KIND_INSN, uint32_t pid = UPROBES_ANY_PID) {
        return add_probe_with_cookie(addr, cookie, kind, mode, pid);
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

// Entry and return probes on f, both writing records: main -> f(10) makes 11 entry records,
// then 11 return records, innermost return first, each written once into the sink.
TEST_F(record_sink_test, a_traced_return_is_written_into_the_sink_once) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    const int entry = add(sum::f, 0, UPROBES_MODE_TRACE, UPROBES_KIND_ENTRY);
    const int ret = add(sum::f, 0, UPROBES_MODE_TRACE, UPROBES_KIND_RETURN);
    ASSERT_GT(entry, 0);
    ASSERT_GT(ret, 0);
    cpu c = thread_at(1, 7, sum::main);
    c.ctx.x[rv::a0] = 10;
    ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 55u);
    EXPECT_EQ(c.ctx.x[rv::ra], sum::end);
    EXPECT_TRUE(hits.empty()) << "the hit sink gets no copy";
    ASSERT_EQ(records.committed.size(), 22u);
    for (size_t i = 0; i < 22; i++) {
        const uprobes_hit_record& r = records.committed[i];
        EXPECT_EQ(r.seq, 1 + i);
        EXPECT_EQ(r.pid, 1u);
        EXPECT_EQ(r.tid, 7u);
        EXPECT_EQ(r.pc, sum::f);
        EXPECT_EQ(r.reserved, 0u);
        if (i < 11) {
            EXPECT_EQ(r.probe_id, static_cast<uint32_t>(entry));
            EXPECT_EQ(r.kind, UPROBES_KIND_ENTRY);
            EXPECT_EQ(r.flags, 0u);
            EXPECT_EQ(r.a[0], 10u - i); // f(10) first
            continue;
        }
        const uint64_t k = i - 11; // f(0) returns first
        EXPECT_EQ(r.probe_id, static_cast<uint32_t>(ret));
        EXPECT_EQ(r.kind, UPROBES_KIND_RETURN);
        EXPECT_EQ(r.flags, UPROBES_HIT_RETURN_VALUE);
        EXPECT_EQ(r.ret, k * (k + 1) / 2);
        EXPECT_EQ(r.a[0], r.ret);
        EXPECT_EQ(r.a[1], 0u);
        // The real return address (not the trampoline), and the sp the function had at entry.
        EXPECT_EQ(r.ra, k == 10 ? sum::end : sum::f_add);
        EXPECT_EQ(r.sp, records.committed[21 - i].sp) << "the entry's sp";
        EXPECT_NE(r.time_ns, 0xa5a5a5a5a5a5a5a5u);
    }
    EXPECT_EQ(uprobe_hit_count(ret), 11);
    uprobes_stats s = stats();
    EXPECT_EQ(s.hits, 22u);
    EXPECT_EQ(s.return_hits, 11u);
}

// A return whose probe needs a record of its own (a cookie, a pid filter, a handler: not the
// sink's layout or not for every pid) goes to the hit sink, and so does every return of a site
// with two return probes.
TEST_F(record_sink_test, a_return_probe_the_sink_cannot_take_goes_to_the_hit_sink) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    struct variant {
        uint64_t cookie;
        uint32_t pid;
        bool two;
    };
    for (const variant v : {variant{5, UPROBES_ANY_PID, false}, variant{0, 1, false},
                            variant{0, UPROBES_ANY_PID, true}}) {
        hits.clear();
        records.committed.clear();
        const int ret = add(sum::f, v.cookie, UPROBES_MODE_TRACE, UPROBES_KIND_RETURN, v.pid);
        ASSERT_GT(ret, 0);
        const int second = v.two ? add(sum::f, 9, UPROBES_MODE_TRACE, UPROBES_KIND_RETURN) : 0;
        cpu c = thread_at(1, 1, sum::main);
        c.ctx.x[rv::a0] = 2;
        ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
        EXPECT_EQ(c.ctx.x[rv::a0], 3u);
        EXPECT_TRUE(records.committed.empty()) << v.cookie << " " << v.pid << " " << v.two;
        ASSERT_EQ(hits.size(), v.two ? 6u : 3u);
        EXPECT_EQ(hits.back().kind, UPROBES_KIND_RETURN);
        EXPECT_EQ(hits.back().retval, 3u);
        EXPECT_EQ(hits.back().ra, sum::end);
        ASSERT_EQ(uprobe_unregister(ret), 0);
        if (second > 0) {
            ASSERT_EQ(uprobe_unregister(second), 0);
        }
    }
}

// A return probe removed while its function runs: the return still goes to the real address,
// and nothing is recorded for it (the site's entry probe keeps the site).
TEST_F(record_sink_test, a_return_whose_probe_was_removed_records_nothing) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    ASSERT_GT(add(sum::f, 0, UPROBES_MODE_TRACE, UPROBES_KIND_ENTRY), 0);
    const int ret = add(sum::f, 0, UPROBES_MODE_TRACE, UPROBES_KIND_RETURN);
    ASSERT_GT(ret, 0);
    cpu c = thread_at(1, 1, sum::main);
    c.ctx.x[rv::a0] = 0;
    ASSERT_EQ(c.run(sum::f + 4), cpu::outcome::reached); // entered f: ra is the trampoline
    ASSERT_EQ(uprobe_unregister(ret), 0);
    ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::ra], sum::end);
    ASSERT_EQ(records.committed.size(), 1u);
    EXPECT_EQ(records.committed[0].kind, UPROBES_KIND_ENTRY);
    EXPECT_TRUE(hits.empty());
    EXPECT_EQ(stats().return_hits, 1u);
}

// A sink out of room at the return: the record is lost (counted by the sink), the return and
// its hit count are not.
TEST_F(record_sink_test, a_full_sink_loses_the_return_record_and_the_thread_returns) {
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    const int ret = add(sum::f, 0, UPROBES_MODE_TRACE, UPROBES_KIND_RETURN);
    ASSERT_GT(ret, 0);
    records.full = true;
    cpu c = thread_at(1, 1, sum::main);
    c.ctx.x[rv::a0] = 1;
    ASSERT_EQ(c.run(sum::end), cpu::outcome::reached);
    EXPECT_EQ(c.ctx.x[rv::a0], 1u);
    EXPECT_EQ(records.refused, 2);
    EXPECT_TRUE(records.committed.empty());
    EXPECT_TRUE(hits.empty());
    EXPECT_EQ(uprobe_hit_count(ret), 2);
    EXPECT_EQ(stats().return_hits, 2u);
}

} // namespace
} // namespace ruprobes::test

// The lock-free hit path (uprobes_trap_handler_concurrent) on real threads: four hit threads,
// one per hart, trap on probed sites at the same time, with and without a fifth thread that
// registers and unregisters probes and execs and exits processes meanwhile (taking the engine's
// lock, a real mutex in the host port). Every trap is HANDLED, or RETRY with nothing changed and
// then handled by the locked uprobes_trap_handler_thread as a kernel does; the registers, the
// probes' hit counts, the engine's counters (summed over the harts) and the records in the
// record sink are exact.
#include "engine_fixture.hpp"

#include <atomic>
#include <barrier>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>

namespace ruprobes::test {
namespace {

constexpr uint32_t harts = 4;

// What one hit thread saw.
struct hart_log {
    uint64_t traps = 0;   // traps taken
    uint64_t retried = 0; // of which the lock-free path answered RETRY (the locked one handled)
    uint64_t bad = 0;     // not HANDLED in the end, a RETRY that changed ctx, wrong registers
    // The thread's records, checked as they are committed: record `i` must be the one `expect`
    // says (a trap's index is in a0, so a lost or repeated record is a mismatch).
    uint64_t records = 0, wrong_records = 0;
    std::function<bool(const uprobes_hit_record&, uint64_t)> expect;
    uprobes_hit_record slot = {};
    bool reserved = false;
    std::atomic<uint64_t>* retries_seen = nullptr; // every RETRY counted here too, if set
};

// A record sink (and a hit sink) with one slot per thread: reserve and commit run on the trapping
// thread (the lock-free path's contract: on its hart, without the engine's lock), so each thread
// writes only its own and the sink needs no lock. A thread without one (the writer) must never
// reserve.
struct thread_sink {
    static thread_local hart_log* log;
    static std::atomic<uint64_t> strays;

    static uprobes_hit_record* reserve(void*) {
        if (log == nullptr || log->reserved) {
            strays.fetch_add(1, std::memory_order_relaxed);
            return nullptr;
        }
        log->reserved = true;
        std::memset(&log->slot, 0xa5, sizeof log->slot);
        return &log->slot;
    }
    static void commit(uprobes_hit_record* r, void*) {
        if (log == nullptr || !log->reserved || r != &log->slot) {
            strays.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        log->reserved = false;
        take(*r);
    }
    // The hit sink, for the hits the record sink does not take (the locked path's hits of a site
    // with two probes): under the engine's lock, on the trapping thread, taken as a record.
    static void hit(const uprobes_hit* h, void*) {
        if (log == nullptr) {
            strays.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        uprobes_hit_record r = {};
        r.pid = h->pid;
        r.tid = h->tid;
        r.pc = h->pc;
        r.probe_id = h->probe_id;
        r.kind = h->kind;
        r.flags = static_cast<uint8_t>(h->flags);
        std::memcpy(r.a, h->a, sizeof r.a);
        r.sp = h->sp;
        r.ra = h->ra;
        r.ret = h->retval;
        take(r);
    }
    static void take(const uprobes_hit_record& r) {
        if (!log->expect(r, log->records))
            log->wrong_records++;
        log->records++;
    }
};

thread_local hart_log* thread_sink::log = nullptr;
std::atomic<uint64_t> thread_sink::strays{0};

class concurrent_hit_test : public engine_test {
protected:
    void SetUp() override {
        engine_test::SetUp();
        // The fixture's hit sink is one vector: not for several threads.
        uprobes_set_hit_sink(&thread_sink::hit, nullptr);
        uprobes_set_record_sink(&thread_sink::reserve, &thread_sink::commit, nullptr);
        thread_sink::strays = 0;
    }
    void TearDown() override {
        uprobes_set_record_sink(nullptr, nullptr, nullptr);
        EXPECT_EQ(thread_sink::strays.load(), 0u) << "a record outside a hit thread";
        engine_test::TearDown();
    }

    // A trace-mode probe whose hits the record sink takes (no handler, cookie 0).
    int add(uint64_t addr, uint8_t kind = UPROBES_KIND_INSN, uint32_t pid = UPROBES_ANY_PID) {
        return add_probe_with_cookie(addr, 0, kind, UPROBES_MODE_TRACE, pid);
    }

    // One trap as a kernel takes it: the lock-free handler on `hart`, and on RETRY (which must
    // have left ctx as it was) the locked one. Returns the final action.
    static int trap(uprobes_trap_context& ctx, uint32_t pid, uint32_t tid, uint32_t hart,
                    hart_log& log) {
        log.traps++;
        const uprobes_trap_context before = ctx;
        uprobes_trap_info info = {};
        int action = uprobes_trap_handler_concurrent(&ctx, pid, tid, hart);
        if (action == UPROBES_TRAP_HANDLED)
            return action;
        if (action != UPROBES_TRAP_RETRY || std::memcmp(&ctx, &before, sizeof ctx) != 0) {
            log.bad++;
            return action;
        }
        log.retried++;
        if (log.retries_seen != nullptr)
            log.retries_seen->fetch_add(1, std::memory_order_relaxed);
        return uprobes_trap_handler_thread(&ctx, pid, tid, &info);
    }

    // Hart `hart` runs two processes by turns (pid_of: threads 1 + hart and 1 + hart + harts),
    // each of which hits the probed `addi a0, a0, 1` at sum::addi, then the probed
    // `auipc a0, 1` at sum::auipc: no trap finds its process and site in the hart's caches, all
    // look them up in the tables the writers change. At least `n` rounds, and on while `more`;
    // every trap's registers are checked and its record too (a0 before the trap: the round's
    // index, then that plus 1).
    static uint32_t pid_of(uint32_t hart, uint64_t round) {
        return 1 + hart + (round % 2 == 0 ? 0 : harts);
    }
    static void hit_sites(uint32_t hart, const uint32_t probes[2], uint64_t n,
                          const std::atomic<bool>* more, hart_log& log) {
        log.expect = [hart, addi = probes[0], auipc = probes[1]](const uprobes_hit_record& r,
                                                                 uint64_t i) {
            const uint32_t pid = pid_of(hart, i / 2);
            const bool first = i % 2 == 0;
            return r.a[0] == i / 2 + (first ? 0 : 1) && r.pid == pid && r.tid == pid &&
                   r.pc == (first ? sum::addi : sum::auipc) &&
                   r.probe_id == (first ? addi : auipc) && r.kind == UPROBES_KIND_INSN &&
                   r.flags == 0;
        };
        thread_sink::log = &log;
        for (uint64_t i = 0; i < n || (more != nullptr && more->load(std::memory_order_relaxed));
             i++) {
            const uint32_t pid = pid_of(hart, i);
            uprobes_trap_context ctx = {};
            for (uint32_t r = 1; r < 32; r++)
                ctx.x[r] = uint64_t{r} << 32 | hart;
            ctx.x[rv::a0] = i;
            ctx.pc = sum::addi;
            uprobes_trap_context expect = ctx;
            expect.x[rv::a0] = i + 1;
            expect.pc = sum::addi + 4;
            if (trap(ctx, pid, pid, hart, log) != UPROBES_TRAP_HANDLED ||
                std::memcmp(&ctx, &expect, sizeof ctx) != 0)
                log.bad++;
            ctx.pc = sum::auipc;
            expect.x[rv::a0] = sum::auipc + 0x1000;
            expect.pc = sum::auipc + 4;
            if (trap(ctx, pid, pid, hart, log) != UPROBES_TRAP_HANDLED ||
                std::memcmp(&ctx, &expect, sizeof ctx) != 0)
                log.bad++;
        }
        thread_sink::log = nullptr;
    }

    // Two processes per hart, and the two probes hit_sites() hits.
    void start_processes_and_probes(uint32_t probes[2]) {
        for (uint32_t pid = 1; pid <= 2 * harts; pid++)
            ASSERT_EQ(machine.exec(pid, "/bin/sum"), 0);
        const int addi = add(sum::addi), auipc = add(sum::auipc);
        ASSERT_GT(addi, 0);
        ASSERT_GT(auipc, 0);
        probes[0] = static_cast<uint32_t>(addi);
        probes[1] = static_cast<uint32_t>(auipc);
    }

    // Each hart's records are its traps in order: a[0] the trap's index, nothing lost or twice.
    static void expect_records(const hart_log& log, uint64_t traps) {
        EXPECT_EQ(log.records, traps);
        EXPECT_EQ(log.wrong_records, 0u);
    }

    // Runs hart(k) on a thread of its own for each hart k, and `writer` (if any) on one more,
    // all started together; returns when all have ended.
    static void run_on_harts(const std::function<void(uint32_t)>& hart,
                             const std::function<void()>& writer = nullptr) {
        std::barrier start(harts + (writer ? 1 : 0));
        std::vector<std::thread> threads;
        for (uint32_t k = 0; k < harts; k++) {
            threads.emplace_back([&, k] {
                start.arrive_and_wait();
                hart(k);
            });
        }
        if (writer) {
            threads.emplace_back([&] {
                start.arrive_and_wait();
                writer();
            });
        }
        for (std::thread& t : threads)
            t.join();
    }
};

TEST_F(concurrent_hit_test, four_harts_hit_two_sites_exactly) {
    constexpr uint64_t n = 100000;
    uint32_t probes[2] = {};
    ASSERT_NO_FATAL_FAILURE(start_processes_and_probes(probes));
    const uprobes_stats before = stats();
    hart_log logs[harts];
    run_on_harts([&](uint32_t k) { hit_sites(k, probes, n, nullptr, logs[k]); });
    for (uint32_t k = 0; k < harts; k++) {
        EXPECT_EQ(logs[k].traps, 2 * n);
        EXPECT_EQ(logs[k].bad, 0u) << "hart " << k;
        EXPECT_EQ(logs[k].retried, 0u) << "no writer: the lock-free path handles every hit";
        expect_records(logs[k], logs[k].traps);
    }
    EXPECT_EQ(uprobe_hit_count(static_cast<int>(probes[0])), int64_t{harts * n});
    EXPECT_EQ(uprobe_hit_count(static_cast<int>(probes[1])), int64_t{harts * n});
    const uprobes_stats after = stats();
    EXPECT_EQ(after.hits - before.hits, 2 * harts * n);
    EXPECT_EQ(after.traps - before.traps, 2 * harts * n);
    EXPECT_EQ(after.simulated - before.simulated, 2 * harts * n);
}

TEST_F(concurrent_hit_test, hits_stay_exact_while_a_writer_changes_the_tables) {
    constexpr uint64_t n = 50000;
    // At least this many rounds, and on until the harts have retried (a trap met a write) a few
    // times: the writer and the hits did overlap.
    constexpr int rounds = 1000;
    constexpr int max_rounds = 50000;
    uint32_t probes[2] = {};
    ASSERT_NO_FATAL_FAILURE(start_processes_and_probes(probes));
    machine.add_program("/bin/other", sum::image());
    const uint32_t caddi = machine.read16(1, sum::caddi);
    const uprobes_stats before = stats();
    hart_log logs[harts];
    std::atomic<bool> writing{true};
    std::atomic<uint64_t> retries_seen{0};
    for (hart_log& log : logs)
        log.retries_seen = &retries_seen;
    int round = 0;
    int writer_failures = 0;
    // The writer, every round: a second probe of the program registered and unregistered, on
    // another site (armed and restored in the eight processes) or, every third round, on the
    // hits' own site for a process that does not run it (the site's hot line rewritten twice:
    // meanwhile hits there take the locked path, and fire only the first probe); and an
    // unrelated process exec'd and exited.
    const auto writer = [&] {
        for (; round < max_rounds && (round < rounds || retries_seen.load() < harts); round++) {
            const int other = round % 3 == 2 ? add(sum::addi, UPROBES_KIND_INSN, 100)
                                             : add(sum::caddi, round % 3 == 0 ? UPROBES_KIND_INSN
                                                                              : UPROBES_KIND_ENTRY);
            if (other <= 0 || uprobe_unregister(other) != 0)
                writer_failures++;
            if (machine.exec(100, "/bin/other") != 0)
                writer_failures++;
            machine.exit(100);
        }
        writing = false;
    };
    run_on_harts([&](uint32_t k) { hit_sites(k, probes, n, &writing, logs[k]); }, writer);
    EXPECT_EQ(writer_failures, 0);
    EXPECT_LT(round, max_rounds) << "no trap met a write";
    uint64_t traps = 0, retried = 0;
    for (uint32_t k = 0; k < harts; k++) {
        EXPECT_GE(logs[k].traps, 2 * n);
        EXPECT_EQ(logs[k].bad, 0u) << "hart " << k;
        expect_records(logs[k], logs[k].traps);
        traps += logs[k].traps;
        retried += logs[k].retried;
    }
    EXPECT_LT(retried, traps) << "the lock-free path handled hits while the writer ran";
    EXPECT_EQ(uprobe_hit_count(static_cast<int>(probes[0])) +
                  uprobe_hit_count(static_cast<int>(probes[1])),
              static_cast<int64_t>(traps));
    EXPECT_EQ(uprobe_hit_count(static_cast<int>(probes[0])),
              uprobe_hit_count(static_cast<int>(probes[1])));
    const uprobes_stats after = stats();
    EXPECT_EQ(after.hits - before.hits, traps);
    EXPECT_EQ(after.traps - before.traps, traps);
    for (uint32_t pid = 1; pid <= 2 * harts; pid++)
        EXPECT_EQ(machine.read16(pid, sum::caddi), caddi) << "the text is restored";
    std::printf("concurrent_hit_test: %d writer rounds, %llu traps, %llu retried\n", round,
                static_cast<unsigned long long>(traps), static_cast<unsigned long long>(retried));
}

TEST_F(concurrent_hit_test, return_probes_push_and_pop_on_four_harts) {
    constexpr uint64_t n = 50000;
    constexpr uint64_t sp = stack_top - 256;
    ASSERT_EQ(machine.exec(1, "/bin/sum"), 0);
    const uint64_t trampoline = machine.process(1)->xol;
    ASSERT_NE(trampoline, 0u);
    const int entry = add(sum::f, UPROBES_KIND_ENTRY);
    const int ret = add(sum::f, UPROBES_KIND_RETURN);
    ASSERT_GT(entry, 0);
    ASSERT_GT(ret, 0);
    const uprobes_stats before = stats();
    hart_log logs[harts];
    // Hart k traps as thread 10 + k of process 1: its first entry has no thread record yet (the
    // lock-free path creates none, so it retries and the locked path creates it).
    run_on_harts([&](uint32_t k) {
        hart_log& log = logs[k];
        const uint32_t tid = 10 + k;
        // Entry and return records alternate: the entry's a0 the index, the return's a0
        // (its value) three times it.
        log.expect = [&, tid](const uprobes_hit_record& r, uint64_t i) {
            const bool in = i % 2 == 0;
            return r.pid == 1 && r.tid == tid && r.pc == sum::f &&
                   (in ? r.kind == UPROBES_KIND_ENTRY && r.a[0] == i / 2 &&
                             r.probe_id == static_cast<uint32_t>(entry)
                       : r.kind == UPROBES_KIND_RETURN && r.ret == i / 2 * 3 &&
                             r.probe_id == static_cast<uint32_t>(ret) && r.ra == sum::end &&
                             r.flags == UPROBES_HIT_RETURN_VALUE);
        };
        thread_sink::log = &log;
        for (uint64_t i = 0; i < n; i++) {
            uprobes_trap_context ctx = {};
            ctx.pc = sum::f;
            ctx.x[rv::ra] = sum::end;
            ctx.x[rv::sp] = sp;
            ctx.x[rv::a0] = i;
            // The entry: addi sp, sp, -16 runs, ra points at the trampoline.
            if (trap(ctx, 1, tid, k, log) != UPROBES_TRAP_HANDLED || ctx.pc != sum::f + 4 ||
                ctx.x[rv::sp] != sp - 16 || ctx.x[rv::ra] != trampoline) {
                log.bad++;
                continue;
            }
            // The function returns (sp back, a0 the value) through the trampoline.
            ctx.x[rv::sp] = sp;
            ctx.x[rv::a0] = i * 3;
            ctx.pc = ctx.x[rv::ra];
            if (trap(ctx, 1, tid, k, log) != UPROBES_TRAP_HANDLED || ctx.pc != sum::end ||
                ctx.x[rv::ra] != sum::end)
                log.bad++;
        }
        thread_sink::log = nullptr;
    });
    uint64_t retried = 0;
    for (uint32_t k = 0; k < harts; k++) {
        const hart_log& log = logs[k];
        EXPECT_EQ(log.traps, 2 * n);
        EXPECT_EQ(log.bad, 0u) << "hart " << k;
        // A thread's first entry, and at most one trap per other thread's first entry (its
        // record's creation is a write that no section may overlap).
        EXPECT_LE(log.retried, harts) << "hart " << k;
        retried += log.retried;
        expect_records(log, 2 * n);
    }
    EXPECT_GE(retried, harts) << "each thread's first entry retried";
    EXPECT_EQ(uprobe_hit_count(entry), int64_t{harts * n});
    EXPECT_EQ(uprobe_hit_count(ret), int64_t{harts * n});
    const uprobes_stats after = stats();
    EXPECT_EQ(after.return_hits - before.return_hits, harts * n);
    EXPECT_EQ(after.hits - before.hits, 2 * harts * n);
    EXPECT_EQ(after.traps - before.traps, 2 * harts * n);
    EXPECT_EQ(after.return_dropped - before.return_dropped, 0u);
    EXPECT_EQ(after.return_skipped - before.return_skipped, 0u);
    EXPECT_EQ(after.threads_used, harts);
}

} // namespace
} // namespace ruprobes::test

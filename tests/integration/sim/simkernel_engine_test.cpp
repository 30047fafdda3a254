// The simulated kernel runs the guest's real /bin/fib on the engine's simulator and takes its
// breakpoint traps into the engine through the public C ABI: exact probe counts, text restored,
// stop-mode probes with stop / registers / resume / step, several processes round robin, and a
// clear kill for an instruction the simulator does not run.
#include "sim_kernel.hpp"

#include "ruprobes_test/paths.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

constexpr uint32_t fib15_calls = 1973; // fib(15) by plain recursion

struct sim_fixture : ::testing::Test {
    std::string console;
    std::string log;
    sim::kernel k{config(37)}; // a short quantum: processes switch mid-function

    sim::kernel_config config(uint32_t quantum = 10'000) {
        sim::kernel_config c;
        c.programs_dir = ruprobes::test::user_dir;
        c.quantum = quantum;
        c.console = [this](std::string_view text) { console.append(text); };
        c.log = [this](std::string_view text) { log.append(text); };
        return c;
    }

    uint64_t fib_addr() {
        const sim::program_image* image = k.programs().find("/bin/fib");
        EXPECT_NE(image, nullptr);
        auto addr = sim::program_store::symbol(*image, "fib");
        EXPECT_TRUE(addr.has_value());
        return addr.value_or(0);
    }

    int add_probe(uint64_t addr, uint8_t kind, uint8_t mode = UPROBES_MODE_TRACE) {
        uprobes_probe_spec spec = {};
        spec.path = "/bin/fib";
        spec.addr = addr;
        spec.kind = kind;
        spec.mode = mode;
        return uprobe_register_spec(&spec);
    }

    // Runs the scheduler until `done()` or 10 million quanta.
    template <typename F>
    void run_until(F done) {
        for (int i = 0; i < 10'000'000 && !done(); i++) {
            if (!k.run_next() && !done()) {
                break;
            }
        }
    }

    // True once `pid` exited (orphans are reaped at once).
    bool gone(long pid) {
        const sim::process* p = k.find(static_cast<uint32_t>(pid));
        return p == nullptr || !p->live();
    }

    // The raw bytes of the text of `pid` (no memory view: what the CPU fetches).
    std::vector<uint8_t> raw_text(uint32_t pid) {
        const sim::program_image* image = k.programs().find("/bin/fib");
        std::vector<uint8_t> bytes(image->text_end - image->text_begin);
        sim::process* p = k.find(pid);
        EXPECT_TRUE(p != nullptr &&
                    p->memory.read(image->text_begin, bytes.data(), bytes.size(), 0));
        return bytes;
    }
    std::vector<uint8_t> image_text() {
        const sim::program_image* image = k.programs().find("/bin/fib");
        std::vector<uint8_t> bytes(image->text_end - image->text_begin);
        EXPECT_TRUE(
            sim::program_store::read(*image, image->text_begin, bytes.data(), bytes.size()));
        return bytes;
    }
};

TEST_F(sim_fixture, fib15_entry_and_return_probes_count_exactly_and_text_is_restored) {
    const uint64_t fib = fib_addr();
    const int entry = add_probe(fib, UPROBES_KIND_ENTRY);
    const int ret = add_probe(fib, UPROBES_KIND_RETURN);
    ASSERT_GT(entry, 0);
    ASSERT_GT(ret, 0);
    // A second fib held at its first instruction keeps the armed text alive after the first exits.
    const long holder = k.spawn("/bin/fib", {"fib", "15"}, 0, true);
    const long runner = k.spawn("/bin/fib", {"fib", "15"});
    ASSERT_GT(holder, 0);
    ASSERT_GT(runner, 0);
    EXPECT_NE(raw_text(static_cast<uint32_t>(holder)), image_text()); // armed: breakpoints in it
    run_until([&] { return gone(runner); });

    EXPECT_EQ(console, "fib(15) = 610\n");
    EXPECT_EQ(uprobe_hit_count(entry), fib15_calls);
    EXPECT_EQ(uprobe_hit_count(ret), fib15_calls);
    uprobes_stats stats;
    uprobes_get_stats(&stats);
    EXPECT_EQ(stats.return_hits, fib15_calls);
    EXPECT_EQ(stats.return_skipped, 0u);

    EXPECT_EQ(uprobe_unregister(entry), 0);
    EXPECT_EQ(uprobe_unregister(ret), 0);
    EXPECT_EQ(raw_text(static_cast<uint32_t>(holder)), image_text());
    EXPECT_EQ(k.kill(static_cast<uint32_t>(holder), sim::sig::kill), 0);
}

TEST_F(sim_fixture, probes_registered_before_exec_fire_in_every_process_round_robin) {
    const int entry = add_probe(fib_addr(), UPROBES_KIND_ENTRY);
    ASSERT_GT(entry, 0);
    std::vector<long> pids;
    for (int i = 0; i < 3; i++) {
        pids.push_back(k.spawn("/bin/fib", {"fib", "15", "610"}));
    }
    run_until([&] { return k.live_count() == 0; });
    EXPECT_EQ(console, "fib(15) = 610\nfib(15) = 610\nfib(15) = 610\n");
    EXPECT_EQ(uprobe_hit_count(entry), 3 * fib15_calls);
    EXPECT_NE(log.find("exited with status 0"), std::string::npos);
    EXPECT_EQ(log.find("exited with status 3"), std::string::npos);
}

TEST_F(sim_fixture, stop_mode_probe_stops_one_process_while_another_runs) {
    std::vector<std::pair<uint32_t, sim::stop_reason>> stops;
    sim::process_listener listener;
    listener.stopped = [&](uint32_t pid, sim::stop_reason reason, uint32_t) {
        stops.emplace_back(pid, reason);
    };
    k.set_listener(&listener);
    k.set_debugger_present(true);
    const uint64_t fib = fib_addr();
    const long debugged = k.spawn("/bin/fib", {"fib", "5"}, 0, true);
    ASSERT_GT(debugged, 0);
    uprobes_probe_spec spec = {};
    spec.path = "/bin/fib";
    spec.addr = fib;
    spec.kind = UPROBES_KIND_INSN;
    spec.mode = UPROBES_MODE_STOP;
    spec.pid = static_cast<uint32_t>(debugged);
    const int stop_probe = uprobe_register_spec(&spec);
    ASSERT_GT(stop_probe, 0);
    const long other = k.spawn("/bin/fib", {"fib", "12"});
    const auto pid = static_cast<uint32_t>(debugged);
    ASSERT_EQ(k.resume(pid, false), 0);

    run_until([&] { return !stops.empty() && gone(other); });
    ASSERT_EQ(stops.size(), 1u);
    EXPECT_EQ(stops[0].first, pid);
    EXPECT_EQ(stops[0].second, sim::stop_reason::probe);
    EXPECT_EQ(console, "fib(12) = 144\n"); // the other process ran to its end meanwhile
    uprobes_trap_context* regs = k.registers(pid);
    ASSERT_NE(regs, nullptr);
    EXPECT_EQ(regs->pc, fib);
    EXPECT_EQ(regs->x[10], 5u); // a0: fib(5)

    // One single step over the probed instruction, then the next call stops again.
    ASSERT_EQ(k.resume(pid, true), 0);
    run_until([&] { return stops.size() == 2; });
    ASSERT_EQ(stops.size(), 2u);
    EXPECT_EQ(stops[1].second, sim::stop_reason::step);
    EXPECT_NE(k.registers(pid)->pc, fib);
    ASSERT_EQ(k.resume(pid, false), 0);
    run_until([&] { return stops.size() == 3; });
    ASSERT_EQ(stops.size(), 3u);
    EXPECT_EQ(k.registers(pid)->x[10], 4u); // fib(4)

    EXPECT_EQ(uprobe_unregister(stop_probe), 0);
    ASSERT_EQ(k.resume(pid, false), 0);
    run_until([&] { return k.live_count() == 0; });
    EXPECT_EQ(console, "fib(12) = 144\nfib(5) = 5\n");
    k.set_listener(nullptr);
}

TEST_F(sim_fixture, an_instruction_the_simulator_cannot_run_kills_the_process_with_a_message) {
    ASSERT_GT(k.spawn("/bin/fpu", {"fpu"}), 0);
    run_until([&] { return k.live_count() == 0; });
    EXPECT_NE(log.find("the simulated CPU cannot execute 'f"), std::string::npos) << log;
    EXPECT_NE(log.find("killed by signal 4"), std::string::npos) << log;
}

TEST_F(sim_fixture, unknown_programs_and_bad_system_calls_are_errors_not_crashes) {
    EXPECT_EQ(k.spawn("/bin/no-such-program", {}), -sim::err::noent);
    EXPECT_EQ(k.spawn("../../etc/passwd", {}), -sim::err::noent);
    EXPECT_EQ(k.kill(12345, sim::sig::kill), -sim::err::srch);
    EXPECT_LT(add_probe(0x10, UPROBES_KIND_ENTRY), 0); // outside the text
    // The process table is bounded: spawn (and fork) say EAGAIN when it is full.
    for (size_t i = 0; i < sim::max_processes; i++) {
        ASSERT_GT(k.spawn("/bin/fib", {"fib", "1"}, 0, true), 0);
    }
    EXPECT_EQ(k.spawn("/bin/fib", {"fib", "1"}, 0, true), -sim::err::again);
}

} // namespace

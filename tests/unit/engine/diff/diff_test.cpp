// Differential test of the engine's decoder and simulator against real RV64GC execution:
// generated cases run for real in diff_harness under qemu-riscv64, and every
// resulting register file, memory window, next pc and fault must equal what simulate() computes.
// Cases the decoder calls illegal must raise SIGILL and out-of-line ones must execute.
//
// Seed: RUPROBES_DIFF_SEED (default fixed, printed). Cases: RUPROBES_DIFF_CASES (random cases,
// default 80000; the exhaustive sweep of the 16-bit space comes on top).
#include "case_gen.hpp"
#include "diff_format.hpp"
#include "sim_case.hpp"

#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace {

using namespace ruprobes::diff;

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string describe(const ruprobes::decoded_insn& d) {
    char text[64];
    ruprobes::format_insn(d, text, sizeof text);
    std::ostringstream s;
    s << "'" << text << "'" << (d.compressed() ? " (c)" : "") << " rd=x" << int(d.rd) << " rs1=x"
      << int(d.rs1) << " rs2=x" << int(d.rs2) << " imm=" << d.imm << " raw=" << hex(d.raw);
    return s.str();
}

// Compares one case; returns an empty string when it matches, else what differs.
std::string compare(const case_in& in, const case_out& real) {
    const auto d = ruprobes::decode_bits(in.insn);
    std::ostringstream why;
    if (in.kind == kind_illegal) {
        if (real.signal != SIGILL || real.pc != insn_addr)
            why << "decoder: illegal; cpu: signal " << real.signal << " at " << hex(real.pc);
        return why.str();
    }
    if (in.kind == kind_out_of_line) {
        if (real.signal != SIGTRAP || real.pc != insn_addr + d.length)
            why << "decoder: valid out-of-line; cpu: signal " << real.signal << " at "
                << hex(real.pc);
        return why.str();
    }
    const sim_outcome sim = simulate_case(in);
    if (digest(sim) != real.sim_digest)
        why << "the riscv64 build of the simulator disagrees with the host build; ";
    const auto& regs = sim.regs;
    const auto& mem = sim.mem;
    const auto& fault = sim.fault;
    const ruprobes::result<uint64_t> next = sim.status == ruprobes::error::ok
                                                ? ruprobes::result<uint64_t>(sim.next)
                                                : ruprobes::result<uint64_t>(sim.status);
    if (next.ok()) {
        const bool inside_code = *next >= code_base && *next < code_base + code_size;
        // Jumps out of the code area fault on fetch at the target, after writing the link.
        const int want_signal = inside_code ? SIGTRAP : SIGSEGV;
        if (real.signal != want_signal || real.pc != *next)
            why << "next pc: sim " << hex(*next) << ", cpu signal " << real.signal << " at "
                << hex(real.pc) << "; ";
    } else if (next.err() == ruprobes::error::fault_load ||
               next.err() == ruprobes::error::fault_store) {
        if (real.signal != SIGSEGV && real.signal != SIGBUS)
            why << "sim faults at " << hex(fault.addr) << ", cpu signal " << real.signal << " at "
                << hex(real.pc) << "; ";
        else if (real.fault_addr != fault.addr || real.pc != insn_addr)
            why << "fault address: sim " << hex(fault.addr) << ", cpu " << hex(real.fault_addr)
                << " at " << hex(real.pc) << "; ";
    } else {
        why << "simulate failed: " << ruprobes::error_name(next.err()) << "; ";
    }
    for (int i = 1; i < 32; ++i)
        if (regs.x[i] != real.regs[i])
            why << "x" << i << ": in " << hex(in.regs[i]) << " sim " << hex(regs.x[i]) << " cpu "
                << hex(real.regs[i]) << "; ";
    if (std::memcmp(mem.bytes, real.window, window_size) != 0)
        why << "memory window differs; ";
    return why.str();
}

template <typename T>
void write_records(const std::string& path, const std::vector<T>& records) {
    std::ofstream f(path, std::ios::binary);
    diff_header h{magic, static_cast<uint32_t>(records.size())};
    f.write(reinterpret_cast<const char*>(&h), sizeof h);
    f.write(reinterpret_cast<const char*>(records.data()),
            static_cast<std::streamsize>(records.size() * sizeof(T)));
    ASSERT_TRUE(f.good()) << path;
}

uint64_t env_or(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

TEST(engine_diff, simulator_matches_real_execution) {
    const uint64_t seed = env_or("RUPROBES_DIFF_SEED", 0x5eed2026);
    const size_t target = env_or("RUPROBES_DIFF_CASES", 80000);
    auto gen = generate_cases(seed, target);
    const auto& cases = gen.cases;

    ruprobes::test::temp_dir dir;
    write_records(dir.file("cases.bin"), cases);
    ruprobes::test::spawn_options run;
    run.argv = {RUPROBES_QEMU_USER,    "-cpu",
                RUPROBES_QEMU_CPU,     RUPROBES_DIFF_HARNESS,
                dir.file("cases.bin"), dir.file("results.bin")};
    run.output_file = dir.file("harness.log");
    ruprobes::test::child_process harness(run);
    auto status = harness.wait_exit(std::chrono::seconds(240));
    ASSERT_TRUE(status.has_value()) << "harness timed out; log:\n" << harness.output();
    ASSERT_EQ(*status, 0) << harness.output();
    EXPECT_NE(harness.output().find("insn_selftest ok"), std::string::npos) << harness.output();

    std::ifstream f(dir.file("results.bin"), std::ios::binary);
    diff_header h{};
    f.read(reinterpret_cast<char*>(&h), sizeof h);
    ASSERT_EQ(h.magic, magic);
    ASSERT_EQ(h.count, cases.size());
    std::vector<case_out> results(cases.size());
    f.read(reinterpret_cast<char*>(results.data()),
           static_cast<std::streamsize>(results.size() * sizeof(case_out)));
    ASSERT_TRUE(f.good());

    size_t simulated = 0, mismatches = 0;
    std::map<std::string, std::pair<size_t, size_t>> per_category; // cases, mismatches
    std::map<int, size_t> signals;
    for (size_t i = 0; i < cases.size(); ++i) {
        simulated += cases[i].kind == kind_simulate;
        ++signals[results[i].signal];
        auto& cat = per_category[gen.categories[i]];
        ++cat.first;
        std::string why = compare(cases[i], results[i]);
        if (why.empty())
            continue;
        ++cat.second;
        if (++mismatches <= 20)
            ADD_FAILURE() << "case " << i << " [" << gen.categories[i] << "] "
                          << describe(ruprobes::decode_bits(cases[i].insn)) << ": " << why;
    }
    std::printf("engine_diff: seed %#llx, %zu cases (%zu simulated, %zu decoder-class checks), "
                "%zu mismatches\n",
                static_cast<unsigned long long>(seed), cases.size(), simulated,
                cases.size() - simulated, mismatches);
    for (const auto& [name, c] : per_category)
        std::printf("  %-12s %7zu cases %5zu mismatches\n", name.c_str(), c.first, c.second);
    for (const auto& [sig, n] : signals)
        std::printf("  signal %-3d %7zu\n", sig, n);
    EXPECT_EQ(mismatches, 0u);
    if (target >= 80000) {
        EXPECT_GE(simulated, 100000u);
    }
}

} // namespace

// bench_gdb [HITS] [ROUNDS]
//
// gdb breakpoint round trips per second on step() of /bin/loop: a breakpoint whose commands are
// `silent` + `continue`, hit HITS times (default 2000), timed inside gdb from the first hit to
// the last; the median of ROUNDS (default 3) interleaved rounds. Measured in one run, same
// kernel, program and gdb, through
//   A. ruprobesd (breakpoints are stop-mode uprobes in the kernel, over the agent channel), and
//   B. QEMU's own gdbstub (-gdb tcp:…, breakpoints inside the emulator).
// Prints both rates, the ratio A/B (goal >= 2.0), and the RSP packets gdb sends per stop in each
// case (counted from `set debug remote 1` over a few extra hits). A is measured a second time with
// `ruprobesd --no-host-step` (gdb's single step over the breakpoint done by the kernel, not
// computed by the daemon), in the same interleaved rounds, to show what that step costs. The target
// descriptions differ, and with them how gdb steps over the breakpoint: ruprobesd's target.xml says
// osabi none, so gdb steps with vCont;s; QEMU's says no osabi, so gdb takes GNU/Linux from the ELF
// and steps with a temporary breakpoint on the next instruction. gdb also measures its own CPU time
// (user + system) over the timed stops: the same work at every stop whichever stub answers, so
// QEMU's time per stop over gdb's own CPU per stop through ruprobesd is the highest ratio any
// stub could reach with this gdb and script (printed as the ceiling).
#include "../../e2e/gdb/gdb_session.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/qemu_guest.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

struct measurement {
    double seconds = 0;
    double gdb_cpu_seconds = 0; // gdb's own CPU time (user + system) over the same stops
    int hits = 0;
    double packets_per_stop = 0;
    bool ok = false;
};

constexpr int debug_hits = 5;

// gdb script: time `hits` stops of the breakpoint on step(), then count packets over a few more.
std::string write_script(const temp_dir& dir, const std::string& target, int hits) {
    std::string path = dir.file("bench.gdb");
    std::ofstream s(path);
    s << "set pagination off\nset confirm off\n"
      << target << "\n"
      << "python import time\n"
      << "set $hits = 0\nset $limit = " << hits << "\n"
      << "break step\n"
      << "commands\nsilent\nset $hits = $hits + 1\n"
      << "if $hits == 1\npython t0 = time.time(); c0 = time.process_time()\nend\n"
      << "if $hits < $limit\ncontinue\nend\nend\n"
      << "continue\n"
      << "python print('BENCH hits %d seconds %.6f cpu %.6f' % "
         "(int(gdb.parse_and_eval('$hits')) - 1, time.time() - t0, time.process_time() - c0))\n"
      << "set $hits = 0\nset $limit = " << debug_hits << "\n"
      << "set debug remote 1\ncontinue\nset debug remote 0\n"
      << "kill\n";
    return path;
}

measurement parse(const std::string& out) {
    measurement m;
    std::smatch match;
    if (std::regex_search(out, match,
                          std::regex("BENCH hits (\\d+) seconds ([0-9.]+) cpu ([0-9.]+)"))) {
        m.hits = std::stoi(match[1]);
        m.seconds = std::stod(match[2]);
        m.gdb_cpu_seconds = std::stod(match[3]);
        m.ok = m.hits > 0 && m.seconds > 0;
    }
    size_t sends = 0;
    for (size_t at = 0; (at = out.find("[remote] Sending packet:", at)) != std::string::npos; at++)
        sends++;
    m.packets_per_stop = static_cast<double>(sends) / debug_hits;
    return m;
}

measurement run_gdb_script(const temp_dir& dir, const std::string& script, const char* name) {
    spawn_options o;
    o.argv = {"gdb-multiarch", "-nx", "-batch", std::string(user_dir) + "/loop", "-x", script};
    o.output_file = dir.file(std::string(name) + ".log");
    child_process gdb(o);
    if (!gdb.wait_exit(600s)) {
        std::fprintf(stderr, "%s: gdb did not finish\n", name);
        return {};
    }
    measurement m = parse(gdb.output());
    if (!m.ok)
        std::fprintf(stderr, "%s: no measurement in gdb's output:\n%s\n", name,
                     gdb.output().c_str());
    return m;
}

measurement through_ruprobesd(int hits, bool host_step) {
    temp_dir dir;
    std::vector<std::string> flags = {"--spawn", "/bin/loop 100000000"};
    if (!host_step)
        flags.push_back("--no-host-step");
    daemon_with_guest d(dir, "ruprobes.stay", flags);
    std::string script = write_script(dir, "target remote 127.0.0.1:" + d.port(), hits);
    return run_gdb_script(dir, script, "ruprobesd");
}

measurement through_qemu_gdbstub(int hits) {
    temp_dir dir;
    uint16_t port = free_tcp_port();
    guest_options g;
    g.append = "/bin/loop 100000000";
    g.gdb_listen = "tcp:127.0.0.1:" + std::to_string(port);
    g.gdb_wait = true;
    qemu_guest qemu(dir, g);
    std::string script = write_script(dir, "target remote 127.0.0.1:" + std::to_string(port), hits);
    return run_gdb_script(dir, script, "qemu");
}

} // namespace

int main(int argc, char** argv) {
    int hits = argc > 1 ? std::atoi(argv[1]) : 2000;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    if (hits < 2 || rounds < 1) {
        std::fprintf(stderr, "usage: bench_gdb [HITS>=2] [ROUNDS>=1]\n");
        return 2;
    }
    // Interleaved rounds (A, B, A, B, …) and the median rate of each: a busy machine slows
    // whichever runs at the time, not one side only.
    std::vector<double> rates_a, rates_b, rates_kernel_step;
    // gdb's own CPU per stop (ms), and the wall time per stop through QEMU's gdbstub (ms).
    std::vector<double> cpu_a, cpu_b, cpu_kernel_step, stop_ms_b;
    measurement a, b, kernel_step;
    for (int r = 0; r < rounds; r++) {
        a = through_ruprobesd(hits, true);
        b = through_qemu_gdbstub(hits);
        kernel_step = through_ruprobesd(hits, false);
        if (!a.ok || !b.ok || !kernel_step.ok)
            return 1;
        rates_a.push_back(a.hits / a.seconds);
        rates_b.push_back(b.hits / b.seconds);
        rates_kernel_step.push_back(kernel_step.hits / kernel_step.seconds);
        cpu_a.push_back(a.gdb_cpu_seconds * 1e3 / a.hits);
        cpu_b.push_back(b.gdb_cpu_seconds * 1e3 / b.hits);
        cpu_kernel_step.push_back(kernel_step.gdb_cpu_seconds * 1e3 / kernel_step.hits);
        stop_ms_b.push_back(b.seconds * 1e3 / b.hits);
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    double rate_a = median(rates_a);
    double rate_b = median(rates_b);
    std::printf("gdb breakpoint stop/continue round trips on step() of /bin/loop, %d hits, median "
                "of %d interleaved rounds\n",
                a.hits, rounds);
    std::printf("  ruprobesd:       %10.1f stops/s  (%.1f packets from gdb per stop; target.xml "
                "riscv:rv64 + osabi none: gdb steps with vCont;s)\n",
                rate_a, a.packets_per_stop);
    std::printf("  QEMU gdbstub:    %10.1f stops/s  (%.1f packets from gdb per stop; QEMU's "
                "target.xml without osabi: gdb assumes GNU/Linux, steps with a temporary "
                "breakpoint)\n",
                rate_b, b.packets_per_stop);
    std::printf("  ruprobesd --no-host-step: %10.1f stops/s  (%.1f packets from gdb per stop; "
                "the single step over the breakpoint done by the kernel)\n",
                median(rates_kernel_step), kernel_step.packets_per_stop);
    std::printf("  ratio ruprobesd / QEMU gdbstub: %.3f (goal >= 2.0)\n", rate_a / rate_b);
    std::printf("  ratio ruprobesd --no-host-step / QEMU gdbstub: %.3f\n",
                median(rates_kernel_step) / rate_b);
    // gdb does the same work at every stop whichever stub answers (the breakpoint's commands,
    // its step over the breakpoint); a stub can only take its own time off. So the ratio can
    // be at most QEMU's time per stop over gdb's own CPU per stop through ruprobesd.
    const double gdb_cpu_a = median(cpu_a);
    std::printf(
        "  gdb's own CPU per stop (user + system, over the timed stops): ruprobesd %.3f ms, "
        "QEMU gdbstub %.3f ms, ruprobesd --no-host-step %.3f ms\n",
        gdb_cpu_a, median(cpu_b), median(cpu_kernel_step));
    std::printf(
        "  ceiling of the ratio with this gdb and script: QEMU gdbstub's %.3f ms per stop / "
        "gdb's own %.3f ms per stop through ruprobesd = %.3f (ruprobesd and the kernel "
        "answering in no time)\n",
        median(stop_ms_b), gdb_cpu_a, median(stop_ms_b) / gdb_cpu_a);
    return 0;
}

// bench_gdb_condition [N]
//
// What target-side conditions save: gdb-multiarch runs /bin/fib N (default 20) to the end under
// a conditional breakpoint whose commands are `silent` + `continue`, once with
// `set breakpoint condition-evaluation target` (the kernel evaluates the agent expression gdb
// sends in Z0: a false hit costs no stop) and once with `host` (every call of fib stops and gdb
// evaluates the condition itself), each through ruprobesd with its own QEMU, in one run. The wall
// time is timed inside gdb, from `continue` to the exit.
//   `break fib if n==3`  stops F(N-2) times (2584 of 21891 calls for N = 20);
//   `break fib if n==N`  stops once: every other call is a false hit.
// Prints both times, the hit counts gdb reports, and the ratio host / target.
#include "../../e2e/gdb/gdb_session.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

struct measurement {
    double seconds = 0;
    long hits = -1;
    bool ok = false;
};

measurement run(int n, const std::string& condition, const char* evaluation) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/fib " + std::to_string(n)});
    std::string script = dir.file("bench.gdb");
    std::ofstream(script) << "set pagination off\nset confirm off\n"
                          << "target remote 127.0.0.1:" << d.port() << "\n"
                          << "set breakpoint condition-evaluation " << evaluation << "\n"
                          << "python import time\n"
                          << "break fib if " << condition << "\n"
                          << "commands\nsilent\ncontinue\nend\n"
                          << "python t0 = time.time()\n"
                          << "continue\n"
                          << "python print('BENCH seconds %.6f' % (time.time() - t0))\n"
                          << "info breakpoints\n";
    spawn_options o;
    o.argv = {"gdb-multiarch", "-nx", "-batch", std::string(user_dir) + "/fib", "-x", script};
    o.output_file = dir.file(std::string(evaluation) + ".log");
    child_process gdb(o);
    measurement m;
    if (!gdb.wait_exit(1200s)) {
        std::fprintf(stderr, "%s: gdb did not finish\n", evaluation);
        return m;
    }
    std::string out = gdb.output();
    std::smatch match;
    if (std::regex_search(out, match, std::regex("BENCH seconds ([0-9.]+)")))
        m.seconds = std::stod(match[1]);
    if (std::regex_search(out, match, std::regex("breakpoint already hit (\\d+) time")))
        m.hits = std::stol(match[1]);
    m.ok = m.seconds > 0 && m.hits > 0;
    if (!m.ok)
        std::fprintf(stderr, "%s: no measurement in gdb's output:\n%s\n", evaluation, out.c_str());
    return m;
}

bool compare(int n, const std::string& condition) {
    measurement target = run(n, condition, "target");
    measurement host = run(n, condition, "host");
    if (!target.ok || !host.ok)
        return false;
    std::printf("gdb `break fib if %s` on /bin/fib %d, silent+continue, to the exit\n",
                condition.c_str(), n);
    std::printf("  condition-evaluation target: %10.3f s  (breakpoint hit %ld times)\n",
                target.seconds, target.hits);
    std::printf("  condition-evaluation host:   %10.3f s  (breakpoint hit %ld times)\n",
                host.seconds, host.hits);
    std::printf("  ratio host / target (%s): %.1f\n", condition.c_str(),
                host.seconds / target.seconds);
    return target.hits == host.hits;
}

} // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 20;
    if (n < 4 || n > 25) {
        std::fprintf(stderr, "usage: bench_gdb_condition [N, 4..25]\n");
        return 2;
    }
    bool ok = compare(n, "n==3");
    ok = compare(n, "n==" + std::to_string(n)) && ok;
    return ok ? 0 : 1;
}

// Processes at once on every hart the kernel runs (smp_processes, smp_probes in the self-test
// table). On one hart they pass too; with several, the processes must have run on more than one
// (process::harts_run_on). tests/e2e/kernel/smp_test.cpp asserts the lines on 1 and 4 harts.
#include "arch/riscv64/hart.hpp"
#include "lib/console.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process.hpp"
#include "proc/scheduler.hpp"
#include "selftest/selftest_cases.hpp"
#include "selftest/selftest_support.hpp"

#include "ruprobes/ruprobes.h"

namespace {

constexpr int max_group = 8;

// Each hart's idle_wakeups when run_together started.
uint64_t wakeups_before[max_harts];

// Starts every command (none runs before this thread sleeps), then waits for the first `n_wait`
// to exit, kills the others and reaps them. Returns how many of the first `n_wait` exited with
// 0, and the harts any of them ran on.
int run_together(const char* const commands[], int n, int n_wait, uint32_t& harts) {
    for (uint32_t i = 0; i < harts_online; i++) {
        wakeups_before[i] = ::harts[i].idle_wakeups;
    }
    long pids[max_group];
    for (int i = 0; i < n; i++) {
        pids[i] = start_program(commands[i]);
    }
    int ok = 0;
    for (int i = 0; i < n_wait; i++) {
        ok += pids[i] > 0 && finish_program_on(pids[i], harts) == 0 ? 1 : 0;
    }
    for (int i = n_wait; i < n; i++) {
        if (pids[i] > 0) {
            process_kill(static_cast<int>(pids[i]), sig::kill);
            finish_program_on(pids[i], harts);
        }
    }
    return ok;
}

int count_bits(uint32_t v) {
    int n = 0;
    for (; v != 0; v &= v - 1) {
        n++;
    }
    return n;
}

// Whether a hart the processes did not run on left the idle loop's wfi during run_together.
// One that never did was given no time by the machine: a process made runnable wakes an idle
// hart with an IPI, and a hart that runs takes it. (QEMU -icount before 8.1 hands each round's
// whole instruction budget to the first busy vCPU, so the others may not run at all while it
// is busy.)
bool others_ran(uint32_t ran_on) {
    for (uint32_t i = 0; i < harts_online; i++) {
        if ((ran_on & (1u << i)) == 0 && harts[i].idle_wakeups != wakeups_before[i]) {
            return true;
        }
    }
    return false;
}

// With several harts, the processes must have used more than one, unless the others never ran.
bool spread(uint32_t ran_on) {
    return harts_online < 2 || count_bits(ran_on) >= 2 || !others_ran(ran_on);
}

// The end of a result line: the harts, and a note when the others never ran.
void print_spread(uint32_t ran_on, bool pass) {
    kprintf("ran on %d of %u harts%s: %s\n", count_bits(ran_on), harts_online,
            harts_online > 1 && count_bits(ran_on) < 2 && !others_ran(ran_on)
                ? " (the others were given no time)"
                : "",
            pass ? "PASS" : "FAIL");
}

void count_hit(uprobes_trap_context*, const uprobes_hit*, void* user) {
    ++*static_cast<uint64_t*>(user); // under the big kernel lock, like every handler here
}

int add_fib_probe(uint8_t kind, uint64_t* counter) {
    return add_trace_probe("/bin/fib", program_symbol("/bin/fib", "fib"), kind, count_hit, counter);
}

} // namespace

bool test_smp_processes() {
    // Four CPU-bound programs with known results and two spinners (which run until the four are
    // done): more processes than harts.
    const char* const commands[] = {"/bin/fib 20 6765",  "/bin/fib 21 10946", "/bin/fib 19 4181",
                                    "/bin/fib 22 17711", "/bin/spin",         "/bin/spin"};
    uint32_t harts = 0;
    const int ok = run_together(commands, 6, 4, harts);
    const bool pass = ok == 4 && spread(harts);
    kprintf("selftest: smp_processes: %d of 4 right, ", ok);
    print_spread(harts, pass);
    return pass;
}

bool test_smp_probes() {
    uint64_t entries = 0;
    uint64_t returns = 0;
    const int e = add_fib_probe(UPROBES_KIND_ENTRY, &entries);
    const int r = add_fib_probe(UPROBES_KIND_RETURN, &returns);
    const char* const commands[] = {"/bin/fib 15 610", "/bin/fib 15 610", "/bin/fib 15 610",
                                    "/bin/fib 15 610"};
    uint32_t harts = 0;
    const int ok = e > 0 && r > 0 ? run_together(commands, 4, 4, harts) : 0;
    uprobe_unregister(e);
    uprobe_unregister(r);
    const bool pass = ok == 4 && entries == 4 * 1973 && returns == 4 * 1973 && spread(harts);
    kprintf("selftest: smp_probes: 4 x fib 15, entry %lu, return %lu, %d exit 0, ", entries,
            returns, ok);
    print_spread(harts, pass);
    return pass;
}

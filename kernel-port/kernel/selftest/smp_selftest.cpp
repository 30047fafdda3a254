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

// Waits for child `pid` to exit and returns its exit code, with the harts it ran on in `harts`.
int finish_with_harts(long pid, uint32_t& harts) {
    process* self = current_process();
    process* q = find_process(static_cast<int>(pid));
    while (q != nullptr && q->pid == pid && q->state != process_state::zombie) {
        sleep_on(self); // process_exit wakes the parent
    }
    if (q != nullptr && q->pid == pid) {
        harts |= q->harts_run_on;
    }
    return finish_program(pid);
}

// Starts every command (none runs before this thread sleeps), then waits for the first `n_wait`
// to exit, kills the others and reaps them. Returns how many of the first `n_wait` exited with
// 0, and the harts any of them ran on.
int run_together(const char* const commands[], int n, int n_wait, uint32_t& harts) {
    long pids[max_group];
    for (int i = 0; i < n; i++) {
        pids[i] = start_program(commands[i]);
    }
    int ok = 0;
    for (int i = 0; i < n_wait; i++) {
        ok += pids[i] > 0 && finish_with_harts(pids[i], harts) == 0 ? 1 : 0;
    }
    for (int i = n_wait; i < n; i++) {
        if (pids[i] > 0) {
            process_kill(static_cast<int>(pids[i]), sig::kill);
            finish_with_harts(pids[i], harts);
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

// With several harts, the processes must have used more than one.
bool spread(uint32_t harts) {
    return harts_online < 2 || count_bits(harts) >= 2;
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
    kprintf("selftest: smp_processes: %d of 4 right, ran on %d of %u harts", ok, count_bits(harts),
            harts_online);
    const bool pass = ok == 4 && spread(harts);
    kprintf(": %s\n", pass ? "PASS" : "FAIL");
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
    kprintf("selftest: smp_probes: 4 x fib 15, entry %lu, return %lu, %d exit 0, ran on %d of "
            "%u harts",
            entries, returns, ok, count_bits(harts), harts_online);
    const bool pass = ok == 4 && entries == 4 * 1973 && returns == 4 * 1973 && spread(harts);
    kprintf(": %s\n", pass ? "PASS" : "FAIL");
    return pass;
}

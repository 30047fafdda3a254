// Processes at once on every hart the kernel runs (smp_processes, smp_probes in the self-test
// table). On one hart they pass too; each line says on how many harts the processes ran
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

// The end of a result line: the harts the processes ran on. Where they ran is reported, not
// judged here: under QEMU -icount before 8.1 the first busy hart gets each round's whole budget,
// so the others may get no time while it is busy; the tests on multi-threaded TCG check that the
// processes spread (tests/e2e/kernel/smp_test.cpp).
void print_spread(uint32_t ran_on, bool pass) {
    kprintf("ran on %d of %u harts: %s\n", count_bits(ran_on), harts_online,
            pass ? "PASS" : "FAIL");
}

void count_hit(uprobes_trap_context*, const uprobes_hit*, void* user) {
    // Atomic: the handlers run on the engine's lock-free path, on several harts at once
    // (port_breakpoint_concurrent).
    __atomic_fetch_add(static_cast<uint64_t*>(user), 1, __ATOMIC_RELAXED);
}

// Each hart's breakpoints_lock_free when a run started.
uint64_t lock_free_before[max_harts];

void note_lock_free_hits() {
    for (uint32_t i = 0; i < harts_online; i++) {
        lock_free_before[i] = ::harts[i].breakpoints_lock_free;
    }
}

// The breakpoints the engine's lock-free path took since note_lock_free_hits(), and on how many
// harts (`on`).
uint64_t lock_free_hits(int& on) {
    uint64_t total = 0;
    on = 0;
    for (uint32_t i = 0; i < harts_online; i++) {
        const uint64_t n = ::harts[i].breakpoints_lock_free - lock_free_before[i];
        total += n;
        on += n != 0 ? 1 : 0;
    }
    return total;
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
    const bool pass = ok == 4;
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
    note_lock_free_hits();
    const int ok = e > 0 && r > 0 ? run_together(commands, 4, 4, harts) : 0;
    uprobe_unregister(e);
    uprobe_unregister(r);
    // The entry and return hits go through the engine's lock-free path, but for each process's
    // first entry (its thread record is made under the lock) and any that met an exec, exit or
    // new thread record in progress on another hart (a few). With the processes on several
    // harts, so do the lock-free hits.
    int lock_free_harts = 0;
    const uint64_t lock_free = lock_free_hits(lock_free_harts);
    const bool lock_free_ok =
        lock_free >= 2 * 4 * 1973 - 64 && (count_bits(harts) < 2 || lock_free_harts >= 2);
    const bool pass = ok == 4 && entries == 4 * 1973 && returns == 4 * 1973 && lock_free_ok;
    kprintf("selftest: smp_probes: 4 x fib 15, entry %lu, return %lu, %d exit 0, %lu hits "
            "without the big lock on %d harts, ",
            entries, returns, ok, lock_free, lock_free_harts);
    print_spread(harts, pass);
    return pass;
}

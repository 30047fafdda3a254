// The engine's conformance self-test (uprobes_conformance_run) on the reference kernel: the port
// gives it /bin/fib 15 (1973 calls of fib) and two callbacks, start and run, built on the same
// process control the host agent uses (thread_resume, the process listener's stop events).
#include "lib/console.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "selftest/selftest_cases.hpp"
#include "selftest/selftest_support.hpp"

#include "arch/riscv64/timer.hpp"
#include "proc/lifecycle.hpp"

#include "ruprobes/ruprobes.h"

namespace {

struct conformance_kernel {
    int stops = 0;        // stop events seen by the listener
    int stops_taken = 0;  // of which run() has returned
    bool stopped = false; // the process is held by a stop run() reported
};
conformance_kernel kernel_state;

void on_stopped(int, stop_reason, uint32_t, void*) {
    kernel_state.stops++;
    wakeup(&kernel_state);
}

const process_listener conformance_listener = {on_stopped, nullptr, nullptr, nullptr};

int64_t start(void*, const char* command) {
    kernel_state.stopped = false;
    return start_program(command);
}

// Resumes a stopped `pid`, then waits (at most ~5 s) for its next stop (1) or its exit (0).
int run(void*, int64_t pid, int* status) {
    const int p = static_cast<int>(pid);
    if (kernel_state.stopped) {
        kernel_state.stopped = false;
        thread_resume(p, false);
    }
    for (int i = 0; i < 500; i++) {
        if (kernel_state.stops > kernel_state.stops_taken) {
            kernel_state.stops_taken = kernel_state.stops;
            kernel_state.stopped = true;
            return 1;
        }
        process* proc = find_process(p);
        if (proc == nullptr || proc->state == process_state::zombie) {
            *status = finish_program(pid);
            return 0;
        }
        sleep_on(&kernel_state, timer_now() + timer_ns_to_ticks(10'000'000));
    }
    return -1;
}

} // namespace

bool test_conformance() {
    const char* path = "/bin/fib";
    uprobes_conformance_port port = {};
    port.path = path;
    port.command = "/bin/fib 15";
    port.function = program_symbol(path, "fib");
    port.calls = 1973;
    port.start = start;
    port.run = run;
    const process_listener* previous = set_process_listener(&conformance_listener);
    kernel_state = {};
    uprobes_conformance_report report = {};
    const int r = uprobes_conformance_run(&port, &report);
    set_process_listener(previous);
    kprintf("selftest: conformance: entry %lu, return %lu, stops %u, failed check %d: %s\n",
            report.entry_hits, report.return_hits, report.stops, report.failed_check,
            r == 0 ? "PASS" : "FAIL");
    return r == 0;
}

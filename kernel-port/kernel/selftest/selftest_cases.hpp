// Test cases of the probe self-test table that live outside probe_selftest.cpp. Each prints one
// "selftest: <name>: ...: PASS|FAIL" line and returns whether it passed.
#pragma once

// A stop-mode probe stops the thread at each hit with its registers readable; one resume with
// `step` executes a single instruction and stops again.
bool test_stop_probe_and_step();

// thread_stop holds a running (spinning) process: its pc does not move until thread_resume.
bool test_stop_running();

// thread_stop right after spawn holds a process at its entry point; single steps walk it to its
// first ecall, and stepping the ecall makes the system call.
bool test_step_from_entry();

// Probes armed into and removed from a process while it runs (ticker): hits only in between,
// and the text is the file's again afterwards.
bool test_live_arm_and_disarm();

// uprobes_conformance_run with /bin/fib 15 (conformance_selftest.cpp).
bool test_conformance();

// Four fib and two spinning processes at once: right results; with several harts, they ran on
// more than one (smp_selftest.cpp).
bool test_smp_processes();

// Four fib 15 at once under an entry and a return probe: exactly 4 x 1973 hits of each.
bool test_smp_probes();

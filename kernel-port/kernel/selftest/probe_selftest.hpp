// The in-kernel probe test table (kernel flag ruprobes.selftest): registers trace probes on the
// embedded programs, runs them and prints counts that the e2e tests assert exactly.
#pragma once

// Runs every test of the table; prints "selftest: <name>: PASS|FAIL ..." lines and
// "selftest: N passed, M failed". Returns 0 when all passed, 1 otherwise.
int run_probe_selftests();

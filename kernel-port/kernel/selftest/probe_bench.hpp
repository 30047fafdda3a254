// The in-guest probe cost benchmark (kernel flag ruprobes.bench[=N], N iterations, default
// 100000): probe-hit cost relative to a null system call, measured in one run of one kernel.
#pragma once

// Runs the benchmark and prints "bench: ..." lines (see probe_bench.cpp for the method).
// Returns 0, or 1 when a program failed or a probe could not be registered.
int run_probe_bench();

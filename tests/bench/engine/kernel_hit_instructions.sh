#!/bin/sh
# Guest instructions per probe hit in the reference kernel, repeatable on a noisy machine: runs the
# kernel's probe benchmark (ruprobes.bench, kernel-port/kernel/selftest/probe_bench.cpp) under
# QEMU with `-icount shift=0,sleep=off`, where the guest clock advances exactly 1 ns per executed
# instruction, so every "ns" the benchmark prints is a count of guest instructions (trap entry
# and exit, kernel and engine together) and every ratio is a ratio of instruction counts.
#   tests/bench/engine/kernel_hit_instructions.sh [KERNEL.elf [ITERATIONS]]
#   (default build/guest/kernel.elf, 20000 iterations per run)
# With RUPROBES_SMP=N (scripts/qemu) the kernel runs on N harts: every hart's instructions count
# (QEMU runs them in turn from one thread), so the time limit grows with N.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
kernel=${1:-$root/build/guest/kernel.elf}
iterations=${2:-20000}
if [ ! -f "$kernel" ]; then
    echo "kernel_hit_instructions: $kernel not built (cmake --build <dir> --target guest)" >&2
    exit 2
fi
limit=$((600 * ${RUPROBES_SMP:-1}))
out=$(timeout "$limit" "$root/scripts/qemu" "$kernel" "ruprobes.bench=$iterations" -- \
    -icount shift=0,sleep=off 2>&1) || {
    echo "$out" >&2
    exit 1
}
echo "guest instructions per operation (QEMU -icount shift=0: 1 ns = 1 instruction)"
echo "$out" | grep '^bench:' | sed -e 's/ ns / insns /'

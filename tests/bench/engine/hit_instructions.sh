#!/bin/sh
# RV64 instructions the engine executes per simulated probe hit (trap handler entry to return,
# handler and hit sink included), per entry+return probe pair and per out-of-line hit (one trap
# with the xol page within a jal's reach of the text, two with it out of reach), counted with
# qemu-riscv64 one instruction per translation block.
# Builds the engine and hit_instructions.c as a static riscv64 Linux program in a temp dir.
#   tests/bench/engine/hit_instructions.sh [CFLAGS...]     (default -O2, as the guest build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cross=${RUPROBES_CROSS_PREFIX:-riscv64-linux-gnu-}
opt=${*:--O2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for src in "$root"/engine/src/*.cpp; do
    # shellcheck disable=SC2086
    "${cross}g++" -std=c++20 $opt -fno-exceptions -fno-rtti -I"$root/engine/include" -I"$root/errors/include" \
        -c "$src" -o "$work/$(basename "$src" .cpp).o"
done
# shellcheck disable=SC2086
"${cross}gcc" -std=c11 $opt -I"$root/engine/include" -c "$here/hit_instructions.c" -o "$work/main.o"
mv "$work/main.o" "$work/main.obj"
"${cross}ar" rcs "$work/libruprobes_engine.a" "$work"/*.o
"${cross}g++" -static -o "$work/hits" "$work/main.obj" "$work/libruprobes_engine.a"
count() {
    qemu-riscv64 -one-insn-per-tb -d exec,nochain -D "$work/trace" "$work/hits" "$@" >/dev/null 2>&1 ||
        qemu-riscv64 -singlestep -d exec,nochain -D "$work/trace" "$work/hits" "$@" >/dev/null
    grep -c '^Trace' "$work/trace"
}
few=$(count 10)
many=$(count 210)
echo "engine: $(( (many - few) / 200 )) instructions per simulated hit ($opt)"
few=$(count 10 return)
many=$(count 210 return)
echo "engine: $(( (many - few) / 200 )) instructions per entry+return probe pair ($opt)"
few=$(count 10 xol)
many=$(count 210 xol)
echo "engine: $(( (many - few) / 200 )) instructions per out-of-line hit, one trap ($opt)"
few=$(count 10 xolfar)
many=$(count 210 xolfar)
echo "engine: $(( (many - few) / 200 )) instructions per out-of-line hit, two traps (xol page out of reach) ($opt)"

#!/bin/sh
# run_smoke.sh FUZZER SECONDS SEED_DIR ARTIFACT_DIR
# Runs a libFuzzer target for SECONDS from a fresh working corpus (seeded from SEED_DIR when it
# exists); a crash input is kept in ARTIFACT_DIR and fails the test.
set -eu
fuzzer=$1 seconds=$2 seeds=$3 artifacts=$4
if [ ! -x "$fuzzer" ]; then
    echo "fuzz target not built: $fuzzer (configure with -DRUPROBES_FUZZERS=ON and clang installed)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$artifacts"
set -- "$work"
[ -d "$seeds" ] && set -- "$work" "$seeds"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@"

# Shared by scripts/test, scripts/demo and scripts/bench: configure and build with a progress line.
# shellcheck shell=bash

ruprobes_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ruprobes_build=${RUPROBES_BUILD_DIR:-$ruprobes_root/build}

# ruprobes_build_all: configure (once) and build everything, showing one progress line.
ruprobes_build_all() {
    local werror=OFF
    if [ "${CI:-}" = "true" ]; then
        werror=ON
    fi
    mkdir -p "$ruprobes_build"
    if [ ! -f "$ruprobes_build/CMakeCache.txt" ]; then
        echo "build: configuring $ruprobes_build"
        cmake -S "$ruprobes_root" -B "$ruprobes_build" -G Ninja \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUPROBES_WERROR=$werror >"$ruprobes_build/configure.log" 2>&1 || {
            cat "$ruprobes_build/configure.log" >&2
            echo "build: configure failed" >&2
            return 1
        }
    fi
    local log="$ruprobes_build/build.log"
    mkdir -p "$ruprobes_build"
    local jobs=${RUPROBES_JOBS:-$(nproc)}
    local start=$SECONDS
    # Ninja's [n/m] status lines become one rewritten progress line on a terminal, and a line
    # every 20 steps elsewhere (CI logs).
    set +e
    NINJA_STATUS="[%f/%t] " cmake --build "$ruprobes_build" -j"$jobs" 2>&1 | tee "$log" |
        awk -v tty="$([ -t 1 ] && echo 1 || echo 0)" '
            /^\[[0-9]+\/[0-9]+\] / {
                split(substr($1, 2, length($1) - 2), p, "/")
                if (tty) { printf "\rbuild: %s/%s steps", p[1], p[2]; fflush() }
                else if ((p[1] > 0 && p[1] % 20 == 0) || p[1] == p[2]) { printf "build: %s/%s steps\n", p[1], p[2]; fflush() }
                next
            }'
    local rc=${PIPESTATUS[0]}
    set -e
    [ -t 1 ] && echo
    if [ "$rc" -ne 0 ]; then
        grep -E -B2 -A12 'error|FAILED' "$log" | head -80 >&2
        echo "build: failed (full log: $log)" >&2
        return 1
    fi
    echo "build: done in $((SECONDS - start)) s (log: $log)"
}

#!/bin/sh
# The engine's guest build is freestanding: every symbol libruprobes_engine.a needs from outside
# is a mem* function or a port hook (os_*), and no object carries global constructors.
#   check_freestanding.sh <libruprobes_engine.a> <nm> <objdump>
set -eu
archive=$1
nm=$2
objdump=$3
if [ ! -f "$archive" ]; then
    echo "check_freestanding: $archive not built (build the guest part first)" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$nm" --defined-only -g "$archive" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/defined"
"$nm" -u "$archive" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u >"$tmp/undefined"
comm -23 "$tmp/undefined" "$tmp/defined" >"$tmp/external"
echo "external symbols of $archive:"
sed 's/^/  /' "$tmp/external"
status=0
while read -r sym; do
    case "$sym" in
    memcpy | memset | memmove | memcmp | os_*) ;;
    *)
        echo "check_freestanding: not allowed: $sym" >&2
        status=1
        ;;
    esac
done <"$tmp/external"
if "$objdump" -h "$archive" | grep -E '\.(init_array|ctors|eh_frame|gcc_except_table)' >&2; then
    echo "check_freestanding: global constructors or unwind tables present" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "check_freestanding: ok"
exit "$status"

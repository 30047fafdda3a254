#!/bin/sh
# The agent library is freestanding and kernel-neutral: every symbol libruprobes_agent.a needs from
# outside is one of its hooks (os_agent_*), a public function of the engine (declared in
# ruprobes.h), or a mem* function; no object carries global constructors or unwind tables. A
# reference to anything else (a kernel's kprintf, the engine's own os_* hooks, libstdc++) fails.
#   check_agent_freestanding.sh <libruprobes_agent.a> <nm> <objdump> <ruprobes.h>
set -eu
archive=$1
nm=$2
objdump=$3
engine_header=$4
if [ ! -f "$archive" ]; then
    echo "check_agent_freestanding: $archive not built (build the guest part first)" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The engine's public C functions: every uprobe*/ruprobes_* name declared in its header.
grep -oE '\b(uprobes?_[a-z0-9_]+|ruprobes_[a-z0-9_]+) *\(' "$engine_header" | sed 's/ *($//' |
    sort -u >"$tmp/engine_api"
"$nm" --defined-only -g "$archive" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/defined"
"$nm" -u "$archive" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u >"$tmp/undefined"
comm -23 "$tmp/undefined" "$tmp/defined" >"$tmp/external"
echo "external symbols of $archive:"
sed 's/^/  /' "$tmp/external"
status=0
while read -r sym; do
    case "$sym" in
    memcpy | memset | memmove | memcmp | os_agent_*) continue ;;
    esac
    if grep -qx "$sym" "$tmp/engine_api"; then
        continue
    fi
    echo "check_agent_freestanding: not allowed: $sym" >&2
    status=1
done <"$tmp/external"
if "$objdump" -h "$archive" | grep -E '\.(init_array|ctors|eh_frame|gcc_except_table)' >&2; then
    echo "check_agent_freestanding: global constructors or unwind tables present" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "check_agent_freestanding: ok"
exit "$status"

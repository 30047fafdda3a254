#!/usr/bin/env python3
"""docs/porting.md against the sources it describes: every port hook of ruprobes.h has a row in
the hook table, every entry point a row in the stack table, and every compile flag of the guest
toolchain file appears in the documented command line. Exit 1 with the differences."""
import re
import sys

header, toolchain, doc = (open(p, encoding="utf-8").read() for p in sys.argv[1:4])
header = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
header = re.sub(r"^typedef.*$", "", header, flags=re.M)
declared = re.findall(r"^[A-Za-z_][\w \*]*?\b(\w+)\s*\(", header, re.M)
hooks = [n for n in declared if n.startswith("os_")]
entries = [n for n in declared if not n.startswith("os_")]

hook_rows = set(re.findall(r"`(os_\w+)\(", doc))
stack_rows = set(re.findall(r"^\| `(\w+)` \|", doc, re.M))
flags_block = re.search(r"```\nriscv64-linux-gnu-g\+\+(.*?)```", doc, re.S)
flags = set(re.findall(r"(-[\w=.,+-]+)", flags_block.group(1))) if flags_block else set()
wanted = set()
for var in ("_guest_common", "CMAKE_CXX_FLAGS_INIT", "CMAKE_EXE_LINKER_FLAGS_INIT"):
    m = re.search(r"set\(" + var + r' "(.*?)"\)', toolchain, re.S)
    if m:
        wanted |= {f for f in m.group(1).replace("\\\n", " ").split() if f.startswith("-")}
wanted -= {"-g", "-Wl,--build-id=none"}  # debug info and the reference kernel's boot layout
wanted = {w for w in wanted if not w.startswith("${")}

problems = []
problems += [f"hook {h} has no row in the hook table" for h in hooks if h not in hook_rows]
problems += [f"entry point {e} is missing from the stack table" for e in entries
             if e not in stack_rows]
problems += [f"toolchain flag {f} is missing from the documented flags" for f in sorted(wanted)
             if f not in flags]
for p in problems:
    print("porting.md:", p)
print(f"check_porting_doc: {len(hooks)} hooks, {len(entries)} entry points, {len(wanted)} flags, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)

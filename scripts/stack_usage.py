#!/usr/bin/env python3
"""Worst-case stack use of a freestanding library's entry points, from GCC's call graphs.

Reads the `.ci` files GCC writes with `-fcallgraph-info=su` (one per object file; a VCG graph
whose nodes carry each function's frame size and whose edges are its calls), sums frames along
every call chain from each entry point and reports the deepest chain. Nothing is ignored:

  - an indirect call (a function pointer or a virtual call GCC did not resolve) is listed with
    its caller; its target's stack is not in the sum unless a budget file names the targets
    (`indirect CALLER TARGET...`), so the number is "this library's part" and the table says so;
  - a call to a function defined in no graph read (the port's hooks, memcpy) is listed as
    external, with nothing added: the port's own stack comes on top;
  - recursion (a cycle in the graph) and a frame of dynamic, unbounded size fail the check: no
    finite worst case exists.

Entry points are the functions a C header declares (`--header`, repeatable) that some graph
defines. A budget file gives limits:

    # comment
    default 2048                      every entry point
    budget uprobes_trap_handler* 1024 entry points matching the glob
    indirect CALLER-GLOB TARGET-GLOB...    the functions CALLER's indirect calls may reach

Exit status 0 when every entry point is within its budget, 1 otherwise (2 on bad input).
`--markdown` prints the table as Markdown (docs/porting.md quotes it).
"""
import argparse
import fnmatch
import os
import re
import sys

NODE = re.compile(r'node: \{ title: "([^"]*)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]*)" targetname: "([^"]*)"')
SIZE = re.compile(r'\\n(\d+) bytes \(([a-z,]+)\)')
DECL = re.compile(r'^[A-Za-z_][\w \*]*?\b(\w+)\s*\(', re.M)
INDIRECT = "__indirect_call"


class Graph:
    def __init__(self):
        self.frame = {}  # defined function -> (bytes, qualifier)
        self.pretty = {}  # function -> demangled signature line
        self.calls = {}  # function -> set of callees

    def read(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for title, label in NODE.findall(text):
            m = SIZE.search(label)
            if m:
                self.frame[title] = (int(m.group(1)), m.group(2))
            self.pretty.setdefault(title, label.split("\\n")[0])
        for src, dst in EDGE.findall(text):
            self.calls.setdefault(src, set()).add(dst)

    def short(self, name):
        """A readable name: the demangled signature without its parameters or return type."""
        head = self.pretty.get(name, name).split("(")[0]
        head = head.split(" ")[-1] if " " in head else head
        return head if head and not head.isdigit() else name.split(":")[-1]


class Analysis:
    """Deepest chain from one entry point; cycles and unbounded frames noted."""

    def __init__(self, graph, indirect_targets):
        self.g = graph
        self.indirect_targets = indirect_targets
        self.memo = {}

    def targets(self, fn):
        out = []
        for callee in sorted(self.g.calls.get(fn, ())):
            if callee == INDIRECT:
                resolved = sorted({name for pat, ts in self.indirect_targets
                                   if fnmatch.fnmatchcase(fn, pat) for t in ts
                                   for name in self.g.frame if fnmatch.fnmatchcase(name, t)})
                out.extend(resolved if resolved else [INDIRECT])
            else:
                out.append(callee)
        return out

    def worst(self, fn, stack, notes):
        """(bytes, chain) of the deepest path from fn; notes collects findings."""
        if fn in stack:
            cycle = stack[stack.index(fn):] + [fn]
            notes["recursion"].add(" -> ".join(self.g.short(f) for f in cycle))
            return 0, [fn]
        if fn == INDIRECT:
            notes["indirect"].add(self.g.short(stack[-1]))
            return 0, []
        if fn not in self.g.frame:
            notes["external"].add(fn)
            return 0, []
        if fn in self.memo and not self.memo[fn][2]:
            size, chain, _, sub = self.memo[fn]
            for key, values in sub.items():
                notes[key] |= values
            return size, chain
        own, qualifier = self.g.frame[fn]
        sub = {"recursion": set(), "indirect": set(), "external": set(), "dynamic": set()}
        if "dynamic" in qualifier and "bounded" not in qualifier:
            sub["dynamic"].add(self.g.short(fn))
        best, best_chain = 0, []
        for callee in self.targets(fn):
            size, chain = self.worst(callee, stack + [fn], sub)
            if size > best:
                best, best_chain = size, chain
        cyclic = bool(sub["recursion"])
        self.memo[fn] = (own + best, [fn] + best_chain, cyclic, sub)
        for key, values in sub.items():
            notes[key] |= values
        return own + best, [fn] + best_chain


def header_functions(paths):
    names = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
        for name in DECL.findall(text):
            if name not in names and not name.startswith("os_"):
                names.append(name)
    return names


def read_budgets(path):
    default, budgets, indirect = None, [], []
    if path is None:
        return default, budgets, indirect
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            words = line.split("#")[0].split()
            if not words:
                continue
            if words[0] == "default" and len(words) == 2:
                default = int(words[1])
            elif words[0] == "budget" and len(words) == 3:
                budgets.append((words[1], int(words[2])))
            elif words[0] == "indirect" and len(words) >= 3:
                indirect.append((words[1], words[2:]))
            else:
                sys.exit(f"{path}:{number}: cannot read '{line.strip()}'")
    return default, budgets, indirect


def budget_of(name, default, budgets):
    for pattern, limit in budgets:
        if fnmatch.fnmatchcase(name, pattern):
            return limit
    return default


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ci", action="append", default=[], metavar="DIR_OR_FILE",
                        help="a .ci file, or a directory searched for *.ci (repeatable)")
    parser.add_argument("--build-dir", help="a CMake build tree holding the --target graphs")
    parser.add_argument("--target", action="append", default=[],
                        help="a CMake target of --build-dir whose object directory holds .ci "
                             "files (repeatable)")
    parser.add_argument("--header", action="append", default=[],
                        help="C header whose declared functions are the entry points")
    parser.add_argument("--budgets", help="budget file (see the top of this script)")
    parser.add_argument("--title", default="", help="printed above the table")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--chains", action="store_true", help="print each deepest chain")
    args = parser.parse_args()

    files = []
    wanted = {t + ".dir" for t in args.target}
    if args.build_dir:
        for root, dirs, _ in os.walk(args.build_dir):
            for d in dirs:
                if d in wanted:
                    args.ci.append(os.path.join(root, d))
                    wanted.discard(d)
    if wanted:
        print(f"stack_usage: no object directory for {sorted(wanted)} under {args.build_dir}",
              file=sys.stderr)
        return 2
    for item in args.ci:
        if os.path.isdir(item):
            for root, _, names in os.walk(item):
                files += [os.path.join(root, n) for n in names if n.endswith(".ci")]
        elif os.path.isfile(item):
            files.append(item)
    if not files:
        print(f"stack_usage: no .ci files in {args.ci}", file=sys.stderr)
        return 2
    graph = Graph()
    for path in sorted(files):
        graph.read(path)
    default, budgets, indirect = read_budgets(args.budgets)
    entries = [n for n in header_functions(args.header) if n in graph.frame]
    if not entries:
        print("stack_usage: no entry point of the headers is defined in the graphs", file=sys.stderr)
        return 2

    analysis = Analysis(graph, indirect)
    failed = False
    rows = []
    for name in entries:
        notes = {"recursion": set(), "indirect": set(), "external": set(), "dynamic": set()}
        size, chain = analysis.worst(name, [], notes)
        limit = budget_of(name, default, budgets)
        problems = []
        if notes["recursion"]:
            problems.append("recursion: " + "; ".join(sorted(notes["recursion"])))
        if notes["dynamic"]:
            problems.append("unbounded dynamic frame: " + ", ".join(sorted(notes["dynamic"])))
        if limit is not None and size > limit:
            problems.append(f"over budget {limit}")
        failed |= bool(problems)
        hooks = sorted(e for e in notes["external"])
        rows.append((name, size, limit, chain, sorted(notes["indirect"]), hooks, problems))

    if args.title:
        print(args.title)
    if args.markdown:
        print("| entry point | worst case (bytes) | budget | deepest chain | indirect calls from |")
        print("| --- | ---: | ---: | --- | --- |")
        for name, size, limit, chain, ind, _, problems in rows:
            status = " **" + "; ".join(problems) + "**" if problems else ""
            print(f"| `{name}` | {size}{status} | {limit if limit is not None else '-'} | "
                  f"{' > '.join(graph.short(f) for f in chain[1:5])}"
                  f"{' > ...' if len(chain) > 5 else ''} | {', '.join(ind) or '-'} |")
    else:
        for name, size, limit, chain, ind, hooks, problems in rows:
            state = "FAIL " + "; ".join(problems) if problems else "ok"
            print(f"{name:32} {size:6} bytes  budget {limit if limit is not None else '-':>5}  "
                  f"{state}")
            if ind:
                print(f"    indirect calls (target stack not included) from: {', '.join(ind)}")
            if args.chains:
                print("    chain: " + " > ".join(
                    f"{graph.short(f)}[{graph.frame.get(f, (0,))[0]}]" for f in chain))
                if hooks:
                    print("    external (port) calls: " + ", ".join(hooks))
    print(f"stack_usage: {len(rows)} entry points, "
          f"{'FAILED' if failed else 'all within budget'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

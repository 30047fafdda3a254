#!/usr/bin/env python3
"""Reads the logs scripts/bench collected (one NAME.log and NAME.status per benchmark) and prints
one table: what was measured, how, the ratio, the goal and whether it is met, then the absolute
numbers behind the ratios. With --markdown FILE, writes the same table and a description of the
machine to FILE. Exits 1 when a selected benchmark produced no number (it failed to run)."""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

NUMBER = r"([0-9]+(?:\.[0-9]+)?)"


def read(logs, name):
    """The log of benchmark `name` and its exit status (None: it did not run)."""
    try:
        with open(os.path.join(logs, name + ".log"), errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    try:
        with open(os.path.join(logs, name + ".status")) as f:
            status = int(f.read().strip() or "1")
    except (OSError, ValueError):
        status = None
    return text, status


def find(pattern, text, group=1):
    """Float of `group` of the first match of `pattern` in `text`, or None."""
    m = re.search(pattern, text, re.MULTILINE)
    return float(m.group(group)) if m else None


class table:
    """Rows of ratios and lines of absolute numbers, filled per benchmark."""

    def __init__(self):
        self.rows = []  # dicts: measured, how, ratio, goal, check, details
        self.absolute = []  # (benchmark, text)
        self.failed = []  # benchmark names that produced no number

    def row(self, measured, how, ratio, goal="", check=None, details=""):
        self.rows.append(dict(measured=measured, how=how, ratio=ratio, goal=goal, check=check,
                              details=details))

    def note(self, bench, text):
        self.absolute.append((bench, text))


def met(r):
    if r["ratio"] is None:
        return "FAILED"
    if r["check"] is None:
        return "-"
    return "yes" if r["check"](r["ratio"]) else "no"


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


# Guest: kernel-port/kernel/selftest/probe_bench.cpp prints
#   bench: <name> <cost> ns  ratio <cost / null syscall>  (engine <n> ns per trap)
# and under -icount (kernel_hit_instructions.sh) the same with "insns" for "ns".
GUEST_ROWS = [
    ("null syscall (getpid)", None),
    ("simulated insn probe hit", "sim"),
    ("out-of-line insn probe hit", "ool"),
    ("entry+return probe pair", "pair"),
    ("round-robin hit, 1 site", "rr1"),
    ("round-robin hit, 100 sites", "a100"),
    ("round-robin hit, 10000 sites", "a10000"),
]


def guest_costs(text, unit):
    costs = {}
    for name, key in GUEST_ROWS:
        v = find(r"^bench: " + re.escape(name) + r"\s+" + NUMBER + r" " + unit + r"\b", text)
        costs[key or "null"] = v
    return costs


def div(a, b):
    return a / b if a is not None and b else None


def add_round_robin(t, c, where):
    # The denominator is the simulated hit at one site (step's first instruction, the row above):
    # the one-site round-robin row measures the same thing, but on a nop whose whole run is so
    # short that, wall clock, it can come out as 0 on a loaded machine.
    how = ("loop N K: N hits spread round-robin over K probed nops (no one-site cache answers "
           "them), the arming at exec (loop 0 K armed alike) subtracted, ÷ the simulated hit at "
           "one site")
    t.row(f"hit round-robin over 100 sites / 1 site ({where})", how, div(c["a100"], c["sim"]),
          "<= 1.1", lambda r: r <= 1.1)
    t.row(f"hit round-robin over 10,000 sites / 1 site ({where})", how,
          div(c["a10000"], c["sim"]), "<= 1.1", lambda r: r <= 1.1)


def add_guest(t, text, status, icount):
    unit = "insns" if icount else "ns"
    c = guest_costs(text, unit)
    null = c["null"]
    where = ("in-kernel handler only, instructions" if icount else
             "in-kernel handler only, wall clock")
    n = find(r"^bench: (\d+) iterations per run", text)
    how = ("programs run with / without probes, (with - without) / N, N = %s, fastest of 5 "
           "rounds; %s" % ("?" if n is None else f"{int(n):,}",
                           "QEMU -icount: 1 ns = 1 guest instruction" if icount else
                           "wall clock, QEMU TCG"))
    t.row(f"simulated-insn hit / null syscall ({where})", how, div(c["sim"], null), "<= 1.5",
          lambda r: r <= 1.5)
    t.row(f"out-of-line hit / null syscall ({where})", "probe on an amoadd.d, stepped in the xol "
          "slot", div(c["ool"], null), "(none)")
    t.row(f"entry+return pair / null syscall ({where})", "entry and return probe on loop's step()",
          div(c["pair"], null), "(none)")
    add_round_robin(t, c, where)
    name = "guest-icount" if icount else "guest"
    if null is not None:
        t.note(name, "null syscall %s %s, simulated hit %s, out-of-line %s, entry+return %s, "
               "round robin over 1 / 100 / 10,000 sites %s / %s / %s" %
               (fmt(null, 1), unit, fmt(c["sim"], 1), fmt(c["ool"], 1), fmt(c["pair"], 1),
                fmt(c["rr1"], 1), fmt(c["a100"], 1), fmt(c["a10000"], 1)))
        engine = re.search(r"^bench: simulated insn probe hit.*\(engine (\d+) ns per trap\)", text,
                           re.MULTILINE)
        if engine:
            t.note(name, "inside the engine per simulated hit: %s %s" %
                   (engine.group(1), "instructions" if icount else "ns"))
    return null is not None


# The product path: tests/bench/engine/product_hit_instructions.py prints probe_bench.cpp's rows
# with every hit shipped through the agent to ruprobesd and one reading subscriber, then
#   bench: hit records dropped (ring full): <n>
#   subscriber: <n> probe.hit received, announced lost: <n reason, ...|none>
def add_product(t, text, status, icount):
    unit = "insns" if icount else "ns"
    c = guest_costs(text, unit)
    null = c["null"]
    where = "traced, shipped to 1 subscriber, " + ("instructions" if icount else "wall clock")
    n = find(r"^bench: (\d+) iterations per run", text)
    how = ("agent attached, ruprobesd connected, one JSON-RPC subscriber reading every event; "
           "programs run with / without probes, (with - without) / N, N = %s, a run ends when "
           "every record is sent, idle time subtracted; %s" %
           ("?" if n is None else f"{int(n):,}",
            "QEMU -icount: 1 ns = 1 guest instruction" if icount else "wall clock, QEMU TCG"))
    t.row(f"simulated-insn hit / null syscall ({where})", how, div(c["sim"], null), "<= 2.0",
          lambda r: r <= 2.0)
    t.row(f"out-of-line hit / null syscall ({where})", "probe on an amoadd.d, stepped in the xol "
          "slot; the same configuration", div(c["ool"], null), "<= 3.0", lambda r: r <= 3.0)
    t.row(f"entry+return pair / null syscall ({where})", "entry and return probe on loop's "
          "step(); the same configuration", div(c["pair"], null), "<= 4.0", lambda r: r <= 4.0)
    add_round_robin(t, c, where)
    dropped = find(r"^bench: hit records dropped \(ring full\): (\d+)", text)
    received = find(r"^subscriber: (\d+) probe.hit received", text)
    announced = re.search(r"^subscriber: .*announced lost: (.*)$", text, re.MULTILINE)
    lost = None
    if announced:
        lost = sum(float(n) for n in re.findall(r"(\d+) \w+", announced.group(1)))
    made = None if received is None or lost is None else received + lost
    t.row(f"records lost / hits made ({where})", "every hit of every run (loop, insns at full "
          "rate): what the subscriber was told was lost (the kernel's ring-full drops and the "
          "daemon's subscriber_queue_full), over what it received plus that", div(lost, made),
          "= 0", lambda r: r == 0, "" if dropped is None or lost is None else
          f"received {int(received)}, announced lost {int(lost)}, of which the kernel dropped "
          f"{int(dropped)}")
    name = "product-icount" if icount else "product"
    if null is not None:
        t.note(name, "null syscall %s %s, simulated hit %s, out-of-line %s, entry+return %s" %
               (fmt(null, 1), unit, fmt(c["sim"], 1), fmt(c["ool"], 1), fmt(c["pair"], 1)))
    lost = re.search(r"^subscriber: .*$", text, re.MULTILINE)
    if lost:
        t.note(name, lost.group(0))
    return null is not None and made is not None


# In-kernel aggregations: tests/bench/engine/aggregation_hit_instructions.py prints
#   aggregation: <variant> <cost> insns|ns
# per variant ((with - without) / N over /bin/loop N, timed between traced probes on main's entry
# and return), the derived bare hit, condition evaluation and agent share, and
#   aggregation: /bin/loop <n> at full rate under a count aggregation by pid: counted <c> of <n>
#   calls of step(), hits <h>, dropped <d>, probe.hit sent 0 (got <g>), <rate> hits/s ...
def aggregation_cost(text, name, unit):
    return find(r"^aggregation: " + re.escape(name) + r"\s+" + r"(-?[0-9]+(?:\.[0-9]+)?)" +
                r" " + unit + r"\b", text)


def add_aggregation_exact(t, text, where):
    m = re.search(r"^aggregation: /bin/loop (\d+) at full rate .*: counted (\d+) of (\d+) calls "
                  r"of step\(\), hits (\d+), dropped (\d+), probe.hit sent 0 \(got (\d+)\), "
                  r"(\d+) hits/s", text, re.MULTILINE)
    lost = None
    details = ""
    if m:
        n, counted, hits, dropped, sent = (int(m.group(i)) for i in (1, 2, 4, 5, 6))
        lost = float(n - counted) if counted == hits and dropped == 0 and sent == 0 else None
        details = (f"/bin/loop {n}: counted {counted}, hits {hits}, dropped {dropped}, "
                   f"probe.hit sent {sent}, {int(m.group(7)):,} hits/s")
    t.row(f"count aggregation: hits lost / hits made ({where})", "`aggregate {by: pid}` on "
          "step(), /bin/loop N at full rate: N - the table's count (exact: loop N calls step() N "
          "times), with hits == N and dropped == 0 required, over N", div(lost, 1.0), "= 0",
          lambda r: r == 0, details)
    if m:
        t.note("aggregation-rate" if "wall" in where else "aggregation", details)
    return lost is not None


def add_aggregation(t, text, status):
    unit = "insns"
    names = ("null syscall (getpid)", "no-record hit (condition false)", "aggregated hit (count)",
             "aggregated hit, condition true", "aggregated hit (by pid, log2 of a0)",
             "agent share, condition path (derived)")
    c = {k: aggregation_cost(text, k, unit) for k in names}
    agg = c["aggregated hit (count)"]
    n = find(r"^aggregation: (\d+) iterations per run", text)
    how = ("agent attached, ruprobesd connected, probe.add `aggregate` over JSON-RPC; /bin/loop N "
           "with / without an entry probe on step(), (with - without) / N, N = %s, timed in the "
           "guest between traced probes on main's entry and return, fastest of 5 rounds; QEMU "
           "-icount: 1 ns = 1 guest instruction" % ("?" if n is None else f"{int(n):,}"))
    # The bare hit: the in-kernel-handler-only simulated hit of guest-icount (the same kernel
    # booted without the agent, in the same bench run): trap, engine, record fill, a no-op
    # handler, nothing leaves the kernel.
    guest, _ = read(LOGS, "guest-icount") if LOGS else ("", None)
    bare = guest_costs(guest, "insns")["sim"] if guest else None
    if guest:
        t.row("aggregated hit (count) / bare in-kernel hit (instructions)", how + "; ÷ "
              "guest-icount's simulated-insn hit (same kernel without the agent: trap, engine, "
              "record fill, a no-op handler, no sink)", div(agg, bare), "<= 1.2",
              lambda r: r <= 1.2)
        t.row("aggregated hit (by pid, log2 of a0) / bare in-kernel hit (instructions)",
              "the same; a table keyed by pid with a log2 histogram of a0",
              div(c["aggregated hit (by pid, log2 of a0)"], bare), "(none)")
    t.row("aggregated hit (count) / null syscall (agent attached, instructions)",
          ("" if guest else how + "; ") + "null syscall: syscall_bench N - loop N, timed alike",
          div(agg, c["null syscall (getpid)"]), "(none)")
    product, _ = read(LOGS, "product-icount") if LOGS else ("", None)
    if product:
        traced = guest_costs(product, "insns")["sim"]
        t.row("aggregated hit (count) / traced hit, shipped to 1 subscriber (instructions)",
              "÷ product-icount's simulated-insn hit (same bench run)", div(agg, traced),
              "(none)")
    t.row("aggregated hit (count) / no-record hit, condition false (agent attached, "
          "instructions)", "denominator: an entry probe on step() with `condition: pid == 0` "
          "(never true): the engine's general path, the record filled and the condition "
          "evaluated, no sink", div(agg, c["no-record hit (condition false)"]), "(none)")
    add_aggregation_exact(t, text, "agent attached, instructions")
    if agg is not None:
        t.note("aggregation", "null syscall %s insns, aggregated (count) %s, aggregated by pid "
               "with a log2 histogram %s, no-record hit (condition false) %s, aggregated with a "
               "true condition %s; the agent's share of a hit on the condition path %s" % tuple(
                   fmt(c[k], 1) for k in (
                       "null syscall (getpid)", "aggregated hit (count)",
                       "aggregated hit (by pid, log2 of a0)", "no-record hit (condition false)",
                       "aggregated hit, condition true", "agent share, condition path (derived)")))
    return agg is not None

def add_engine_hits(t, text, status):
    # Columns by their header (split on runs of 2+ spaces), so added columns do not break it.
    header = re.search(r"^\s*probes\s{2,}(.*)$", text, re.MULTILINE)
    cols = ["probes"] + re.split(r"\s{2,}", header.group(1).strip()) if header else []
    rows = {}
    for m in re.finditer(r"^[ \t]*(\d+)((?:[ \t]+[0-9.]+)+)[ \t]*$", text, re.MULTILINE):
        values = [float(v) for v in m.group(2).split()]
        if len(values) == len(cols) - 1:
            rows[int(m.group(1))] = values
    ratio_cols = [i for i, c in enumerate(cols[1:]) if c == "cost ratio"]

    def col(n, which):
        r = rows.get(n)
        if r is None or which >= len(ratio_cols):
            return None
        return r[ratio_cols[which]]

    how = "uprobes_trap_handler on a simulated addi, host port, best of interleaved rounds"
    for n, label in ((100, "100"), (10000, "10,000")):
        t.row(f"hit, {label} armed / 1 armed (host engine, same site)", how, col(n, 0), "<= 1.1",
              lambda x: x <= 1.1)
    for n, label in ((100, "100"), (10000, "10,000")):
        t.row(f"hit, {label} armed / 1 armed (host engine, hits spread over all sites)",
              how + "; adds the cache footprint of the table", col(n, 1), "(none)")
    rate = cols.index("same-site hits/s") - 1 if "same-site hits/s" in cols else None
    slots = cols.index("slots/lookup") - 1 if "slots/lookup" in cols else None
    if rate is not None and all(n in rows for n in (1, 100, 10000)):
        t.note("engine-hits", "host engine, same site: %.1f M hits/s with 1 probe armed, %.1f M "
               "with 100, %.1f M with 10,000; lookup slots per hit with 10,000: %s" %
               (rows[1][rate] / 1e6, rows[100][rate] / 1e6, rows[10000][rate] / 1e6,
                fmt(rows[10000][slots] if slots is not None else None, 3)))
    return col(100, 0) is not None and col(10000, 0) is not None


def add_engine_insns(t, text, status):
    found = re.findall(r"^engine: (\d+) instructions per ([^(]+?)\s*\(", text, re.MULTILINE)
    for count, what in found:
        t.note("engine-insns", f"engine: {count} RV64 instructions per {what} "
               "(qemu-riscv64, trap handler entry to return)")
    return bool(found)


def add_simulate(t, text, status):
    fams = re.findall(r"^(\S.*?)[ \t]{2,}" + r"[ \t]+".join([NUMBER] * 3) + r"[ \t]*$", text,
                      re.MULTILINE)
    if fams:
        parts = ", ".join(f"{f[0]} {float(f[1]):.1f}/{float(f[2]):.1f}" for f in fams)
        t.note("simulate", "decode/simulate ns on the host: " + parts)
    return bool(fams)


def add_channel(t, text, status):
    ratio = find(r"^ratio: events/s .* = " + NUMBER, text)
    # One "channel:" line per raw measurement (before the hit phase, and again after it).
    raw = [float(v) for v in re.findall(r"^channel: .*: " + NUMBER + r" MB/s", text, re.MULTILINE)]
    mbs = sum(raw) / len(raw) if raw else None
    bpe = find(r"^ratio: events/s / \(channel bytes/s / " + NUMBER + r" bytes per event", text)
    hits = re.search(r"^hits: (\d+) of (\d+) calls delivered in [0-9.]+ s: (\d+) events/s; dropped "
                     r"by the kernel (\d+), sequence gaps (\d+), unaccounted (\d+)", text,
                     re.MULTILINE)
    details = ""
    if hits:
        details = (f"kernel drops {hits.group(4)}, seq gaps {hits.group(5)}, "
                   f"unaccounted {hits.group(6)}")
    t.row("channel hit events/s / (channel bytes/s / bytes per event)",
          "raw filler frames (before and after the hits, mean), loop under an entry probe, "
          "one QEMU", ratio, ">= 0.5, no unaccounted loss",
          (lambda r: r >= 0.5 and hits is not None and hits.group(6) == "0"), details)
    if mbs is not None and hits:
        t.note("channel", f"channel {mbs:.1f} MB/s raw (mean of "
               f"{' and '.join(f'{v:.1f}' for v in raw)}; {bpe} wire bytes per hit event); "
               f"{hits.group(3)} hit events/s delivered, {hits.group(1)} of {hits.group(2)} hits")
    return ratio is not None


def add_gdb(t, text, status):
    ratio = find(r"ratio ruprobesd / QEMU gdbstub: " + NUMBER, text)
    a = re.search(r"ruprobesd:\s+" + NUMBER + r" stops/s\s+\(" + NUMBER, text)
    b = re.search(r"QEMU gdbstub:\s+" + NUMBER + r" stops/s\s+\(" + NUMBER, text)
    t.row("gdb round trips/s, ruprobesd / QEMU gdbstub",
          "gdb-multiarch batch, silent+continue breakpoint on step(); target.xml: ruprobesd's "
          "has osabi none (gdb steps with vCont;s), QEMU's has no osabi (gdb assumes GNU/Linux "
          "and steps with a temporary breakpoint)", ratio, ">= 2.0",
          lambda r: r >= 2.0)
    k = re.search(r"ruprobesd --no-host-step:\s+" + NUMBER + r" stops/s", text)
    if a and b:
        t.note("gdb", f"ruprobesd {float(a.group(1)):.0f} stops/s ({a.group(2)} packets per stop), "
               f"QEMU gdbstub {float(b.group(1)):.0f} stops/s ({b.group(2)} packets per stop)"
               + (f", ruprobesd --no-host-step {float(k.group(1)):.0f} stops/s" if k else ""))
    cpu = re.search(r"gdb's own CPU per stop[^:]*: ruprobesd " + NUMBER + r" ms, QEMU gdbstub "
                    + NUMBER + r" ms", text)
    ceiling = find(r"ceiling of the ratio with this gdb and script: .* = " + NUMBER, text)
    if cpu and ceiling is not None:
        t.note("gdb", f"gdb's own CPU per stop: {cpu.group(1)} ms through ruprobesd, "
               f"{cpu.group(2)} ms through QEMU's gdbstub; ceiling of the ratio (ruprobesd and "
               f"the kernel answering in no time) {ceiling:.3f}")
    return ratio is not None


def add_gdb_condition(t, text, status):
    ok = False
    for m in re.finditer(r"gdb `break fib if ([^`]+)` on /bin/fib (\d+)", text):
        cond, n = m.group(1), m.group(2)
        rest = text[m.end():]
        ratio = find(r"ratio host / target \(" + re.escape(cond) + r"\): " + NUMBER, rest)
        target = re.search(r"evaluation target:\s+" + NUMBER + r" s\s+\(breakpoint hit (\d+)", rest)
        host = re.search(r"evaluation host:\s+" + NUMBER + r" s\s+\(breakpoint hit (\d+)", rest)
        hits = target.group(2) if target else "?"
        if cond == "n==3":
            t.row("gdb conditional breakpoint, host / target evaluation (wall time)",
                  f"`break fib if n==3`, /bin/fib {n} to the exit, {hits} stops either way",
                  ratio, ">= 50", lambda r: r >= 50)
        else:
            t.row("gdb conditional breakpoint, false hits only, host / target (wall time)",
                  f"`break fib if {cond}`, /bin/fib {n} to the exit, {hits} stop", ratio,
                  "(none)", None)
        if target and host:
            t.note("gdb-condition", f"`{cond}`: target {float(target.group(1)):.3f} s, "
                   f"host {float(host.group(1)):.3f} s (breakpoint hit {target.group(2)} / "
                   f"{host.group(2)} times)")
        ok = ok or ratio is not None
    return ok


def add_rpc(t, text, status):
    row = (r"(\d+)[ \t]+(\d+)[ \t]+" + r"[ \t]+".join([NUMBER] * 3) +
           r"[ \t]+(\d+)[ \t]+(\d+)[ \t]+(-?\d+)[ \t]+(\d+) KiB" +
           r"(?:[ \t]+" + NUMBER + r" ns/ev(?:[ \t]+" + NUMBER + r")?)?")
    rounds = {int(m.group(1)): m for m in re.finditer(r"^[ \t]*" + row, text, re.MULTILINE)}
    paced = {int(m.group(1)): m for m in re.finditer(r"^paced[ \t]+" + row, text, re.MULTILINE)}
    ratio = {int(m.group(1)): float(m.group(2)) for m in
             re.finditer(r"^ratio rate\((\d+) subscribers\) / rate\(1\) = " + NUMBER, text,
                         re.MULTILINE)}
    paced_ratio = find(r"^paced ratio rate\(100 subscribers\) / rate\(1\) = " + NUMBER, text)
    ceiling_ratio = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^ceiling ratio ceiling\(100 readers, one core busy, (send|sendfile)\) / rate\(1\) = " +
        NUMBER, text, re.MULTILINE)}
    of_ceiling = find(r"^daemon / ceiling: median over \d+ pairs = " + NUMBER, text)
    pairs = re.search(r"^daemon / ceiling: median over (\d+) pairs = .*\(min " + NUMBER +
                      r", max " + NUMBER, text, re.MULTILINE)
    offered = find(r"^fixed rate: QEMU /bin/paced (\d+)", text)
    how = "loop under an entry probe, a fresh ruprobesd per round, slowest subscriber"

    def details(m):
        if not m:
            return ""
        return (f"lost {m.group(6)}, kernel drops {m.group(7)}, unaccounted {m.group(8)}, "
                f"peak RSS {int(m.group(9)) / 1024:.1f} MiB")

    def accounted(rs, n):
        return n in rs and rs[n].group(8) == "0"

    t.row("fan-out: 10 subscribers / 1 subscriber (events/s each)", how, ratio.get(10), "(none)",
          None, details(rounds.get(10)))
    t.row("fan-out: 100 subscribers / 1 subscriber (events/s each)", how, ratio.get(100),
          "(none)", None, details(rounds.get(100)))
    for way, text_way in (("send", "send() from memory"),
                          ("sendfile", "sendfile() from a memory file")):
        t.row(f"fan-out ceiling ({way}): loopback lines/s per reader, 100 readers / 1 subscriber's "
              "rate", f"one writer process, {text_way}, no daemon or QEMU, one core kept busy, "
              "same reader", ceiling_ratio.get(way), "(none)", None,
              "the most a daemon writing this way could deliver to 100 subscribers here")
    spread = (f"median of {pairs.group(1)} pairs (min {float(pairs.group(2)):.2f}, max "
              f"{float(pairs.group(3)):.2f}); " if pairs else "")
    t.row("fan-out: 100 subscribers / loopback ceiling (events/s each)",
          "a 100-subscriber round over the better of the two ceilings above measured right "
          "after it, same run", of_ceiling, ">= 0.9, no unaccounted loss",
          lambda r: r >= 0.9 and accounted(rounds, 100) and "unaccounted loss: none" in text,
          spread + details(rounds.get(100)))
    t.row(f"fan-out at a fixed {offered or 0:.0f} hits/s: 100 subscribers / 1 subscriber",
          "paced under an entry probe, a fresh ruprobesd per round, slowest subscriber",
          paced_ratio, ">= 0.8, no unaccounted loss",
          lambda r: r >= 0.8 and accounted(paced, 100), details(paced.get(100)))
    for n in (1, 10, 100):
        m = rounds.get(n)
        if m:
            cost = (f", daemon CPU {float(m.group(10)):.0f} ns per delivered event"
                    if m.group(10) else "")
            size = f", {float(m.group(11)):.0f} bytes per event" if m.group(11) else ""
            t.note("rpc", f"{n} subscriber(s): {float(m.group(3)):.0f} events/s each (slowest), "
                   f"{float(m.group(5)):.0f} events/s in total, {details(m)}{cost}{size}")
    for n, m in sorted(paced.items()):
        t.note("rpc", f"fixed rate, {n} subscriber(s): {float(m.group(3)):.0f} events/s each "
               f"(slowest), {details(m)}")
    ceiling_row = r"^ceiling +(\d+) reader\(s\)((?:, one core busy)?, (?:send|sendfile)) *: +"
    for m in re.finditer(ceiling_row + NUMBER + r".*?writer cpu +" + NUMBER, text, re.MULTILINE):
        t.note("rpc", f"loopback ceiling, {m.group(1)} reader(s){m.group(2)}: "
               f"{float(m.group(3)):.0f} lines/s per reader, writer CPU {float(m.group(4)):.0f} "
               "ns per line")
    line = find(r"^loopback ceiling: one writer process, (\d+)-byte lines", text)
    if line:
        t.note("rpc", f"loopback ceiling: {line:.0f} bytes per line")
    return 100 in ratio


# smp: the guest benchmark on 1 and on 2 harts ("== harts N" before each boot's output); its
# "simulated hit, 4 at once" row is ns per hit while 4 processes hit one probe at once. Then
# ("== icount harts 4") kernel_hit_instructions.sh on 4 harts: the same rows in instructions.
def add_smp(t, text, status):
    wall, _, icount = text.partition("\n== icount harts 4\n")
    # Boots "== harts H (boot B)", alternating 1 and 2 harts: each number is the fastest over
    # the boots of its hart count.
    patterns = {"hit": r"^bench: simulated hit, 4 at once\s+([\d.]+) ns",
                "calls": r"^bench: null syscall, 4 at once: ([\d.]+) ns",
                "user": r"^bench: user code, 4 at once: ([\d.]+) ns"}
    best = {key: {} for key in patterns}  # the fastest, by hart count
    boots = []  # (harts, ns per hit) of each boot in turn
    for part in re.split(r"^== harts ", wall, flags=re.MULTILINE)[1:]:
        harts = int(re.match(r"\d+", part).group(0))
        found = {key: find(pattern, part) for key, pattern in patterns.items()}
        for key, ns in found.items():
            if ns is not None:
                best[key][harts] = min(ns, best[key].get(harts, ns))
        boots.append((harts, found["hit"]))
    at_once, calls, user = best["hit"], best["calls"], best["user"]
    one, two = at_once.get(1), at_once.get(2)
    t.row("hits/s, 4 processes hitting one probe at once: 2 harts / 1 hart (wall clock, MTTCG)",
          "ruprobes.bench's '4 at once' row (in-kernel handler only) on a kernel booted with "
          "-smp 1 and -smp 2, -accel tcg,thread=multi, booted in alternating pairs (3; 1 with "
          "--quick): ns per hit on 1 hart / ns per hit on 2 harts, the fastest round of all the "
          "boots of each; the hits take the engine's lock-free path (no big kernel lock; the "
          "probe's hit counter is the one shared word). Leaves out the agent. The machine has 2 "
          "cores for QEMU's 2 vCPU threads and everything else; the two control rows below come "
          "from the same boots",
          div(one, two), ">= 1.8", lambda r: r >= 1.8)
    # Two controls from the same boots: the trap path without the engine (a system call, which
    # takes the big kernel lock), and user code alone (no trap): what this machine gives two
    # vCPU threads at once is the ceiling of the row above.
    t.row("null syscalls/s, 4 processes at once: 2 harts / 1 hart (wall clock, MTTCG; control)",
          "ruprobes.bench's 'null syscall, 4 at once' line from the same boots: 4 x syscall_bench "
          "N at once - 4 x loop N at once, per call. The kernel's trap path without the engine; a "
          "system call takes the big kernel lock", div(calls.get(1), calls.get(2)), "(none)", None)
    t.row("user code, 4 processes at once: 2 harts / 1 hart (wall clock, MTTCG; the machine's "
          "ceiling)",
          "ruprobes.bench's 'user code, 4 at once' line from the same boots: 4 x loop 50N at once "
          "- 4 x loop N at once, per loop iteration. No trap, nothing shared: how much faster "
          "this machine runs the guest on two vCPU threads than on one",
          div(user.get(1), user.get(2)), "(none)", None)
    if one is not None and two is not None:
        t.note("smp", "simulated hit, 4 at once: %s ns per hit on 1 hart, %s on 2 harts" %
               (fmt(one, 1), fmt(two, 1)))
    if len(boots) > 2:
        t.note("smp", "simulated hit, 4 at once, each boot in turn: " +
               ", ".join(f"{fmt(ns, 1)} ns on {h} hart{'s' if h > 1 else ''}"
                         for h, ns in boots))
    if len(calls) == 2 and len(user) == 2:
        t.note("smp", "controls: null syscall, 4 at once, %s ns per call on 1 hart, %s on 2; user "
               "code, 4 at once, %s ns per loop iteration on 1 hart, %s on 2" %
               (fmt(calls[1], 1), fmt(calls[2], 1), fmt(user[1], 2), fmt(user[2], 2)))
    icount_ok = add_smp_icount(t, icount)
    return one is not None and two is not None and icount_ok


# The 4-hart -icount run: instructions per hit of the "4 at once" row over the one-process
# simulated hit of the same run. The goal needs the 4 to have overlapped on several harts;
# "4 at once, fastest run: the 4 ran on K of 4 harts" says whether they did.
def add_smp_icount(t, text):
    four = find(r"^bench: simulated hit, 4 at once\s+" + NUMBER + r" insns", text)
    one = find(r"^bench: simulated insn probe hit\s+" + NUMBER + r" insns", text)
    n = find(r"^bench: (\d+) iterations per run", text)
    ran_on = find(r"^bench: 4 at once, fastest run: the 4 ran on (\d+) of", text)
    ratio = div(four, one)
    spread = ran_on is not None and ran_on >= 2
    how = ("ruprobes.bench on a kernel booted with -smp 4 under -icount shift=0,sleep=off (1 ns = "
           "1 guest instruction, every hart's instructions counted, time all harts were idle "
           "subtracted), N = %s: per hit of 4 x loop N at once, probe on step / per hit of one "
           "loop N, same run. In-kernel handler only (no agent, no hit shipped). Includes the trap and "
           "the engine's lock-free path (its section marker, the shared hit counter); leaves out "
           "parallelism: QEMU runs the harts in turn, each until the next timer deadline (a 10 ms "
           "tick is 10 million instructions), so the 4 contend only where a turn ends inside a "
           "hit, and wfi costs no instructions" %
           ("?" if n is None else f"{int(n):,}"))
    if ran_on is not None and not spread:
        how += ("; not measured when the 4 ran on one hart (QEMU before 8.1 gives the first busy "
                "hart each round's whole budget, so the others never ran)")
    t.row("guest instructions per hit, 4 harts hitting one probe / 1 hart (in-kernel handler "
          "only, QEMU -icount)", how, ratio, "<= 1.2",
          (lambda r: r <= 1.2) if spread else None)
    if four is not None and one is not None:
        t.note("smp", "-icount, 4 harts: simulated hit %s insns alone, %s insns per hit with 4 "
               "at once; the 4 ran on %s of 4 harts" %
               (fmt(one, 1), fmt(four, 1), "?" if ran_on is None else int(ran_on)))
    rounds = re.findall(r"^bench: 4 at once, round \d+: " + NUMBER + r" insns per hit, the 4 ran "
                        r"on (\d+) of", text, re.MULTILINE)
    if rounds:
        t.note("smp", "-icount, 4 at once, every round: " +
               ", ".join(f"{float(c):.1f} insns on {h} harts" for c, h in rounds))
    return ratio is not None


BENCHMARKS = [
    ("guest", lambda t, x, s: add_guest(t, x, s, False)),
    ("guest-icount", lambda t, x, s: add_guest(t, x, s, True)),
    ("product", lambda t, x, s: add_product(t, x, s, False)),
    ("product-icount", lambda t, x, s: add_product(t, x, s, True)),
    ("aggregation", add_aggregation),
    ("aggregation-rate", lambda t, x, s: add_aggregation_exact(t, x, "wall clock")),
    ("engine-hits", add_engine_hits),
    ("engine-insns", add_engine_insns),
    ("simulate", add_simulate),
    ("channel", add_channel),
    ("gdb", add_gdb),
    ("gdb-condition", add_gdb_condition),
    ("rpc", add_rpc),
    ("smp", add_smp),
]


LOGS = None  # the logs directory, for rows that divide by another benchmark's number


def build_table(logs, selected):
    global LOGS
    LOGS = logs
    t = table()
    for name, add in BENCHMARKS:
        if name not in selected:
            continue
        text, status = read(logs, name)
        first_row = len(t.rows)
        ok = add(t, text, status)
        # A benchmark failed when it printed nothing usable or left any of its rows without a
        # number.
        ok = ok and all(r["ratio"] is not None for r in t.rows[first_row:])
        if not ok:
            t.failed.append(name)
            last = [line for line in text.strip().splitlines() if line.strip()][-5:]
            t.note(name, f"FAILED (exit {status}); last output: " + " | ".join(last))
        elif status not in (0, None):
            t.note(name, f"exit status {status} (numbers printed; see the details column)")
    return t


def row_cells(r):
    """A row's cells in table order: measured, how, ratio, goal, met, details."""
    return [r["measured"], r["how"], fmt(r["ratio"], 3), r["goal"], met(r), r["details"]]


def text_table(t):
    headers = ["measured", "how", "ratio", "goal", "met", "details"]
    rows = [row_cells(r) for r in t.rows]
    # The method column is long: the plain-text table shows it on a line of its own.
    widths = [max(len(str(x[i])) for x in rows + [headers]) for i in (0, 2, 3, 4)]
    out = []
    line = lambda c: f"{c[0]:<{widths[0]}}  {c[2]:>{widths[1]}}  {c[3]:<{widths[2]}}  " \
                     f"{c[4]:<{widths[3]}}  {c[5]}".rstrip()
    out.append(line(headers))
    out.append("-" * (sum(widths) + 6 + len("details")))
    for r in rows:
        out.append(line(r))
        out.append("    how: " + r[1])
    out.append("")
    out.append("absolute numbers:")
    for bench, text in t.absolute:
        out.append(f"  {bench}: {text}")
    return "\n".join(out)


def md_escape(s):
    return str(s).replace("|", "\\|")


def markdown_table(t):
    out = ["| measured | how | ratio | goal | met | details |",
           "| --- | --- | ---: | --- | --- | --- |"]
    for r in t.rows:
        out.append("| " + " | ".join(md_escape(x) for x in row_cells(r)) + " |")
    out.append("")
    out.append("Absolute numbers:")
    out.append("")
    for bench, text in t.absolute:
        out.append(f"- `{bench}`: {md_escape(text)}")
    return "\n".join(out)


def first_line(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout \
            .strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "(unknown)"


def read_first(logs, name):
    try:
        with open(os.path.join(logs, name)) as f:
            return f.read().strip() or "(unknown)"
    except OSError:
        return "(unknown)"


def machine(logs):
    model = "(unknown)"
    mem = "(unknown)"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "(unknown)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [
        ("CPUs (nproc)", first_line(["nproc"])),
        ("CPU model", model),
        ("memory", mem),
        ("kernel", platform.system() + " " + platform.release()),
        ("load average (1/5/15 min) when the run started", read_first(logs, "loadavg.start")),
        ("load average (1/5/15 min) when the table was written", load),
        ("QEMU", first_line(["qemu-system-riscv64", "--version"])),
        ("host compiler", first_line(["g++", "--version"])),
        ("guest compiler", first_line(["riscv64-linux-gnu-g++", "--version"])),
        ("gdb", first_line(["gdb-multiarch", "--version"])),
        ("commit", first_line(["git", "-C", root, "rev-parse", "--short", "HEAD"])),
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--logs", required=True, help="the directory scripts/bench wrote")
    p.add_argument("--only", default=" ".join(n for n, _ in BENCHMARKS),
                   help="space-separated benchmark names that were run")
    p.add_argument("--quick", action="store_true", help="the run used --quick")
    p.add_argument("--markdown", help="also write a Markdown table and the machine to this file")
    p.add_argument("--command", default="scripts/bench", help="the command line, for --markdown")
    a = p.parse_args()
    selected = a.only.split()
    t = build_table(a.logs, selected)
    print("ratios measured in this run%s (goals: issues 3, 5, 6, 7, 8, 13, 16, 18; 'met' is informative, "
          "the machine is shared and noisy)" % (" (--quick: smoke run, few iterations)"
                                                 if a.quick else ""))
    print()
    print(text_table(t))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(f"Command: `{a.command}`\n\n")
            f.write(markdown_table(t) + "\n\nMachine:\n\n")
            for k, v in machine(a.logs):
                f.write(f"- {k}: {md_escape(v)}\n")
        print(f"\nbench: table and machine written to {a.markdown}")
    if t.failed:
        print(f"\nbench: failed (a row without a number): {' '.join(t.failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

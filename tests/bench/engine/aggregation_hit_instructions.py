#!/usr/bin/env python3
"""Guest instructions per aggregated probe hit, in the product configuration: the reference kernel
in QEMU with the agent on its virtio console, ruprobesd connected, probes added and programs
started over JSON-RPC (probe.add with `aggregate`, process.spawn), the tables read back with
probe.aggregate.

Each run of a program is timed inside the guest: two traced probes bracket it, one on the
program's `main` (entry) and one on its return; the guest clock in their probe.hit notices (under
QEMU `-icount shift=0,sleep=off`, 1 ns = 1 guest instruction) gives the instructions from main's
entry to its return. The bracket costs the same in every variant, so it cancels out in
(with - without) / N:

  null syscall        (syscall_bench N) - (loop N)
  no-record hit       (loop N, entry probe on step() with condition `pid == 0`: never true, so
                      the hit is trapped, looked up, its record filled for the condition, the
                      condition evaluated, and nothing more: no sink, no agent) - (loop N)
  aggregated hit      (loop N, entry probe on step() with aggregate {} : a count, no key) - (loop N)
  aggregated + cond   (loop N, the same aggregation with condition `pid != 0`: always true) -
                      (loop N): minus the no-record hit, what the agent adds to a hit on the
                      engine's general path (sink call, lock, table)
  aggregated by pid   (loop N, aggregate {by: pid, of: a0, hist: log2}) - (loop N)

A probe without a condition whose site has one consumer takes the engine's one-line hot path; a
probe with a condition takes the general path (site_hit), which costs more: the two conditioned
variants are compared only with each other. Each variant runs `--rounds` times interleaved, the
fastest run kept. Every aggregated run is also checked: the table counts exactly N hits of
step() (loop N calls it N times), `dropped` is 0; a mismatch fails the benchmark (exit 1).

    aggregation_hit_instructions.py [--kernel KERNEL.elf] [--build DIR] [--iterations N]
                                    [--rounds R] [--wall-clock] [--exact-only N]

--kernel defaults to DIR/guest/kernel.elf (DIR: --build, $RUPROBES_BUILD_DIR or build/); the
programs' host copies are taken from user/ beside the kernel.
--wall-clock runs QEMU without -icount (rows in ns of wall clock, QEMU TCG).
--exact-only N: no timing; `/bin/loop N` at full rate (wall clock) under a count aggregation by
pid, checks count == N, hits == N, dropped == 0, prints the rate; exit 1 on any mismatch.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class rpc_client:
    """One JSON-RPC connection (line framing): calls, and notifications queued in arrival order."""

    def __init__(self, port, deadline):
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(None)
        self.next_id = 1
        self.cond = threading.Condition()
        self.responses = {}
        self.notices = []
        self.closed = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                m = json.loads(line)
                with self.cond:
                    if "id" in m and "method" not in m:
                        self.responses[m["id"]] = m
                    else:
                        self.notices.append(m)
                    self.cond.notify_all()

    def call(self, method, params=None, timeout=30):
        i = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": i, "method": method}
        if params is not None:
            msg["params"] = params
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        with self.cond:
            while i not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise RuntimeError(f"no answer to {method}")
                self.cond.wait(left)
            m = self.responses.pop(i)
        if "error" in m:
            raise RuntimeError(f"{method} {json.dumps(params)}: {json.dumps(m['error'])}")
        return m["result"]

    def next_notice(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.notices:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)
            return self.notices.pop(0)


class target:
    """ruprobesd and QEMU booting the reference kernel with the agent's channel to it."""

    def __init__(self, args):
        self.daemon = self.qemu = None
        try:
            self.start(args)
        except BaseException:
            self.close()
            raise

    def start(self, args):
        self.tmp = tempfile.mkdtemp(prefix="ruprobes-aggregation-bench.")
        sock = os.path.join(self.tmp, "agent.sock")
        rpc_port = free_port()
        self.daemon_log = os.path.join(self.tmp, "ruprobesd.log")
        self.qemu_log = os.path.join(self.tmp, "qemu.log")
        self.daemon = subprocess.Popen(
            [os.path.join(args.build, "bin", "ruprobesd"), "--qemu-socket", sock, "--symbols",
             os.path.join(os.path.dirname(args.kernel), "user"), "--rsp-listen",
             f"127.0.0.1:{free_port()}", "--rpc-listen", f"127.0.0.1:{rpc_port}"],
            stdout=open(self.daemon_log, "w"), stderr=subprocess.STDOUT)
        self.brackets = {}
        self.client = rpc_client(rpc_port, time.monotonic() + 30)
        self.client.call("events.subscribe",
                         {"kinds": ["probe.hit", "process.exit", "events.lost",
                                    "target.connected"]})
        icount = [] if args.wall_clock else ["-icount", "shift=0,sleep=off"]
        env = dict(os.environ, RUPROBES_AGENT_SOCKET=sock)
        self.qemu = subprocess.Popen([os.path.join(ROOT, "scripts", "qemu"), args.kernel, "ruprobes.stay", "--"] +
                                     icount, stdout=open(self.qemu_log, "w"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while True:
            m = self.client.next_notice(max(0.1, deadline - time.monotonic()))
            if m is not None and m.get("method") == "target.connected":
                break
            if m is None and time.monotonic() > deadline:
                raise RuntimeError("the target did not connect")

    def logs(self):
        out = []
        for f in (self.daemon_log, self.qemu_log):
            with open(f, errors="replace") as fh:
                out.append(f"--- {f}\n" + "".join(fh.readlines()[-30:]))
        return "\n".join(out)

    def close(self):
        for p in (self.qemu, self.daemon):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def run_program(t, argv, bracket):
    """Spawns argv, waits for its exit; returns the guest ns from main's entry to its return (the
    two bracket probes' hits) and the other probe.hit notices of the run."""
    proc = t.client.call("process.spawn", {"argv": argv})
    pid = proc["pid"]
    times = {}
    others = 0
    lost = 0
    deadline = time.monotonic() + 600
    while True:
        m = t.client.next_notice(max(0.1, deadline - time.monotonic()))
        if m is None:
            raise RuntimeError(f"{' '.join(argv)}: no process.exit")
        method = m.get("method")
        p = m.get("params", {})
        if method == "probe.hit" and p.get("pid") == pid:
            if p["probe"] in bracket:
                times[bracket[p["probe"]]] = p["time_ns"]
            else:
                others += 1
        elif method == "events.lost":
            lost += p["count"]
        elif method == "process.exit" and p.get("pid") == pid:
            if p["status"] != 0 or p["signaled"]:
                raise RuntimeError(f"{' '.join(argv)} exited with {p}")
            break
    if "entry" not in times or "return" not in times:
        raise RuntimeError(f"{' '.join(argv)}: a bracket hit is missing ({times}, lost {lost})")
    return times["return"] - times["entry"], others, lost


def add_probe(t, params):
    return t.client.call("probe.add", params)["id"]


def check_table(t, probe, n, label):
    """The aggregation `probe` counted exactly n hits, none dropped; returns the result."""
    a = t.client.call("probe.aggregate", {"id": probe})
    total = sum(e["count"] for e in a["entries"])
    if a["hits"] != n or a["dropped"] != 0 or total != n:
        raise RuntimeError(f"{label}: expected {n} hits counted, none dropped; got hits "
                           f"{a['hits']}, dropped {a['dropped']}, counted {total}")
    return a


def brackets(t, prog):
    """The traced probes on prog's main (entry and return) that time a run, added once."""
    if prog not in t.brackets:
        t.brackets[prog] = {
            add_probe(t, {"program": prog, "symbol": "main"}): "entry",
            add_probe(t, {"program": prog, "symbol": "main", "kind": "return"}): "return"}
    return t.brackets[prog]


def exact_full_rate(t, n):
    """A count aggregation by pid on step() while /bin/loop n runs at full rate."""
    bracket = brackets(t, "/bin/loop")
    probe = add_probe(t, {"program": "/bin/loop", "symbol": "step", "aggregate": {"by": "pid"}})
    ns, others, lost = run_program(t, ["/bin/loop", str(n)], bracket)
    a = check_table(t, probe, n, f"count by pid, /bin/loop {n}")
    if len(a["entries"]) != 1 or others != 0:
        raise RuntimeError(f"expected one pid and no probe.hit from the aggregation, got "
                           f"{a['entries']} and {others} notices")
    rate = n / (ns / 1e9) if ns > 0 else 0
    print(f"aggregation: /bin/loop {n} at full rate under a count aggregation by pid: counted "
          f"{a['entries'][0]['count']} of {n} calls of step(), hits {a['hits']}, dropped "
          f"{a['dropped']}, probe.hit sent 0 (got {others}), {rate:.0f} hits/s (main's entry to "
          f"its return {ns / 1e6:.1f} ms of guest time)")


VARIANTS = [
    # name, argv program, probe params on step() (None: unprobed), checked aggregation
    ("loop (baseline)", "/bin/loop", None),
    ("null syscall (getpid)", "/bin/syscall_bench", None),
    ("no-record hit (condition false)", "/bin/loop", {"condition": "pid == 0"}),
    ("aggregated hit (count)", "/bin/loop", {"aggregate": {}}),
    ("aggregated hit, condition true", "/bin/loop",
     {"aggregate": {}, "condition": "pid != 0"}),
    ("aggregated hit (by pid, log2 of a0)", "/bin/loop",
     {"aggregate": {"by": "pid", "of": "a0", "hist": "log2"}}),
]


def timed(t, n, rounds):
    best = {}
    for _ in range(rounds):
        for name, prog, params in VARIANTS:
            probe = None
            if params is not None:
                probe = add_probe(t, dict(params, program=prog, symbol="step"))
            ns, others, lost = run_program(t, [prog, str(n)], brackets(t, prog))
            if lost:
                raise RuntimeError(f"{name}: {lost} events lost")
            if params is not None and "aggregate" in params:
                check_table(t, probe, n, name)
                if others != 0:
                    raise RuntimeError(f"{name}: the aggregation sent {others} probe.hit")
            if probe is not None:
                t.client.call("probe.remove", {"id": probe})
            best[name] = min(best.get(name, ns), ns)
    base = best["loop (baseline)"]
    per = {name: (best[name] - base) / n for name, _, _ in VARIANTS[1:]}
    return per


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", default=None)
    p.add_argument("--build", default=os.environ.get("RUPROBES_BUILD_DIR",
                                                     os.path.join(ROOT, "build")))
    p.add_argument("--iterations", type=int, default=100000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--wall-clock", action="store_true")
    p.add_argument("--exact-only", type=int, default=0)
    args = p.parse_args()
    if args.exact_only:
        args.wall_clock = True
    args.kernel = args.kernel or os.path.join(args.build, "guest", "kernel.elf")
    for f in (args.kernel, os.path.join(args.build, "bin", "ruprobesd")):
        if not os.path.exists(f):
            print(f"aggregation_hit_instructions: {f} not built", file=sys.stderr)
            return 2
    t = None
    try:
        try:
            t = target(args)
        except RuntimeError as e:
            print(f"aggregation: FAILED: {e}", file=sys.stderr)
            return 1
        if args.exact_only:
            exact_full_rate(t, args.exact_only)
            return 0
        unit = "ns" if args.wall_clock else "insns"
        per = timed(t, args.iterations, args.rounds)
        print(f"aggregation: {args.iterations} iterations per run, {args.rounds} interleaved "
              f"rounds, fastest run of each; " +
              ("wall clock, QEMU TCG" if args.wall_clock else
               "QEMU -icount shift=0,sleep=off: 1 ns = 1 guest instruction"))
        for name, value in per.items():
            print(f"aggregation: {name:<40} {value:9.1f} {unit}")
        # Both on the engine's general hit path (a probe with a condition): their difference is
        # what the sink call, the agent's lock and the table add to a hit.
        agent = per["aggregated hit, condition true"] - per["no-record hit (condition false)"]
        print(f"aggregation: {'agent share, condition path (derived)':<40} {agent:9.1f} {unit}")
        exact_full_rate(t, args.iterations)
        print("aggregation: done")
        return 0
    except RuntimeError as e:
        print(f"aggregation: FAILED: {e}", file=sys.stderr)
        if t is not None:
            print(t.logs(), file=sys.stderr)
        return 1
    finally:
        if t is not None:
            t.close()


if __name__ == "__main__":
    sys.exit(main())

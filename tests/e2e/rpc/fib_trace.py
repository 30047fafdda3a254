#!/usr/bin/env python3
"""End-to-end JSON-RPC scenario against ruprobesd + the reference kernel in QEMU (stdlib only).

Adds an entry and a return probe on fib in /bin/fib, spawns `/bin/fib 15` and checks that exactly
1973 entry and 1973 return hits arrive before its process.exit (reading stops there), in seq order,
that every sequence number between the first and the last hit is present, that events.lost is never sent, and that every return value is fib(n) of the
matching entry's argument.

    fib_trace.py --port PORT [--lsp] [--n 15]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration", "rpc"))
from rpc_client import RpcClient  # noqa: E402


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def calls(n):
    return 1 if n < 2 else 1 + calls(n - 1) + calls(n - 2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--lsp", action="store_true")
    p.add_argument("--n", type=int, default=15)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    expected = calls(args.n)

    c = RpcClient(args.host, args.port, lsp=args.lsp, timeout=30)
    deadline = time.monotonic() + args.timeout
    while not c.call("target.status")["connected"]:
        if time.monotonic() > deadline:
            print("fib_trace: the target never connected")
            return 1
        time.sleep(0.2)

    c.call("events.subscribe", {"kinds": ["probe.hit", "events.lost", "process.exit"]})
    entry = c.call("probe.add", {"program": "/bin/fib", "symbol": "fib", "kind": "entry"})
    ret = c.call("probe.add", {"program": "/bin/fib", "symbol": "fib", "kind": "return"})
    print(f"fib_trace: entry probe {entry['id']} at {entry['address']} ({entry['insn_class']}), "
          f"return probe {ret['id']}")
    proc = c.call("process.spawn", {"argv": ["/bin/fib", str(args.n)]})
    pid = proc["pid"]

    hits = {entry["id"]: [], ret["id"]: []}
    arrived = []  # the seq of every hit of the process, in the order they came
    lost = []
    exited = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if exited is not None:
            break  # every hit of the process comes before its process.exit
        try:
            m = c.notification(timeout=left)
        except TimeoutError:
            continue
        method = m.get("method")
        if method == "probe.hit":
            h = m["params"]
            if h["pid"] == pid and h["probe"] in hits:
                hits[h["probe"]].append(h)
                arrived.append(h["seq"])
        elif method == "events.lost":
            lost.append(m["params"])
        elif method == "process.exit" and m["params"]["pid"] == pid:
            exited = m["params"]

    ok = True
    n_entry, n_ret = len(hits[entry["id"]]), len(hits[ret["id"]])
    print(f"fib_trace: pid {pid} exit {exited}; entry hits {n_entry}, return hits {n_ret}, "
          f"expected {expected} each; lost notices {lost}")
    if exited is None or exited["status"] != 0 or exited["signaled"]:
        print("fib_trace: FAIL: fib did not exit cleanly")
        ok = False
    if n_entry != expected or n_ret != expected:
        print("fib_trace: FAIL: wrong number of hits")
        ok = False
    if lost:
        print("fib_trace: FAIL: events.lost was sent")
        ok = False
    if any(b <= a for a, b in zip(arrived, arrived[1:])):
        at = next(i for i in range(1, len(arrived)) if arrived[i] <= arrived[i - 1])
        print(f"fib_trace: FAIL: hits out of seq order: {arrived[max(0, at - 3):at + 3]}")
        ok = False
    every = sorted(hits[entry["id"]] + hits[ret["id"]], key=lambda h: h["seq"])
    seqs = [h["seq"] for h in every]
    if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        missing = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs))
        print(f"fib_trace: FAIL: sequence numbers missing or repeated: {missing[:10]}")
        ok = False
    # Pair returns with entries per thread (a stack: hits are in seq order).
    stacks = {}
    bad = 0
    for h in every:
        stack = stacks.setdefault(h["tid"], [])
        if h["probe"] == entry["id"]:
            stack.append(int(h["args"][0], 16))
        else:
            if not stack:
                bad += 1
                continue
            n = stack.pop()
            if "ret" not in h or int(h["ret"], 16) != fib(n):
                bad += 1
    if bad or any(stacks.values()):
        print(f"fib_trace: FAIL: {bad} return values do not match fib(n) of their entry")
        ok = False
    for probe in (entry, ret):
        removed = c.call("probe.remove", {"id": probe["id"]})
        if removed["hits"] != expected:
            print(f"fib_trace: FAIL: probe {probe['id']} counted {removed['hits']} hits")
            ok = False
    if ok:
        print(f"fib_trace: ok: {n_entry} entry + {n_ret} return hits, seq {seqs[0]}..{seqs[-1]} "
              f"complete, return values match fib")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The simulated kernel makes probe hits faster than one agent round ships them: its port holds
the processes while the agent's hit ring is congested, so no record is dropped in the kernel.

Adds an entry and a return probe on fib, spawns `/bin/fib N` (default 22: 57313 calls, 114626
records, seven times the ring), waits for its process.exit and checks that the daemon reported no
loss in the kernel (events.lost with reason kernel_ring_full) and that each probe counted every
call. It subscribes to probe.hit too, so that the daemon ships every record to a client (which
is what slows its acknowledgements down); losses in the daemon's queue for this slow client are
reported as subscriber_queue_full and are not the kernel's.

    hit_backpressure.py --port PORT [--n 22]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration", "rpc"))
from rpc_client import RpcClient  # noqa: E402


def calls(n):
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1  # calls of fib(n) by plain recursion: 2 * fib(n + 1) - 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n", type=int, default=22)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    expected = calls(args.n)

    c = RpcClient("127.0.0.1", args.port, timeout=30)
    deadline = time.monotonic() + args.timeout
    c.call("events.subscribe", {"kinds": ["probe.hit", "events.lost", "process.exit"]})
    entry = c.call("probe.add", {"program": "/bin/fib", "symbol": "fib", "kind": "entry"})
    ret = c.call("probe.add", {"program": "/bin/fib", "symbol": "fib", "kind": "return"})
    pid = c.call("process.spawn", {"argv": ["/bin/fib", str(args.n)]})["pid"]
    lost = []
    exited = None
    while exited is None and time.monotonic() < deadline:
        try:
            m = c.notification(timeout=deadline - time.monotonic())
        except TimeoutError:
            break
        if m.get("method") == "probe.hit":
            continue
        if m.get("method") == "events.lost":
            lost.append(m["params"])
        elif m.get("method") == "process.exit" and m["params"]["pid"] == pid:
            exited = m["params"]
    counts = [c.call("probe.remove", {"id": probe["id"]})["hits"] for probe in (entry, ret)]
    print(f"hit_backpressure: fib({args.n}) exit {exited}; probe hits {counts}, expected "
          f"{expected} each; loss notices {lost}")
    kernel_losses = [x for x in lost if x.get("reason") == "kernel_ring_full"]
    if exited is None or exited["status"] != 0 or counts != [expected, expected] or kernel_losses:
        print("hit_backpressure: FAIL")
        return 1
    print(f"hit_backpressure: ok: {2 * expected} records, none dropped in the kernel")
    return 0


if __name__ == "__main__":
    sys.exit(main())

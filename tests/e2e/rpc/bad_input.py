#!/usr/bin/env python3
"""Bad input against ruprobesd + the real kernel (stdlib only): every wrong request gets a clear
JSON-RPC error (the engine's reason for unprobeable sites) and the daemon keeps serving.

    bad_input.py --port PORT
"""
import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration", "rpc"))
from rpc_client import RpcClient, expect_error  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()

    c = RpcClient(args.host, args.port, timeout=30)
    deadline = time.monotonic() + 60
    while not c.call("target.status")["connected"]:
        if time.monotonic() > deadline:
            print("bad_input: the target never connected")
            return 1
        time.sleep(0.2)

    def check(name, params, code, reason=None):
        err = expect_error(lambda: c.call("probe.add", params), code)
        if reason is not None and err.get("data", {}).get("reason") != reason:
            raise AssertionError(f"{name}: expected reason {reason}, got {err}")
        print(f"bad_input: {name}: {err['code']} {err['message']} {json.dumps(err.get('data'))}")

    # The ecall inside the runtime's syscall stub: refused with the engine's reason.
    check("ecall line", {"program": "/bin/fib", "line": "syscall.c:11"}, -32003, "insn_ecall")
    fib = c.call("probe.add", {"program": "/bin/fib", "symbol": "fib"})
    c.call("probe.remove", {"id": fib["id"]})
    addr = int(fib["address"], 16)
    check("odd address", {"program": "/bin/fib", "address": addr + 1}, -32003, "addr_misaligned")
    check("outside text", {"program": "/bin/fib", "address": "0x10"}, -32003, "addr_outside_text")
    check("entry off a function start", {"program": "/bin/fib", "address": addr + 2,
                                         "kind": "entry"}, -32602)
    check("unknown program", {"program": "/bin/nope", "symbol": "main"}, -32010)
    check("unknown symbol", {"program": "/bin/fib", "symbol": "no_such_function"}, -32011)
    check("unknown line", {"program": "/bin/fib", "line": "fib.c:100000"}, -32012)
    check("unknown file", {"program": "/bin/fib", "line": "nothere.c:3"}, -32012)
    check("wrong kind", {"program": "/bin/fib", "symbol": "fib", "kind": "exit"}, -32602)
    expect_error(lambda: c.call("probe.remove", {"id": 987654}), -32002)
    err = expect_error(lambda: c.call("process.kill", {"pid": 987654}), -32001)
    print(f"bad_input: kill of an unknown pid: {err}")
    err = expect_error(lambda: c.call("process.spawn", {"argv": ["/bin/nope"]}), -32005)
    print(f"bad_input: spawn of an unknown program: {err}")

    # Malformed JSON and a huge message on a raw socket, then the same connection still works.
    s = socket.create_connection((args.host, args.port), timeout=30)
    f = s.makefile("rwb")
    f.write(b'{"jsonrpc":"2.0","method":\n')
    f.write(b'{"jsonrpc":"2.0","id":1,"method":"target.status","params":{"pad":"'
            + b"x" * (2 << 20) + b'"}}\n')
    f.write(b'{"jsonrpc":"2.0","id":2,"method":"target.status"}\n')
    f.flush()
    answers = [json.loads(f.readline()) for _ in range(3)]
    assert answers[0]["error"]["code"] == -32700, answers[0]
    assert answers[1]["error"]["code"] == -32600, answers[1]
    assert answers[1]["error"]["data"]["limit"] == 1 << 20, answers[1]
    assert answers[2]["result"]["connected"] is True, answers[2]
    s.close()

    # Clients vanishing mid-batch.
    for _ in range(10):
        s = socket.create_connection((args.host, args.port), timeout=30)
        batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "process.list"}
                            for i in range(50)]).encode()
        s.sendall(batch[: len(batch) // 2])
        s.close()
        s = socket.create_connection((args.host, args.port), timeout=30)
        s.sendall(batch + b"\n")
        s.close()

    # Still serving, and the engine still works.
    assert c.call("target.status")["connected"] is True
    probe = c.call("probe.add", {"program": "/bin/fib", "symbol": "fib"})
    c.call("events.subscribe", {"probes": [probe["id"]], "kinds": ["probe.hit"]})
    pid = c.call("process.spawn", {"argv": ["/bin/fib", "5"]})["pid"]
    hits = [c.notification("probe.hit", timeout=30)["params"] for _ in range(15)]
    assert all(h["pid"] == pid for h in hits), hits
    c.call("probe.remove", {"id": probe["id"]})
    print("bad_input: ok: clear errors, daemon serving, engine working")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A small JSON-RPC 2.0 client for ruprobesd, Python standard library only.

    rpc_client.py --port 4242 call target.status
    rpc_client.py --port 4242 call probe.add '{"program":"/bin/fib","symbol":"fib"}'
    rpc_client.py --port 4242 watch '{"kinds":["probe.hit"]}'      # print notifications
    rpc_client.py --port 4242 selftest                               # used by the tests

--lsp switches from one-JSON-per-line framing to LSP Content-Length headers.
"""
import argparse
import json
import socket
import sys
import time


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')} {error.get('data', '')}")
        self.error = error


class RpcClient:
    """One connection; call() waits for its response and keeps notifications that arrive."""

    def __init__(self, host="127.0.0.1", port=4242, lsp=False, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.lsp = lsp
        self.buf = b""
        self.next_id = 1
        self.notifications = []

    def close(self):
        self.sock.close()

    def send(self, message):
        body = json.dumps(message, separators=(",", ":")).encode()
        if self.lsp:
            self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            self.sock.sendall(body + b"\n")

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no message before the deadline")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the daemon closed the connection")
        self.buf += chunk

    def receive(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.lsp:
                end = self.buf.find(b"\r\n\r\n")
                if end >= 0:
                    headers = self.buf[:end].decode("ascii").split("\r\n")
                    length = None
                    for h in headers:
                        name, _, value = h.partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value.strip())
                    if length is None:
                        raise ValueError("frame without Content-Length")
                    if len(self.buf) >= end + 4 + length:
                        body = self.buf[end + 4:end + 4 + length]
                        self.buf = self.buf[end + 4 + length:]
                        return json.loads(body)
            else:
                nl = self.buf.find(b"\n")
                if nl >= 0:
                    line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                    return json.loads(line)
            self._fill(deadline)

    def call(self, method, params=None, timeout=10.0):
        """The result of `method`; raises RpcError with the error object on failure."""
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            m = self.receive(max(0.0, deadline - time.monotonic()))
            if isinstance(m, dict) and m.get("id") == rid and "method" not in m:
                if "error" in m:
                    raise RpcError(m["error"])
                return m["result"]
            self.notifications.append(m)

    def notification(self, method=None, timeout=10.0):
        """The next notification (named `method` when given), kept ones first."""
        for i, m in enumerate(self.notifications):
            if method is None or m.get("method") == method:
                return self.notifications.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            m = self.receive(max(0.0, deadline - time.monotonic()))
            if method is None or m.get("method") == method:
                return m
            self.notifications.append(m)


def expect_error(fn, code):
    try:
        fn()
    except RpcError as e:
        if e.error["code"] != code:
            raise AssertionError(f"expected error {code}, got {e.error}")
        return e.error
    raise AssertionError(f"expected error {code}, got a result")


def selftest(args):
    """Against the fake kernel (rpc_fake_server): both framings, a probe stream, errors."""
    for lsp in (False, True):
        c = RpcClient(args.host, args.port, lsp=lsp)
        status = c.call("target.status")
        assert status["connected"] is True, status
        expect_error(lambda: c.call("no.such.method"), -32601)
        expect_error(lambda: c.call("probe.add", {"program": 1}), -32602)
        c.close()

    c = RpcClient(args.host, args.port)
    sub = c.call("events.subscribe", {"kinds": ["probe.hit", "events.lost", "process.exit"]})
    proc = c.call("process.spawn", {"argv": ["/bin/loop"]})
    probe = c.call("probe.add", {"program": "/bin/loop", "address": "0x10006"})
    assert probe["address"] == "0x10006", probe
    last = None
    for _ in range(300):
        hit = c.notification("probe.hit")["params"]
        assert hit["probe"] == probe["id"] and hit["pid"] == proc["pid"], hit
        assert int(hit["pc"], 16) == 0x10006, hit
        if last is not None and hit["seq"] != last + 1:
            raise AssertionError(f"sequence gap: {last} -> {hit['seq']}")
        last = hit["seq"]
    assert not [m for m in c.notifications if m.get("method") == "events.lost"]
    listed = c.call("probe.list")["probes"]
    assert listed[0]["hits"] >= 300, listed
    c.call("probe.remove", {"id": probe["id"]})
    expect_error(lambda: c.call("probe.remove", {"id": probe["id"]}), -32002)
    c.call("process.kill", {"pid": proc["pid"]})
    exit_note = c.notification("process.exit")["params"]
    assert exit_note["pid"] == proc["pid"], exit_note
    c.call("events.unsubscribe", {"subscription": sub["subscription"]})
    c.close()
    print("selftest: ok (300 hits in order, both framings, errors)")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4242)
    p.add_argument("--lsp", action="store_true", help="Content-Length framing")
    sub = p.add_subparsers(dest="command", required=True)
    call = sub.add_parser("call")
    call.add_argument("method")
    call.add_argument("params", nargs="?")
    watch = sub.add_parser("watch")
    watch.add_argument("filter", nargs="?", default="{}")
    watch.add_argument("--count", type=int, default=0, help="stop after N notifications")
    sub.add_parser("selftest")
    args = p.parse_args()

    if args.command == "selftest":
        return selftest(args)
    c = RpcClient(args.host, args.port, lsp=args.lsp)
    if args.command == "call":
        try:
            result = c.call(args.method, json.loads(args.params) if args.params else None)
        except RpcError as e:
            print(json.dumps({"error": e.error}, indent=2))
            return 1
        print(json.dumps(result, indent=2))
        return 0
    c.call("events.subscribe", json.loads(args.filter))
    n = 0
    while args.count == 0 or n < args.count:
        try:
            m = c.notification(timeout=3600)
        except TimeoutError:
            continue
        print(json.dumps(m["params"] if "params" in m else m), flush=True)
        n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

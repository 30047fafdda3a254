#!/usr/bin/env python3
"""Guest instructions per probe hit on the product path: the kernel's probe benchmark
(ruprobes.bench, kernel-port/kernel/selftest/probe_bench.cpp) with `ruprobes.bench.host`, so every
hit goes through the agent's ring and out over the virtio console to ruprobesd, which publishes it
to one JSON-RPC subscriber that reads every event. QEMU runs under `-icount shift=0` (1 ns = 1
guest instruction; the benchmark subtracts the time the hart was idle), so the rows count the
trap, the engine, the ring push and the agent's encoding, checksum and copy into the virtio
buffer. What they leave out: the host's work (ruprobesd, the subscriber), which runs on other
host cores in real time.

    product_hit_instructions.py [--kernel KERNEL.elf] [--iterations N] [--sleep on|off]
                                [--wall-clock]

--wall-clock runs QEMU without -icount: the rows are then ns of wall clock (QEMU TCG), idle time
still subtracted.

Prints the benchmark's rows ("insns" for "ns"), the records the kernel dropped, and what the
subscriber received: probe.hit notices and the counts of events.lost notices.
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


class subscriber:
    """Reads every notification of one events.subscribe (line framing) on its own thread."""

    def __init__(self, port, deadline):
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{}}\n')
        self.hits = 0
        self.lost = {}
        self.last = time.monotonic()
        self.subscribed = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        # Hits are counted in whole chunks at C speed (bytes.count), so that this reader keeps
        # up with the daemon; only the rare other lines are parsed.
        buf = b""
        self.sock.settimeout(None)
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except OSError:
                return
            if not data:
                return
            self.last = time.monotonic()
            buf += data
            end = buf.rfind(b"\n") + 1
            complete, buf = buf[:end], buf[end:]
            hits = complete.count(b'"method":"probe.hit"')
            self.hits += hits
            if complete.count(b"\n") == hits:
                continue
            for line in complete.split(b"\n"):
                if not line or b'"method":"probe.hit"' in line:
                    continue
                m = json.loads(line)
                if m.get("id") == 1:
                    self.subscribed.set()
                elif m.get("method") == "events.lost":
                    reason = m["params"]["reason"]
                    self.lost[reason] = self.lost.get(reason, 0) + m["params"]["count"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", default=os.path.join(ROOT, "build", "guest", "kernel.elf"))
    p.add_argument("--iterations", type=int, default=20000)
    p.add_argument("--sleep", choices=["on", "off"], default="off")
    p.add_argument("--wall-clock", action="store_true")
    p.add_argument("--build", default=os.environ.get("RUPROBES_BUILD_DIR",
                                                     os.path.join(ROOT, "build")))
    args = p.parse_args()
    daemon_bin = os.path.join(args.build, "bin", "ruprobesd")
    for f in (args.kernel, daemon_bin):
        if not os.path.exists(f):
            print(f"product_hit_instructions: {f} not built", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="ruprobes-product-bench.")
    sock = os.path.join(tmp, "agent.sock")
    rpc_port = free_port()
    daemon_log = open(os.path.join(tmp, "ruprobesd.log"), "w")
    daemon = subprocess.Popen(
        [daemon_bin, "--qemu-socket", sock, "--symbols", os.path.join(args.build, "guest", "user"),
         "--rsp-listen", f"127.0.0.1:{free_port()}", "--rpc-listen", f"127.0.0.1:{rpc_port}"],
        stdout=daemon_log, stderr=subprocess.STDOUT)
    qemu = None
    try:
        sub = subscriber(rpc_port, time.monotonic() + 30)
        if not sub.subscribed.wait(30):
            print("product_hit_instructions: no answer to events.subscribe", file=sys.stderr)
            return 1
        env = dict(os.environ, RUPROBES_AGENT_SOCKET=sock)
        icount = [] if args.wall_clock else ["-icount", f"shift=0,sleep={args.sleep}"]
        qemu = subprocess.Popen(
            [os.path.join(ROOT, "scripts", "qemu"), args.kernel,
             f"ruprobes.bench={args.iterations} ruprobes.bench.host", "--"] + icount,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        out, _ = qemu.communicate(timeout=1200)
        # The subscriber takes what is still in flight: until nothing came for a second.
        while time.monotonic() - sub.last < 1.0:
            time.sleep(0.1)
        rows = [line for line in out.splitlines() if line.startswith("bench:")]
        if not any("done" in r for r in rows):
            print(out, file=sys.stderr)
            print("product_hit_instructions: the benchmark did not finish", file=sys.stderr)
            return 1
        if args.wall_clock:
            print("guest ns per operation, every hit shipped to ruprobesd and one reading "
                  "subscriber (wall clock, QEMU TCG, idle time subtracted)")
        else:
            print("guest instructions per operation, every hit shipped to ruprobesd and one "
                  f"reading subscriber (QEMU -icount shift=0,sleep={args.sleep}: 1 ns = 1 "
                  "instruction, idle time subtracted)")
        for r in rows:
            print(r if args.wall_clock else r.replace(" ns ", " insns "))
        lost = ", ".join(f"{v} {k}" for k, v in sorted(sub.lost.items())) or "none"
        print(f"subscriber: {sub.hits} probe.hit received, announced lost: {lost}")
        return 0
    finally:
        if qemu and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


if __name__ == "__main__":
    sys.exit(main())

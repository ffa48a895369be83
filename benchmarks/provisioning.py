"""Negotiations per second of the provisioning service, and the knee.

The service (``python -m services.provisioning``, fresh database, 10,000 known devices and
10,000 numbers) runs pinned to one core; an open-loop load generator in this process,
pinned to the other core, starts negotiations at a fixed rate for a few seconds -- each is
``REGISTER`` -> 401 -> ``REGISTER`` with SHA-256 digest credentials -> 200 with the number,
every device its own MAC and secret -- and records every response time.  A negotiation
fails if any answer is not the expected one or takes more than two seconds (no
retransmission: a lost datagram is a failure).  The knee is the highest rate sustained with
no failure and a p99 response time under 10 ms.

The same rates run against ``--no-auth --memory`` (one ``REGISTER`` -> 200, nothing on
disk) beside it.  SIPp is not the generator here: SIPp 3.6.1 does not substitute injection
fields inside ``[authentication]``, so it cannot give 10,000 devices their own credentials
(``docs/provisioning.md``).  Nothing is asserted; figures vary with what else the machine
is running.
"""

from __future__ import annotations

import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from models.provisioning.digest import credentials

__all__ = ["bench_provisioning", "load"]

REALM = "tnlab.invalid"
DEVICES = 10_000
_NONCE = re.compile(rb'nonce="([^"]+)"')


def _mac(i: int) -> str:
    return f"0004f2{i:06x}"


def _request(local: str, mac: str, call_id: str, cseq: int, auth: str | None) -> bytes:
    lines = [
        f"REGISTER sip:{REALM} SIP/2.0",
        f"Via: SIP/2.0/UDP {local};branch=z9hG4bK{call_id}{cseq};rport",
        "Max-Forwards: 70",
        f"From: <sip:{mac}@{REALM}>;tag={call_id}",
        f"To: <sip:provision@{REALM}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def load(port: int, rate: float, seconds: float, auth: bool, first: int = 0) -> dict:
    """Start ``rate`` negotiations per second for ``seconds``; counts and response times."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    local = f"127.0.0.1:{sock.getsockname()[1]}"
    server = ("127.0.0.1", port)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    total = int(rate * seconds)
    pending: dict[str, tuple[int, float]] = {}  # call-id -> (device, sent at)
    rtts: list[float] = []
    done = failed = 0
    start = time.perf_counter()
    sent = 0
    while done + failed < total:
        now = time.perf_counter()
        while sent < total and start + sent / rate <= now:
            i = first + sent
            call_id = f"b{i:x}"
            sock.sendto(_request(local, _mac(i), call_id, 1, None), server)
            pending[call_id] = (i, time.perf_counter())
            sent += 1
        for _ in sel.select(0.0005):
            while True:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    break
                t = time.perf_counter()
                at = data.find(b"\r\nCall-ID: ") + 11
                call_id = data[at : data.find(b"\r\n", at)].decode()
                entry = pending.pop(call_id, None)
                if entry is None:
                    continue
                i, t0 = entry
                rtts.append(t - t0)
                code = data[8:11]
                if code == b"401" and auth:
                    nonce = _NONCE.search(data).group(1).decode()
                    uri = f"sip:{REALM}"
                    value = credentials(
                        "SHA-256",
                        _mac(i),
                        REALM,
                        f"secret-{i:06d}",
                        "REGISTER",
                        uri,
                        nonce,
                        cnonce="bench",
                    )
                    sock.sendto(_request(local, _mac(i), call_id, 2, value), server)
                    pending[call_id] = (i, time.perf_counter())
                elif code == b"200":
                    done += 1
                else:
                    failed += 1
        now = time.perf_counter()
        stale = [c for c, (_, t0) in pending.items() if now - t0 > 2.0]
        for c in stale:
            del pending[c]
            failed += 1
        if sent >= total and not pending:
            break
    elapsed = time.perf_counter() - start
    sock.close()
    ms = np.array(rtts) * 1000 if rtts else np.zeros(1)
    return {
        "rate": rate,
        "done": done,
        "failed": failed,
        "achieved": done / elapsed,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
    }


def _serve(tmp: Path, auth: bool, cpu: int) -> tuple[subprocess.Popen, int]:
    csv = tmp / "devices.csv"
    if not csv.exists():
        csv.write_text("".join(f"{_mac(i)},secret-{i:06d}\n" for i in range(DEVICES)))
    db = tmp / f"bench-{time.monotonic_ns()}.db"
    mode = ["--db", str(db)] if auth else ["--no-auth", "--memory"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.provisioning",
            "--sip-port",
            "0",
            "--http-port",
            "0",
            "--block",
            "2124560000",
            "--block-size",
            str(DEVICES),
            "--devices",
            str(csv),
            "--algorithms",
            "SHA-256,MD5",
            *mode,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    line = proc.stdout.readline()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(proc.pid, {cpu})
    return proc, int(line.split()[1].rsplit(":", 1)[1])


def bench_provisioning(quick: bool, row=None) -> None:
    """Print negotiations/s, p50/p99 and the knee, with and without auth and persistence."""
    rates = [250, 500, 1000, 1500, 2000] if quick else [250, 500, 1000, 1500, 2000, 2500, 3000]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    server_cpu, client_cpu = cpus[-1], cpus[0]
    if hasattr(os, "sched_setaffinity") and len(cpus) > 1:
        os.sched_setaffinity(0, {client_cpu})
    print(
        "Provisioning service, negotiations (10,000 devices, fresh database each rate; "
        "service on one core, load generator on the other):"
    )
    print(
        f"  {'rate/s':>7} | {'auth+SQLite: done/s':>20} {'fail':>5} {'p50 ms':>7} "
        f"{'p99 ms':>7} | {'no-auth+memory: done/s':>23} {'fail':>5} {'p50 ms':>7} {'p99 ms':>7}"
    )
    knees = {True: 0.0, False: 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for rate in rates:
            cells = []
            for auth in (True, False):
                proc, port = _serve(Path(tmp), auth, server_cpu)
                try:
                    seconds = min(4.0, (DEVICES - 1) / rate)
                    r = load(port, rate, seconds, auth)
                finally:
                    proc.terminate()
                    proc.wait()
                if r["failed"] == 0 and r["p99"] < 10.0:
                    knees[auth] = max(knees[auth], r["achieved"])
                cells.append(
                    f"{r['achieved']:20.0f} {r['failed']:5d} {r['p50']:7.2f} {r['p99']:7.2f}"
                )
            print(f"  {rate:7d} | {cells[0]} | {cells[1]:>}")
    print(
        f"  knee (no failure, p99 < 10 ms): auth+SQLite {knees[True]:,.0f} negotiations/s; "
        f"no-auth+memory {knees[False]:,.0f}/s (p99 is per request; a negotiation is two)"
    )
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))


if __name__ == "__main__":
    bench_provisioning("--quick" in sys.argv)

"""Negotiations per second of the provisioning service, and the knee.

The service (``python -m services.provisioning``, fresh database, 10,000 known devices and
10,000 numbers) runs pinned to one core and a client on the other starts negotiations at a
fixed rate for a few seconds -- each is ``REGISTER`` -> 401 -> ``REGISTER`` with digest
credentials -> 200 with the number, every device its own MAC and secret.  The knee is the
highest rate sustained with no failure and a p99 response time (per request) under 10 ms.

The client is SIPp 3.6.1 (``services/provisioning/sipp/negotiate_many.xml``): an injection
file gives each of the 10,000 devices its own line, whose third field holds the whole
``[authentication username=MAC password=SECRET]`` keyword; SIPp computes that line's digest
credentials (``-r`` the rate, ``-m`` the count).  Response times are SIPp's own
(``-trace_rtt``: the 401, the 200, and the whole negotiation; SIPp's clock counts whole
milliseconds), successes, failures and retransmissions its own statistics
(``-trace_stat``).  A call fails if an answer is not the expected one or none comes within
2 s; requests are retransmitted after 500 ms (RFC 3261 T1), and a retransmission also
disqualifies a rate from the knee.

SIPp 3.6.1 computes only MD5 (and AKAv1-MD5) digests -- a SHA-256 challenge is a fatal
error for it -- so the service offers MD5 first in SIPp's runs.  The in-process generator
(:func:`load`, open loop, no retransmission: an answer later than 2 s is a failure) stays
beside it for what SIPp cannot do: SHA-256, the algorithm the service prefers (RFC 8760),
and the same client against ``--no-auth --memory`` (one ``REGISTER`` -> 200, nothing on
disk), the baseline that prices authentication and persistence.  Nothing is asserted;
figures vary with what else the machine is running.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from models.provisioning.digest import credentials

__all__ = ["bench_provisioning", "injection_file", "load", "sipp_load"]

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "services" / "provisioning" / "sipp" / "negotiate_many.xml"
REALM = "tnlab.invalid"
DEVICES = 10_000
_NONCE = re.compile(rb'nonce="([^"]+)"')


def _mac(i: int) -> str:
    return f"0004f2{i:06x}"


def _secret(i: int) -> str:
    return f"secret-{i:06d}"


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
                        _secret(i),
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


def injection_file(path: Path, devices: range) -> Path:
    """A SIPp injection file: one line per device, its own digest credentials in field 2."""
    lines = (
        f"{_mac(i)};{REALM};[authentication username={_mac(i)} password={_secret(i)}]\n"
        for i in devices
    )
    path.write_text("SEQUENTIAL\n" + "".join(lines))
    return path


def _sipp_stats(path: Path) -> dict[str, str]:
    """The last line of a ``-trace_stat`` file, by column."""
    rows = [line.split(";") for line in path.read_text().splitlines() if line]
    return dict(zip(rows[0], rows[-1], strict=False))


def sipp_load(port: int, rate: float, seconds: float, inf: Path, work: Path) -> dict:
    """SIPp starts ``rate`` negotiations per second for ``seconds``, one device per call."""
    exe = shutil.which("sipp")
    if exe is None:
        raise RuntimeError("sipp is not installed: apt-get install sip-tester")
    total = int(rate * seconds)
    work.mkdir(parents=True, exist_ok=True)
    stat = work / "stat.csv"
    proc = subprocess.run(
        [
            exe,
            f"127.0.0.1:{port}",
            "-sf",
            str(SCENARIO),
            "-inf",
            str(inf),
            "-r",
            f"{rate:g}",
            "-rp",
            "1000",
            "-m",
            str(total),
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-nostdin",
            "-recv_timeout",
            "2000",
            "-timeout",
            f"{seconds + 30:.0f}",
            "-trace_rtt",
            "-rtt_freq",
            "1000",
            "-trace_stat",
            "-stf",
            str(stat),
            "-fd",
            "3600",
        ],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=seconds + 60,
    )
    rtt = sorted(work.glob("*_rtt.csv"))
    if proc.returncode not in (0, 1) or not rtt or not stat.exists():
        raise RuntimeError(f"sipp failed ({proc.returncode}): {proc.stdout[-2000:]}")
    table = np.loadtxt(rtt[0], delimiter=";", skiprows=1, ndmin=2)
    at, ms, rtd = table[:, 0], table[:, 1], table[:, 2].astype(int)
    per_request = ms[rtd != 3] if (rtd != 3).any() else np.zeros(1)
    whole = ms[rtd == 3] if (rtd == 3).any() else np.zeros(1)
    stats = _sipp_stats(stat)
    done = int(stats["SuccessfulCall(C)"])
    elapsed = (at.max() - (at - ms).min()) / 1000 if len(at) else seconds
    return {
        "rate": rate,
        "done": done,
        "failed": total - done,  # failed calls, and any SIPp had not finished
        "retrans": int(stats["Retransmissions(C)"]),
        "achieved": done / elapsed,
        "p50": float(np.percentile(per_request, 50)),
        "p99": float(np.percentile(per_request, 99)),
        "p99_negotiation": float(np.percentile(whole, 99)),
    }


def _serve(tmp: Path, auth: bool, cpu: int, algorithms: str) -> tuple[subprocess.Popen, int]:
    csv = tmp / "devices.csv"
    if not csv.exists():
        csv.write_text("".join(f"{_mac(i)},{_secret(i)}\n" for i in range(DEVICES)))
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
            algorithms,
            *mode,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    line = proc.stdout.readline()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(proc.pid, {cpu})
    return proc, int(line.split()[1].rsplit(":", 1)[1])


def _run(tmp: Path, client: str, rate: int, cpu: int) -> dict:
    """One rate with one client against a fresh service: ``sipp``, ``sha256`` or ``noauth``."""
    algorithms = "MD5,SHA-256" if client == "sipp" else "SHA-256,MD5"
    proc, port = _serve(tmp, client != "noauth", cpu, algorithms)
    try:
        seconds = min(4.0, (DEVICES - 1) / rate)
        if client == "sipp":
            inf = tmp / "devices.inf"
            if not inf.exists():
                injection_file(inf, range(DEVICES))
            return sipp_load(port, rate, seconds, inf, tmp / f"sipp-{rate}")
        return load(port, rate, seconds, client == "sha256")
    finally:
        proc.terminate()
        proc.wait()


def bench_provisioning(quick: bool, row=None) -> None:
    """Print negotiations/s, p50/p99 and the knee: SIPp (MD5), the generator (SHA-256, no auth)."""
    rates = [250, 500, 1000, 1500, 2000] if quick else [250, 500, 1000, 1500, 2000, 2500, 3000]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    server_cpu, client_cpu = cpus[-1], cpus[0]
    if hasattr(os, "sched_setaffinity") and len(cpus) > 1:
        os.sched_setaffinity(0, {client_cpu})  # SIPp inherits it
    print(
        "Provisioning service, negotiations (10,000 devices, fresh database each rate; "
        "service on one core, client on the other; p50/p99 per request, ms):"
    )
    print(
        f"  {'rate/s':>7} | {'SIPp MD5+SQLite: done/s':>23} {'fail':>5} {'retr':>5} "
        f"{'p50':>5} {'p99':>5} {'p99 neg':>7} | {'generator SHA-256+SQLite: done/s':>32} "
        f"{'fail':>5} {'p50':>6} {'p99':>6} | {'generator no-auth+memory':>24} {'fail':>5} "
        f"{'p50':>6} {'p99':>6}"
    )
    clients = ("sipp", "sha256", "noauth")
    knees = dict.fromkeys(clients, 0.0)
    has_sipp = shutil.which("sipp") is not None
    if not has_sipp:
        print("  (SIPp is not installed: apt-get install sip-tester; its columns are empty)")
    with tempfile.TemporaryDirectory() as tmp:
        for rate in rates:
            cells = []
            for client in clients:
                if client == "sipp" and not has_sipp:
                    cells.append(f"{'-':>23} {'-':>5} {'-':>5} {'-':>5} {'-':>5} {'-':>7}")
                    continue
                r = _run(Path(tmp), client, rate, server_cpu)
                if r["failed"] == 0 and r.get("retrans", 0) == 0 and r["p99"] < 10.0:
                    knees[client] = max(knees[client], r["achieved"])
                if client == "sipp":
                    cells.append(
                        f"{r['achieved']:23.0f} {r['failed']:5d} {r['retrans']:5d} "
                        f"{r['p50']:5.0f} {r['p99']:5.0f} {r['p99_negotiation']:7.0f}"
                    )
                else:
                    width = 32 if client == "sha256" else 24
                    cells.append(
                        f"{r['achieved']:{width}.0f} {r['failed']:5d} {r['p50']:6.2f} "
                        f"{r['p99']:6.2f}"
                    )
            print(f"  {rate:7d} | {' | '.join(cells)}")
    print(
        f"  knee (no failure, no retransmission, p99 < 10 ms): SIPp MD5+SQLite "
        f"{knees['sipp']:,.0f} negotiations/s; generator SHA-256+SQLite "
        f"{knees['sha256']:,.0f}/s; generator no-auth+memory {knees['noauth']:,.0f}/s "
        "(p99 is per request; a negotiation is two)"
    )
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))


if __name__ == "__main__":
    bench_provisioning("--quick" in sys.argv)

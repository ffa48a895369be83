"""Durability and hostile input against the real process (``tnlab serve provisioning``):
``kill -9`` in the middle of a 10,000-phone negotiation storm, a restart, the phones
retrying -- every phone that got a 200 keeps its number, no number has two holders,
nothing is half-written; then thousands of mutated datagrams, after which the service
still answers correctly."""

from __future__ import annotations

import asyncio
import random
import socket
import sqlite3
import time

from test_provisioning_helpers import Service, mac, secret

from services.provisioning.client import Phone

PHONES = 10_000


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _storm(svc: Service, kill_after: int) -> tuple[dict, dict, dict]:
    acked: dict[str, str] = {}
    before_kill: dict[str, str] = {}
    final: dict[str, str] = {}
    restarted = asyncio.Event()
    sem = asyncio.Semaphore(400)

    async with svc.client(timeout=40.0) as client:

        async def phone(i: int) -> None:
            async with sem:
                reply = await client.negotiate(Phone(mac(i), secret(i)), max_rounds=8)
            assert reply is not None and reply.code == 200, (i, reply and reply.code)
            (number,) = reply.numbers
            acked[mac(i)] = number
            if len(acked) == kill_after and not restarted.is_set():
                svc.kill()  # SIGKILL, mid-storm: batches in flight are lost unanswered
                before_kill.update(acked)
                svc.start()
                restarted.set()
            final[mac(i)] = number

        await asyncio.gather(*(phone(i) for i in range(PHONES)))
        again = random.Random(1).sample(sorted(before_kill), 300)
        replies = await asyncio.gather(
            *(client.negotiate(Phone(m, secret(int(m[6:], 16)))) for m in again)
        )
        repeat = {m: r.numbers[0] for m, r in zip(again, replies)}
    return before_kill, final, repeat


def test_kill_minus_nine_mid_storm_loses_nothing_acknowledged(tmp_path):
    port = _free_udp_port()
    svc = Service(tmp_path, "--block", "2124560000", "--block-size", str(PHONES),
                  devices=PHONES, sip_port=port, tnlab=True).start()  # fmt: skip
    try:
        before_kill, final, repeat = asyncio.run(_storm(svc, kill_after=3000))
        assert svc.alive()
    finally:
        svc.stop()
    assert len(before_kill) >= 3000 and len(final) == PHONES
    assert all(final[m] == n for m, n in before_kill.items())  # kept across the crash
    assert all(repeat[m] == before_kill[m] for m in repeat)  # and over the wire again
    assert len(set(final.values())) == PHONES  # no number given twice
    db = sqlite3.connect(svc.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    held = dict(db.execute("SELECT holder, number FROM numbers WHERE holder IS NOT NULL"))
    assert held == final
    configs = db.execute("SELECT count(*) FROM devices WHERE state = 'active'").fetchone()[0]
    assert configs == PHONES  # every device with a number has its record, and no other


GOOD = (
    b"REGISTER sip:tnlab.invalid SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:0004f2000001@tnlab.invalid>;tag=1928301774\r\n"
    b"To: <sip:provision@tnlab.invalid>\r\n"
    b"Call-ID: a84b4c76e66710@pc33\r\n"
    b"CSeq: 314159 REGISTER\r\n"
    b'Authorization: Digest username="0004f2000001", realm="tnlab.invalid", nonce="x", '
    b'uri="sip:tnlab.invalid", response="00", algorithm=MD5, qop=auth, nc=00000001, cnonce="c"\r\n'
    b"Headset-Info: vid=0b0e;pid=245d;sn=SN42\r\n"
    b"Contact: <sip:0004f2000001@127.0.0.1:5070>;expires=60\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def _mutate(rng: random.Random) -> bytes:
    raw = bytearray(GOOD)
    for _ in range(rng.randint(1, 8)):
        if not raw:
            raw = bytearray(GOOD)
        i = rng.randrange(len(raw))
        op = rng.randrange(6)
        if op == 0:
            raw[i] = rng.randrange(256)
        elif op == 1:
            raw[i:i] = rng.randbytes(rng.randint(1, 30))
        elif op == 2:
            del raw[i : i + rng.randint(1, 30)]
        elif op == 3:
            del raw[i:]
        elif op == 4:
            raw[i:i] = raw[rng.randrange(len(raw)) :][: rng.randint(1, 200)]
        else:
            raw += b"A" * rng.choice([10, 5000, 70_000 - len(raw)])
    return bytes(raw[:65_000])


def test_fuzzed_datagrams_never_break_the_service(tmp_path):
    svc = Service(tmp_path, "--block", "2124561000", "--block-size", "10", devices=3).start()
    rng = random.Random(20261201)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0)
            for k in range(4000):
                s.sendto(_mutate(rng), ("127.0.0.1", svc.sip))
                if k % 200 == 0:
                    time.sleep(0.01)  # let the receive buffer drain
        time.sleep(0.5)

        async def check():
            async with svc.client() as client:
                return [await client.negotiate(Phone(mac(i), secret(i))) for i in (0, 1, 0)]

        replies = asyncio.run(check())
        assert svc.alive()
        assert [r.code for r in replies] == [200, 200, 200]
        assert replies[0].numbers == replies[2].numbers != replies[1].numbers
    finally:
        svc.stop()
        err = svc.proc.stderr.read()
    assert "Traceback" not in err, err[-2000:]
    db = sqlite3.connect(svc.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM numbers WHERE holder IS NOT NULL").fetchone()[0] == 2

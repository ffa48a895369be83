"""Shared by the provisioning tests: run the service as a real process, and a registrar
in-process with a clock the test moves."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sipmessage import Message

from models.provisioning import REPLACEMENT_POLICIES
from models.provisioning.digest import NonceBook
from services.provisioning.client import SipClient
from services.provisioning.registrar import Registrar, Settings
from services.provisioning.server import SipServer
from services.provisioning.store import Store

REALM = "tnlab.invalid"
TOKEN = "test-token-0123456789"
ROOT = Path(__file__).resolve().parents[1]


def mac(i: int) -> str:
    return f"0004f2{i:06x}"


def secret(i: int) -> str:
    return f"secret-{i:06d}"


class Service:
    """``tnlab serve provisioning`` as a subprocess on free ports."""

    def __init__(
        self,
        tmp: Path,
        *options: str,
        devices: int = 0,
        db: str | None = None,
        sip_port: int = 0,
        tnlab: bool = False,
    ) -> None:
        self.tmp = tmp
        self.db = db or str(tmp / "provisioning.db")
        token = tmp / "token"
        token.write_text(TOKEN)
        entry = (
            ["-m", "sim.cli", "serve", "provisioning"] if tnlab else ["-m", "services.provisioning"]
        )
        args = [
            sys.executable,
            *entry,
            "--db",
            self.db,
            "--sip-port",
            str(sip_port),
            "--http-port",
            "0",
            "--admin-port",
            "0",
            "--admin-token-file",
            str(token),
            "--realm",
            REALM,
        ]
        if devices:
            csv = tmp / "devices.csv"
            csv.write_text("".join(f"{mac(i)},{secret(i)}\n" for i in range(devices)))
            args += ["--devices", str(csv)]
        self.args = args + list(options)
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.proc.kill()
            raise RuntimeError(f"service did not start: {line} {self.proc.stderr.read()}")
        parts = dict(p.split("=", 1) for p in line.split()[1:])
        self.sip = int(parts["sip"].rsplit(":", 1)[1])
        self.http = f"http://{parts['http']}"
        self.admin = f"http://{parts['admin']}"
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def client(self, timeout: float = 5.0) -> SipClient:
        return SipClient("127.0.0.1", self.sip, REALM, timeout=timeout)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Local:
    """A registrar in this process, answering the bytes the client builds."""

    def __init__(
        self,
        *,
        policy: str = "headset_pin",
        numbers=(),
        static=(),
        devices: int = 5,
        unknown: str = "refuse",
        algorithms=("SHA-256", "MD5"),
        lifetime: float = 30,
        refuse_conflicts: bool = True,
    ) -> None:
        self.clock = Clock()
        self.store = Store(":memory:", realm=REALM)
        self.store.add_numbers(numbers, static=static)
        self.store.add_devices([(mac(i), secret(i), None) for i in range(devices)], self.clock())
        self.store.commit()
        settings = Settings(
            realm=REALM,
            algorithms=tuple(algorithms),
            auth=True,
            unknown_device=unknown,
            policy=REPLACEMENT_POLICIES.build(policy, refuse_conflicts=refuse_conflicts),
        )
        self.registrar = Registrar(self.store, settings, NonceBook(b"k" * 32, lifetime=lifetime))
        self.server = SipServer(self.registrar, self.store, clock=self.clock)
        self.client = SipClient("127.0.0.1", 9, REALM)

    def send(self, data: bytes):
        out = self.server._one(data, ("127.0.0.1", 5999), self.clock())
        self.store.commit()
        return None if out is None else Message.parse(out[1])


def run(coro):
    return asyncio.run(coro)


def parse_args(options: list[str]) -> argparse.Namespace:
    from services.provisioning.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(options)


def local_register(
    local: Local,
    phone_mac: str,
    password: str,
    to_user: str,
    *,
    extra=(),
    contact=None,
    expires=None,
    algorithm: str | None = None,
):
    """Challenge, answer, final response (a sipmessage Response), in-process."""
    from sipmessage import AuthChallenge

    from models.provisioning.digest import credentials

    c = local.client
    call_id = f"{os.urandom(6).hex()}@t"
    uri, data = c.build(to_user, phone_mac, call_id, 1, list(extra), contact, expires)
    first = local.send(data)
    if first is None or first.code != 401:
        return first
    offers = [AuthChallenge.parse(v) for v in first.headers.getlist("WWW-Authenticate")]
    offer = (
        offers[0]
        if algorithm is None
        else next(o for o in offers if o.parameters.get("algorithm") == algorithm)
    )
    alg, nonce = offer.parameters["algorithm"], offer.parameters["nonce"]
    value = credentials(alg, phone_mac, REALM, password, "REGISTER", uri, nonce)
    _, data = c.build(
        to_user, phone_mac, call_id, 2, list(extra) + [("Authorization", value)], contact, expires
    )
    return local.send(data)

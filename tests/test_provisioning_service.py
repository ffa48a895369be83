"""The service's HTTP side and command line: phones fetch their configuration with HTTP
digest (httpx, a real client), the admin API needs its token and manages devices, numbers
and history, and bad options exit 2 with one line."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
from test_provisioning_helpers import ROOT, Service, mac, secret

from services.provisioning.client import Phone


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("svc")
    svc = Service(
        tmp, "--block", "2124561000", "--block-size", "5", "--aging-days", "45", devices=4
    ).start()
    yield svc
    svc.stop()


def _negotiate(svc: Service, i: int):
    async def go():
        async with svc.client() as c:
            return await c.negotiate(Phone(mac(i), secret(i)))

    return asyncio.run(go())


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_phone_fetches_its_configuration_with_digest(service, algorithm):
    number = _negotiate(service, 0).numbers[0]
    url = f"{service.http}/phones/{mac(0)}.json"
    assert httpx.get(url).status_code == 401
    auth = httpx.DigestAuth(mac(0), secret(0))
    first = httpx.get(url)
    assert [
        v.split("algorithm=")[1].split(",")[0] for v in first.headers.get_list("www-authenticate")
    ] == ["SHA-256", "MD5"]
    got = httpx.get(url, auth=auth)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["config"]["numbers"] == [number] and body["sip"]["username"] == mac(0)
    assert httpx.get(url, auth=httpx.DigestAuth(mac(0), "wrong-secret")).status_code == 403
    other = httpx.get(f"{service.http}/phones/{mac(1)}.json", auth=auth)
    assert other.status_code == 403  # one phone cannot read another's file


def test_admin_api_needs_its_token(service):
    for method, path in (("GET", "/devices"), ("POST", "/devices"), ("GET", "/history")):
        assert httpx.request(method, service.admin + path).status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert httpx.request(method, service.admin + path, headers=bad).status_code == 401


def test_admin_lists_adds_retires_and_numbers_age(service):
    h = service.headers()
    number = _negotiate(service, 2).numbers[0]
    devices = httpx.get(service.admin + "/devices", headers=h).json()
    assert {d["mac"] for d in devices} == {mac(i) for i in range(4)}
    new = {
        "devices": [
            {
                "mac": "00:04:F2:AA:BB:CC",
                "secret": "new-secret-1",
                "user": "carol",
                "pin": "9876",
                "config": {"display_name": "Carol", "dnd": True},
            }
        ]
    }
    assert httpx.post(service.admin + "/devices", headers=h, json=new).status_code == 201
    d = httpx.get(service.admin + "/devices/0004f2aabbcc", headers=h).json()
    assert (d["user"], d["state"], d["config"]["display_name"]) == ("carol", "active", "Carol")
    for bad, where in (
        ({"devices": [{"mac": "zz", "secret": "x" * 8}]}, "not a MAC"),
        ({"devices": [{"mac": mac(9), "secret": "short"}]}, "devices.0.secret"),
        ({"devices": [{"mac": mac(9), "secret": "x" * 8, "extra": 1}]}, "devices.0.extra"),
        ({"devices": [{"mac": mac(9), "secret": "x" * 8, "config": {"dnd": "yes"}}]}, "dnd"),
    ):
        r = httpx.post(service.admin + "/devices", headers=h, json=bad)
        assert r.status_code == 400 and where in r.json()["error"], r.text
    assert httpx.get(service.admin + f"/devices/{mac(9)}", headers=h).status_code == 404
    gone = httpx.delete(service.admin + f"/devices/{mac(2)}", headers=h).json()
    assert gone["aging"] == [number]
    row = next(
        r for r in httpx.get(service.admin + "/numbers", headers=h).json() if r["number"] == number
    )
    assert row["holder"] is None and row["available_at"] > 45 * 86000
    assert _negotiate(service, 2).code == 403  # a retired phone is refused
    events = [e["event"] for e in httpx.get(service.admin + "/history", headers=h).json()]
    assert "allocated" in events and "retired" in events and "provisioned" in events


def test_admin_replacement(service):
    h = service.headers()
    number = _negotiate(service, 1).numbers[0]
    r = httpx.post(service.admin + "/replacements", headers=h, json={"old": mac(1), "new": mac(3)})
    assert r.status_code == 200 and r.json()["config"]["numbers"] == [number]
    assert _negotiate(service, 3).numbers == [number]
    again = httpx.post(
        service.admin + "/replacements", headers=h, json={"old": mac(1), "new": mac(3)}
    )
    assert again.status_code == 400


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--aging-days", "30"], "--aging-days: aging days must lie within 45..365"),
        (["--aging-days", "nan"], "--aging-days"),
        (["--sip-port", "70000"], "--sip-port: must be within 0..65535"),
        (["--http-port", "x"], "--http-port: not an integer"),
        (["--policy", "nope"], "--policy: unknown policy 'nope'"),
        (["--algorithms", "SHA-512"], "--algorithms"),
        (["--block", "2125550100"], "--block: exchange code 555"),
        (["--block", "2124569999", "--block-size", "2"], "--block: a block of 2"),
        (["--static", "12"], "--static"),
        (["--unknown-device", "allow"], "--unknown-device"),
        (["--devices", "/nonexistent.csv"], "--devices: No such file"),
        (["--admin-token-file", "/nonexistent"], "--admin-token-file"),
        (["--realm", "a b"], "--realm"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_options_exit_2_with_one_line(options, message):
    proc = subprocess.run(
        [sys.executable, "-m", "services.provisioning", *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_tnlab_serve_lists_the_service():
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "serve", "provisioning", "--block-size", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2 and "--block-size: must be within 1..10000" in proc.stderr

"""The service against SIPp, a real SIP tester, with the scenarios of
``services/provisioning/sipp``: negotiation with digest authentication then registration,
repeated negotiation, exhaustion, an unknown device, replacement by headset (accepted,
unknown headset, conflicting headset, old phone still registered, wrong PIN), and 50
devices negotiating in one run, each with its own secret from the injection file."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time

import pytest
from test_provisioning_helpers import REALM, ROOT, Service, mac, secret
from tools import require

from models.provisioning import PhoneConfig, SpeedDial, number_block
from services.provisioning.store import Binding, Store

SCENARIOS = ROOT / "services" / "provisioning" / "sipp"
BLOCK = number_block("2124561000", 20)
HS = "0b0e;245d;SN42"
HS_KEY = "0b0e:245d:SN42"
SHARED = "0b0e:245d:SHARED1"
NONE = "Subject: none"


def sipp(service: Service, scenario: str, i: int, *headers: str, password: str | None = None):
    """One SIPp run for device ``i``; the lines it logged."""
    exe = require("sipp", "apt-get install sip-tester")
    tmp = service.tmp
    inf = tmp / f"inf{i}.csv"
    fields = [mac(i), secret(i), REALM, *(headers or (NONE, NONE))]
    inf.write_text("SEQUENTIAL\n" + ";".join(fields) + "\n")
    log = tmp / f"sipp{i}.log"
    log.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            exe,
            f"127.0.0.1:{service.sip}",
            "-sf",
            str(SCENARIOS / scenario),
            "-inf",
            str(inf),
            "-m",
            "1",
            "-au",
            mac(i),
            "-ap",
            password or secret(i),
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-timeout",
            "20",
            "-timeout_error",
            "-trace_logs",
            "-log_file",
            str(log),
            "-nostdin",
        ],
        capture_output=True,
        text=True,
        timeout=40,
        cwd=tmp,
    )
    lines = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, lines


def _prepare(db: str, *, registered: bool) -> None:
    now = time.time()
    store = Store(db, realm=REALM)
    store.set_aging_days(90)
    store.add_numbers(BLOCK)
    store.add_devices([(mac(i), secret(i), {0: "alice", 1: "bob"}.get(i)) for i in range(10)], now)
    for i in (0, 1):
        n, _ = store.allocate(mac(i), now)
        config = PhoneConfig(
            numbers=(n,),
            display_name=f"user {i}",
            dnd=True,
            speed_dials=(SpeedDial("Boss", "+12124561999"),),
        )
        store.set_config(mac(i), config, now)
    store.set_pin("alice", "4321")
    store.map_headset(HS_KEY, mac(0), "alice", now)
    store.map_headset(SHARED, mac(0), "alice", now)
    store.map_headset(SHARED, mac(1), "bob", now + 1)
    if registered:
        store.set_binding(Binding(BLOCK[0], "sip:a@127.0.0.1:5999", mac(0), "c", 1, now + 3600))
    store.commit()
    store.close()


@pytest.fixture
def service(tmp_path):
    require("sipp", "apt-get install sip-tester")
    _prepare(str(tmp_path / "provisioning.db"), registered=False)
    svc = Service(
        tmp_path,
        "--block",
        "2124561000",
        "--block-size",
        "20",
        "--algorithms",
        "MD5,SHA-256",
        "--policy",
        "headset_pin",
    ).start()
    yield svc
    svc.stop()


def test_negotiation_registration_and_repeat(service):
    rc, lines = sipp(service, "negotiate.xml", 5)
    assert rc == 0, lines
    number = lines[0].split()[2]
    assert lines[0].startswith(f"NEGOTIATED {mac(5)} +1212456")
    assert lines[1].startswith(f"REGISTERED {mac(5)} {number} <sip:{number}@127.0.0.1:")
    rc, again = sipp(service, "negotiate.xml", 5)
    assert rc == 0 and again[0].split()[2] == number  # the same number
    rc, other = sipp(service, "negotiate.xml", 6)
    assert rc == 0 and other[0].split()[2] not in (number, BLOCK[0], BLOCK[1])
    store = Store(service.db, realm=REALM)
    assert store.holder(number) == mac(5) and store.registered(mac(5), time.time())


def test_unknown_device_and_wrong_secret(service):
    rc, lines = sipp(service, "outcome.xml", 99)  # not in the records
    assert lines == [f"REFUSED {mac(99)} 403 Unknown Device (Unknown Device)"] or (
        lines and lines[0].startswith(f"REFUSED {mac(99)} 403 Unknown Device")
    )
    rc, lines = sipp(service, "outcome.xml", 5, password="not-the-secret")
    assert lines[0].startswith(f"REFUSED {mac(5)} 403 Bad Credentials")


@pytest.mark.parametrize(
    ("headset", "pin", "expected"),
    [
        (HS, "4321", "ACCEPTED"),
        ("0b0e;245d;NOBODY", "4321", "REFUSED unknown_headset"),
        ("0b0e;245d;SHARED1", "4321", "REFUSED headset_conflict"),
        (HS, "0000", "REFUSED wrong_pin"),
        (HS, None, "REFUSED pin_required"),
    ],
)
def test_replacement_by_headset(service, headset, pin, expected):
    pin_line = NONE if pin is None else f"Replacement-PIN: {pin}"
    rc, lines = sipp(service, "replace.xml", 7, *headset.split(";"), pin_line)
    verdict, _, rest = lines[0].partition(f" {mac(7)} ")
    store = Store(service.db, realm=REALM)
    new, old = store.device(mac(7)), store.device(mac(0))
    if expected == "ACCEPTED":
        assert verdict == "ACCEPTED" and rest.split()[0] == BLOCK[0]
        assert new.config == dataclasses.replace(old.config) and old.state == "retired"
    else:
        assert f"{verdict} {rest.split()[1]}" == expected, lines
        assert new.config is None and old.state == "active"


def test_refused_while_the_old_phone_is_registered(tmp_path):
    require("sipp", "apt-get install sip-tester")
    _prepare(str(tmp_path / "provisioning.db"), registered=True)
    svc = Service(
        tmp_path,
        "--block",
        "2124561000",
        "--block-size",
        "20",
        "--algorithms",
        "MD5",
        "--policy",
        "refuse_registered",
    ).start()
    try:
        rc, lines = sipp(svc, "replace.xml", 7, *HS.split(";"), NONE)
        assert lines[0].startswith(f"REFUSED {mac(7)} 403 old_registered"), lines
    finally:
        svc.stop()


def test_exhaustion(tmp_path):
    require("sipp", "apt-get install sip-tester")
    svc = Service(
        tmp_path, "--block", "2124561000", "--block-size", "2", "--algorithms", "MD5", devices=4
    ).start()
    try:
        got = [sipp(svc, "outcome.xml", i)[1][0] for i in range(3)]
        assert got[0].startswith(f"ACCEPTED {mac(0)} +12124561000")
        assert got[1].startswith(f"ACCEPTED {mac(1)} +12124561001")
        assert got[2].startswith(f"UNAVAILABLE {mac(2)} 3600")
        store = Store(svc.db, realm=REALM)
        assert store.device(mac(2)).config is None
    finally:
        svc.stop()


def sipp_many(service: Service, name: str, secrets: dict[str, str]) -> tuple[int, str, str]:
    """One SIPp run of ``negotiate_many.xml``, a call per device with its own credentials
    from the injection file; exit status, the log and the error log."""
    exe = require("sipp", "apt-get install sip-tester")
    work = service.tmp / name
    work.mkdir()
    inf = work / "devices.inf"
    lines = (
        f"{m};{REALM};[authentication username={m} password={s}]\n" for m, s in secrets.items()
    )
    inf.write_text("SEQUENTIAL\n" + "".join(lines))
    proc = subprocess.run(
        [
            exe,
            f"127.0.0.1:{service.sip}",
            "-sf",
            str(SCENARIOS / "negotiate_many.xml"),
            "-inf",
            str(inf),
            "-r",
            "100",
            "-m",
            str(len(secrets)),
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-timeout",
            "20",
            "-trace_logs",
            "-log_file",
            str(work / "log"),
            "-trace_err",
            "-error_file",
            str(work / "errors"),
            "-nostdin",
        ],
        capture_output=True,
        text=True,
        timeout=40,
        cwd=work,
    )

    def read(f: str) -> str:
        return (work / f).read_text() if (work / f).exists() else ""

    return proc.returncode, read("log"), read("errors")


def test_many_devices_each_with_its_own_secret(tmp_path):
    """SIPp gives each of 50 devices its own digest credentials: wrong secrets are refused
    with nothing allocated, right ones each get a distinct number the store keeps."""
    require("sipp", "apt-get install sip-tester")
    count = 50
    svc = Service(
        tmp_path,
        "--block",
        "2124561000",
        "--block-size",
        "60",
        "--algorithms",
        "MD5,SHA-256",
        devices=count,
    ).start()
    try:
        macs = [mac(i) for i in range(count)]
        rc, log, errors = sipp_many(svc, "wrong", {m: f"wrong-{i:06d}" for i, m in enumerate(macs)})
        assert rc == 1 and "NEGOTIATED" not in log
        refused = re.findall(
            r"received 'SIP/2.0 403 Forbidden \(Bad Credentials\).*?From: <sip:([0-9a-f]+)@",
            errors,
            re.S,
        )
        assert sorted(refused) == macs, errors[:2000]
        store = Store(svc.db, realm=REALM)
        assert all(store.device(m).config is None for m in macs)
        assert all(store.holder(n) is None for n in number_block("2124561000", 60))
        store.close()

        rc, log, errors = sipp_many(svc, "right", {m: secret(i) for i, m in enumerate(macs)})
        assert rc == 0, errors[:2000]
        got = dict(line.split()[1:3] for line in log.splitlines() if line.startswith("NEGOTIATED"))
        assert sorted(got) == macs
        assert len(set(got.values())) == count
        store = Store(svc.db, realm=REALM)
        for m, number in got.items():
            assert store.device(m).config.numbers == (number,)
            assert store.holder(number) == m
        store.close()
    finally:
        svc.stop()

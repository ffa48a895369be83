"""The registrar in-process, with a clock the test moves: negotiation, exhaustion, digest
refusals (wrong secret, expired nonce, replay), registration rules and replacement."""

from __future__ import annotations

import dataclasses

import pytest
from test_provisioning_helpers import Local, local_register, mac, secret

from models.provisioning import PhoneConfig, SpeedDial, config_fields, number_block
from models.provisioning.digest import credentials

BLOCK = number_block("2124561000", 3)


def numbers_of(resp) -> list[str]:
    return [
        v.split("@")[0].removeprefix("<sip:")
        for v in ", ".join(resp.headers.getlist("P-Associated-URI")).split(", ")
        if v
    ]


def test_negotiation_is_idempotent_and_static_numbers_are_never_given():
    local = Local(numbers=BLOCK, static=[BLOCK[0]])
    got = [numbers_of(local_register(local, mac(i), secret(i), "provision")) for i in range(2)]
    assert got == [[BLOCK[1]], [BLOCK[2]]]
    again = local_register(local, mac(0), secret(0), "provision", algorithm="MD5")
    assert again.code == 200 and numbers_of(again) == [BLOCK[1]]
    full = local_register(local, mac(2), secret(2), "provision")
    assert full.code == 503 and full.headers.get("Retry-After") == "3600"
    held = [r["holder"] for r in local.store.numbers()]
    assert held == [None, mac(0), mac(1)]


def test_exhaustion_retry_after_counts_down_to_the_end_of_aging():
    local = Local(numbers=BLOCK[:1])
    local_register(local, mac(0), secret(0), "provision")
    local.store.retire(mac(0), local.clock())
    local.store.set_aging_days(45)
    local.store.commit()
    local.clock.now += 100
    resp = local_register(local, mac(1), secret(1), "provision")
    assert resp.code == 503
    assert int(resp.headers.get("Retry-After")) == 3600  # capped at an hour
    local.clock.now += 90 * 86400.0 - 100 - 30
    resp = local_register(local, mac(1), secret(1), "provision")
    assert int(resp.headers.get("Retry-After")) == 30


def test_refusals():
    local = Local(numbers=BLOCK, lifetime=30)
    assert local_register(local, mac(0), "wrong-secret", "provision").code == 403
    unknown = local_register(local, "0004f2ffffff", "whatever1", "provision")
    assert (unknown.code, unknown.phrase) == (403, "Forbidden (Unknown Device)")
    assert all(r["holder"] is None for r in local.store.numbers())  # nothing allocated
    assert local.store.history() is not None and list(local.store.history()) == []
    # an expired nonce with the right secret: 401 stale=true
    c = local.client
    uri, data = c.build("provision", mac(0), "x1@t", 1, [], None, None)
    nonce = local.send(data).www_authenticate.parameters["nonce"]
    local.clock.now += 31
    value = credentials("SHA-256", mac(0), "tnlab.invalid", secret(0), "REGISTER", uri, nonce)
    _, data = c.build("provision", mac(0), "x1@t", 2, [("Authorization", value)], None, None)
    stale = local.send(data)
    assert stale.code == 401 and "stale=true" in stale.headers.get("WWW-Authenticate")
    # a replayed nonce count, in a new transaction: refused
    _, data = c.build("provision", mac(0), "x2@t", 1, [], None, None)
    nonce = local.send(data).www_authenticate.parameters["nonce"]
    value = credentials("SHA-256", mac(0), "tnlab.invalid", secret(0), "REGISTER", uri, nonce)
    _, first = c.build("provision", mac(0), "x2@t", 2, [("Authorization", value)], None, None)
    assert local.send(first).code == 200
    assert local.send(first).code == 200  # a retransmission: the same answer from the cache
    _, replay = c.build("provision", mac(0), "x3@t", 2, [("Authorization", value)], None, None)
    assert (local.send(replay).code, local.send(replay).phrase) == (
        403,
        "Forbidden (Nonce Replayed)",
    )


def test_quarantine_writes_nothing():
    local = Local(numbers=BLOCK, unknown="quarantine")
    resp = local_register(local, "0004f2ffffff", "whatever1", "provision")
    assert resp.code == 200 and "quarantine" in resp.headers.get("P-Associated-URI")
    assert "911" in resp.headers.get("Warning")
    assert list(local.store.history()) == [] and local.store.device("0004f2ffffff") is None


def test_registration_rules():
    local = Local(numbers=BLOCK)
    n = numbers_of(local_register(local, mac(0), secret(0), "provision"))[0]
    reg = lambda **kw: local_register(local, mac(0), secret(0), n, **kw)  # noqa: E731
    ok = reg(contact="<sip:a@127.0.0.1:5070>", expires=600)
    assert ok.code == 200 and ok.headers.getlist("Contact") == [
        "<sip:a@127.0.0.1:5070>;expires=600"
    ]
    two = reg(contact="<sip:b@127.0.0.1:5071>;expires=120", expires=600)
    assert len(two.headers.getlist("Contact")) == 2
    assert local.store.registered(mac(0), local.clock())
    brief = reg(contact="<sip:c@127.0.0.1:5072>", expires=30)
    assert (brief.code, brief.headers.get("Min-Expires")) == (423, "60")
    assert len(reg().headers.getlist("Contact")) == 2  # a query lists the bindings
    assert reg(contact="<sip:b@127.0.0.1:5071>", expires=0).headers.getlist("Contact") == [
        "<sip:a@127.0.0.1:5070>;expires=600"
    ]
    assert reg(contact="*", expires=60).code == 400
    assert reg(contact="*", expires=0).headers.getlist("Contact") == []
    assert not local.store.registered(mac(0), local.clock())
    other = local_register(local, mac(1), secret(1), n, contact="<sip:x@h>", expires=600)
    assert (other.code, other.phrase) == (403, "Forbidden (Not Your Number)")
    assert local_register(local, mac(0), secret(0), "+12125550100").code == 404


OLD_CONFIG = PhoneConfig(
    display_name="Ada",
    speed_dials=(SpeedDial("Boss", "+12124561999"),),
    blf=("+12124561002",),
    dnd=True,
    services=("directory",),
    language="fr-CA",
)
HS = "vid=0b0e;pid=245d;sn=SN42"


def _old_phone(local: Local, *, register: bool, pin: str | None = "4321", headset=HS) -> str:
    n = numbers_of(local_register(local, mac(0), secret(0), "provision"))[0]
    local.store.set_config(mac(0), dataclasses.replace(OLD_CONFIG, numbers=(n,)), local.clock())
    if pin:
        local.store.set_pin(mac(0), pin)
    local.store.commit()
    resp = local_register(
        local,
        mac(0),
        secret(0),
        n,
        contact="<sip:a@127.0.0.1:5070>",
        expires=600,
        extra=[("Headset-Info", headset)],
    )
    assert resp.code == 200
    if not register:
        local_register(local, mac(0), secret(0), n, contact="*", expires=0)
    return n


@pytest.mark.parametrize(
    ("policy", "extra", "registered", "code", "reason"),
    [
        ("headset", [("Headset-Info", HS)], True, 200, ""),
        ("headset_pin", [("Headset-Info", HS), ("Replacement-PIN", "4321")], False, 200, ""),
        (
            "headset_pin",
            [("Headset-Info", HS), ("Replacement-PIN", "0000")],
            False,
            403,
            "wrong_pin",
        ),
        ("headset_pin", [("Headset-Info", HS)], False, 403, "pin_required"),
        (
            "headset_pin",
            [("Headset-Info", "vid=1;pid=2;sn=X"), ("Replacement-PIN", "4321")],
            False,
            403,
            "unknown_headset",
        ),
        ("refuse_registered", [("Headset-Info", HS)], True, 403, "old_registered"),
        ("refuse_registered", [("Headset-Info", HS)], False, 200, ""),
        (
            "extension_pin",
            [("Replacement-Extension", "EXT"), ("Replacement-PIN", "4321")],
            True,
            200,
            "",
        ),
        ("extension_pin", [("Headset-Info", HS)], False, 403, "no_extension"),
        ("manual", [("Headset-Info", HS)], False, 403, "manual"),
        ("headset", [("Headset-Info", "vid=zz;pid=1;sn=X")], False, 400, ""),
    ],
)
def test_replacement(policy, extra, registered, code, reason):
    local = Local(numbers=BLOCK, policy=policy)
    n = _old_phone(local, register=registered)
    extra = [(k, n if v == "EXT" else v) for k, v in extra]
    resp = local_register(local, mac(1), secret(1), "provision", extra=extra)
    assert resp.code == code, resp.phrase
    new, old = local.store.device(mac(1)), local.store.device(mac(0))
    if code == 200:
        assert numbers_of(resp) == [n]
        assert new.config == dataclasses.replace(OLD_CONFIG, numbers=(n,))
        assert [getattr(new.config, f) for f in config_fields()] == [
            getattr(old.config, f) for f in config_fields()
        ]
        assert (old.state, old.replaced_by, new.user) == ("retired", mac(1), mac(0))
        assert local.store.holder(n) == mac(1) and not local.store.registered(mac(0), 1e12)
    else:
        assert new.config is None and old.state == "active" and local.store.holder(n) == mac(0)
        if reason:
            assert f'"{reason}"' in resp.headers.get("Warning")


def test_copy_basic_and_conflicting_headsets():
    local = Local(numbers=BLOCK, policy="copy_basic")
    n = _old_phone(local, register=False)
    resp = local_register(local, mac(1), secret(1), "provision", extra=[("Headset-Info", HS)])
    config = local.store.device(mac(1)).config
    assert resp.code == 200 and config.numbers == (n,) and config.dnd
    assert (config.speed_dials, config.blf, config.services) == ((), (), ())
    # the same headset on a second user's phone: refused, or the latest taken if allowed
    for refuse, code in ((True, 403), (False, 200)):
        local = Local(numbers=BLOCK, policy="headset", refuse_conflicts=refuse)
        _old_phone(local, register=False)
        m = numbers_of(local_register(local, mac(2), secret(2), "provision"))[0]
        local.clock.now += 10
        local_register(
            local,
            mac(2),
            secret(2),
            m,
            contact="<sip:z@h>",
            expires=600,
            extra=[("Headset-Info", HS)],
        )
        resp = local_register(local, mac(3), secret(3), "provision", extra=[("Headset-Info", HS)])
        assert resp.code == code
        if code == 200:
            assert numbers_of(resp) == [m]  # the most recent mapping
            event = [e for e in local.store.history() if e["event"] == "replaced"][-1]
            assert event["detail"]["ambiguous"] is True
        else:
            assert '"headset_conflict"' in resp.headers.get("Warning")


def test_pin_lockout():
    local = Local(numbers=BLOCK, policy="headset_pin")
    _old_phone(local, register=False)
    wrong = [("Headset-Info", HS), ("Replacement-PIN", "0000")]
    for _ in range(5):
        assert local_register(local, mac(1), secret(1), "provision", extra=wrong).code == 403
    right = [("Headset-Info", HS), ("Replacement-PIN", "4321")]
    assert local_register(local, mac(1), secret(1), "provision", extra=right).code == 403
    local.clock.now += 901
    assert local_register(local, mac(1), secret(1), "provision", extra=right).code == 200

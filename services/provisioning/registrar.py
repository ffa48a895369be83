"""What the service answers to a SIP request: negotiation, replacement and registration.

:class:`Registrar` turns one parsed request into one response; the writes it makes go into
the store's open transaction, which the transport commits before any response of the batch
is sent (:mod:`.server`).

* ``REGISTER`` to ``sip:provision@<realm>`` (the reserved address-of-record) is a
  negotiation: a device with a record gets its numbers back (idempotent); a device with no
  record that reports a headset (``Headset-Info``) or an extension
  (``Replacement-Extension``) asks to replace a phone, decided by the replacement policy;
  any other gets the next pool number (503 with ``Retry-After`` when none is left).  The
  numbers come back in ``P-Associated-URI`` (RFC 3455).
* ``REGISTER`` to a number the device holds adds, refreshes or removes bindings (RFC 3261
  section 10.3: ``Expires``, ``Min-Expires``/423, ``Contact: *`` with ``Expires: 0``); every
  200 lists the bindings.  A ``Headset-Info`` there maps the headset to the phone.
* ``OPTIONS`` is answered 200; other methods 405; ``ACK`` nothing.
"""

from __future__ import annotations

import dataclasses
import email.utils
from typing import Literal

from models.provisioning import (
    LineAppearance,
    PhoneConfig,
    PoolExhausted,
    ReplacementPolicy,
    ReplacementRequest,
    e164,
    retry_after_seconds,
)
from models.provisioning.digest import NonceBook
from models.provisioning.replacement import HeadsetId

from .auth import challenges, verify
from .sip import SipRequest, response
from .store import Binding, Device, Store, normalize_mac

__all__ = ["NEGOTIATION_USER", "QUARANTINE_DIAL_PLAN", "Registrar", "Settings", "parse_headset"]

NEGOTIATION_USER = "provision"
"""User part of the reserved address-of-record a phone negotiates its number with."""
QUARANTINE_DIAL_PLAN = ("911", "933", "0")
"""What a quarantined phone may dial: emergency, the 933 emergency test line, the operator."""
ALLOW = "REGISTER, OPTIONS"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The registrar's settings (command-line options of ``tnlab serve provisioning``).

    Attributes
    ----------
    realm : str
        Digest realm and the host part of the addresses given out.
    algorithms : tuple of str
        Digest algorithms offered, in order of preference.
    auth : bool
        Authenticate (``False`` only for the bench's baseline: the device is the From user).
    unknown_device : {"refuse", "quarantine"}
        403 for an unknown device, or an emergency-only quarantine profile.
    policy : ReplacementPolicy
        Decides replacements.
    min_expires, max_expires, default_expires : int
        Registration intervals in seconds.
    max_bindings : int
        Most contacts per number.
    """

    realm: str
    algorithms: tuple[str, ...]
    auth: bool
    unknown_device: Literal["refuse", "quarantine"]
    policy: ReplacementPolicy
    min_expires: int = 60
    max_expires: int = 7200
    default_expires: int = 3600
    max_bindings: int = 10


def parse_headset(value: str) -> HeadsetId:
    """A ``Headset-Info`` value, ``vid=0b0e;pid=245d;sn=SERIAL`` (hex ids).

    Raises
    ------
    ValueError
        If a part is missing, repeated or out of range.
    """
    parts: dict[str, str] = {}
    for item in value.split(";"):
        name, eq, val = item.strip().partition("=")
        if not eq or name.lower() in parts:
            raise ValueError("bad Headset-Info")
        parts[name.lower()] = val.strip()
    if set(parts) != {"vid", "pid", "sn"} or not all(
        1 <= len(parts[k]) <= 4 and all(c in "0123456789abcdefABCDEF" for c in parts[k])
        for k in ("vid", "pid")
    ):
        raise ValueError("bad Headset-Info")
    return HeadsetId(int(parts["vid"], 16), int(parts["pid"], 16), parts["sn"])


class Registrar:
    """Answers SIP requests from the store (see the module's docstring).

    Parameters
    ----------
    store : Store
        The records.
    settings : Settings
        Realm, algorithms, policies and intervals.
    nonces : NonceBook
        The server's nonces (shared with the HTTP side).
    """

    def __init__(self, store: Store, settings: Settings, nonces: NonceBook) -> None:
        self.store = store
        self.s = settings
        self.nonces = nonces

    def handle(self, req: SipRequest, source: tuple[str, int], now: float) -> bytes | None:
        """The response to ``req`` (``None`` for none); writes are left uncommitted."""
        if req.method == "ACK":
            return None
        if req.method == "OPTIONS":
            return response(200, "OK", req, source, [("Allow", ALLOW)])
        if req.method != "REGISTER":
            return response(405, "Method Not Allowed", req, source, [("Allow", ALLOW)])
        target = req.to_address.uri.user or ""
        if target != NEGOTIATION_USER:
            try:
                number = e164(target)
            except ValueError:
                return response(404, "Not Found", req, source)
        device = self._authenticate(req, source, now)
        if isinstance(device, bytes):
            return device
        if device is None:  # quarantined: nothing is written for an unknown device
            if target != NEGOTIATION_USER:
                return response(403, "Forbidden (Quarantined)", req, source)
            uri = f"<sip:quarantine@{self.s.realm}>"
            warn = f'399 {self.s.realm} "quarantine: {" ".join(QUARANTINE_DIAL_PLAN)}"'
            return response(200, "OK", req, source, [("P-Associated-URI", uri), ("Warning", warn)])
        if target == NEGOTIATION_USER:
            return self._negotiate(req, source, device, now)
        return self._register(req, source, device, number, now)

    # -- authentication -----------------------------------------------------------------

    def _authenticate(
        self, req: SipRequest, source: tuple[str, int], now: float
    ) -> Device | bytes | None:
        if not self.s.auth:
            try:
                device = self.store.device(normalize_mac(req.from_address.uri.user or ""))
            except ValueError:
                device = None
            if device is None or device.state == "retired":
                return response(403, "Forbidden (Unknown Device)", req, source)
            return device
        v = verify(
            req.header("Authorization"),
            req.method,
            req.uri,
            store=self.store,
            nonces=self.nonces,
            algorithms=self.s.algorithms,
            now=now,
        )
        if v.kind == "ok":
            return v.device
        if v.kind == "challenge":
            values = challenges(self.nonces, self.s.realm, self.s.algorithms, now, v.stale)
            return response(
                401, "Unauthorized", req, source, [("WWW-Authenticate", c) for c in values]
            )
        if v.kind == "bad":
            return response(400, v.reason, req, source)
        if v.kind == "unknown" and self.s.unknown_device == "quarantine":
            return None
        return response(403, f"Forbidden ({v.reason})", req, source)

    # -- negotiation and replacement ------------------------------------------------------

    def _numbers(self, numbers: tuple[str, ...]) -> list[tuple[str, str]]:
        return [("P-Associated-URI", ", ".join(f"<sip:{n}@{self.s.realm}>" for n in numbers))]

    def _negotiate(
        self, req: SipRequest, source: tuple[str, int], device: Device, now: float
    ) -> bytes:
        if device.config is not None and device.state == "active":
            return response(200, "OK", req, source, self._numbers(device.config.numbers))
        if req.header("Headset-Info") is not None or req.header("Replacement-Extension"):
            return self._replace(req, source, device, now)
        try:
            number, _ = self.store.allocate(device.mac, now)
        except PoolExhausted as e:
            wait = retry_after_seconds(e.next_available, now)
            self.store.log("exhausted", now, mac=device.mac)
            return response(
                503, "Service Unavailable (No Number)", req, source, [("Retry-After", str(wait))]
            )
        config = PhoneConfig(
            numbers=(number,), line_appearances=(LineAppearance(number, number[-4:]),)
        )
        self.store.set_config(device.mac, config, now)
        self.store.log("allocated", now, mac=device.mac, number=number)
        return response(200, "OK", req, source, self._numbers(config.numbers))

    def _replace(
        self, req: SipRequest, source: tuple[str, int], device: Device, now: float
    ) -> bytes:
        policy = self.s.policy
        raw = req.header("Headset-Info")
        try:
            headset = None if raw is None else parse_headset(raw)
        except ValueError:
            return response(400, "Bad Headset-Info", req, source)
        phones = self.store.headset_phones(headset.key) if headset else []
        ext_raw = req.header("Replacement-Extension")
        extension = old_by_ext = None
        if ext_raw:
            try:
                extension = e164(ext_raw)
                old_by_ext = self.store.holder(extension)
            except ValueError:
                extension = ext_raw[:32]
        old_mac = phones[0][0] if policy.key == "headset" and phones else None
        if policy.key == "extension":
            old_mac = old_by_ext
        old = self.store.device(old_mac) if old_mac else None
        if old is not None and (old.config is None or old.state != "active"):
            old = None
        pin = req.header("Replacement-PIN")
        pin_ok = None
        if pin is not None and policy.needs_pin:
            pin_ok = old is not None and self.store.check_pin(old.user, pin, now)
        ext_known = old_by_ext is not None and (d := self.store.device(old_by_ext)) is not None
        ext_known = ext_known and d is not None and d.state == "active" and d.config is not None
        request = ReplacementRequest(
            new_mac=device.mac,
            headset=headset,
            pin_ok=pin_ok,
            extension=extension,
            extension_known=bool(ext_known),
            old_registered=old is not None and self.store.registered(old.mac, now),
            headset_users=len({user for _, user in phones}),
        )
        decision = policy.decide(request)
        if not decision.accepted or old is None:
            reason = decision.reason or "unknown_headset"
            self.store.log(
                "replacement_refused",
                now,
                mac=device.mac,
                reason=reason,
                outcome=decision.outcome,
                headset=headset and headset.key,
            )
            warn = f'399 {self.s.realm} "{reason}"'
            return response(403, f"Forbidden ({reason})", req, source, [("Warning", warn)])
        copied = decision.copied()
        config = self.store.replace(old.mac, device.mac, copied, now)
        self.store.log(
            "replaced",
            now,
            mac=device.mac,
            old=old.mac,
            copied=list(copied),
            ambiguous=decision.ambiguous,
            key=decision.key,
        )
        return response(200, "OK", req, source, self._numbers(config.numbers))

    # -- registration -------------------------------------------------------------------

    def _register(
        self, req: SipRequest, source: tuple[str, int], device: Device, number: str, now: float
    ) -> bytes:
        s, store = self.s, self.store
        if device.config is None or number not in device.config.numbers:
            return response(403, "Forbidden (Not Your Number)", req, source)
        raw = req.header("Headset-Info")
        try:
            headset = None if raw is None else parse_headset(raw)
            contacts = req.contacts()
            header_expires = req.header("Expires")
            default = int(header_expires) if header_expires is not None else s.default_expires
            plan: list[tuple[str, int]] = []
            for c in contacts or []:
                param = c.parameters.get("expires")
                if param is not None and (not param.isdigit() or len(param) > 10):
                    raise ValueError("bad expires")
                plan.append((str(c.uri), default if param is None else int(param)))
        except ValueError:
            return response(400, "Bad Contact or Expires", req, source)
        current = {b.contact: b for b in store.bindings(number, now)}
        if contacts is None:
            if header_expires != "0":
                return response(400, "Contact * Needs Expires 0", req, source)
            store.remove_binding(number)
            current = {}
        too_brief = [e for _, e in plan if 0 < e < s.min_expires]
        if too_brief:
            return response(
                423, "Interval Too Brief", req, source, [("Min-Expires", str(s.min_expires))]
            )
        for contact, _ in plan:
            old = current.get(contact)
            if old is not None and old.call_id == req.call_id and req.cseq.sequence <= old.cseq:
                return response(400, "Out-of-Order CSeq", req, source)
        after = set(current) | {c for c, e in plan if e > 0}
        after -= {c for c, e in plan if e == 0}
        if len(after) > s.max_bindings:
            return response(403, "Forbidden (Too Many Bindings)", req, source)
        for contact, expires in plan:
            if expires == 0:
                if contact in current:
                    store.remove_binding(number, contact)
                    del current[contact]
                continue
            b = Binding(
                number,
                contact,
                device.mac,
                req.call_id,
                req.cseq.sequence,
                now + min(expires, s.max_expires),
            )
            store.set_binding(b)
            current[contact] = b
        if headset is not None:
            store.map_headset(headset.key, device.mac, device.user, now)
        extra = [
            ("Contact", f"<{b.contact}>;expires={max(0, int(b.expires_at - now))}")
            for b in sorted(current.values(), key=lambda b: b.contact)
        ]
        extra += self._numbers(device.config.numbers)
        extra.append(("Date", email.utils.formatdate(now, usegmt=True)))
        return response(200, "OK", req, source, extra)

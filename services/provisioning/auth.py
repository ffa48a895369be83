"""Checking digest credentials against the device records, for SIP and HTTP alike.

:func:`verify` reads an ``Authorization`` value and says what to answer: a challenge
(fresh, or ``stale`` for right credentials on an expired nonce), a malformed header, an
unknown device, a refusal, or the authenticated :class:`~.store.Device`.  It writes nothing:
a request is authenticated before anything is allocated or changed.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Literal

from sipmessage import AuthCredentials

from models.provisioning.digest import NonceBook, challenge, response

from .store import Device, Store, normalize_mac

__all__ = ["Verdict", "challenges", "verify"]

Kind = Literal["challenge", "bad", "unknown", "forbidden", "ok"]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found.

    Attributes
    ----------
    kind : {"challenge", "bad", "unknown", "forbidden", "ok"}
        Challenge again (401), malformed (400), unknown device (403 or quarantine),
        refused (403), or authenticated.
    reason : str
        Why, for the response's reason phrase.
    stale : bool
        For a challenge: the credentials were right but the nonce had expired.
    device : Device or None
        The authenticated device.
    mac : str or None
        The MAC the credentials named.
    """

    kind: Kind
    reason: str = ""
    stale: bool = False
    device: Device | None = None
    mac: str | None = None


def challenges(
    nonces: NonceBook, realm: str, algorithms: tuple[str, ...], now: float, stale: bool = False
) -> list[str]:
    """``WWW-Authenticate`` values, one per algorithm in order of preference (RFC 8760)."""
    nonce = nonces.issue(now)
    return [challenge(realm, nonce, a, stale=stale) for a in algorithms]


def verify(
    header: str | None,
    method: str,
    uri: str,
    *,
    store: Store,
    nonces: NonceBook,
    algorithms: tuple[str, ...],
    now: float,
) -> Verdict:
    """Check an ``Authorization`` header value.

    Parameters
    ----------
    header : str or None
        The header's value (``None``: absent).
    method, uri : str
        The request's method and Request-URI (the credentials' ``uri`` must equal it).
    store : Store
        Device records.
    nonces : NonceBook
        The server's nonces.
    algorithms : tuple of str
        Algorithms the server offers.
    now : float
        The current time.

    Returns
    -------
    Verdict
    """
    if header is None:
        return Verdict("challenge")
    try:
        cred = AuthCredentials.parse(header)
        p = cred.parameters
    except Exception:
        return Verdict("bad", "Bad Authorization")
    if cred.scheme.lower() != "digest":
        return Verdict("bad", "Not Digest")
    try:
        username, realm, nonce = p["username"], p["realm"], p["nonce"]
        cred_uri, answer = p["uri"], p["response"]
    except KeyError:
        return Verdict("bad", "Incomplete Authorization")
    algorithm = p.get("algorithm", "MD5")
    qop = p.get("qop")
    if algorithm not in algorithms or qop not in (None, "auth"):
        return Verdict("bad", "Unsupported Digest")
    nc: int | None = None
    if qop is not None:
        ncs, cnonce = p.get("nc", ""), p.get("cnonce", "")
        if len(ncs) != 8 or not cnonce or any(c not in "0123456789abcdefABCDEF" for c in ncs):
            return Verdict("bad", "Bad Nonce Count")
        nc = int(ncs, 16)
    else:
        ncs = cnonce = ""
    if cred_uri != uri:
        return Verdict("bad", "Digest URI Mismatch")
    if realm != store.realm:
        return Verdict("challenge")
    state = nonces.check(nonce, now)
    if state == "invalid":
        return Verdict("challenge")
    try:
        mac = normalize_mac(username)
    except ValueError:
        return Verdict("unknown", "Unknown Device")
    device = store.device(mac)
    if device is None:
        return Verdict("unknown", "Unknown Device", mac=mac)
    expected = response(
        algorithm, device.ha1[algorithm], method, uri, nonce, qop=qop, nc=ncs, cnonce=cnonce
    )
    if not hmac.compare_digest(expected, answer.lower()):
        return Verdict("forbidden", "Bad Credentials", mac=mac)
    if device.state == "retired":
        return Verdict("forbidden", "Retired Device", mac=mac)
    if state == "stale":
        return Verdict("challenge", stale=True)
    if not nonces.use(nonce, nc, now):
        return Verdict("forbidden", "Nonce Replayed", mac=mac)
    return Verdict("ok", device=device, mac=mac)

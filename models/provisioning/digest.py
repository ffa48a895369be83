"""HTTP/SIP digest authentication (RFC 7616, with SHA-256 for SIP per RFC 8760, MD5 for
older phones), ``qop=auth``, and the server's nonces.

Pure functions over strings: :func:`ha1`, :func:`response` (checked against RFC 7616's
worked example in ``tests/test_provisioning_digest.py``), :func:`challenge` and
:func:`credentials` format the header values.  :class:`NonceBook` issues nonces that carry
their own time and an HMAC (so a forged or altered nonce is rejected without a look-up),
expires them after ``lifetime`` seconds (the client is told ``stale=true`` and retries with
the new nonce) and refuses a nonce count that does not increase (replay protection;
without ``qop`` a nonce is good once).  Time and the secret key are handed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

__all__ = [
    "ALGORITHMS",
    "NonceBook",
    "NonceState",
    "challenge",
    "credentials",
    "ha1",
    "response",
]

ALGORITHMS: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "SHA-256": hashlib.sha256,
    "MD5": hashlib.md5,
}
"""Supported digest algorithms by their RFC 7616 names, strongest first."""

NonceState = Literal["ok", "stale", "invalid"]


def _h(algorithm: str, text: str) -> str:
    try:
        fn = ALGORITHMS[algorithm]
    except KeyError:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}") from None
    return fn(text.encode("utf-8")).hexdigest()


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    """``H(username:realm:password)``, what the server stores instead of the password.

    Parameters
    ----------
    algorithm : {"SHA-256", "MD5"}
    username, realm, password : str

    Returns
    -------
    str
        Lower-case hex digest.
    """
    return _h(algorithm, f"{username}:{realm}:{password}")


def response(
    algorithm: str,
    ha1_hex: str,
    method: str,
    uri: str,
    nonce: str,
    *,
    qop: str | None = "auth",
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The digest ``response`` value (RFC 7616 section 3.4.1).

    Parameters
    ----------
    algorithm : {"SHA-256", "MD5"}
    ha1_hex : str
        :func:`ha1` of the credentials.
    method, uri : str
        The request's method and the ``uri`` parameter of the credentials.
    nonce : str
        The server's nonce.
    qop : {"auth", None}
        ``"auth"`` (with ``nc`` and ``cnonce``) or ``None`` (RFC 2069 compatibility).
    nc, cnonce : str
        Nonce count (8 hex digits) and client nonce, with ``qop="auth"``.

    Returns
    -------
    str
        Lower-case hex digest.
    """
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop is None:
        return _h(algorithm, f"{ha1_hex}:{nonce}:{ha2}")
    if qop != "auth":
        raise ValueError(f"unsupported qop {qop!r}")
    return _h(algorithm, f"{ha1_hex}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def challenge(realm: str, nonce: str, algorithm: str, *, stale: bool = False) -> str:
    """A ``WWW-Authenticate`` value: ``Digest realm=..., nonce=..., algorithm=..., qop="auth"``.

    Parameters
    ----------
    realm, nonce, algorithm : str
    stale : bool
        Whether the credentials were right but their nonce had expired.
    """
    value = f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}, qop="auth"'
    return value + (", stale=true" if stale else "")


def credentials(
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    *,
    nc: int = 1,
    cnonce: str = "0a4f113b",
) -> str:
    """An ``Authorization`` value answering a challenge (the client side, ``qop=auth``).

    Parameters
    ----------
    algorithm, username, realm, password, method, uri, nonce : str
    nc : int
        Nonce count, 1 for the first use of ``nonce``.
    cnonce : str
        Client nonce.
    """
    ncs = f"{nc:08x}"
    digest = response(
        algorithm, ha1(algorithm, username, realm, password), method, uri, nonce,
        nc=ncs, cnonce=cnonce,
    )  # fmt: skip
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{digest}", algorithm={algorithm}, cnonce="{cnonce}", qop=auth, nc={ncs}'
    )


class NonceBook:
    """Issues and checks a server's nonces.

    Parameters
    ----------
    key : bytes
        Secret HMAC key (at least 16 bytes); a new one at every start invalidates the old
        nonces (their clients are told ``stale=true``).
    lifetime : float
        Seconds a nonce is accepted after it was issued.
    capacity : int
        Most nonces whose counts are remembered; past it the oldest are forgotten and every
        nonce issued before them is treated as expired.

    Examples
    --------
    >>> book = NonceBook(b"k" * 16, lifetime=30, capacity=10)
    >>> n = book.issue(now=100.0)
    >>> book.check(n, now=101.0), book.use(n, 1, now=101.0), book.use(n, 1, now=101.0)
    ('ok', True, False)
    >>> book.check(n, now=131.0)
    'stale'
    """

    def __init__(self, key: bytes, *, lifetime: float, capacity: int = 1_000_000) -> None:
        if len(key) < 16:
            raise ValueError("the nonce key needs at least 16 bytes")
        if not lifetime > 0 or capacity < 1:
            raise ValueError("lifetime and capacity must be positive")
        self._key = key
        self.lifetime = float(lifetime)
        self.capacity = capacity
        self._counter = 0
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._not_before = -float("inf")

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:12]

    def issue(self, now: float) -> str:
        """A new nonce stamped ``now``."""
        self._counter += 1
        body = struct.pack(">dQ", now, self._counter)
        return base64.urlsafe_b64encode(body + self._sign(body)).decode("ascii")

    def _stamp(self, nonce: str) -> float | None:
        if len(nonce) != 40:
            return None
        try:
            raw = base64.urlsafe_b64decode(nonce.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return None
        body, tag = raw[:16], raw[16:]
        if len(raw) != 28 or not hmac.compare_digest(tag, self._sign(body)):
            return None
        stamp: float = struct.unpack(">dQ", body)[0]
        return stamp

    def check(self, nonce: str, now: float) -> NonceState:
        """Whether ``nonce`` is one of ours (``"invalid"`` if not) and still fresh.

        Parameters
        ----------
        nonce : str
            The nonce the client used.
        now : float
            The current time.
        """
        stamp = self._stamp(nonce)
        if stamp is None:
            return "invalid"
        if now - stamp > self.lifetime or stamp <= self._not_before or stamp > now + 1.0:
            return "stale"
        return "ok"

    def use(self, nonce: str, nc: int | None, now: float) -> bool:
        """Record a use of a checked nonce whose response was right; ``False`` on replay.

        Parameters
        ----------
        nonce : str
            A nonce for which :meth:`check` said ``"ok"``.
        nc : int or None
            The nonce count (``None`` without ``qop``: the nonce may be used once).
        now : float
            The current time (old entries are forgotten).
        """
        self._prune(now)
        last = self._seen.get(nonce)
        count = 0 if nc is None else nc
        if last is not None and (nc is None or count <= last[1]):
            return False
        if nc is not None and nc < 1:
            return False
        stamp = self._stamp(nonce)
        self._seen[nonce] = (stamp if stamp is not None else now, count)
        while len(self._seen) > self.capacity:
            _, (old, _) = self._seen.popitem(last=False)
            self._not_before = max(self._not_before, old)
        return True

    def _prune(self, now: float) -> None:
        while self._seen:
            nonce, (stamp, _) = next(iter(self._seen.items()))
            if now - stamp <= self.lifetime:
                break
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)

"""A small asyncio SIP user agent for the provisioning service: what a phone does (negotiate
its number with digest authentication, SHA-256 or MD5; register; replace a phone by its
headset), with UDP retransmission after RFC 3261's timer E.  Used by the tests and the
bench; it answers a challenge with the first algorithm offered that it was told to use.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import os
import re

from sipmessage import AuthChallenge, Message, Response

from models.provisioning.digest import credentials

__all__ = ["Phone", "Reply", "SipClient"]

_NUMBER = re.compile(r"<sip:(\+\d+)@")


@dataclasses.dataclass
class Phone:
    """A phone's identity.

    Attributes
    ----------
    mac : str
    secret : str
    algorithms : tuple of str
        Digest algorithms it can answer, in its own order of preference.
    """

    mac: str
    secret: str
    algorithms: tuple[str, ...] = ("SHA-256", "MD5")


@dataclasses.dataclass
class Reply:
    """The final response of an exchange.

    Attributes
    ----------
    code : int
    reason : str
    headers : sipmessage.Headers
    rounds : int
        Requests sent (challenges answered + 1).
    """

    code: int
    reason: str
    headers: object
    rounds: int

    def header(self, name: str) -> str | None:
        """First value of a header."""
        return self.headers.get(name)  # type: ignore[attr-defined]

    def all(self, name: str) -> list[str]:
        """Every value of a header."""
        return self.headers.getlist(name)  # type: ignore[attr-defined]

    @property
    def numbers(self) -> list[str]:
        """The numbers of ``P-Associated-URI``."""
        return [m for v in self.all("P-Associated-URI") for m in _NUMBER.findall(v)]


def _tag(call_id: str) -> str:
    return hashlib.blake2s(call_id.encode(), digest_size=4).hexdigest()


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: SipClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            msg = Message.parse(data)
        except Exception:
            return
        if isinstance(msg, Response) and msg.code >= 200:
            fut = self.client.pending.get((msg.call_id, msg.headers.get("CSeq") or ""))
            if fut is not None and not fut.done():
                fut.set_result(msg)


class SipClient:
    """One UDP socket talking to one server.

    Parameters
    ----------
    host, port : str, int
        The server.
    realm : str
        Its SIP domain.
    timeout : float
        Seconds a transaction retransmits before it gives up (RFC 3261 timer F: 32).
    """

    def __init__(self, host: str, port: int, realm: str, *, timeout: float = 32.0) -> None:
        self.server = (host, port)
        self.realm = realm
        self.timeout = timeout
        self.pending: dict[tuple[str, str], asyncio.Future[Response]] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self._ids = itertools.count(1)
        self.local = ("127.0.0.1", 0)
        self.sent = 0

    async def __aenter__(self) -> SipClient:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", 0)
        )
        self.local = self.transport.get_extra_info("sockname")[:2]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.transport is not None:
            self.transport.close()

    def build(
        self,
        to_user: str,
        from_user: str,
        call_id: str,
        cseq: int,
        extra: list[tuple[str, str]],
        contact: str | None,
        expires: int | None,
    ) -> tuple[str, bytes]:
        """A REGISTER request; its Request-URI and bytes."""
        uri = f"sip:{self.realm}"
        branch = f"z9hG4bK{os.urandom(6).hex()}"
        host, port = self.local
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {host}:{port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{from_user}@{self.realm}>;tag={_tag(call_id)}",
            f"To: <sip:{to_user}@{self.realm}>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} REGISTER",
        ]
        if contact is not None:
            lines.append(f"Contact: {contact}")
        if expires is not None:
            lines.append(f"Expires: {expires}")
        lines += [f"{k}: {v}" for k, v in extra]
        lines += ["Content-Length: 0", "", ""]
        return uri, "\r\n".join(lines).encode()

    async def transact(self, data: bytes, call_id: str, cseq: int) -> Response | None:
        """Send a request, retransmitting (0.5 s doubling to 4 s) until a final response
        or ``timeout``; the response, or ``None``."""
        assert self.transport is not None
        key = (call_id, f"{cseq} REGISTER")
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.pending[key] = fut
        interval, waited = 0.5, 0.0
        try:
            while waited < self.timeout:
                self.transport.sendto(data, self.server)
                self.sent += 1
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), interval)
                except TimeoutError:
                    waited += interval
                    interval = min(interval * 2, 4.0)
            return None
        finally:
            del self.pending[key]

    async def register(
        self,
        phone: Phone,
        to_user: str,
        *,
        extra: list[tuple[str, str]] | None = None,
        contact: str | None = None,
        expires: int | None = None,
        max_rounds: int = 4,
    ) -> Reply | None:
        """A REGISTER to ``to_user`` answered through its challenges; the final reply
        (``None`` if the server never answered)."""
        call_id = f"{next(self._ids):08x}-{os.urandom(4).hex()}@tnlab"
        cseq, nc, auth = 1, 0, None
        for rounds in range(1, max_rounds + 1):
            headers = list(extra or [])
            uri, data = self.build(to_user, phone.mac, call_id, cseq, headers, contact, expires)
            if auth is not None:
                alg, nonce = auth
                nc += 1
                value = credentials(
                    alg,
                    phone.mac,
                    self.realm,
                    phone.secret,
                    "REGISTER",
                    uri,
                    nonce,
                    nc=nc,
                    cnonce=os.urandom(4).hex(),
                )
                uri, data = self.build(
                    to_user,
                    phone.mac,
                    call_id,
                    cseq,
                    headers + [("Authorization", value)],
                    contact,
                    expires,
                )
            resp = await self.transact(data, call_id, cseq)
            if resp is None:
                return None
            cseq += 1
            if resp.code != 401:
                return Reply(resp.code, resp.phrase, resp.headers, rounds)
            offers = [AuthChallenge.parse(v) for v in resp.headers.getlist("WWW-Authenticate")]
            by_alg = {c.parameters.get("algorithm", "MD5"): c for c in offers}
            usable = [a for a in phone.algorithms if a in by_alg]
            if not usable:
                return Reply(resp.code, resp.phrase, resp.headers, rounds)
            auth = (usable[0], by_alg[usable[0]].parameters["nonce"])
            nc = 0
        return Reply(resp.code, resp.phrase, resp.headers, max_rounds)

    async def negotiate(
        self, phone: Phone, extra: list[tuple[str, str]] | None = None, max_rounds: int = 4
    ) -> Reply | None:
        """Ask for a number at the reserved address-of-record."""
        return await self.register(phone, "provision", extra=extra, max_rounds=max_rounds)

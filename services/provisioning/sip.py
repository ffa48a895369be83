"""SIP messages over UDP: a strict reading of requests and the writing of responses.

Parsing is done by ``sipmessage`` (a pure-Python parser of SIP messages and headers after
RFC 3261's grammar: URIs, name-addresses, Via, CSeq, digest credentials) and checked
strictly around it, since the library parses what it is given and checks little of the
message as a whole.  Here a request is refused (:class:`BadRequest`, answered with 400) when
it is not UTF-8, has a control character, a header line without a colon, a mandatory header
(Via, From, To, Call-ID, CSeq, Max-Forwards) missing or repeated, a CSeq whose method is not
the request's, a Content-Length that is not the body's length, or a header the service reads
that does not parse.  Anything that is not a request, is larger than :data:`MAX_MESSAGE`
bytes, or from which no response could be addressed (no readable Via, From, To, Call-ID
and CSeq) is dropped (:class:`Drop`).  Any exception of the library on hostile input is
caught here and becomes a 400; the fuzz test sends thousands of mutated messages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from sipmessage import Address, AuthCredentials, CSeq, Message, Request, Via

__all__ = [
    "MAX_MESSAGE",
    "BadRequest",
    "Drop",
    "SipRequest",
    "parse_request",
    "response",
]

MAX_MESSAGE = 4096
"""Largest datagram read as a request, in bytes (RFC 3261 asks UDP messages to stay under
the path MTU; larger ones are dropped)."""

MANDATORY = ("From", "To", "Call-ID", "CSeq", "Max-Forwards")
_COMPACT = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "v": "via",
    "m": "contact",
    "l": "content-length",
}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_METHOD = re.compile(r"^[A-Z]{1,32}$")
_SALVAGE = re.compile(
    r"^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:[ \t]*([\x20-\x7e]{1,512})$", re.IGNORECASE
)


class Drop(Exception):
    """A datagram that gets no answer."""


class BadRequest(Exception):
    """A request answered with ``400 Bad Request``.

    Attributes
    ----------
    reason : str
        The reason phrase (what was wrong).
    headers : dict
        The raw Via, From, To, Call-ID and CSeq values to echo in the response.
    """

    def __init__(self, reason: str, headers: dict[str, list[str]]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = headers


@dataclasses.dataclass
class SipRequest:
    """A request that passed the strict checks.

    Attributes
    ----------
    method : str
        The method (``"REGISTER"``, ...).
    uri : str
        The Request-URI as sent.
    message : sipmessage.Request
        The parsed message, for the headers the service reads.
    vias : list of sipmessage.Via
        Every Via, top first.
    from_address, to_address : sipmessage.Address
    call_id : str
    cseq : sipmessage.CSeq
    """

    method: str
    uri: str
    message: Request
    vias: list[Via]
    from_address: Address
    to_address: Address
    call_id: str
    cseq: CSeq

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if present."""
        return self.message.headers.get(name)

    def headers(self, name: str) -> list[str]:
        """Every value of header ``name``."""
        return self.message.headers.getlist(name)

    def credentials(self) -> AuthCredentials | None:
        """The ``Authorization`` header, parsed.

        Raises
        ------
        ValueError
            If it does not parse.
        """
        return self.message.authorization

    def contacts(self) -> list[Address] | None:
        """The ``Contact`` addresses, or ``None`` for ``Contact: *``.

        Raises
        ------
        ValueError
            If a Contact does not parse, or ``*`` is not alone.
        """
        values = self.headers("Contact")
        if any(v.strip() == "*" for v in values):
            if len(values) != 1:
                raise ValueError("Contact: * must be alone")
            return None
        return self.message.contact

    def transaction_key(self) -> tuple[str, ...]:
        """What identifies this request's transaction (RFC 3261 section 17.2.3)."""
        top = self.vias[0]
        branch = top.parameters.get("branch") or ""
        if branch.startswith("z9hG4bK"):
            return (branch, f"{top.host}:{top.port}", self.method)
        tag = self.from_address.parameters.get("tag") or ""
        return (self.call_id, str(self.cseq), tag, self.uri, self.method)


def _unfold(head: str) -> str:
    return re.sub(r"\r\n[ \t]+", " ", head)


def _salvage(data: bytes) -> dict[str, list[str]]:
    """The raw Via, From, To, Call-ID and CSeq lines of a message that did not parse."""
    found: dict[str, list[str]] = {}
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in _unfold(head).split("\r\n")[1:]:
        m = _SALVAGE.match(line)
        if m:
            name = m.group(1).lower()
            found.setdefault(_COMPACT.get(name, name), []).append(m.group(2).strip())
    return found


def _bad(reason: str, data: bytes) -> BadRequest:
    headers = _salvage(data)
    if not all(headers.get(k) for k in ("via", "from", "to", "call-id", "cseq")):
        raise Drop(reason)
    return BadRequest(reason, headers)


def parse_request(data: bytes) -> SipRequest:
    """Read a datagram as a SIP request, strictly.

    Parameters
    ----------
    data : bytes
        The datagram.

    Returns
    -------
    SipRequest

    Raises
    ------
    Drop
        If it gets no answer (a response, a keep-alive, too large, or unaddressable).
    BadRequest
        If it is malformed but can be answered.
    """
    if len(data) > MAX_MESSAGE:
        raise Drop("too large")
    if not data.strip(b"\r\n") or data.startswith(b"SIP/"):
        raise Drop("keep-alive or response")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise _bad("Truncated Message", data)
    try:
        text = _unfold(head.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad("Not UTF-8", data) from None
    if any(_CONTROL.search(line) for line in text.split("\r\n")):
        raise _bad("Control Character", data)
    try:
        msg = Message.parse(text.encode("utf-8") + b"\r\n\r\n" + body)
    except Exception:
        raise _bad("Malformed Message", data) from None
    if not isinstance(msg, Request):
        raise Drop("not a request")
    try:
        return _check(msg, body, data)
    except BadRequest:
        raise
    except Exception:
        raise _bad("Malformed Header", data) from None


def _check(msg: Request, body: bytes, data: bytes) -> SipRequest:
    first = data.split(b"\r\n", 1)[0].decode("utf-8")
    method, uri, _ = first.split(" ", 2)
    if not _METHOD.match(method) or msg.uri.scheme not in ("sip", "sips"):
        raise _bad("Bad Request-Line", data)
    for name in MANDATORY:
        values = msg.headers.getlist(name)
        if len(values) != 1 or not values[0]:
            raise _bad(f"Missing or Repeated {name}", data)
    if not msg.headers.getlist("Via"):
        raise _bad("Missing Via", data)
    vias = msg.via
    cseq = msg.cseq
    if cseq.method != method or not 0 <= cseq.sequence < 2**31:
        raise _bad("Bad CSeq", data)
    forwards = msg.max_forwards
    if forwards is None or not 0 <= forwards <= 255:
        raise _bad("Bad Max-Forwards", data)
    length = msg.headers.getlist("Content-Length")
    if len(length) > 1 or (length and (not length[0].isdigit() or int(length[0]) != len(body))):
        raise _bad("Bad Content-Length", data)
    expires = msg.headers.getlist("Expires")
    if len(expires) > 1 or (expires and (not expires[0].isdigit() or len(expires[0]) > 10)):
        raise _bad("Bad Expires", data)
    call_id = msg.call_id
    if not call_id or len(call_id) > 256 or " " in call_id:
        raise _bad("Bad Call-ID", data)
    return SipRequest(
        method=method,
        uri=uri,
        message=msg,
        vias=vias,
        from_address=msg.from_address,
        to_address=msg.to_address,
        call_id=call_id,
        cseq=cseq,
    )


def _top_via(raw: str, source: tuple[str, int]) -> str:
    """The top Via with ``received`` and ``rport`` filled in (RFC 3261 18.2.1, RFC 3581)."""
    via = raw.split(",", 1)[0].strip()
    rest = raw[len(raw.split(",", 1)[0]) :]
    via = re.sub(r";rport(?=;|$)", f";rport={source[1]}", via)
    if ";received=" not in via:
        via += f";received={source[0]}"
    return via + rest


def response(
    code: int,
    reason: str,
    request: SipRequest | dict[str, list[str]],
    source: tuple[str, int],
    extra: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A response to ``request`` (a parsed request, or the headers salvaged from a bad one).

    Parameters
    ----------
    code : int
        Status code.
    reason : str
        Reason phrase.
    request : SipRequest or dict
        What is answered.
    source : tuple
        The address the request came from (``received``/``rport`` of the top Via).
    extra : sequence of (name, value)
        More headers.

    Returns
    -------
    bytes
    """
    if isinstance(request, SipRequest):
        vias = request.headers("Via")
        frm = request.header("From") or ""
        to = request.header("To") or ""
        call_id, cseq = request.call_id, str(request.cseq)
    else:
        vias, frm, to = request["via"], request["from"][0], request["to"][0]
        call_id, cseq = request["call-id"][0], request["cseq"][0]
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {_top_via(v, source) if i == 0 else v}" for i, v in enumerate(vias)]
    if ";tag=" not in to and code > 100:
        tag = hashlib.blake2s(f"{call_id}|{frm}".encode(), digest_size=6).hexdigest()
        to = f"{to};tag={tag}"
    lines += [f"From: {frm}", f"To: {to}", f"Call-ID: {call_id}", f"CSeq: {cseq}"]
    lines += [f"{name}: {value}" for name, value in extra]
    lines += ["Server: tnlab-provisioning", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode("utf-8")

"""Strict SIP parsing: malformed, truncated, oversized and non-UTF-8 requests get 400 or are
dropped, and nothing but those two outcomes ever comes out of the parser (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.provisioning.sip import MAX_MESSAGE, BadRequest, Drop, parse_request, response

GOOD = (
    "REGISTER sip:tnlab.invalid SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:0004f2000001@tnlab.invalid>;tag=1928301774\r\n"
    "To: <sip:provision@tnlab.invalid>\r\n"
    "Call-ID: a84b4c76e66710@pc33\r\n"
    "CSeq: 314159 REGISTER\r\n"
    "Contact: <sip:0004f2000001@127.0.0.1:5070>\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_a_good_request_and_its_response():
    req = parse_request(GOOD.encode())
    assert (req.method, req.to_address.uri.user, req.cseq.sequence) == (
        "REGISTER",
        "provision",
        314159,
    )
    out = response(200, "OK", req, ("10.0.0.9", 5071), [("X", "y")]).decode()
    assert out.startswith("SIP/2.0 200 OK\r\n")
    assert "rport=5071;received=10.0.0.9" in out and "To: <sip:provision@tnlab.invalid>;tag=" in out
    folded = GOOD.replace("Max-Forwards: 70", "Max-Forwards:\r\n 70")
    assert parse_request(folded.encode()).message.max_forwards == 70


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda s: s.replace("CSeq: 314159 REGISTER", "CSeq: 314159 INVITE"), "Bad CSeq"),
        (lambda s: s.replace("CSeq: 314159", "CSeq: x"), "Malformed Header"),
        (lambda s: s.replace("Max-Forwards: 70\r\n", ""), "Missing or Repeated Max-Forwards"),
        (
            lambda s: s.replace("Call-ID: a84", "Call-ID: a84\r\nCall-ID: b"),
            "Missing or Repeated Call-ID",
        ),
        (lambda s: s.replace("Content-Length: 0", "Content-Length: 10"), "Bad Content-Length"),
        (lambda s: s.replace("Contact:", "Expires: soon\r\nContact:"), "Bad Expires"),
        (lambda s: s.replace("To: <sip:provision", "To: <<sip:provision"), "Malformed Header"),
        (lambda s: s.replace("Max-Forwards: 70", "Max-Forwards: 7\x010"), "Control Character"),
        (lambda s: s.replace("Max-Forwards: 70", "Max-Forwards 70"), "Malformed Message"),
        (lambda s: s.replace("REGISTER sip:", "REGISTER http:"), "Malformed Message"),
        (
            lambda s: s.replace("REGISTER sip:", "register sip:").replace(
                "314159 REGISTER", "314159 register"
            ),
            "Bad Request-Line",
        ),
        (lambda s: s.replace("Max-Forwards: 70", "Max-Forwards: 70\nX: y"), "Control Character"),
        (lambda s: s[:-4], "Truncated Message"),
    ],
)
def test_malformed_requests_get_400(mutate, reason):
    with pytest.raises(BadRequest) as info:
        parse_request(mutate(GOOD).encode())
    assert info.value.reason == reason
    out = response(400, info.value.reason, info.value.headers, ("127.0.0.1", 5070))
    assert out.startswith(b"SIP/2.0 400 ") and b"Call-ID: a84" in out


def test_non_utf8_gets_400_and_the_unanswerable_are_dropped():
    with pytest.raises(BadRequest, match="Not UTF-8"):
        parse_request(
            GOOD.replace("Max-Forwards: 70", "Max-Forwards: 70\r\nSubject: caf\xe9").encode(
                "latin-1"
            )
        )
    for data in (
        b"",
        b"\r\n\r\n",  # keep-alive
        GOOD.encode() + b"x" * MAX_MESSAGE,  # oversized
        b"SIP/2.0 200 OK\r\n\r\n",  # a response
        GOOD.replace("Via: SIP/2.0/UDP", "Via: junk").replace("CSeq", "Seq").encode()[:-30],
        b"\xff\xfe" * 100,
    ):
        with pytest.raises(Drop):
            parse_request(data)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_requests_never_escape_the_parser(data):
    raw = bytearray(GOOD.encode())
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        i = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[i:i] = data.draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del raw[i : i + data.draw(st.integers(1, 20))]
        elif op == "truncate":
            del raw[i:]
        else:
            line = data.draw(st.sampled_from(GOOD.split("\r\n")[1:8]))
            raw[i:i] = (line + "\r\n").encode()
    try:
        req = parse_request(bytes(raw))
    except (Drop, BadRequest) as e:
        if isinstance(e, BadRequest):
            response(400, e.reason, e.headers, ("127.0.0.1", 1))
        return
    response(200, "OK", req, ("127.0.0.1", 1))
    req.transaction_key()

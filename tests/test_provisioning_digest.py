"""Digest authentication against RFC 7616's worked example, and the nonce book."""

from __future__ import annotations

import pytest

from models.provisioning.digest import NonceBook, challenge, credentials, ha1, response

# RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256.
RFC = {
    "username": "Mufasa",
    "realm": "http-auth@example.org",
    "password": "Circle of Life",
    "method": "GET",
    "uri": "/dir/index.html",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "nc": "00000001",
}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_worked_example(algorithm, expected):
    h = ha1(algorithm, RFC["username"], RFC["realm"], RFC["password"])
    got = response(
        algorithm, h, RFC["method"], RFC["uri"], RFC["nonce"], nc=RFC["nc"], cnonce=RFC["cnonce"]
    )
    assert got == expected


def test_without_qop_and_unknown_algorithm():
    h = ha1("MD5", "u", "r", "p")
    assert response("MD5", h, "REGISTER", "sip:r", "n", qop=None) != response(
        "MD5", h, "REGISTER", "sip:r", "n", nc="00000001", cnonce="c"
    )
    with pytest.raises(ValueError):
        ha1("SHA-512", "u", "r", "p")
    with pytest.raises(ValueError):
        response("MD5", h, "REGISTER", "sip:r", "n", qop="auth-int")


def test_header_values():
    assert challenge("r", "n", "MD5") == 'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"'
    assert challenge("r", "n", "SHA-256", stale=True).endswith(", stale=true")
    value = credentials("SHA-256", "u", "r", "p", "REGISTER", "sip:r", "n", nc=2, cnonce="c")
    assert "nc=00000002" in value and 'username="u"' in value
    want = response(
        "SHA-256",
        ha1("SHA-256", "u", "r", "p"),
        "REGISTER",
        "sip:r",
        "n",
        nc="00000002",
        cnonce="c",
    )
    assert f'response="{want}"' in value


def test_nonces_expire_and_forgeries_are_invalid():
    book = NonceBook(b"0123456789abcdef", lifetime=30)
    n = book.issue(now=1000.0)
    assert book.check(n, 1000.0) == "ok"
    assert book.check(n, 1030.0) == "ok"
    assert book.check(n, 1030.5) == "stale"
    assert book.check(n, 990.0) == "stale"  # from the future: a clock step
    other = NonceBook(b"fedcba9876543210", lifetime=30)
    assert other.check(n, 1000.0) == "invalid"  # a restart's new key
    flipped = ("A" if n[5] != "A" else "B").join((n[:5], n[6:]))
    assert book.check(flipped, 1000.0) == "invalid"
    for junk in ("", "x" * 40, n[:-1], "é" * 40, n + "A"):
        assert book.check(junk, 1000.0) == "invalid"
    assert book.issue(1000.0) != book.issue(1000.0)


def test_nonce_counts_must_increase_and_plain_nonces_are_single_use():
    book = NonceBook(b"0123456789abcdef", lifetime=30)
    n = book.issue(now=0.0)
    assert book.use(n, 1, 0.0)
    assert not book.use(n, 1, 0.0)
    assert book.use(n, 3, 0.0)
    assert not book.use(n, 2, 0.0)
    m = book.issue(now=0.0)
    assert not book.use(m, 0, 0.0)
    p = book.issue(now=0.0)
    assert book.use(p, None, 0.0)
    assert not book.use(p, None, 0.0)


def test_forgotten_nonces_count_as_expired():
    book = NonceBook(b"0123456789abcdef", lifetime=100, capacity=2)
    a, b, c = (book.issue(now=float(t)) for t in (1, 2, 3))
    assert book.use(a, 1, 3.0) and book.use(b, 1, 3.0) and book.use(c, 1, 3.0)
    assert len(book) == 2
    assert book.check(a, 4.0) == "stale"  # its count is forgotten: it may not be replayed
    assert book.check(c, 4.0) == "ok"
    assert not book.use(c, 1, 4.0)
    book.use(book.issue(now=200.0), 1, 200.0)  # expiry prunes
    assert len(book) == 1

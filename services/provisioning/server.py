"""The SIP side on asyncio: a UDP socket read in batches, with group commit.

When the socket is readable, :meth:`SipServer.drain` reads every datagram waiting (up to
``batch``), answers each through the :class:`~.registrar.Registrar` -- whose writes go into
one open SQLite transaction, each request inside its own savepoint so that a request that
fails is undone alone -- then commits that transaction once and only then sends the
batch's responses.  Under load a batch holds many negotiations and one commit (one
``fsync``) serves them all; at low load a batch is one request.  Nothing is acknowledged
before its commit, so ``kill -9`` loses no acknowledged allocation.

Retransmissions (RFC 3261 section 17.2) are answered from a cache of the last 32 seconds'
responses keyed by transaction, so a retransmitted authenticated REGISTER gets the same
200 rather than being taken for a replay; a retransmission that arrives while its original
is still in the batch is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable

from .registrar import Registrar
from .sip import BadRequest, Drop, SipRequest, parse_request, response
from .store import Store

__all__ = ["SipServer"]

log = logging.getLogger("tnlab.provisioning")

PENDING = b""
TRANSACTION_SECONDS = 32.0
"""How long a response is kept for retransmissions (64 x T1, RFC 3261 Timer J)."""


class SipServer:
    """A UDP SIP listener with group commit (see the module's docstring).

    Parameters
    ----------
    registrar : Registrar
        Answers requests.
    store : Store
        Committed once per batch.
    clock : callable
        Current time in seconds.
    batch : int
        Most datagrams answered per commit.
    cache_size : int
        Most transactions remembered for retransmissions.
    """

    def __init__(
        self,
        registrar: Registrar,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        batch: int = 256,
        cache_size: int = 200_000,
    ) -> None:
        self.registrar = registrar
        self.store = store
        self.clock = clock
        self.batch = batch
        self.cache_size = cache_size
        self.cache: OrderedDict[tuple[str, ...], tuple[float, bytes]] = OrderedDict()
        self.sock: socket.socket | None = None
        self.stats = {"datagrams": 0, "batches": 0, "commits": 0, "errors": 0}

    def bind(self, host: str, port: int) -> tuple[str, int]:
        """Open the UDP socket; the address bound (port 0 picks a free one)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        sock.bind((host, port))
        sock.setblocking(False)
        self.sock = sock
        addr = sock.getsockname()
        return addr[0], addr[1]

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Answer datagrams on ``loop`` from now on."""
        assert self.sock is not None
        loop.add_reader(self.sock.fileno(), self.drain)

    def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop answering and close the socket."""
        if self.sock is not None:
            loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _one(
        self, data: bytes, addr: tuple[str, int], now: float
    ) -> tuple[SipRequest | None, bytes] | None:
        try:
            req = parse_request(data)
        except Drop:
            return None
        except BadRequest as e:
            return None, response(400, e.reason, e.headers, addr)
        key = req.transaction_key()
        cached = self.cache.get(key)
        if cached is not None:
            return None if cached[1] is PENDING else (None, cached[1])
        self.cache[key] = (now, PENDING)
        try:
            with self.store.atomic():
                out = self.registrar.handle(req, addr, now)
        except Exception:
            self.stats["errors"] += 1
            log.exception("request failed")
            out = response(500, "Server Internal Error", req, addr, [("Retry-After", "5")])
        if out is None:
            del self.cache[key]
            return None
        self.cache[key] = (now, out)
        return req, out

    def drain(self) -> None:
        """Answer every datagram waiting (up to ``batch``), commit once, then send."""
        sock = self.sock
        if sock is None:
            return
        now = self.clock()
        replies: list[tuple[SipRequest | None, bytes, tuple[str, int]]] = []
        for _ in range(self.batch):
            try:
                data, addr = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # e.g. an ICMP error queued on the socket
                continue
            self.stats["datagrams"] += 1
            out = self._one(data, addr[:2], now)
            if out is not None:
                replies.append((out[0], out[1], addr[:2]))
        self.stats["batches"] += 1
        if self.store.in_transaction:
            try:
                self.store.commit()
                self.stats["commits"] += 1
            except sqlite3.Error:
                log.exception("commit failed; the batch is answered 500")
                self.store.rollback()
                replies = [
                    (req, response(500, "Server Internal Error", req, a, [("Retry-After", "5")]), a)
                    for req, _, a in replies
                    if req is not None
                ]
                for req, _, _ in replies:
                    if req is not None:
                        self.cache.pop(req.transaction_key(), None)
        for _, out, addr in replies:
            try:
                sock.sendto(out, addr)
            except OSError:
                pass  # the client retransmits
        self._prune(now)

    def _prune(self, now: float) -> None:
        cache = self.cache
        while cache:
            key, (at, out) = next(iter(cache.items()))
            if now - at <= TRANSACTION_SECONDS and len(cache) <= self.cache_size:
                break
            cache.popitem(last=False)

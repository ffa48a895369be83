"""The restart storm written the plain SimPy way: one process per phone and one for the
server -- the reference the kernel (:mod:`.kernel`) is checked against and the baseline
``make bench`` measures it beside.

Same model, same draws, same arithmetic: a phone schedules each timer as ``now + delay``
with the delay the kernel adds, so both put every event at the same floating-point time
and agree phone by phone (``tests/test_storm_kernel.py``).  Only ties between phones at one
exact instant could be ordered differently; continuous boot times make them improbable.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from .kernel import JITTER, RETRY_AFTER, hash_uniform

__all__ = ["storm_processes"]


class _Server:
    """The provisioning server: a first-in first-out queue and one worker process."""

    def __init__(self, env, n, args):
        self.env = env
        self.a = args
        self.queue: deque = deque()
        self.wake = None
        self.answered = np.full(n, -1, dtype=np.int64)
        self.tokens = args["burst"]
        self.last_fill = 0.0
        self.dropped = 0

    def receive(self, p: int, txn: int) -> None:
        """A message arrives (the rate limiter, then the queue's limit)."""
        a, now = self.a, self.env.now
        if a["rate"] < np.inf:
            self.tokens = min(a["burst"], self.tokens + (now - self.last_fill) * a["rate"])
            self.last_fill = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
            else:
                self.dropped += 1
                return
        if len(self.queue) >= a["queue_limit"]:
            self.dropped += 1
            return
        self.queue.append((p, txn, now))
        if self.wake is not None and not self.wake.triggered:
            self.wake.succeed()

    def run(self, storm):
        a, env = self.a, self.env
        while True:
            if not self.queue:
                self.wake = env.event()
                yield self.wake
                continue
            p, txn, arrival = self.queue.popleft()
            start = env.now
            if self.answered[p] >= txn:
                kind, cost = "duplicate", a["overhead"] / a["capacity"]
            elif a["ra_high"] > 0 and len(self.queue) / a["capacity"] > a["threshold"]:
                kind, cost = "reject", a["overhead"] / a["capacity"]
                self.answered[p] = txn
            else:
                kind, cost = "negotiate", 1.0 / a["capacity"]
                self.answered[p] = txn
            yield env.timeout(cost)
            storm.answer(p, txn, kind, arrival, start)


class _Storm:
    def __init__(self, env, boot, args):
        n = len(boot)
        self.env, self.a, self.n = env, args, n
        self.server = _Server(env, n, args)
        self.first = np.full(n, np.nan)
        self.registered = np.full(n, np.nan)
        self.wait = np.full(n, np.nan)
        self.counts = np.zeros((n, 5), dtype=np.int64)
        self.counts[:, 4] = -1
        self.listening: dict[int, tuple[int, simpy.Event]] = {}
        self.next_number = 0
        self.done = 0
        self.all_done = env.event()
        env.process(self.server.run(self))
        for p in range(n):
            env.process(self.phone(p, boot[p]))

    def answer(self, p, txn, kind, arrival, start):
        """The server's answer reaches phone ``p`` (if it still waits for it)."""
        now = self.env.now
        if kind == "negotiate" and self.counts[p, 4] < 0:
            self.counts[p, 4] = p if self.a["persistent"] else self.next_number
            self.next_number += 0 if self.a["persistent"] else 1
        waiting = self.listening.get(p)
        if kind == "duplicate" or waiting is None or waiting[0] != txn:
            return
        del self.listening[p]
        if kind == "negotiate":
            self.registered[p] = now
            self.wait[p] = start - arrival
            self.done += 1
            if self.done == self.n:
                self.all_done.succeed()
        else:
            self.counts[p, 3] += 1
        waiting[1].succeed(kind)

    def phone(self, p, boot):
        a, env, key = self.a, self.env, self.a["key"]
        yield env.timeout(boot + a["jitter"] * hash_uniform(key, p, 0, JITTER))
        txn = 0
        while True:
            self.counts[p, 0] += 1
            if txn == 0:
                self.first[p] = env.now
            answer = env.event()
            self.listening[p] = (txn, answer)
            f_at = env.now + a["timer_f"]
            timer_f = env.timeout(a["timer_f"])
            k, outcome = 0, None
            while outcome is None:
                self.counts[p, 1] += 1
                self.server.receive(p, txn)
                interval = min(a["t1"] * 2.0 ** min(k, 60), a["t2"])
                if env.now + interval < f_at:
                    fired = yield answer | env.timeout(interval)
                    k += 1
                    if answer in fired:
                        outcome = answer.value
                else:
                    fired = yield answer | timer_f
                    outcome = answer.value if answer in fired else "timeout"
            if outcome == "negotiate":
                return
            if outcome == "timeout":
                del self.listening[p]
                self.counts[p, 2] += 1
                delay = a["retry_seconds"] + a["jitter"] * hash_uniform(key, p, txn + 1, JITTER)
            else:  # 503 with Retry-After
                u = hash_uniform(key, p, txn, RETRY_AFTER)
                ra = a["ra_low"] + int(u * (a["ra_high"] - a["ra_low"] + 1))
                delay = ra + a["jitter"] * hash_uniform(key, p, txn + 1, JITTER)
            yield env.timeout(delay)
            txn += 1


def storm_processes(boot: np.ndarray, **args) -> dict[str, np.ndarray]:
    """Run a storm with one SimPy process per phone.

    Parameters
    ----------
    boot : numpy.ndarray
        When each phone could first negotiate (s).
    **args
        The kernel's other arguments by name (``capacity``, ``overhead``, ``t1``, ``t2``,
        ``timer_f``, ``queue_limit``, ``retry_seconds``, ``jitter``, ``ra_low``,
        ``ra_high``, ``threshold``, ``rate``, ``burst``, ``persistent``, ``horizon``,
        ``key``).

    Returns
    -------
    dict
        ``first``, ``registered``, ``wait`` and ``counts`` as the kernel returns them.
    """
    env = simpy.Environment()
    storm = _Storm(env, np.asarray(boot, dtype=np.float64), args)
    env.run(until=storm.all_done | env.timeout(args["horizon"]))
    return {
        "first": storm.first,
        "registered": storm.registered,
        "wait": storm.wait,
        "counts": storm.counts,
    }

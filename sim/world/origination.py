"""Origination: a slice's calls, written once into preallocated buffers.

Subscribers' outbound calls (Poisson clocks), notification bursts and robocall lines are made
by the fused kernels of :mod:`sim.world.kernels` in one pass over their sources; the
background spam every number receives and the residual calls of disconnected numbers are
added after them, and the calls are put in time order only when someone will look at them.
All per-call randomness -- whether the callee would answer, how long they would talk -- is
drawn here in emission order, so a call's values never depend on row order or on what a
policy did to another call.
"""

from __future__ import annotations

import numpy as np

from ..config.experiment import ExperimentConfig
from ..core.fastrng import NONE, new_stream
from .calls import Calls
from .clock import PoissonSources
from .inventory import Inventory
from .kernels import N_KINDS, complete_calls, draw_outcomes, line_calls, source_calls
from .population import Population
from .residual import ResidualTraffic
from .schemas import RESIDUAL, ROBOCALLER, SPAM
from .spam import Spam
from .timesort import time_order

__all__ = ["Origination"]

_COLUMNS = {
    "t": np.float64,
    "caller": np.int64,
    "callee": np.int64,
    "caller_id": np.int32,
    "callee_id": np.int32,
    "kind": np.int8,
    "campaign": np.int32,
    "would_answer": np.bool_,
    "talk_time": np.float32,
}
_NO_LINES = np.empty(0, dtype=np.int64)


class Origination:
    """Builds each slice's calls.

    Parameters
    ----------
    config : ExperimentConfig
        Answer probabilities and talk times by caller kind and campaign.
    population, spam, residual, inventory :
        The sources of the calls and the numbers they reach.
    rng_calls, rng_answer : numpy.random.Generator
        The ``calls`` stream (call times, callees) and the ``answer`` stream (answer,
        talk time); robocall lines draw from the population's ``robocallers`` stream.  Each
        keys a counter-based stream (:mod:`sim.core.fastrng`) that the kernels draw from.
    redirect_key : numpy.uint64
        Key of the hash that redirects calls to stale contacts.
    sort : bool
        Put the calls in time order (needed when a policy or the calls table looks).
    """

    def __init__(
        self,
        *,
        config: ExperimentConfig,
        population: Population,
        spam: Spam,
        residual: ResidualTraffic,
        inventory: Inventory,
        rng_calls: np.random.Generator,
        rng_answer: np.random.Generator,
        redirect_key: np.uint64,
        sort: bool,
    ):
        self.population = population
        self.spam = spam
        self.residual = residual
        self.inventory = inventory
        self.sort = sort
        # counter-based streams keyed from the named ones: calls, answer, robocall lines
        self.rc, self.ra = new_stream(rng_calls), new_stream(rng_answer)
        self.rr = new_stream(population.rng_robo)
        self._keys = (np.uint64(redirect_key), ROBOCALLER)
        # answer probability and talk time by profile: caller kind, then robocall campaign
        types = config.subscribers.by_code()
        campaigns = config.robocallers.campaigns
        spam_cfg, res = config.spam, config.residual
        answer = [t.answer_prob for t in types] + [0.0, spam_cfg.answer_prob, res.answer_prob]
        talk = [t.duration.kernel_params for t in types]
        talk += [(NONE, 0.0, 0.0), spam_cfg.duration.kernel_params, res.duration.kernel_params]
        assert len(answer) == N_KINDS
        answer += [c.answer_prob for c in campaigns]
        talk += [c.duration.kernel_params for c in campaigns]
        code, a, b = zip(*talk)
        self.prof = (
            np.array(answer, dtype=np.float64),
            np.array(code, dtype=np.int64),
            np.array(a, dtype=np.float64),
            np.array(b, dtype=np.float64),
        )
        self._buf = {name: np.empty(4096, dtype=dtype) for name, dtype in _COLUMNS.items()}
        self._out = tuple(self._buf.values())

    def originate(self, t0: float, t1: float) -> Calls:
        """The calls of the slice ``[t0, t1)``.

        Unless they are put in time order (a copy), the columns are views of buffers that
        the next slice overwrites: whoever keeps a slice's calls copies them.
        """
        pop = self.population
        subs = pop.subs
        self._subs = (
            subs["number_id"],
            subs["type"],
            subs["campaign"],
            subs["start"],
            subs["contact_off"],
            subs["contact_deg"],
            pop.contacts["number"],
        )
        inv = self.inventory
        self._inv = (inv.numbers, inv._npa_slot, inv._block_of, inv.disconnected_at)
        n = self._emit(pop.sources, _NO_LINES, t1, self.rc, 0)
        t_burst, burst_lines = pop.take_pending(t1)
        self._reserve(n + len(t_burst))
        n = line_calls(t_burst, burst_lines, self._subs, self.rc, self._out, n)
        complete_calls(0, n, self._subs, self._inv, self.prof, self.ra, self._keys, self._out)
        # robocall lines draw from their own stream: common random numbers across policies
        n_sub = n
        n = self._emit(pop.robo_sources, pop.robo_line["line"], t1, self.rr, n)
        complete_calls(n_sub, n, self._subs, self._inv, self.prof, self.rr, self._keys, self._out)
        t_spam, lines, spam_callers = self.spam.emit(t1)
        t_res, res_ids, res_callers = self.residual.take(t0)
        n = self._outside(n, t_spam, lines, spam_callers, SPAM)
        n = self._outside(n, t_res, res_ids, res_callers, RESIDUAL)
        calls = Calls(**{name: col[:n] for name, col in self._buf.items()})
        if self.sort:
            calls = calls.take(time_order(calls.t, t0, t1))
        return calls

    def _emit(self, src: PoissonSources, line_of, t1, rc, n: int) -> int:
        """Every call of ``src`` in the slice ending at ``t1``, from row ``n`` (to be
        completed)."""
        clock_end = src.clock_at(t1)
        c = src.cols
        start = 0 if (src.rate > 0).any() else len(c)  # a silent hour: no sweep
        cols = (c["next_c"], c["inv_mult"], c["end_t"], c["group"])
        while start < len(c):
            n, start = source_calls(
                cols, src.clock, clock_end, src.rate, src.t0, start, line_of, self._subs, rc,
                self._out, n,
            )  # fmt: skip
            if start < len(c):
                self._reserve(2 * len(self._buf["t"]))
        src.finish(t1, clock_end)
        return n

    def _outside(self, n: int, t, ids, callers, kind: int) -> int:
        """Calls from outside the network to inventory ids ``ids``, from row ``n``."""
        k = len(t)
        self._reserve(n + k)
        b, rows = self._buf, slice(n, n + k)
        b["t"][rows] = t
        b["caller"][rows] = callers
        b["callee"][rows] = self.inventory.numbers[ids]
        b["caller_id"][rows] = -1
        b["callee_id"][rows] = ids
        b["kind"][rows] = kind
        b["campaign"][rows] = -1
        draw_outcomes(
            b["kind"][rows], self.prof, self.ra, b["would_answer"][rows], b["talk_time"][rows]
        )
        return n + k

    def _reserve(self, rows: int) -> None:
        """Make the buffers hold at least ``rows`` calls (keeping their contents)."""
        have = len(self._buf["t"])
        if rows <= have:
            return
        size = max(rows, 2 * have)
        for name, col in self._buf.items():
            new = np.empty(size, dtype=col.dtype)
            new[:have] = col
            self._buf[name] = new
        self._out = tuple(self._buf.values())

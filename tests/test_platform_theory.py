"""The platform engine against closed-form theory, three loads each, light to heavy: trunk
blocking against Erlang B (lognormal talk: B holds whatever its distribution), waits
against Erlang C (M/M/10) and waits and abandonment against Erlang A (M/M/10+M).

Each run is one long stationary stretch on a fixed seed; the first batch is dropped as the
warm-up and the rest are cut into batches long against the queue's relaxation time, so the
batch means are nearly independent.  The tolerance is four standard errors of the mean of
the batch means (Student-t with 19 degrees of freedom puts 0.08% outside): it comes from
the sample, never widened to pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.dni.erlang import erlang_b
from models.platform import ErlangA, erlang_c, erlang_c_mean_wait, erlang_c_service_level
from models.platform import layout as L
from models.platform.engine import Engine, Structure, session_rows

BATCHES = 20
K = 4.0


def _engine(agents: int, trunks: int) -> Engine:
    one = np.zeros(1, dtype=np.int64)
    return Engine(
        Structure(
            queue_tenant=np.zeros(3, dtype=np.int64),
            queue_skill=np.zeros(3, dtype=np.int64),
            queue_channel=np.arange(3),
            queue_priority=np.array([0, -1, -1000]),
            group_tenant=one,
            group_skill=one,
            group_mask=one + 1,
            group_size=one + agents,
            group_capacity=one + 1,
            n_tenants=1,
            trunks=trunks,
            ports=10**9,
            call_ports=1,
            consult_ports=1,
        )
    )


def run(lam, talk, patience, agents, trunks, batch_seconds, seed):
    """Batch means of blocking, waiting, abandonment, mean wait and service level (20 s)
    over the admitted attempts of ``BATCHES`` batches after a warm-up batch."""
    rng = np.random.default_rng(seed)
    horizon = (BATCHES + 1) * batch_seconds
    m = rng.poisson(lam * horizon)
    f, i = session_rows(m, 1)
    f[:, L.F_T] = np.sort(rng.random(m) * horizon)
    f[:, L.F_HANDLE] = talk(rng, m)
    if patience is not None:
        f[:, L.F_PAT] = rng.exponential(patience, m)
    i[:, L.I_SESSION] = np.arange(m)
    out = _engine(agents, trunks).step(0.0, horizon, np.array([agents]), f, i)
    of, oi = out.out_f, out.out_i
    batch = (of[:, L.O_T] // batch_seconds).astype(int)
    keep = (batch >= 1) & (batch <= BATCHES)
    batch, of, oi = batch[keep] - 1, of[keep], oi[keep]
    blocked = oi[:, L.O_OUTCOME] == L.BLOCKED
    served = oi[:, L.O_OUTCOME] == L.ANSWERED
    measures = {
        "blocking": blocked.astype(float),
        "p_wait": np.where(blocked, np.nan, oi[:, L.O_QUEUED]),
        "p_abandon": np.where(blocked, np.nan, oi[:, L.O_OUTCOME] == L.ABANDONED),
        "mean_wait": np.where(blocked, np.nan, of[:, L.O_WAIT]),
        "sl": np.where(blocked, np.nan, served & (of[:, L.O_WAIT] <= 20.0)),
    }
    out = {}
    for name, v in measures.items():
        means = np.array([np.nanmean(v[batch == b]) for b in range(BATCHES)])
        out[name] = (means.mean(), means.std(ddof=1) / np.sqrt(BATCHES))
    return out


def _close(got, want, name):
    mean, se = got[name]
    assert abs(mean - want) <= K * se + 1e-12, f"{name}: {mean:.5g} vs {want:.5g} (se {se:.2g})"


def _lognormal(mean, sigma):
    median = mean / np.exp(sigma**2 / 2)
    return lambda rng, m: rng.lognormal(np.log(median), sigma, m)


def _exponential(mean):
    return lambda rng, m: rng.exponential(mean, m)


@pytest.mark.parametrize("load, trunks", [(5.0, 8), (20.0, 25), (50.0, 55)])
def test_trunk_blocking_is_erlang_b_whatever_the_talk_time(load, trunks):
    talk = 300.0
    got = run(load / talk, _lognormal(talk, 0.8), None, trunks, trunks, 100 * talk, seed=11)
    _close(got, float(erlang_b(trunks, load)), "blocking")
    assert got["p_wait"][0] == 0.0  # as many agents as trunks: nobody waits


@pytest.mark.parametrize("rho, batch_hours", [(0.5, 12), (0.8, 48), (0.95, 240)])
def test_waits_are_erlang_c_without_abandonment(rho, batch_hours):
    n, talk = 10, 300.0
    lam, mu = rho * n / talk, 1 / talk
    got = run(lam, _exponential(talk), None, n, 10**6, batch_hours * 3600.0, seed=12)
    _close(got, erlang_c(n, lam, mu), "p_wait")
    _close(got, erlang_c_mean_wait(n, lam, mu), "mean_wait")
    _close(got, erlang_c_service_level(n, lam, mu, 20.0), "sl")


@pytest.mark.parametrize("rho", [0.8, 1.0, 1.2])
def test_waits_and_abandonment_are_erlang_a_with_exponential_patience(rho):
    n, talk, patience = 10, 300.0, 180.0
    lam, mu = rho * n / talk, 1 / talk
    got = run(lam, _exponential(talk), patience, n, 10**6, 24 * 3600.0, seed=13)
    q = ErlangA(n, lam, mu, 1 / patience)
    _close(got, q.p_wait, "p_wait")
    _close(got, q.p_abandon, "p_abandon")
    _close(got, q.mean_wait, "mean_wait")
    _close(got, q.service_level(20.0), "sl")

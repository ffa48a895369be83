"""What an operator learns from its own history: arrivals per agent group and hour of the
week, handle times, text load and the callers' patience.

Input is the platform's session records (the ``platform_sessions`` table of
``docs/tables.md``, or a real platform's records with those columns): nothing an operator
could not see.  Arrivals follow a multiplicative day-of-week x hour-of-day model (the mean
count of each day of the week times the share of each hour), so two weeks of history give a
usable profile for all 168 hours.  Patience is the exponential maximum-likelihood estimate
for censored waits: abandonments over the total time callers spent waiting (Brown et al.
2005 use the same estimator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.common import DAY, HOUR

__all__ = ["Forecast", "forecast"]

HOURS_PER_WEEK = 168
MAX_SAMPLES = 2000
"""Handle times kept per group for the operator's own simulations (bootstrap)."""


@dataclass(frozen=True)
class Forecast:
    """The operator's model of each agent group's work.

    Attributes
    ----------
    lam : numpy.ndarray
        ``(groups, 168)`` call arrivals per second by hour of the week (Monday 0:00 first),
        transfers into the group included.
    handle : numpy.ndarray
        ``(groups,)`` mean agent time per call (talk plus wrap-up), s.
    text_erlangs : numpy.ndarray
        ``(groups, 168)`` text work in agents (text sessions in progress over capacity).
    theta : numpy.ndarray
        ``(groups,)`` abandonment rate of a waiting caller (1 / mean patience), per s.
    samples : list of numpy.ndarray
        Observed talk times per group (at most :data:`MAX_SAMPLES`), for bootstrapping.
    wrap : numpy.ndarray
        ``(groups,)`` wrap-up seconds (a platform setting).
    """

    lam: np.ndarray
    handle: np.ndarray
    text_erlangs: np.ndarray
    theta: np.ndarray
    samples: list[np.ndarray]
    wrap: np.ndarray


def _profile(t: np.ndarray, days: float) -> np.ndarray:
    """Rate per second by hour of the week from event times: mean daily count of each day
    of the week times the share of each hour of the day."""
    out = np.zeros(HOURS_PER_WEEK)
    if len(t) == 0:
        return out
    day = np.floor(t / DAY).astype(np.int64)
    hour = (np.floor(t / HOUR).astype(np.int64)) % 24
    whole = np.arange(int(np.ceil(days)))
    n_dow = np.bincount(whole % 7, minlength=7).astype(float)
    per_dow = np.bincount(day % 7, minlength=7) / np.maximum(n_dow, 1)
    share = np.bincount(hour, minlength=24) / len(t)
    return (per_dow[:, None] * share[None, :]).ravel() / HOUR


def forecast(
    sessions: pd.DataFrame,
    group_tenant: np.ndarray,
    group_skill: np.ndarray,
    wrap: np.ndarray,
    capacity: np.ndarray,
    transfer_target: np.ndarray,
    days: float,
    rng: np.random.Generator,
) -> Forecast:
    """The operator's forecast from its session records.

    Parameters
    ----------
    sessions : pandas.DataFrame
        One row per attempt: ``t`` (arrival, s), ``tenant``, ``skill`` (the skill chosen
        in the IVR), ``channel`` (``voice``, ``text``, ``outbound``), ``outcome``,
        ``wait``, ``queued``, ``talk``, ``talk2`` (after a transfer) and ``transfer``.
    group_tenant, group_skill : numpy.ndarray
        Each agent group's tenant and primary skill.
    wrap, capacity : numpy.ndarray
        Each group's wrap-up seconds and text sessions per agent.
    transfer_target : numpy.ndarray
        For each group, the group its transfers go to (-1: none).
    days : float
        Length of the history.
    rng : numpy.random.Generator
        Picks the handle-time samples kept.

    Returns
    -------
    Forecast
    """
    n_g = len(group_tenant)
    lam = np.zeros((n_g, HOURS_PER_WEEK))
    text = np.zeros((n_g, HOURS_PER_WEEK))
    handle = np.zeros(n_g)
    theta = np.zeros(n_g)
    samples: list[np.ndarray] = []
    channel = sessions["channel"].astype(str).to_numpy()
    outcome = sessions["outcome"].astype(str).to_numpy()
    transfer = sessions["transfer"].astype(str).to_numpy()
    tenant = sessions["tenant"].to_numpy()
    skill = sessions["skill"].to_numpy()
    t = sessions["t"].to_numpy(np.float64)
    wait = sessions["wait"].to_numpy(np.float64)
    talk = sessions["talk"].to_numpy(np.float64)
    talk2 = sessions["talk2"].to_numpy(np.float64)
    queued = sessions["queued"].to_numpy(bool)
    voice = (channel == "voice") & (outcome != "closed")
    answered = outcome == "answered"
    moved = answered & (transfer != "none")
    for g in range(n_g):
        mine = (tenant == group_tenant[g]) & (skill == group_skill[g])
        arrivals = [t[voice & mine]]
        talks = [talk[voice & mine & answered]]
        for src in np.flatnonzero(np.asarray(transfer_target) == g):
            came = voice & moved & (tenant == group_tenant[src]) & (skill == group_skill[src])
            arrivals.append(t[came] + wait[came] + talk[came])
            talks.append(talk2[came])
        lam[g] = _profile(np.concatenate(arrivals), days)
        seen = np.concatenate(talks)
        if len(seen) > MAX_SAMPLES:
            seen = rng.choice(seen, MAX_SAMPLES, replace=False)
        samples.append(seen)
        handle[g] = (float(seen.mean()) if len(seen) else 0.0) + float(wrap[g])
        texts = (channel == "text") & mine & (outcome != "closed")
        text_talk = talk[texts & answered]
        mean_text = float(text_talk.mean()) if len(text_talk) else 0.0
        text[g] = _profile(t[texts], days) * mean_text / max(int(capacity[g]), 1)
        waiting = voice & (tenant == group_tenant[g]) & queued
        abandons = float((outcome[waiting] == "abandoned").sum())
        exposure = float(wait[waiting].sum())
        theta[g] = (abandons + 0.5) / (exposure + 1.0)
    return Forecast(lam, handle, text, theta, samples, np.asarray(wrap, dtype=float))

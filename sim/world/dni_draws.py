"""A day of the DNI market's demand, drawn at once: sessions and their potential calls.

Everything about the demand comes from the market's ``sessions`` stream, a day at a time
(the steps whose start falls in the day), whatever a policy does, so every sizer and
optimizer of a replication faces the same impressions (common random numbers):

* per step and channel a Poisson number of sessions (the channel's rate in the step's hour);
  their start times (uniform in the step, then sorted), consumers, sponsors (within each
  sponsor's daily budget, first come first served), session lengths and whether the
  platform knows the consumer;
* per impression shown a uniform ``u``: it calls if ``u`` is below the call probability of
  the kind it is shown.  No kind gives a channel more than ``p_max`` (the channel's call
  probability times its best response), so only the *candidates* with ``u < p_max`` get
  the rest of their potential calls -- the first call's time (in the session with
  probability ``in_session_share``, else ``delay_days`` later), a Poisson number of repeats
  ``repeat_days`` apart, per call a withheld caller ID and talk minutes.  Which impressions
  are candidates depends only on the stream, so this too is the same under every policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.common import DAY, HOUR

from ..config.dni import Dni

__all__ = ["DayDraws", "draw_day"]


@dataclass
class DayDraws:
    """A day's sessions (sorted by start) and the potential calls of its candidates.

    Attributes
    ----------
    drawn : numpy.ndarray
        Sessions drawn per step, before the sponsors' budgets.
    step_first : numpy.ndarray
        Shown sessions of step ``k`` are ``step_first[k]:step_first[k + 1]``.
    start, channel, consumer, sponsor, session, known, u :
        Per shown session: start (s), channel, consumer, sponsor, length (s), known to the
        platform, the uniform deciding whether it calls.
    call_first, c_t, c_withheld, c_repeat, c_minutes :
        Potential calls by session (``call_first[j]:call_first[j + 1]``, first call then
        repeats): time, withheld caller ID, repeat call, talk minutes.
    """

    drawn: np.ndarray
    step_first: np.ndarray
    start: np.ndarray
    channel: np.ndarray
    consumer: np.ndarray
    sponsor: np.ndarray
    session: np.ndarray
    known: np.ndarray
    u: np.ndarray
    call_first: np.ndarray
    c_t: np.ndarray
    c_withheld: np.ndarray
    c_repeat: np.ndarray
    c_minutes: np.ndarray


def _within_budget(sponsor: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Sessions a sponsor can still pay for in the day (first come, first served)."""
    if np.isinf(budget).all():
        return np.ones(len(sponsor), dtype=bool)
    order = np.argsort(sponsor, kind="stable")
    s = sponsor[order]
    first = np.searchsorted(s, s, side="left")
    rank = np.empty(len(s))
    rank[order] = np.arange(len(s)) - first + 1
    return rank <= budget[sponsor]


def draw_day(
    cfg: Dni,
    rng: np.random.Generator,
    t0: np.ndarray,
    t1: np.ndarray,
    rates: np.ndarray,
    p_max: np.ndarray,
    sponsor_p: np.ndarray,
    budget: np.ndarray,
) -> DayDraws:
    """Draw the sessions of the steps ``[t0, t1)`` of one day and their potential calls.

    Parameters
    ----------
    cfg : Dni
    rng : numpy.random.Generator
        The market's ``sessions`` stream.
    t0, t1 : numpy.ndarray
        The day's steps.
    rates : numpy.ndarray
        Sessions per second by (channel, hour of day).
    p_max : numpy.ndarray
        Per channel, the highest call probability of any kind.
    sponsor_p, budget : numpy.ndarray
        Sponsors' shares (summing to 1) and impressions a day (inf: no limit).

    Returns
    -------
    DayDraws
    """
    n_ch = rates.shape[0]
    hour = (t0 // HOUR).astype(np.int64) % 24
    counts = rng.poisson(rates[:, hour].T * (t1 - t0)[:, None])  # (step, channel)
    drawn = counts.sum(axis=1)
    n = int(drawn.sum())
    step = np.repeat(np.arange(len(t0)), drawn)
    channel = np.repeat(np.tile(np.arange(n_ch), len(t0)), counts.ravel())
    start = t0[step] + rng.random(n) * (t1 - t0)[step]
    order = np.argsort(start, kind="stable")
    start, channel, step = start[order], channel[order], step[order]
    consumer = rng.integers(0, cfg.consumers, n)
    sponsor = rng.choice(len(sponsor_p), n, p=sponsor_p)
    shown = _within_budget(sponsor, budget)
    if not shown.all():
        start, channel, step, consumer, sponsor = (
            a[shown] for a in (start, channel, step, consumer, sponsor)
        )
    n = len(start)
    session = cfg.session_minutes.sample(rng, n) * 60.0
    known = rng.random(n) < cfg.known_caller_share
    u = rng.random(n)
    cand = np.flatnonzero(u < p_max[channel])
    m = len(cand)
    in_session = rng.random(m) < cfg.in_session_share
    within = rng.random(m)
    delay = cfg.delay_days.sample(rng, m) * DAY
    first = np.where(in_session, start[cand] + within * session[cand], start[cand] + delay)
    repeats = rng.poisson(cfg.repeat_calls, m)
    owner = np.repeat(np.arange(m), repeats)
    gaps = cfg.repeat_days.sample(rng, len(owner)) * DAY
    offset = np.zeros(len(owner))
    if len(owner):  # each repeat call comes a gap after the one before it
        csum = np.cumsum(gaps)
        first_of = np.concatenate([[0], np.cumsum(repeats)[:-1]])[owner]
        offset = csum - np.concatenate([[0.0], csum])[first_of]
    k = m + len(owner)
    withheld = rng.random(k) < cfg.withheld_share
    minutes = cfg.talk_minutes.sample(rng, k)
    src = np.concatenate([np.arange(m), owner])
    by_src = np.argsort(src, kind="stable")  # each session's first call, then its repeats
    t = np.concatenate([first, first[owner] + offset])[by_src]
    sess = cand[src[by_src]]
    return DayDraws(
        drawn=drawn,
        step_first=np.searchsorted(step, np.arange(len(t0) + 1)),
        start=start,
        channel=channel,
        consumer=consumer,
        sponsor=sponsor,
        session=session,
        known=known,
        u=u,
        call_first=np.searchsorted(sess, np.arange(n + 1)),
        c_t=t,
        c_withheld=withheld[by_src],
        c_repeat=np.concatenate([np.zeros(m, bool), np.ones(len(owner), bool)])[by_src],
        c_minutes=minutes[by_src],
    )

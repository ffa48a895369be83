"""How much memory a world will take, and roughly how long it runs, estimated from its
config before it is built.

The world keeps flat arrays per subscriber, per contact-list entry and per number, plus one
slice of calls at a time; the bytes per entity below are those arrays' widths (the columns
of ``Population.subs`` and its Poisson source, the inventory's state arrays with the spam
source and the tracker's counters of each number), and the constant covers the interpreter
and the libraries.  Checked against measured peaks in ``tests/test_faults.py``.
"""

from __future__ import annotations

import math
import os

from models.common import DAY

from ..config import ConfigError
from ..config.experiment import ExperimentConfig

__all__ = ["available_bytes", "check_fits", "estimate_bytes", "estimate_seconds"]

BASE = 300e6
"""The interpreter, NumPy, pandas, SciPy, Numba and their compiled kernels."""
PER_SUBSCRIBER = 72.0
"""Subscriber columns (47 bytes) and its Poisson source (25 bytes)."""
PER_CONTACT = 8.0
"""One int64 number per contact-list entry."""
PER_NUMBER = 120.0
"""Inventory state (74 bytes), background spam source and multiplier (33), daily counters
and the episode index (13)."""
PER_SLICE_CALL = 400.0
"""A call in flight during a slice, in every array that holds it (origination, sorting,
batch, truth, tallies)."""
PER_CONSUMER = 8.0
"""DNI market: each consumer's area."""


RUN_SECONDS = 3.0
"""Fixed cost of a run: building the world, loading the compiled kernels, its metrics (on a
warm worker 0.01-1 s; the rest stands for what the rates below leave out, such as a
robocall run's arriving campaign lines, handled one at a time)."""
CALLS_PER_SECOND = 6e6
"""The world's end-to-end rate on one core (``make bench``, 2026-12-02: 4.7-5.5 M calls/s
for 1 M subscribers with their set-up, 8 M/s once running)."""
SLICE_SECONDS = 0.2e-3
"""Python of one slice of a world with subscribers (lifecycle events, policies, tallies)
besides its calls: what dominates small worlds over long horizons (``aging_policies``,
2026-12-02: 40 runs of a year of 35.6 M calls in 2 min 48 s on 2 workers, 6-9 s a run)."""
SESSIONS_PER_SECOND = 1.0e6
"""The DNI market's end-to-end rate in ad sessions (``make bench``: 1.2 M per CPU-second)."""
PLATFORM_SESSIONS_PER_SECOND = 2.5e5
"""The softphone platform's end-to-end rate in sessions (``make bench``)."""
VOICE_SECONDS_PER_COMMAND = 0.17
"""The voice study: one command at one noise level -- its utterances, read-back answers and
repeats decoded, their speech synthesised when not cached (``voice_confirmation``: 10 runs
of 40 commands at 3 levels in 95 s on 2 workers, synthesis included)."""


def _calls_per_day(config: ExperimentConfig, mean: bool = False) -> float:
    """Calls a day of the world makes (subscribers and background spam): with every line
    that ever joined by the horizon (an upper bound, for memory), or with ``mean`` by the
    average line count over the run, for time: the count moves from ``initial`` towards
    the ``arrivals x mean tenure`` the arrivals sustain, at the rate ``1 / mean tenure``
    (exact for exponential tenures)."""
    days = config.scenario.days
    total = config.inventory.size * config.spam.calls_per_line_per_day
    for t in config.subscribers.by_code():
        if mean:
            m = t.tenure.mean
            sustained = t.steady_arrivals_per_day * m
            # the average over the run (days > 0, validated) of exp(-t / m)
            kept = -math.expm1(-days / m) * m / days if m > 0 else 0.0
            lines = sustained + (t.initial - sustained) * kept
        else:
            lines = t.initial + t.steady_arrivals_per_day * days
        total += lines * t.calls_per_day
    return total


def estimate_seconds(config: ExperimentConfig) -> float:
    """Rough wall time of one world of ``config`` on one core (within a factor of about two):
    a fixed cost, its hourly slices, and its calls, ad sessions and platform sessions at the
    rates ``make bench`` measures, and the voice study's commands."""
    days = config.scenario.days
    calls = _calls_per_day(config, mean=True) * days
    seconds = RUN_SECONDS + calls / CALLS_PER_SECOND
    if calls > 0:  # an empty world's slices cost next to nothing
        seconds += days * DAY / config.scenario.slice_seconds * SLICE_SECONDS
    if config.dni.enabled:
        sessions = sum(ch.sessions_per_day for ch in config.dni.channels.by_code())
        seconds += sessions * days / SESSIONS_PER_SECOND
    if config.platform.enabled:
        sessions = sum(
            t.calls_per_day + t.texts_per_day + t.outbound_per_hour * 24
            for t in config.platform.tenants
        )
        seconds += sessions * days / PLATFORM_SESSIONS_PER_SECOND
    if config.voice.enabled:
        seconds += config.voice.commands * len(config.voice.levels()) * VOICE_SECONDS_PER_COMMAND
    return seconds


def estimate_bytes(config: ExperimentConfig) -> dict[str, float]:
    """Estimated peak memory of one run of ``config``, by part (bytes), with ``total``."""
    days = config.scenario.days
    types = config.subscribers.by_code()
    subscribers = sum(t.initial + t.steady_arrivals_per_day * days for t in types) * 1.05
    contacts = (
        sum((t.initial + t.steady_arrivals_per_day * days) * t.contacts_mean for t in types) * 1.05
    )
    numbers = config.inventory.size
    calls_per_day = _calls_per_day(config)
    peak_slice = 2.0 * calls_per_day * config.scenario.slice_seconds / DAY
    parts = {
        "base": BASE,
        "subscribers": subscribers * PER_SUBSCRIBER,
        "contacts": contacts * PER_CONTACT,
        "numbers": numbers * PER_NUMBER,
        "calls in a slice": peak_slice * PER_SLICE_CALL,
        "DNI consumers": config.dni.consumers * PER_CONSUMER if config.dni.enabled else 0.0,
    }
    parts["total"] = sum(parts.values())
    return parts


def available_bytes() -> float:
    """Memory this machine can give a new process now (``MemAvailable``), else its total."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_fits(config: ExperimentConfig, runs_at_once: int = 1) -> dict[str, float]:
    """The estimate, or a one-line :class:`ConfigError` when ``runs_at_once`` worlds of
    ``config`` would not fit in the memory available now."""
    parts = estimate_bytes(config)
    need, have = parts["total"] * runs_at_once, available_bytes()
    if need > have:
        largest = sorted(((v, k) for k, v in parts.items() if k != "total"), reverse=True)[:2]
        what = ", ".join(f"{k} {v / 1e9:.1f} GB" for v, k in largest)
        at_once = f" x {runs_at_once} runs at once" if runs_at_once > 1 else ""
        raise ConfigError(
            f"the world needs about {parts['total'] / 1e9:.1f} GB{at_once} ({what}) and this "
            f"machine has {have / 1e9:.1f} GB available; make it smaller (subscribers, "
            "inventory, contacts_mean) or use fewer --workers"
        )
    return parts

"""What the storm report reads from an experiment: each point's policy and setting, a
metric's values replication by replication, and exact bounds of shares that are 0 in every
replication."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evidence import clopper_pearson, percent_text, rate_text
from models.provisioning.storm import STORM_POLICIES
from models.stats import mean_ci

from ...config import sweep_points
from ...results.store import ExperimentResult
from ..glossary import value_text
from .metrics import COUNTS, DENOMINATORS

__all__ = ["Point", "exact_text", "pooled_count", "storm_points", "upper_bound", "values"]


@dataclass(frozen=True)
class Point:
    """A sweep point as the storm report sees it.

    Attributes
    ----------
    index : int
        The sweep point.
    label : str
        Its label in the section (policy and setting).
    policy : str
        ``storm.policy``.
    knob, knob_name : str or None
        The policy's knob (``StormPolicy.knob``) and how it reads (with its unit).
    setting : float
        The knob's value (0 for ``none``: no jitter, no back-off).
    context : str
        Everything else the point configures (points with one context form a family).
    persistent : bool
        ``storm.persistent``.
    """

    index: int
    label: str
    policy: str
    knob: str | None
    knob_name: str | None
    setting: float
    context: str
    persistent: bool


_UNITS = {"window_seconds": "window (s)", "seconds": "Retry-After from (s)", "share": "share of C"}


def _label(cfg, knob: str | None, setting: float) -> str:
    """``jitter 50 s``, ``rate_limit 0.9 of C``, ``none``."""
    if cfg.policy == "rate_limit":
        return f"rate_limit {cfg.policies['rate_limit']['share']:g} of C"
    if knob is None:
        return cfg.policy
    return (
        f"{cfg.policy} {setting:g} s" if knob.endswith("seconds") else f"{cfg.policy} {setting:g}"
    )


def _context(point) -> str:
    raw = point.to_dict()
    raw["storm"] = {k: v for k, v in raw["storm"].items() if k not in ("policy", "policies")}
    return json.dumps(raw, sort_keys=True)


def storm_points(result: ExperimentResult, labels: dict[int, str]) -> list[Point]:
    """Every sweep point with its policy, setting and section label."""
    pts = []
    for p, (_, point) in enumerate(sweep_points(result.config)):
        cfg = point.storm
        knob = STORM_POLICIES[cfg.policy].knob
        setting = 0.0 if knob is None else float(cfg.policies[cfg.policy][knob])
        label = _label(cfg, knob, setting)
        if not cfg.persistent:
            label += " (no persistence)"
        pts.append(
            Point(
                p,
                label,
                cfg.policy,
                knob,
                _UNITS.get(knob or "", knob),
                setting,
                _context(point),
                cfg.persistent,
            )
        )
    counts = pd.Series([q.label for q in pts]).value_counts()
    return [
        Point(**{**q.__dict__, "label": f"{q.label} [{labels[q.index]}]"})
        if counts[q.label] > 1
        else q
        for q in pts
    ]


def values(result: ExperimentResult, metric: str, points: list[Point]) -> pd.DataFrame:
    """One row per replication, one column per point (its label)."""
    m = result.metrics
    idx = [p.index for p in points]
    m = m[(m["metric"] == metric) & m["point"].isin(idx)]
    wide = m.pivot_table(index="replication", columns="point", values="value", dropna=False)
    wide = wide.reindex(columns=idx)
    wide.columns = [p.label for p in points]
    return wide


def pooled_count(result: ExperimentResult, metric: str, point: int) -> tuple[int, int] | None:
    """``(0, trials)`` pooled over replications when a share is 0 in every replication,
    else None."""
    den = DENOMINATORS.get(metric)
    if den is None:
        return None
    m = result.metrics
    m = m[m["point"] == point]
    share = m[m["metric"] == metric].set_index("replication")["value"].dropna()
    if share.empty or not (share == 0).all():
        return None
    trials = m[m["metric"] == den].set_index("replication")["value"].reindex(share.index)
    if not (np.isfinite(trials).all() and trials.sum() > 0):
        return None
    return 0, int(trials.sum())


def exact_text(result: ExperimentResult, metric: str, point: int) -> str | None:
    """A share or a count that is 0 in every replication as the pooled count with its
    exact bound; a value the same in every replication as that value (never "± 0")."""
    pooled = pooled_count(result, metric, point)
    if pooled is not None:
        return rate_text(*pooled)
    m = result.metrics
    m = m[m["point"] == point]
    v = m[m["metric"] == metric].set_index("replication")["value"].dropna()
    if len(v) < 2 or not (v == v.iloc[0]).all():
        return None
    if v.iloc[0] != 0:
        return f"{value_text(metric, v.iloc[0])} in every replication"
    if metric not in COUNTS:
        return f"0 in every replication ({len(v)})"
    den, unit = COUNTS[metric]
    trials = m[m["metric"] == den].set_index("replication")["value"].reindex(v.index)
    if not (np.isfinite(trials).all() and trials.sum() > 0):
        return f"0 in every replication ({len(v)})"
    n = int(trials.sum())
    bound = percent_text(clopper_pearson(0, n)[1])
    return f"0 of {n:,} {unit}s (95% upper bound {bound} of {unit}s)"


def upper_bound(result: ExperimentResult, metric: str, point: Point) -> float:
    """95% upper confidence bound of a metric's mean: Student-t across replications, or
    Clopper-Pearson on the pooled count of a share that is 0 in every replication."""
    pooled = pooled_count(result, metric, point.index)
    if pooled is not None:
        return clopper_pearson(*pooled)[1]
    mean, half = mean_ci(values(result, metric, [point]).iloc[:, 0])
    return mean + half if np.isfinite(half) else np.nan

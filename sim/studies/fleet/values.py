"""What the fleet report reads from an experiment: each point's policy and label, a
metric's values replication by replication, and pooled counts with exact bounds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evidence import rate_text

from ...config import sweep_points
from ...results.store import ExperimentResult
from .metrics import COUNTS

__all__ = ["FleetPoint", "count_text", "fleet_points", "pooled", "values"]


@dataclass(frozen=True)
class FleetPoint:
    """A sweep point as the fleet report sees it.

    Attributes
    ----------
    index : int
        The sweep point.
    label : str
        Its label in the section.
    policy : str
        ``fleet.policy``.
    pin : bool
        The policy asks for the user's PIN.
    refuse_conflicts : bool
        A headset mapped to several users is refused.
    pin_known_by_other : float
        ``fleet.pin_known_by_other`` of the point's world.
    """

    index: int
    label: str
    policy: str
    pin: bool
    refuse_conflicts: bool
    pin_known_by_other: float


def fleet_points(result: ExperimentResult, labels: dict[int, str]) -> list[FleetPoint]:
    """Every sweep point with its policy and section label."""
    pts = []
    for p, (_, point) in enumerate(sweep_points(result.config)):
        cfg = point.fleet
        policy = cfg.build_policy()
        label = cfg.policy
        headset = type(policy).key == "headset"
        if headset and not policy.refuse_conflicts:
            label += " (most recent mapping)"
        if cfg.pin_known_by_other > 0 and type(policy).needs_pin:
            label += f" (PIN known to others {cfg.pin_known_by_other:.0%})"
        pts.append(
            FleetPoint(
                p,
                label,
                cfg.policy,
                bool(type(policy).needs_pin),
                bool(policy.refuse_conflicts),
                cfg.pin_known_by_other,
            )
        )
    counts = pd.Series([q.label for q in pts]).value_counts()
    return [
        FleetPoint(**{**q.__dict__, "label": f"{q.label} [{labels[q.index]}]"})
        if counts[q.label] > 1
        else q
        for q in pts
    ]


def values(result: ExperimentResult, metric: str, points: list[FleetPoint]) -> pd.DataFrame:
    """One row per replication, one column per point (its label)."""
    m = result.metrics
    idx = [p.index for p in points]
    m = m[(m["metric"] == metric) & m["point"].isin(idx)]
    wide = m.pivot_table(index="replication", columns="point", values="value", dropna=False)
    wide = wide.reindex(columns=idx)
    wide.columns = [p.label for p in points]
    return wide


def pooled(result: ExperimentResult, metric: str, point: FleetPoint) -> tuple[int, int]:
    """A count and the replacements it counts among, summed over replications."""
    k = values(result, metric, [point]).iloc[:, 0]
    n = values(result, COUNTS[metric], [point]).iloc[:, 0]
    ok = np.isfinite(k) & np.isfinite(n)
    return int(k[ok].sum()), int(n[ok].sum())


def count_text(result: ExperimentResult, metric: str, point: FleetPoint) -> str:
    """A count pooled over replications as a rate with its exact Clopper-Pearson interval
    (an upper bound when it is 0)."""
    return rate_text(*pooled(result, metric, point))

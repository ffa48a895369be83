"""Analysis of finished runs, for notebooks and scripts: every study's per-run metrics and the
studies' own analyses (part of the public API, exported by :mod:`sim`).

Each function takes a :class:`~sim.results.run.SimResult` (from :func:`sim.simulate`) or
its config, and returns plain dicts and DataFrames; nothing here changes a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import ExperimentConfig
from .results.run import SimResult
from .studies import STUDIES
from .studies.aging.data import LABEL_KINDS, labels
from .studies.aging.models import compare_models, run_frame
from .studies.burst.metrics import campaign_table
from .studies.burst.replay import replay_curves

__all__ = [
    "aging_episodes",
    "aging_labels",
    "compare_aging_models",
    "detector_curves",
    "metrics",
    "robocall_campaigns",
]


def metrics(result: SimResult, study: str | None = None) -> dict[str, float]:
    """Per-run metrics of one run, judged against its ground truth: the figures ``tnlab
    run`` records in ``metrics.parquet`` for every run.

    Parameters
    ----------
    result : SimResult
        A finished run (:func:`sim.simulate`).
    study : str, optional
        Only this study's metrics, by its name (the prefix of its keys): ``"world"``,
        ``"detection"``, ``"aging"``, ``"dni"``, ``"storm"``, ``"fleet"``, ...; every
        study's by default.

    Returns
    -------
    dict of str to float
        Metric name -> value; a study the run's config does not enable gives none or NaN.

    Raises
    ------
    ValueError
        If ``study`` names no study.
    """
    chosen = [s for s in STUDIES if study is None or s.name == study]
    if not chosen:
        names = ", ".join(s.name for s in STUDIES)
        raise ValueError(f"no study named {study!r}; the studies are {names}")
    found: dict[str, float] = {}
    for s in chosen:
        found.update(s.metrics(result))
    return found


def aging_episodes(result: SimResult) -> pd.DataFrame:
    """The aging episodes of a run: one row per disconnect of a subscriber's number.

    Parameters
    ----------
    result : SimResult
        A finished run whose config enables aging traffic.

    Returns
    -------
    pandas.DataFrame
        The features known at the disconnect (``type``, ``tenure_days``, ``inbound_90d``,
        ``unique_callers_90d``, ``robocall_share``, ...), the hidden decay (``lam0``, for
        the oracle only), the truth's days to each threshold's first and stable crossing
        (``first_<m>``, ``stable_<m>``), the carrier's censored labels and
        ``observed_days`` / ``known_days`` (see ``docs/aging.md``).
    """
    return run_frame(result)


def aging_labels(
    episodes: pd.DataFrame,
    multiple: float,
    *,
    truth: bool = False,
    crossing: str = "first",
    kind: str = "residual",
) -> tuple[np.ndarray, np.ndarray]:
    """Event indicator and days to the crossing below one threshold, per episode.

    Parameters
    ----------
    episodes : pandas.DataFrame
        From :func:`aging_episodes`.
    multiple : float
        The threshold, as a multiple of the background spam rate (one of
        ``config.aging.thresholds``).
    truth : bool
        The simulator's truth (censored only by the end of the run); otherwise the
        carrier's labels of ``kind``, censored at the reassignment.
    crossing : {"first", "stable"}
        Which crossing.
    kind : {"residual", "observed"}
        Which crossings the carrier's labels are made of.

    Returns
    -------
    event : numpy.ndarray of bool
        Whether the crossing was seen.
    days : numpy.ndarray of float
        Days to it, or to the censoring.
    """
    return labels(episodes, multiple, truth=truth, crossing=crossing, kind=kind)


def compare_aging_models(
    result: SimResult, kinds: tuple[str, ...] = LABEL_KINDS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every aging profile model fitted on half of the run's numbers (the carrier's
    censored labels) and judged on the other half against the truth, at the landmark
    ``aging.landmark_days``.

    Parameters
    ----------
    result : SimResult
        A finished run whose config enables aging traffic.
    kinds : tuple of str
        The labels the models learn from, each compared on its own: ``"observed"`` (the
        crossings a carrier can see), ``"residual"`` (the simulator's residual-only
        crossings, which no carrier has); both by default.

    Returns
    -------
    scores : pandas.DataFrame
        ``labels, threshold, model``, the scores of :data:`models.aging.metrics.SCORES`
        (MAE of days, Uno's C, integrated Brier score, interval coverage) and ``n_train,
        n_test, n_events``; empty when too few numbers crossed a threshold.
    predictions : pandas.DataFrame
        ``labels, episode, threshold, model, predicted_days`` (conditional median),
        ``lo, hi`` (80% interval), ``true_days, event, ipcw_weight`` per scored episode.
    """
    return compare_models(result, kinds)


def robocall_campaigns(config: ExperimentConfig) -> pd.DataFrame:
    """The config's robocall campaigns, one row each.

    Parameters
    ----------
    config : ExperimentConfig
        The run's configuration.

    Returns
    -------
    pandas.DataFrame
        ``campaign`` (the code in the ``calls`` table's ``campaign`` column), ``name``,
        ``behaviour``, ``rotate``.
    """
    return campaign_table(config)


def detector_curves(result: SimResult) -> pd.DataFrame:
    """Threshold curves of every burst detector, replaying one run's call log (open loop).

    Every detector of :data:`models.burst.DETECTORS`, at multiples of the configured
    thresholds from 1/4 to 4, and Kleinberg's offline automaton, on the run's newly
    assigned numbers.

    Parameters
    ----------
    result : SimResult
        A finished run with the ``calls`` table (``record.calls = true``).

    Returns
    -------
    pandas.DataFrame
        ``detector``, ``threshold`` (multiplier, or Kleinberg's burst-rate multiple) and
        the columns of :func:`models.burst.metrics.threshold_curve` (among them
        ``false_flags_per_new_number`` and ``robocalls_blocked_share``).
    """
    return replay_curves(result.calls, result.subscribers, result.config.detection)

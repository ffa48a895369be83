"""Profile models on a run's episodes.

Two uses: the comparison of every model on held-out numbers of one run (judged against the
simulator's truth), and the fitted model a ``model`` or ``online`` release policy needs,
trained on a separate run of the same world that holds numbers to their cap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sksurv.util import Surv

from models.aging import AGING_MODELS, OnlineDecay, Oracle
from models.aging.metrics import compare

from ...config import ConfigError, ExperimentConfig
from ...core.hashing import mix64
from ...results.run import SimResult
from ..study import RunWorld
from .data import episode_frame, labels

__all__ = ["held_out", "compare_models", "run_frame", "training_model", "TRAINING_POINT"]

TRAINING_POINT = 2**31 - 1
"""Stream point of the training runs (no sweep point uses it)."""
MIN_TRAINING_EVENTS = 30
"""Fewest crossings a model-driven release policy may be trained on."""
_TRAINED: dict[tuple, object] = {}


def run_frame(result: SimResult) -> pd.DataFrame:
    """The episodes of a finished run with their outcomes (:func:`episode_frame`)."""
    return episode_frame(
        result.episodes,
        result.crossings,
        result.early_inbound,
        result.config.scenario.days,
        result.config.aging.thresholds,
    )


def held_out(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """Test half of the episodes, split by number (a number's episodes stay together)."""
    key = np.uint64(seed % 2**63)
    return (mix64(frame["number_id"].to_numpy().astype(np.uint64) ^ key) & np.uint64(1)) == 1


def _surv(event, time):
    return Surv.from_arrays(event=event, time=np.maximum(time, 1e-6))


def compare_models(result: SimResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every profile model fitted on half of the run's episodes, judged on the other half.

    Models learn from the carrier's labels (censored at reassignment); they are scored
    against the truth of the held-out numbers (censored only by the end of the run).

    Returns
    -------
    scores : pandas.DataFrame
        ``threshold, model, mae_days, uno_c, ibs, ibs_km_ratio, coverage, n_train,
        n_test``.
    predictions : pandas.DataFrame
        ``episode, threshold, model, predicted_days, true_days, event`` on the test half.
    """
    cfg = result.config
    bg = cfg.spam.calls_per_line_per_day
    frame = run_frame(result)
    test = held_out(frame, cfg.seed)
    train_x, test_x = frame[~test], frame[test]
    scores, preds = [], []
    for m in cfg.aging.thresholds:
        fit_y = _surv(*labels(train_x, m))
        ref_y = _surv(*labels(train_x, m, truth=True))
        ev, tt = labels(test_x, m, truth=True)
        # the censoring weights come from the training half: follow-up beyond its longest
        # time is cut there (as censored) for the scores that need those weights
        cap = float(ref_y["time"].max()) * (1 - 1e-9)
        beyond = tt > cap
        test_y = _surv(ev & ~beyond, np.minimum(tt, cap))
        if ev.sum() < 10 or fit_y["event"].sum() < 10:
            continue
        models = {name: cfg.aging.model(name).fit(train_x, fit_y) for name in AGING_MODELS}
        models["online"] = OnlineDecay(
            cfg.aging.model("weibull_aft"), thr=m * bg, background_per_day=bg
        ).fit(train_x, fit_y)
        models["oracle"] = Oracle(m * bg, trailing_days=cfg.aging.trailing_days).fit()
        times = np.quantile(tt[ev & ~beyond], np.linspace(0.05, 0.8, 40))
        table = compare(
            models,
            train_x,
            ref_y,
            test_x,
            test_y,
            np.unique(times),
            fit=False,
            max_days=cfg.scenario.days,
            tau=float(np.quantile(tt[ev & ~beyond], 0.9)),
        )
        scores.append(table.assign(threshold=m, n_train=len(train_x), n_test=len(test_x)))
        for name, model in models.items():
            preds.append(
                pd.DataFrame(
                    {
                        "episode": test_x.index.to_numpy(),
                        "threshold": m,
                        "model": name,
                        "predicted_days": model.predict_days(test_x, 0.5),
                        "true_days": tt,
                        "event": ev,
                    }
                )
            )
    if not scores:
        return pd.DataFrame(), pd.DataFrame()
    return pd.concat(scores, ignore_index=True), pd.concat(preds, ignore_index=True)


def training_model(config: ExperimentConfig, replication: int, run_world: RunWorld):
    """The fitted model of a release policy that needs one (memoised per process).

    It is trained on a ``aging.release.train_days`` run of the same world on its own
    random streams, with numbers held to their cap so that their residual traffic is seen
    as long as the rules allow, on the carrier's labels for the release threshold.

    Raises
    ------
    ConfigError
        If the training run saw too few crossings to learn from.
    """
    rel = config.aging.release
    policy = rel.build()
    raw = config.to_dict()
    raw["aging"]["release"]["policy"] = "fixed_365"
    raw["aging"]["compare_models"] = False
    raw["record"]["calls"] = False
    raw["scenario"]["days"] = rel.train_days
    train_cfg = ExperimentConfig.model_validate(raw)
    key = (train_cfg.digest(), replication, rel.model, rel.policy)
    if key not in _TRAINED:
        res = run_world(train_cfg, TRAINING_POINT, replication)
        frame = run_frame(res)
        y = _surv(*labels(frame, rel.threshold))
        if y["event"].sum() < MIN_TRAINING_EVENTS:
            raise ConfigError(
                f"aging.release.train_days: the training run saw {int(y['event'].sum())} "
                f"crossings of the release threshold, fewer than {MIN_TRAINING_EVENTS} to "
                "learn from (lengthen it or enlarge the world)"
            )
        bg = config.spam.calls_per_line_per_day
        model = policy.model_for(config.aging.model(rel.model), rel.threshold * bg, bg)
        _TRAINED[key] = model.fit(frame, y)
    return _TRAINED[key]

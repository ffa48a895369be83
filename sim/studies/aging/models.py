"""Profile models on a run's episodes.

Two uses: the comparison of every model on held-out numbers of one run (judged against the
simulator's truth), and the fitted model a ``model`` or ``online`` release policy needs,
trained on a separate run of the same world that holds numbers to their cap.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import numpy as np
import pandas as pd
from sksurv.util import Surv

from models.aging import AGING_MODELS, OnlineDecay, Oracle
from models.aging.metrics import censoring_survival, km_reference, predictions, score
from models.common import DAY

from ...config import ConfigError, ExperimentConfig
from ...config.aging import release_policy_name
from ...core.atomic import parquet_bytes, write_atomic
from ...core.hashing import mix64
from ...results.run import SimResult
from ..study import RunWorld
from .data import LABEL_KINDS, episode_frame, labels

__all__ = [
    "ORACLE",
    "TRAINING_POINT",
    "at_landmark",
    "compare_models",
    "held_out",
    "run_frame",
    "training_model",
]

TRAINING_POINT = 2**31 - 1
"""Stream point of the training runs (no sweep point uses it)."""
MIN_TRAINING_EVENTS = 30
"""Fewest crossings a model-driven release policy may be trained on."""
_TRAINED: dict[tuple, object] = {}
_FRAMES: dict[tuple, pd.DataFrame] = {}


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


ORACLE = "expected_rate_oracle"
"""Name of the oracle in metrics, tables and plots: it predicts when the *expected*
residual rate (the simulator's hidden decay, over the trailing window) falls to the
threshold -- not when the realised, Poisson-noisy rate does."""


def at_landmark(frame: pd.DataFrame, multiple: float, landmark: float) -> np.ndarray:
    """Episodes a carrier still has to decide on at the landmark: disconnected at least
    ``landmark`` days before the end of the run, still aging then, and not yet *seen*
    below the threshold (their observed first crossing, if any, is later)."""
    alive = frame["observed_days"].to_numpy() > landmark
    held = (frame["release_t"] - frame["t"]).to_numpy() / DAY
    aging = ~(held <= landmark)  # NaN: never released in the run
    seen = frame[f"obs_first_{multiple:g}"].to_numpy()
    return alive & aging & ~(seen <= landmark)


def compare_models(
    result: SimResult, kinds: tuple[str, ...] = LABEL_KINDS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every profile model fitted on half of the run's episodes, judged on the other half
    at the landmark ``aging.landmark_days``.

    Models learn from the carrier's labels of each kind in ``kinds`` (censored at
    reassignment; :func:`.data.labels`) on the training half, reading at most the first
    ``landmark_days`` of early aging traffic.  They are scored on the held-out episodes
    still at risk at the landmark (:func:`at_landmark`), predicting the days to the
    crossing given survival to it, against the residual truth (censored only by the end
    of the run); censoring weights come from the training half's episodes at risk.

    Returns
    -------
    scores : pandas.DataFrame
        ``labels, threshold, model`` and :data:`models.aging.metrics.SCORES`, with
        ``n_train, n_test, n_events``.
    predictions : pandas.DataFrame
        ``labels, episode, threshold, model, predicted_days`` (conditional median),
        ``lo, hi`` (80% interval), ``true_days, event, ipcw_weight`` on the scored rows.
    """
    cfg = result.config
    bg = cfg.spam.calls_per_line_per_day
    landmark = float(cfg.aging.landmark_days)
    frame = run_frame(result)
    frame = frame.drop(
        columns=[f"early_{d}" for d in range(cfg.aging.landmark_days, cfg.aging.early_days)],
        errors="ignore",
    )
    test = held_out(frame, cfg.seed)
    train_x = frame[~test]
    max_days = float(cfg.scenario.days)
    scores, preds = [], []
    for m in cfg.aging.thresholds:
        risk = at_landmark(frame, m, landmark)
        ref_x, test_x = frame[~test & risk], frame[test & risk]
        ref_y = _surv(*labels(ref_x, m, truth=True))
        ev, tt = labels(test_x, m, truth=True)
        # the censoring weights come from the training half: follow-up beyond its longest
        # time is cut there (as censored) for the scores that need those weights
        cap = float(ref_y["time"].max()) * (1 - 1e-9) if len(ref_y) else 0.0
        beyond = tt > cap
        test_y = _surv(ev & ~beyond, np.minimum(tt, cap))
        late = ev & ~beyond & (tt > landmark)
        if late.sum() < 10 or len(ref_y) < 10:
            continue
        times = np.unique(np.quantile(tt[late], np.linspace(0.05, 0.8, 40)))
        tau = float(np.quantile(tt[late], 0.9))
        weight = np.zeros(len(tt))
        g = censoring_survival(ref_y, test_y["time"][test_y["event"]])
        weight[test_y["event"]] = np.where(g > 0, 1.0 / np.where(g > 0, g, 1.0), 0.0)
        km = km_reference(ref_y, test_y, times, landmark)
        fitted = {ORACLE: Oracle(m * bg, trailing_days=cfg.aging.trailing_days).fit()}
        for kind in kinds:
            fit_y = _surv(*labels(train_x, m, kind=kind))
            if fit_y["event"].sum() < 10:
                continue
            models = {name: cfg.aging.model(name).fit(train_x, fit_y) for name in AGING_MODELS}
            models["online"] = OnlineDecay(
                cfg.aging.model("weibull_aft"), thr=m * bg, background_per_day=bg
            ).fit(train_x, fit_y)
            models.update(fitted)
            rows = []
            for name, model in models.items():
                found = predictions(model, test_x, times, 0.8, landmark, max_days)
                row = {"model": name, **score(found, ref_y, test_y, times, km, tau, max_days)}
                if name == ORACLE:  # a point prediction: its "interval" covers nothing
                    row["coverage"] = np.nan
                rows.append(row)
                preds.append(
                    pd.DataFrame(
                        {
                            "labels": kind,
                            "episode": test_x.index.to_numpy(),
                            "threshold": m,
                            "model": name,
                            "predicted_days": found["days"],
                            "lo": found["lo"],
                            "hi": found["hi"],
                            "true_days": test_y["time"],
                            "event": test_y["event"],
                            "ipcw_weight": weight,
                        }
                    )
                )
            scores.append(
                pd.DataFrame(rows).assign(
                    labels=kind,
                    threshold=m,
                    n_train=len(train_x),
                    n_test=len(test_x),
                    n_events=int(test_y["event"].sum()),
                )
            )
    if not scores:
        return pd.DataFrame(), pd.DataFrame()
    return pd.concat(scores, ignore_index=True), pd.concat(preds, ignore_index=True)


def training_model(
    config: ExperimentConfig, replication: int, run_world: RunWorld, shared: Path | None = None
):
    """The fitted model of a release policy that needs one (memoised per process).

    It is trained on a ``aging.release.train_days`` run of the same world on its own
    random streams, with numbers held to their cap so that their residual traffic is seen
    as long as the rules allow, on the carrier's labels (of kind ``aging.labels``) for the
    release threshold.  With ``shared`` (an experiment's folder for its training runs)
    each training run's episodes are computed once for all the experiment's worker
    processes (:func:`_training_frame`).

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
    raw["aging"]["labels"] = "observed"  # labels do not change the world: one run serves all
    train_cfg = ExperimentConfig.model_validate(raw)
    world = (train_cfg.digest(), replication)
    if world not in _FRAMES:
        _FRAMES[world] = _training_frame(train_cfg, replication, run_world, shared)
    frame = _FRAMES[world]
    # one model per world, replication, labels and kind of policy: model_0.5 and
    # model_0.95 predict with the same fitted model
    name = release_policy_name(rel.policy)[0]
    key = (*world, rel.model, name, config.aging.labels, rel.threshold)
    if key not in _TRAINED:
        y = _surv(*labels(frame, rel.threshold, kind=config.aging.labels))
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


def _training_frame(
    config: ExperimentConfig, replication: int, run_world: RunWorld, shared: Path | None
) -> pd.DataFrame:
    """The episodes of the training run of ``config``'s replication.

    With ``shared``, they are kept there as Parquet (``<digest>-r<replication>.parquet``,
    written atomically): the first process to need them runs the world while holding a
    lock on the file's ``.lock``, the others wait and read it -- without it every worker
    process ran each replication's training world again (a whole run, for each of its
    model-driven points).  A resumed experiment reuses them.
    """
    if shared is None:
        return run_frame(run_world(config, TRAINING_POINT, replication))
    shared.mkdir(parents=True, exist_ok=True)
    path = shared / f"{config.digest()[:16]}-r{replication:03d}.parquet"
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            return pd.read_parquet(path).set_index("episode")
        frame = run_frame(run_world(config, TRAINING_POINT, replication))
        write_atomic(path, parquet_bytes(frame.reset_index()))
        return frame

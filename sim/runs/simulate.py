"""One run of the world: ``simulate`` for notebooks and for ``tnlab simulate``.

Written to a folder, a run is written whole: its tables go to a fresh hidden folder beside
the target, which replaces the target only once everything is finished, so an interrupted
or failed run leaves the folder as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from models.common import DAY
from models.screens import SCREENS

from ..config import ConfigError, stream_point, sweep_point
from ..config.experiment import ExperimentConfig
from ..config.plugins import load_plugins
from ..config.sweep import grid_size
from ..core.atomic import write_atomic
from ..core.seeding import Streams
from ..results.run import TABLES, SimResult
from ..studies import STUDIES
from ..world.calls import Policy
from ..world.footprint import check_fits
from ..world.recorder import Recorder
from ..world.world import Policies, World
from .manifest import run_manifest
from .outputs import swap_in
from .phases import mark

__all__ = ["check_simulate_target", "own_policies", "simulate", "study_policies"]


def _in_memory(config: ExperimentConfig, point: int, replication: int) -> SimResult:
    return simulate(config, point=point, replication=replication, progress=False)


def study_policies(config: ExperimentConfig, replication: int = 0, **given) -> Policies:
    """The policies every study plugs into a run of ``config`` (their training runs, if
    any, run now).

    Parameters
    ----------
    config : ExperimentConfig
    replication : int
        Which replication (training runs use its streams).
    **given
        Collaborators handed in instead of built (e.g. ``aging_model``).
    """
    load_plugins(config.plugins)  # a worker process may not have imported them yet
    policies = Policies()
    for study in STUDIES:
        policies = policies.merge(
            study.policies(config, replication=replication, run_world=_in_memory, given=given)
        )
    return policies


def own_policies(config: ExperimentConfig) -> list[Policy]:
    """The call-control policies the config's ``policies`` list names, built afresh."""
    return [
        SCREENS.build(entry["policy"], **{k: v for k, v in entry.items() if k != "policy"})
        for entry in config.policies
    ]


def check_simulate_target(out: Path, config: ExperimentConfig) -> None:
    """Refuse a folder that holds anything but an earlier run of the same configuration.

    Raises
    ------
    ConfigError
        An experiment's folder, another configuration's run, or a folder of other files.
    """
    out = Path(out)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if (out / "config.resolved.toml").exists():
        raise ConfigError(
            f"--out {out}: holds an experiment's results (tnlab run); choose another folder"
        )
    manifest = out / "manifest.json"
    if not manifest.exists():
        raise ConfigError(
            f"--out {out}: holds files that are not a tnlab run; choose another folder"
        )
    try:
        digest = json.loads(manifest.read_text()).get("config_sha256")
    except (OSError, ValueError, AttributeError):
        digest = None
    if digest != config.digest():
        raise ConfigError(
            f"--out {out}: holds the results of another configuration (or a damaged "
            "manifest); choose another folder or remove it"
        )


def _one_point(config: ExperimentConfig, point: int | None) -> tuple[ExperimentConfig, int]:
    """The configuration of one point and the point whose streams it uses."""
    if not config.sweep:
        return config, 0 if point is None else point
    if point is None:
        size = grid_size(config.sweep)
        raise ConfigError(
            f"the config sweeps {size} points: simulate one of them with point=N "
            f"(--point N), 0 to {size - 1}"
        )
    return sweep_point(config, point)[1], stream_point(config, point)


def simulate(
    config: ExperimentConfig,
    out: str | Path | None = None,
    *,
    point: int | None = None,
    replication: int = 0,
    policies: Sequence[Policy] = (),
    aging_model=None,
    training: Path | None = None,
    progress: bool = True,
) -> SimResult:
    """Run the world once.

    Parameters
    ----------
    config : ExperimentConfig
        The configuration; if it has a sweep, ``point`` picks one of its points.
    out : str or pathlib.Path, optional
        Directory for the Parquet tables and ``manifest.json``; tables stay in memory if None.
    point : int, optional
        Which sweep point this is (required when the config has a sweep; 0 by default
        otherwise).  With ``config.seed`` and ``replication`` it fixes the random streams,
        as in ``tnlab run``: the tables equal those of run ``pNNN-rRRR``.
    replication : int
        Which replication this is.
    policies : sequence of Policy
        More call-control policies (objects with ``screen(batch)``, see
        ``sim.world.calls.Policy``), after those the config names.
    aging_model : object, optional
        The fitted profile model of a release policy that needs one; by default one is
        trained on a separate run of the same world (``sim.studies.aging``).
    training : pathlib.Path, optional
        A folder the runs of one experiment share for the results of such training runs,
        so that each is computed once, whichever worker process needs it first.
    progress : bool
        Show a progress bar over simulated days (terminal or notebook).

    Returns
    -------
    SimResult

    Examples
    --------
    >>> from sim import load_config, simulate                      # doctest: +SKIP
    >>> res = simulate(load_config("experiments/quickstart.toml"))  # doctest: +SKIP
    >>> res.daily_calls.groupby("kind").attempts.sum()              # doctest: +SKIP
    """
    config, point = _one_point(config, point)
    if out is not None:
        check_simulate_target(Path(out), config)
    check_fits(config)
    given = {"aging_model": aging_model, "training": training}
    plugged = study_policies(config, replication, **given).merge(
        Policies(screens=[*own_policies(config), *policies])
    )
    names = [n for n in TABLES if n != "calls" or config.record.calls]
    if out is None:
        return _run(config, None, names, plugged, point, replication, progress)
    out = Path(out)
    fresh = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        manifest = _run(config, fresh, names, plugged, point, replication, progress).manifest
        swap_in(fresh, out)
        mark("swapped")
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return SimResult(config, out, {}, manifest)


def _run(
    config: ExperimentConfig,
    out: Path | None,
    names: list[str],
    plugged: Policies,
    point: int,
    replication: int,
    progress: bool,
) -> SimResult:
    """Run the world, writing its tables to the fresh folder ``out`` or keeping them."""
    recorder = Recorder(out, names)
    started = time.time()
    bar = tqdm(
        total=config.scenario.days, unit="day", desc=config.name, disable=not progress, leave=False
    )
    try:
        world = World(
            config,
            Streams(config.seed, point, replication),
            recorder,
            plugged,
            progress=lambda s: bar.update(s / DAY),
        )
        mark("built")
        world.simulate()
        mark("ran")
        recorder.finish()
        mark("finished")
    except BaseException:
        recorder.abandon()
        raise
    finally:
        bar.close()
    manifest = run_manifest(
        config,
        point=point,
        replication=replication,
        runtime_s=round(time.time() - started, 3),
        executor="serial",
        tables={n: t.rows for n, t in recorder.tables.items()},
    )
    if out is None:
        return SimResult(config, None, recorder.frames(), manifest)
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    return SimResult(config, out, {}, manifest)

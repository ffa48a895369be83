"""One run of the world: ``simulate`` for notebooks and for ``tnlab simulate``."""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Sequence

import pandas as pd
from tqdm.auto import tqdm

from .atomic import write_atomic
from .config import ExperimentConfig
from .pipeline import Policy
from .population import DAY
from .recorder import SCHEMAS, Recorder
from .seeding import Streams
from .world import World

__all__ = ["SimResult", "simulate", "run_manifest", "TABLES"]

TABLES = tuple(SCHEMAS)
"""Every table a run can write (``calls`` only when ``record.calls`` is true)."""


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
            text=True, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_manifest(config: ExperimentConfig, **extra) -> dict:
    """The provenance of a run or experiment: seed, config hash, versions, commit."""
    return {
        "name": config.name,
        "seed": config.seed,
        "config_sha256": config.digest(),
        "tnlab_version": metadata.version("tnlab"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "numpy": metadata.version("numpy"),
        "simpy": metadata.version("simpy"),
        **extra,
    }


@dataclass
class SimResult:
    """The tables of one run.

    Tables are DataFrames (see ``docs/tables.md``), either kept in memory or read lazily from
    the run's Parquet files.  ``result.calls`` is ``result.table("calls")``.
    """

    config: ExperimentConfig
    out: Path | None = None
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """One table by name."""
        if name not in self.frames:
            if self.out is None or not (self.out / f"{name}.parquet").exists():
                raise KeyError(f"no table {name!r} in this run")
            frame = pd.read_parquet(self.out / f"{name}.parquet")
            for col in SCHEMAS[name]:  # an empty table's Parquet file loses its categories
                if col.categories is not None:
                    frame[col.name] = pd.Categorical(frame[col.name], categories=col.categories)
            self.frames[name] = frame
        return self.frames[name]

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in TABLES:
            return self.table(name)
        raise AttributeError(name)


def simulate(config: ExperimentConfig, out: str | Path | None = None, *, point: int = 0,
             replication: int = 0, policies: Sequence[Policy] = (), aging_model=None,
             progress: bool = True) -> SimResult:
    """Run the world once.

    Parameters
    ----------
    config : ExperimentConfig
        The configuration (a single point: its sweep is ignored).
    out : str or pathlib.Path, optional
        Directory for the Parquet tables and ``manifest.json``; tables stay in memory if None.
    point, replication : int
        Which (sweep point, replication) this is: with ``config.seed`` they fix the streams.
    policies : sequence of Policy
        Call-control policies to plug into the pipeline.
    aging_model : object, optional
        The fitted profile model of a ``model``/``online`` release policy; by default one
        is trained on a separate run of the same world (``sim.aging_models``).
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
    if aging_model is None and config.aging.release.policy in ("model", "online"):
        from .aging_models import training_model  # it runs this function itself

        aging_model = training_model(config, replication)
    names = [n for n in TABLES if n != "calls" or config.record.calls]
    recorder = Recorder(out, names)
    started = time.time()
    bar = tqdm(total=config.scenario.days, unit="day", desc=config.name, disable=not progress,
               leave=False)
    try:
        world = World(config, Streams(config.seed, point, replication), recorder, policies,
                      progress=lambda s: bar.update(s / DAY), aging_model=aging_model)
        world.simulate()
        recorder.finish()
    except BaseException:
        recorder.abandon()
        raise
    finally:
        bar.close()
    manifest = run_manifest(
        config, point=point, replication=replication, runtime_s=round(time.time() - started, 3),
        executor="serial", tables={n: t.rows for n, t in recorder.tables.items()},
    )
    if out is None:
        return SimResult(config, None, recorder.frames(), manifest)
    out = Path(out)
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    return SimResult(config, out, {}, manifest)

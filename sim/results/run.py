"""One run's tables: a :class:`SimResult` holds them in memory or reads them lazily from the
run's Parquet files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config.experiment import ExperimentConfig
from ..world.schemas import SCHEMAS

__all__ = ["SimResult", "TABLES"]

TABLES = tuple(SCHEMAS)
"""Every table a run can write (``calls`` only when ``record.calls`` is true)."""


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

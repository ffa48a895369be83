"""One run's tables: a :class:`SimResult` holds them in memory or reads them lazily from the
run's Parquet files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import ConfigError
from ..config.experiment import ExperimentConfig
from ..world.schemas import SCHEMAS

__all__ = ["DamagedResults", "SimResult", "TABLES", "read_table"]


class DamagedResults(ConfigError):
    """A saved result is missing, truncated, corrupt or of the wrong shape (one line: the
    file and what to do)."""


RESUME_HINT = "run the same tnlab run command again: it redoes damaged runs"


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A saved Parquet table, or :class:`DamagedResults` naming the file.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    columns : list of str, optional
        Columns it must have (its schema).
    """
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise DamagedResults(f"{path}: missing; {RESUME_HINT}") from None
    except (OSError, ValueError) as err:
        raise DamagedResults(f"{path}: damaged ({type(err).__name__}); {RESUME_HINT}") from None
    if columns is not None and list(frame.columns) != list(columns):
        raise DamagedResults(f"{path}: has the wrong columns; {RESUME_HINT}")
    return frame


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
            path = None if self.out is None else self.out / f"{name}.parquet"
            recorded = name in self.manifest.get("tables", {})
            if path is None or not (path.exists() or recorded):
                raise KeyError(f"no table {name!r} in this run")
            frame = read_table(path, [c.name for c in SCHEMAS[name]])
            for col in SCHEMAS[name]:  # an empty table's Parquet file loses its categories
                if col.categories is not None:
                    frame[col.name] = pd.Categorical(frame[col.name], categories=col.categories)
            self.frames[name] = frame
        return self.frames[name]

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in TABLES:
            return self.table(name)
        raise AttributeError(name)

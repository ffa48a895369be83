"""Provenance of a run or an experiment: seed, config hash, versions, commit."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from ..config.experiment import ExperimentConfig

__all__ = ["git_commit", "run_manifest"]


def git_commit() -> str | None:
    """The commit tnlab runs from, if it runs from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_manifest(config: ExperimentConfig, **extra) -> dict:
    """The provenance of a run or experiment: seed, config hash, versions, commit, and
    whatever the caller adds."""
    return {
        "name": config.name,
        "seed": config.seed,
        "config_sha256": config.digest(),
        "tnlab_version": metadata.version("tnlab"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "numpy": metadata.version("numpy"),
        "simpy": metadata.version("simpy"),
        **extra,
    }

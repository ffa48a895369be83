"""Named random streams (the seeding contract in docs/architecture.md).

One root ``SeedSequence(experiment seed)``; a child per (sweep point, replication); below it a
child per named stream.  Children are addressed by ``spawn_key`` rather than spawned in
order, so a run's streams depend only on (seed, point, replication, stream name): never on
how many runs came before it, on the executor or on ``PYTHONHASHSEED`` (stream names are
turned into integers with CRC-32, not Python's salted ``hash``).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    """The random streams of one run.

    Parameters
    ----------
    seed : int
        The experiment seed.
    point : int
        Index of the sweep point.
    replication : int
        Index of the replication.

    Examples
    --------
    >>> streams = Streams(seed=7, point=0, replication=1)
    >>> rng = streams.get("subscribers")
    >>> streams.get("subscribers") is rng
    True
    """

    def __init__(self, seed: int, point: int = 0, replication: int = 0):
        self.seed = int(seed)
        self.point = int(point)
        self.replication = int(replication)
        self._run = np.random.SeedSequence(self.seed, spawn_key=(self.point, self.replication))
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator of stream ``name`` (created on first use, then shared)."""
        if name not in self._cache:
            key = self._run.spawn_key + (zlib.crc32(name.encode()),)
            seq = np.random.SeedSequence(self._run.entropy, spawn_key=key)
            self._cache[name] = np.random.Generator(np.random.PCG64(seq))
        return self._cache[name]

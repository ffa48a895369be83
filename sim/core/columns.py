"""Growable structure-of-arrays storage for entities with dense integer ids."""

from __future__ import annotations

import numpy as np

__all__ = ["GrowingColumns", "batch_rows"]


def batch_rows(values) -> int:
    """Rows in a batch of column values: the size of the largest array-like among them, or
    1 when every value is a scalar (scalars broadcast).  Called for every appended batch,
    so NumPy arrays and plain scalars take no NumPy call.

    Examples
    --------
    >>> batch_rows([np.arange(3), 5.0]), batch_rows([1, "x"]), batch_rows([np.empty(0), 1])
    (3, 1, 0)
    """
    rows = -1
    for v in values:
        if isinstance(v, np.ndarray):
            if v.ndim:
                rows = max(rows, v.size)
        elif not isinstance(v, (int, float, str, np.generic)) and np.ndim(v) > 0:
            rows = max(rows, np.size(v))
    return 1 if rows < 0 else rows


class GrowingColumns:
    """Named NumPy columns that grow by doubling; row ``i`` is the entity with id ``i``.

    Parameters
    ----------
    dtypes : dict
        Column name to NumPy dtype.
    capacity : int
        Initial capacity.

    Examples
    --------
    >>> cols = GrowingColumns({"x": "float64"})
    >>> cols.extend(x=[1.0, 2.0])
    array([0, 1])
    >>> cols["x"]
    array([1., 2.])
    """

    def __init__(self, dtypes: dict, capacity: int = 1024):
        self._data = {name: np.empty(max(capacity, 1), dtype=dt) for name, dt in dtypes.items()}
        self.n = 0

    def __len__(self) -> int:
        return self.n

    @property
    def names(self) -> tuple[str, ...]:
        """Column names."""
        return tuple(self._data)

    def __getitem__(self, name: str) -> np.ndarray:
        """View of the first ``n`` rows of a column (writable, shares memory)."""
        return self._data[name][: self.n]

    def extend(self, **values) -> np.ndarray:
        """Append rows (every column given, scalars broadcast); returns their ids."""
        k = batch_rows(values.values())
        if values.keys() != self._data.keys():
            raise KeyError(f"columns mismatch: {sorted(set(values) ^ set(self._data))}")
        start = self.grow(k)
        for name, value in values.items():
            self._data[name][start : start + k] = value
        return np.arange(start, start + k)

    def grow(self, k: int) -> int:
        """Append ``k`` rows left for the caller to fill in place; returns the first id."""
        cap = len(next(iter(self._data.values())))
        if self.n + k > cap:
            new = max(self.n + k, 2 * cap)
            for name, old in self._data.items():
                arr = np.empty(new, dtype=old.dtype)
                arr[: self.n] = old[: self.n]
                self._data[name] = arr
        self.n += k
        return self.n - k

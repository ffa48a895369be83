"""A counter-based hash: well-mixed bits from integers, with no random stream used."""

from __future__ import annotations

import numpy as np

__all__ = ["mix64"]

_GOLDEN, _MIX1, _MIX2 = (
    np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a well-mixed uint64 of each uint64.

    Examples
    --------
    >>> import numpy as np
    >>> mix64(np.arange(2, dtype=np.uint64)).dtype
    dtype('uint64')
    """
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))

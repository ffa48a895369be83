"""Release policies: when an aging number goes back to the pool of assignable numbers.

A policy decides in days since the disconnect; the simulator (or a carrier's own system)
keeps every decision within the number type's legal bounds ``[lo, hi]``: a number is held
at least ``lo`` days and released after ``hi`` days at the latest, whatever the policy
says.  A policy decides at the disconnect (:meth:`ReleasePolicy.at_disconnect`) or at the
end of each day (:meth:`ReleasePolicy.end_day`) from what the carrier observes on its
aging numbers -- an :class:`AgingView`, never the simulator's truth.

Built-ins (:data:`RELEASE_POLICIES`): ``drawn`` (uniform within the bounds), ``fixed``
(``fixed_<days>``), ``quiet`` (the trailing observed rate is within the release threshold),
``model`` (a fitted profile model's prediction at the disconnect) and ``online`` (that
model revised from the number's first days of aging traffic).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from ..registry import Registry
from .base import check_open_unit, check_positive
from .online import OnlineDecay

__all__ = [
    "AgingView",
    "Decisions",
    "Drawn",
    "Fixed",
    "ModelRelease",
    "OnlineRelease",
    "Quiet",
    "RELEASE_POLICIES",
    "ReleasePolicy",
]


class AgingView(Protocol):
    """What a release policy may see of the carrier's aging numbers.

    Episodes (one per disconnect) are dense integer ids.  Rates are calls per day.

    Attributes
    ----------
    disconnected_today : numpy.ndarray of int
        Episodes that began since the last day's end.
    background : float
        The background (spam) rate every number receives.
    release_rate : float
        The release threshold.
    """

    disconnected_today: np.ndarray
    background: float
    release_rate: float

    def episodes(self) -> np.ndarray:
        """Every episode so far."""

    def age(self, episodes: np.ndarray, t: float) -> np.ndarray:
        """Days since each episode's disconnect, at ``t`` (s)."""

    def aging(self, episodes: np.ndarray) -> np.ndarray:
        """Which episodes' numbers are still aging under that episode."""

    def lower_bound(self, episodes: np.ndarray) -> np.ndarray:
        """Each episode's legal minimum of days in aging."""

    def observed_rate(self, episodes: np.ndarray, t: float) -> np.ndarray:
        """All inbound calls per day over the trailing window, as the carrier sees them."""

    def features(self, episodes: np.ndarray, early: bool = False) -> pd.DataFrame:
        """What the carrier knew at each disconnect (``models.aging.FEATURES``), and with
        ``early`` the inbound calls of each of the first days of aging (``early_<d>``)."""


class Decisions:
    """What a policy decided at a day's end.

    Parameters
    ----------
    release : numpy.ndarray of int, optional
        Episodes whose numbers go back to the pool now.
    episodes, days : numpy.ndarray, optional
        Episodes to release ``days`` after their disconnect (clipped to the bounds, not
        before now).
    """

    def __init__(
        self,
        release: np.ndarray | None = None,
        episodes: np.ndarray | None = None,
        days: np.ndarray | None = None,
    ) -> None:
        none = np.empty(0, dtype=np.int64)
        self.release = none if release is None else np.asarray(release, dtype=np.int64)
        self.episodes = none if episodes is None else np.asarray(episodes, dtype=np.int64)
        self.days = np.empty(0) if days is None else np.asarray(days, dtype=np.float64)


class ReleasePolicy:
    """Base class of release policies.

    Class attributes
    ----------------
    needs_model : bool
        The policy predicts with a fitted profile model, handed in by :meth:`use_model`.
    name_parameter : str or None
        A parameter that may be given in the policy's name, e.g. ``fixed_90`` for
        ``Fixed(days=90)``.
    """

    needs_model: ClassVar[bool] = False
    name_parameter: ClassVar[str | None] = None

    def at_disconnect(self, lo: float, hi: float, rng: np.random.Generator) -> float | None:
        """Days in aging decided at the disconnect, or None to decide later."""
        return None

    def end_day(self, t: float, view: AgingView) -> Decisions:
        """Decisions at the end of the day ending at ``t`` (s)."""
        return Decisions()

    def early_days(self) -> int:
        """Days of early aging traffic the policy reads (``early_<d>`` features)."""
        return 0

    def model_for(self, base: Any, threshold: float, background: float) -> Any:
        """The unfitted model this policy predicts with, around the profile model ``base``
        (``threshold`` and ``background`` in calls/day)."""
        return base

    def use_model(self, model: Any) -> ReleasePolicy:
        """Hand in the fitted model (policies with :attr:`needs_model`); returns ``self``."""
        self.model_ = model
        return self


RELEASE_POLICIES: Registry[ReleasePolicy] = Registry("release policy", base=ReleasePolicy)
"""Release policies by config name (``aging.release.policy``); each is built from its
table ``[aging.release.policies.<name>]``."""


@RELEASE_POLICIES.register("drawn")
class Drawn(ReleasePolicy):
    """A uniform time within the bounds, drawn at the disconnect."""

    def at_disconnect(self, lo: float, hi: float, rng: np.random.Generator) -> float | None:
        return float(rng.uniform(lo, hi, 1)[0])


@RELEASE_POLICIES.register("fixed")
class Fixed(ReleasePolicy):
    """The same number of days for every number (clipped to the bounds).

    Parameters
    ----------
    days : float
        Days in aging (> 0); ``fixed_90`` names ``Fixed(days=90)``.
    """

    name_parameter = "days"

    def __init__(self, *, days: float) -> None:
        self.days = check_positive(days, "days")

    def at_disconnect(self, lo: float, hi: float, rng: np.random.Generator) -> float | None:
        return self.days


@RELEASE_POLICIES.register("quiet")
class Quiet(ReleasePolicy):
    """The first day's end, from the lower bound on, when everything the carrier sees
    calling the number over the trailing window, less the background rate, is within the
    release threshold."""

    def end_day(self, t: float, view: AgingView) -> Decisions:
        eps = view.episodes()
        if len(eps) == 0:
            return Decisions()
        eps = eps[(view.age(eps, t) >= view.lower_bound(eps)) & view.aging(eps)]
        quiet = view.observed_rate(eps, t) - view.background <= view.release_rate
        return Decisions(release=eps[quiet])


@RELEASE_POLICIES.register("model")
class ModelRelease(ReleasePolicy):
    """Released once the profile model gives probability ``quantile`` that the number is
    below the release threshold, predicted from what was known at the disconnect.

    Parameters
    ----------
    quantile : float
        Confidence in (0, 1) the policy needs before it releases a number; ``model_0.95``
        names ``ModelRelease(quantile=0.95)`` (``online_0.95`` likewise).
    """

    needs_model = True
    name_parameter = "quantile"

    def __init__(self, *, quantile: float) -> None:
        self.quantile = check_open_unit(quantile, "quantile")

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model_.predict_days(frame, q=1.0 - self.quantile), dtype=float)

    def end_day(self, t: float, view: AgingView) -> Decisions:
        today = view.disconnected_today
        if len(today) == 0:
            return Decisions()
        return Decisions(episodes=today, days=self._predict(view.features(today)))


@RELEASE_POLICIES.register("online")
class OnlineRelease(ModelRelease):
    """:class:`ModelRelease`, revised ``days`` days after the disconnect from the number's
    own aging traffic (:class:`~models.aging.online.OnlineDecay` around the model).

    Parameters
    ----------
    quantile : float
        Confidence in (0, 1) the policy needs before it releases a number.
    days : int
        Days of aging traffic read before the revision (>= 1).
    """

    def __init__(self, *, quantile: float, days: int) -> None:
        super().__init__(quantile=quantile)
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
            raise ValueError(f"days must be an integer >= 1, got {days!r}")
        self.days = int(days)

    def early_days(self) -> int:
        return self.days

    def model_for(self, base: Any, threshold: float, background: float) -> OnlineDecay:
        return OnlineDecay(base, thr=threshold, background_per_day=background)

    def end_day(self, t: float, view: AgingView) -> Decisions:
        eps = view.episodes()
        age = view.age(eps, t)
        due = eps[(age >= self.days) & (age < self.days + 1)]
        due = due[view.aging(due)]
        if len(due) == 0:
            return Decisions()
        return Decisions(episodes=due, days=self._predict(view.features(due, early=True)))

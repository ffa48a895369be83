"""Pool sizing policies: the baselines that decide how many tracking numbers a DNI pool
holds (vendors' rules, Erlang B planners, reactive policies).

Every policy is a :class:`PoolSizer` with one protocol, so that a simulator stepping every
``step_seconds`` (say 300 s) can drive any of them::

    sizer.reset(start_size)
    for each step:  n = sizer.size(t, busy, offered)   # pool size for [t, t + step)

``t`` is the simulation time in seconds (``t = 0`` is a midnight, so ``t % DAY`` is the
time of day), ``busy`` the numbers leased at ``t`` and ``offered`` the offered load
observed over the last step, in erlangs (``None`` when unknown).  Static planners fix
their size at construction and ignore ``busy`` and ``offered``; reactive ones
(:class:`UtilisationTrigger`, :class:`Autoscaler`) watch ``busy / size``.

Every planner exists twice: *fair*, planned from the demand the platform observed on earlier
days (:mod:`.observed`, registered under the plain names), and *oracle-informed*, planned
from the configured, true demand (registered as ``<name>_oracle_informed``; their class
attribute ``oracle_informed`` is True): a reference, not a policy a platform could run.

* :class:`OnePerTwentyVisitors` -- "1 number per 20 daily visitors per source"
  (CallTrackingMetrics support).
* :class:`PeakTimesSession` -- "pool = peak users/hour / (60 / session minutes)"
  (Nimbata help), i.e. ``N ≈ A`` at the peak, which blocks 21.5% at ``A = 10``.
* :class:`UtilisationTrigger` -- add a fixed step of numbers when 75% are in use.
* :class:`StaticErlang` -- Erlang B sized once for the peak load.
* :class:`TimeVaryingErlang` -- Erlang B sized per hour of day from a load profile.
* :class:`Autoscaler` -- +g% every 5 minutes while utilisation is high, up to a cap.

:func:`number_days` integrates a pool's sizes over time (the quantity a number rental is
billed on).  Sizes are rounded up; products such as ``120 * 45 / 60`` are rounded up
after discarding float noise below ``1e-12`` relative (so 90.00000000000001 is 90).
"""

from .base import SIZERS, PoolSizer, SizingContext, number_days

# Import order is registration order (SIZERS.names()): the oracle-informed planners
# <name>_oracle_informed, the fair planners one_per_twenty, peak_session, static_erlang,
# time_varying_erlang (observed demand), then utilisation and autoscaler.  Keep it.
# isort: off
from .planners import OnePerTwentyVisitors, PeakTimesSession, StaticErlang, TimeVaryingErlang
from .observed import (
    Demand,
    DemandHistory,
    ObservedOnePerTwenty,
    ObservedPeakSession,
    ObservedPlanner,
    ObservedStaticErlang,
    ObservedTimeVaryingErlang,
)
from .reactive import Autoscaler, UtilisationTrigger
# isort: on

__all__ = [
    "Autoscaler",
    "Demand",
    "DemandHistory",
    "ObservedOnePerTwenty",
    "ObservedPeakSession",
    "ObservedPlanner",
    "ObservedStaticErlang",
    "ObservedTimeVaryingErlang",
    "OnePerTwentyVisitors",
    "PeakTimesSession",
    "PoolSizer",
    "SIZERS",
    "SizingContext",
    "StaticErlang",
    "TimeVaryingErlang",
    "UtilisationTrigger",
    "number_days",
]

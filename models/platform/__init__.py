"""A multi-tenant softphone platform (system 7: US 11,546,463): queueing formulas, the
event engine that runs every tenant's calls, texts and outbound calls, and the policies
under study -- isolation, staffing, termination routing and media designs.

* :mod:`.queueing` -- Erlang C, Erlang A (Palm's M/M/n+M), staffing inverses, square-root
  staffing (Erlang B is :mod:`models.dni.erlang`'s);
* :mod:`.engine`, :mod:`.kernel`, :mod:`.core`, :mod:`.layout` -- the event engine (a
  Numba kernel with its plain-Python twin ``advance.py_func``);
* :mod:`.isolation`, :mod:`.staffing`, :mod:`.routing`, :mod:`.media` -- the registries
  ``ISOLATION_POLICIES``, ``STAFFING_POLICIES``, ``ROUTING_POLICIES``, ``MEDIA_DESIGNS``;
* :mod:`.forecast`, :mod:`.opsim` -- what an operator learns from its records, and its own
  simulation of a schedule.
"""

from .engine import Engine, Step, Structure, session_rows
from .forecast import Forecast, forecast
from .isolation import ISOLATION_POLICIES, IsolationContext, IsolationPolicy, Knobs
from .media import MEDIA_DESIGNS, MediaDesign
from .queueing import (
    ErlangA,
    erlang_a,
    erlang_a_staffing,
    erlang_c,
    erlang_c_mean_wait,
    erlang_c_service_level,
    erlang_c_staffing,
    square_root_staffing,
)
from .routing import ROUTING_POLICIES, RoutingContext, RoutingPolicy
from .staffing import STAFFING_POLICIES, StaffingContext, StaffingPolicy

__all__ = [
    "Engine",
    "ErlangA",
    "Forecast",
    "ISOLATION_POLICIES",
    "IsolationContext",
    "IsolationPolicy",
    "Knobs",
    "MEDIA_DESIGNS",
    "MediaDesign",
    "ROUTING_POLICIES",
    "RoutingContext",
    "RoutingPolicy",
    "STAFFING_POLICIES",
    "StaffingContext",
    "StaffingPolicy",
    "Step",
    "Structure",
    "erlang_a",
    "erlang_a_staffing",
    "erlang_c",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "erlang_c_staffing",
    "forecast",
    "session_rows",
    "square_root_staffing",
]

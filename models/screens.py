"""Call-control policies of one's own: the registry that an experiment's ``policies`` list
names.

A call-control policy sees each slice's calls as the network does and returns the calls to
block (``screen(batch) -> mask``); it may also define ``attach(context)``, called once before
the run with what a carrier's analytics may see (the numbers, the feed of new assignments and
their times, its own ``flags`` table and random streams).  The protocol and the context are
documented in ``sim.world.calls``; this module holds only the names, so that a config can be
checked without the simulator.  The built-in detection policy is not listed here: it is the
burst study's, configured by ``[detection]``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .registry import Registry

__all__ = ["SCREENS", "Screen"]


@runtime_checkable
class Screen(Protocol):
    """What a class needs to be registered as a call-control policy: a ``screen`` method
    (the typed protocol, with the batch it receives, is ``sim.world.calls.Policy``)."""

    def screen(self, batch: Any) -> Any:
        """The boolean mask of the batch's calls to block."""


SCREENS: Registry[Any] = Registry("call-control policy", base=Screen)
"""Call-control policies by config name: ``policies = [{policy = "name", ...}]``, where the
name is registered here or is ``"package.module:Class"`` (the class's constructor takes the
entry's other keys as keyword arguments)."""

"""Media designs: how many media-server ports a call holds (``MEDIA_DESIGNS``).

A *leg* is one party's media stream to the platform (the customer, an agent); a *port* is
one RTP termination on the platform's media servers.  Two designs (US 11,546,463 claims the
first):

* ``bridge`` -- direct bridging: the platform's back-to-back agent relays each leg, one
  port per leg; a call holds two (customer and agent); a blind transfer re-anchors the
  agent leg (still two); a warm transfer's consultation adds the second agent's leg.
* ``conference`` -- a conference session per call, as contact-centre platforms commonly
  build it: each leg terminates on the platform and joins the call's conference bridge by a
  secondary session (``secondary_per_leg`` more ports per leg), plus ``mixer_ports`` for
  the conference itself; a transfer adds a third leg to the conference.

A call reserves its design's :attr:`MediaDesign.call_ports` from admission to its end; a
warm transfer's consultation takes :attr:`MediaDesign.consult_ports` more while it lasts.
So the ports Erlang B asks for are ``call_ports`` times the calls Erlang B asks for
(:meth:`MediaDesign.ports_for`): a call is an indivisible request of ``call_ports``.
"""

from __future__ import annotations

from models.dni.erlang import servers_for_blocking
from models.registry import Registry

__all__ = ["MEDIA_DESIGNS", "Bridge", "Conference", "MediaDesign"]

MEDIA_DESIGNS: Registry = Registry("media design")
"""Media designs by name (built by the class; parameters in
``[platform.media_designs.<name>]``)."""


class MediaDesign:
    """Ports per leg of a design; a call has two legs, a consultation adds one.

    Attributes
    ----------
    ports_per_leg : int
        Ports one leg takes.
    mixer_ports : int
        Ports of a call's conference session itself (0 for bridging).
    """

    ports_per_leg = 1
    mixer_ports = 0

    @property
    def call_ports(self) -> int:
        """Ports a call holds (two legs, and a conference session if any)."""
        return 2 * self.ports_per_leg + self.mixer_ports

    @property
    def consult_ports(self) -> int:
        """Extra ports while a warm transfer's consultation lasts (a third leg)."""
        return self.ports_per_leg

    def ports(self, legs: int) -> int:
        """Ports held by a call with ``legs`` legs."""
        return legs * self.ports_per_leg + (self.mixer_ports if legs > 0 else 0)

    def ports_for(self, calls_erlangs: float, target: float) -> int:
        """Ports Erlang B asks for: ``call_ports`` times the fewest call slots that carry
        ``calls_erlangs`` at blocking ``target``."""
        if calls_erlangs <= 0:
            return 0
        return self.call_ports * int(servers_for_blocking(calls_erlangs, target))


@MEDIA_DESIGNS.register("bridge")
class Bridge(MediaDesign):
    """Direct bridging (the patent): one port per leg, transfers re-anchor the media."""


@MEDIA_DESIGNS.register("conference")
class Conference(MediaDesign):
    """A conference session per call: each leg joins it by a secondary session.

    Parameters
    ----------
    secondary_per_leg : int
        Extra ports per leg for its secondary session into the conference bridge.
    mixer_ports : int
        Ports of the conference session itself.
    """

    def __init__(self, *, secondary_per_leg: int, mixer_ports: int) -> None:
        if secondary_per_leg < 0 or mixer_ports < 0:
            raise ValueError("secondary_per_leg and mixer_ports must be >= 0")
        self.ports_per_leg = 1 + int(secondary_per_leg)
        self.mixer_ports = int(mixer_ports)

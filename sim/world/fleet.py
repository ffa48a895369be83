"""The fleet of desk phones over years: phones fail and are replaced; headsets are
borrowed, shared and moved between desks and users; each replacement is decided by the
policy under study from what the server observes, and judged against the truth.

The truth is the desk: a new phone belongs to the user of the desk it was installed at.
The server sees what the new phone reports (the headset plugged into it, a PIN or an
extension typed by the user) and what it keeps: each headset's mapping to the users it has
been reported with (forgotten ``mapping_days`` after it was last reported with a user),
and which phones are registered.  It never sees who sits where.

Every random draw has its own named stream below the run's ``fleet`` stream (``failures``,
``borrows``, ``shares``, ``moves``, ``replacements``, ``records``) and the number of draws
per event is fixed, so every policy of a replication faces the same failures, headset
events, forgotten PINs and administrator delays (common random numbers); the policy changes
only the decisions, never the fleet's history.
"""

from __future__ import annotations

import numpy as np

from models.common import DAY, HOUR
from models.provisioning.fleet import non_default_fields, score
from models.provisioning.records import Forwarding, PhoneConfig, SpeedDial, Voicemail
from models.provisioning.replacement import HeadsetId, ReplacementRequest

from .market import substream
from .schemas import FLEET_OUTCOMES, FLEET_REASONS, HEADSET_EVENTS

__all__ = ["YEAR", "Fleet", "phone_record"]

YEAR = 365.25 * DAY
"""Seconds per (Julian) year: the unit of the fleet's rates."""

_VENDORS = (0x0B0E, 0x047F, 0x1395)
"""USB vendor ids of headsets (GN Jabra, Plantronics/Poly, Sennheiser/EPOS)."""


def phone_record(user: int, rng: np.random.Generator) -> PhoneConfig:
    """A user's configured phone record: a number, a name, and -- as users configure them --
    speed dials, busy-lamp fields, services, forwarding and voicemail.

    Parameters
    ----------
    user : int
        The user (their number is derived from it).
    rng : numpy.random.Generator
        The user's own generator.
    """
    number = f"+1212{2000000 + user:07d}"
    speed = tuple(
        SpeedDial(label=f"sd{i}", target=f"+1212{3000000 + int(rng.integers(10**6)):07d}")
        for i in range(int(rng.poisson(3.0)))
    )
    blf = tuple(
        f"+1212{2000000 + int(rng.integers(10**6)):07d}" for _ in range(int(rng.poisson(1.5)))
    )
    services = ("directory", "xml_app")[: int(rng.integers(0, 3))]
    forwarding = Forwarding(no_answer="+12124560000") if rng.random() < 0.3 else Forwarding()
    voicemail = Voicemail(enabled=True, pilot="+12124569999") if rng.random() < 0.8 else Voicemail()
    return PhoneConfig(
        numbers=(number,),
        display_name=f"user {user}",
        speed_dials=speed,
        blf=blf,
        forwarding=forwarding,
        voicemail=voicemail,
        services=services,
        dnd=bool(rng.random() < 0.05),
    )


class Fleet:
    """The phone fleet of a world (``fleet.enabled``).

    Parameters
    ----------
    env : simpy.Environment
    cfg : sim.config.fleet.Fleet
        The ``[fleet]`` section.
    policy : models.provisioning.replacement.ReplacementPolicy
        The replacement policy under study.
    horizon : float
        End of the run (s).
    tables : dict of Table
        ``fleet_replacements`` and ``fleet_headsets``.
    rng : numpy.random.Generator
        The ``fleet`` stream (the fleet's streams are named below it).
    """

    def __init__(self, *, env, cfg, policy, horizon, tables, rng):
        for name, value in dict(env=env, cfg=cfg, policy=policy, tables=tables, rng=rng).items():
            if value is None:
                raise TypeError(f"Fleet: collaborator {name!r} is not connected")
        self.env, self.cfg, self.policy, self.horizon = env, cfg, policy, float(horizon)
        self.tables = tables
        self.rng = {
            name: substream(rng, name)
            for name in ("failures", "borrows", "shares", "moves", "replacements", "records")
        }
        n = cfg.phones
        self.n = n
        owned = self.rng["records"].random(n) < cfg.headset_share
        self.headsets = np.flatnonzero(owned)
        # what each user uses at their desk (-1: none); users of each headset (1 or 2,
        # 0 once retired); a borrowed headset's borrower; when each user stopped using it
        self.uses = np.where(owned, np.arange(n), -1)
        self.users: dict[int, list[int]] = {int(h): [int(h)] for h in self.headsets}
        self.lent_to: dict[int, int] = {}
        self.stopped: dict[int, dict[int, float]] = {int(h): {} for h in self.headsets}
        self.down = np.zeros(n, dtype=bool)
        self.pending = np.zeros(n, dtype=bool)
        self._records_key = int(self.rng["records"].integers(2**63))
        self._configured: dict[int, frozenset[str]] = {}

    # -- the server's view -------------------------------------------------------------
    def _active(self, h: int) -> list[int]:
        """Users reporting headset ``h`` now (its borrower while it is lent)."""
        return [self.lent_to[h]] if h in self.lent_to else list(self.users.get(h, []))

    def mapping(self, h: int, now: float, coin: float) -> tuple[int, int | None]:
        """How many users the server maps ``h`` to, and the most recently reported one
        (of two users sharing it, ``coin`` < 0.5 picks the first)."""
        active = self._active(h)
        recent = {
            u: t
            for u, t in self.stopped.get(h, {}).items()
            if now - t < self.cfg.mapping_days * DAY and u not in active
        }
        count = len(active) + len(recent)
        if active:
            latest = active[0] if len(active) == 1 or coin < 0.5 else active[1]
        elif recent:
            latest = max(recent, key=recent.__getitem__)
        else:
            latest = None
        return count, latest

    def configured(self, user: int) -> frozenset[str]:
        """The user's configured fields (their record is drawn from its own generator)."""
        if user not in self._configured:
            rng = np.random.default_rng([self._records_key, user])
            self._configured[user] = non_default_fields(phone_record(user, rng))
        return self._configured[user]

    # -- processes ------------------------------------------------------------------------
    def setup(self) -> None:
        """Start the fleet's processes."""
        cfg, env = self.cfg, self.env
        env.process(self._poisson(cfg.failures_per_year * self.n, "failures", self._fail))
        hs = len(self.headsets)
        env.process(self._poisson(cfg.borrows_per_year * hs, "borrows", self._borrow))
        env.process(self._poisson(cfg.shares_per_year * hs, "shares", self._share))
        env.process(self._poisson(cfg.moves_per_year * hs, "moves", self._move))

    def _poisson(self, per_year: float, stream: str, act):
        """Events at ``per_year`` a year until the horizon, each handed its stream."""
        if per_year <= 0:
            return
        rng = self.rng[stream]
        while True:
            yield self.env.timeout(rng.exponential(YEAR / per_year))
            if self.env.now >= self.horizon:
                return
            act(rng)

    def _pick(self, rng: np.random.Generator) -> tuple[int, int]:
        """A headset held by one user and not lent, and another user (or -1s): always two
        draws, whatever is eligible."""
        i, other = rng.integers(len(self.headsets)), int(rng.integers(self.n))
        h = int(self.headsets[i])
        users = self.users[h]
        if len(users) != 1 or h in self.lent_to or other == users[0]:
            return -1, -1
        if not self._free(other):
            return -1, -1
        return h, other

    def _free(self, user: int) -> bool:
        """Uses nothing or a headset of their own that is theirs alone (not borrowing, not
        sharing, not lending)."""
        h = int(self.uses[user])
        if h < 0:
            return not any(self.users.get(g) == [user] for g in self.lent_to)
        return self.users.get(h) == [user] and h not in self.lent_to

    def _log(self, h: int, kind: str, a: int, b: int) -> None:
        self.tables["fleet_headsets"].append(
            t=self.env.now,
            headset=h,
            kind=HEADSET_EVENTS.index(kind),
            from_user=a,
            to_user=b,
        )

    def _retire_own(self, user: int) -> None:
        """A user taking another headset for good puts their own away."""
        own = int(self.uses[user])
        if own >= 0:
            self.users[own] = []
            self.stopped[own][user] = self.env.now

    def _borrow(self, rng: np.random.Generator) -> None:
        h, b = self._pick(rng)
        days = float(self.cfg.borrow_days.sample(rng, 1)[0])
        if h < 0:
            return
        a = self.users[h][0]
        self.lent_to[h] = b
        self.stopped[h][a] = self.env.now
        self.uses[a] = -1
        own = int(self.uses[b])
        self.uses[b] = h
        self._log(h, "borrow", a, b)
        self.env.process(self._give_back(h, a, b, own, days * DAY))

    def _give_back(self, h: int, a: int, b: int, own: int, after: float):
        yield self.env.timeout(after)
        del self.lent_to[h]
        self.stopped[h][b] = self.env.now
        self.uses[b] = own
        self.uses[a] = h
        self._log(h, "return", b, a)

    def _share(self, rng: np.random.Generator) -> None:
        h, b = self._pick(rng)
        if h < 0:
            return
        self._retire_own(b)
        self.users[h] = [self.users[h][0], b]
        self.uses[b] = h
        self._log(h, "share", self.users[h][0], b)

    def _move(self, rng: np.random.Generator) -> None:
        h, b = self._pick(rng)
        if h < 0:
            return
        a = self.users[h][0]
        self._retire_own(b)
        self.users[h] = [b]
        self.stopped[h][a] = self.env.now
        self.uses[a] = -1
        self.uses[b] = h
        self._log(h, "move", a, b)

    def _fail(self, rng: np.random.Generator) -> None:
        user = int(rng.integers(self.n))
        r = self.rng["replacements"]
        draws = {
            "still_up": r.random(),
            "install": float(self.cfg.install_hours.sample(r, 1)[0]),
            "location": r.random(),
            "latest": r.random(),
            "forget": r.random(),
            "knows": r.random(),
            "admin": float(self.cfg.admin_hours.sample(r, 1)[0]),
        }
        if self.pending[user]:
            return  # already being replaced
        self.pending[user] = True
        still_up = draws["still_up"] < self.cfg.still_registered_share
        self.down[user] = not still_up
        self.env.process(self._replace(user, self.env.now, still_up, draws))

    def _replace(self, user: int, failed: float, still_up: bool, d: dict):
        yield self.env.timeout(d["install"] * HOUR)
        if self.env.now >= self.horizon:
            return
        request, h, found, count = self._request(user, d)
        decision = self.policy.decide(request)
        s = score(decision, desk_user=user, found_user=found, configured=self.configured(user))
        service = d["install"] + (d["admin"] if s.admin_touches else 0.0)
        self.tables["fleet_replacements"].append(
            t=failed,
            user=user,
            headset=h,
            headset_users=count,
            found_user=-1 if found is None else found,
            still_registered=still_up,
            pin_offered=request.pin_ok is not None,
            pin_ok=bool(request.pin_ok),
            outcome=FLEET_OUTCOMES.index(decision.outcome),
            reason=FLEET_REASONS.index(decision.reason or "accepted"),
            wrong_user=s.wrong_user,
            protective=s.protective,
            fields_lost=s.fields_lost,
            admin_touches=s.admin_touches,
            install_hours=d["install"],
            service_hours=service,
        )
        self.down[user] = False
        self.pending[user] = False

    def _request(self, user: int, d: dict) -> tuple[ReplacementRequest, int, int | None, int]:
        """What the server observes of the new phone at ``user``'s desk; the headset at the
        desk (-1: none), the user whose record the identifier finds, and how many users
        the server maps the headset to."""
        cfg, policy = self.cfg, self.policy
        h = int(self.uses[user])
        if h >= 0 and len(self._active(h)) == 2 and d["location"] >= 0.5:
            h = -1  # a shared headset that is at the partner's desk today
        count, latest = (0, None) if h < 0 else self.mapping(h, self.env.now, d["latest"])
        if policy.key == "headset":
            found = latest
        elif policy.key == "extension":
            found = user  # the user types their own extension
        else:
            found = None
        pin_ok = None  # the phone asks for a PIN only once a record is found
        if policy.needs_pin and found is not None:
            if d["forget"] < cfg.pin_forget:
                pin_ok = False
            else:
                pin_ok = found == user or d["knows"] < cfg.pin_known_by_other
        headset = None
        if h >= 0:
            headset = HeadsetId(_VENDORS[h % 3], h % 0x10000, f"HS{h:09d}")
        request = ReplacementRequest(
            new_mac=f"0004f2{user:06x}"[-12:],
            headset=headset,
            pin_ok=pin_ok,
            extension=f"x{user}" if policy.key == "extension" else None,
            extension_known=policy.key == "extension",
            old_registered=found is not None and not self.down[found],
            headset_users=count,
        )
        return request, h, found, count

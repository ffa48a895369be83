"""The platform's structure from its config: queues (tenant x skill x channel), agent groups
(one per skill: the agents whose primary skill it is, who also serve the skills it lists
in ``also``), business hours by hour of the week, and the policies a world runs when no
study hands any in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models.platform import Structure
from models.platform import layout as L

from ...config.platform import Platform

__all__ = ["Layout", "PlatformPolicies", "layout_of", "structure_of"]

OUTBOUND_PRIORITY = -1000
"""Outbound dial tasks come after every inbound session."""


@dataclass(frozen=True)
class Layout:
    """Queues and agent groups of a platform config.

    Attributes
    ----------
    queue_tenant, queue_skill, queue_channel, queue_priority : numpy.ndarray
    queue_base : numpy.ndarray
        First queue of each tenant (queue of skill s, channel c: ``base + 3 s + c``).
    group_tenant, group_skill, group_mask, group_capacity, group_wrap : numpy.ndarray
    fixed : numpy.ndarray
        Configured agents per group.
    open : numpy.ndarray
        ``(groups, 168)`` whether the group's tenant is open in each hour of the week.
    transfer_target : numpy.ndarray
        Group each group's transfers go to (-1: none).
    """

    queue_tenant: np.ndarray
    queue_skill: np.ndarray
    queue_channel: np.ndarray
    queue_priority: np.ndarray
    queue_base: np.ndarray
    group_tenant: np.ndarray
    group_skill: np.ndarray
    group_mask: np.ndarray
    group_capacity: np.ndarray
    group_wrap: np.ndarray
    fixed: np.ndarray
    open: np.ndarray
    transfer_target: np.ndarray


def layout_of(cfg: Platform) -> Layout:
    """The queues and groups of ``cfg``."""
    qt, qs, qc, qp, base = [], [], [], [], []
    gt, gs, gm, gc, gw, fixed, opened, target = [], [], [], [], [], [], [], []
    for k, t in enumerate(cfg.tenants):
        base.append(len(qt))
        names = [s.name for s in t.skills]
        first = len(gt)
        hours = np.zeros(168, dtype=bool)
        for d in range(7):
            if t.weekly[d] > 0:
                hours[d * 24 + t.open_hours[0] : d * 24 + t.open_hours[1]] = True
        for j, s in enumerate(t.skills):
            for c, prio in ((L.VOICE, s.priority), (L.TEXT, s.priority - 1)):
                qt.append(k), qs.append(j), qc.append(c), qp.append(prio)
            qt.append(k), qs.append(j), qc.append(L.OUTBOUND), qp.append(OUTBOUND_PRIORITY)
            mask = 1 << j
            for other in s.also:
                mask |= 1 << names.index(other)
            gt.append(k), gs.append(j), gm.append(mask), gc.append(t.text_capacity)
            gw.append(t.wrap_seconds), fixed.append(s.agents), opened.append(hours)
        for s in t.skills:
            moves = s.blind_transfer + s.warm_transfer > 0
            target.append(first + names.index(s.transfer_to) if moves else -1)
    ints = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return Layout(
        ints(qt), ints(qs), ints(qc), ints(qp), ints(base),
        ints(gt), ints(gs), ints(gm), ints(gc), np.asarray(gw, dtype=float),
        ints(fixed), np.array(opened, dtype=bool).reshape(len(gt), 168), ints(target),
    )  # fmt: skip


def structure_of(cfg: Platform, lay: Layout, schedule: np.ndarray, media: Any) -> Structure:
    """The engine's structure: agents enough for the schedule's busiest hour per group."""
    c = cfg.carriers
    return Structure(
        queue_tenant=lay.queue_tenant,
        queue_skill=lay.queue_skill,
        queue_channel=lay.queue_channel,
        queue_priority=lay.queue_priority,
        group_tenant=lay.group_tenant,
        group_skill=lay.group_skill,
        group_mask=lay.group_mask,
        group_size=np.asarray(schedule, dtype=np.int64).max(axis=1, initial=0),
        group_capacity=lay.group_capacity,
        n_tenants=len(cfg.tenants),
        trunks=cfg.trunks,
        ports=cfg.media_ports,
        call_ports=media.call_ports,
        consult_ports=media.consult_ports,
        carrier_cap=np.array([x.channels for x in c], dtype=np.int64),
        carrier_cps=np.array([x.cps for x in c]),
        carrier_asr=np.array([x.asr for x in c]),
        carrier_billing=np.array([x.billing_seconds for x in c], dtype=np.int64),
        max_attempts=cfg.max_attempts,
        failover_seconds=cfg.failover_seconds,
        ring_timeout=cfg.ring_timeout_seconds,
    )


@dataclass
class PlatformPolicies:
    """The policies under study that the platform is handed.

    Attributes
    ----------
    isolation : models.platform.IsolationPolicy
    schedule : numpy.ndarray
        ``(groups, 168)`` agents on shift per group and hour of the week (Monday first).
    routing : models.platform.RoutingPolicy
    media : models.platform.MediaDesign
    """

    isolation: Any
    schedule: np.ndarray
    routing: Any
    media: Any

    @classmethod
    def from_config(cls, cfg: Platform) -> PlatformPolicies:
        """What the config names, with the configured (fixed) staffing."""
        lay = layout_of(cfg)
        return cls(
            isolation=cfg.build_isolation(),
            schedule=np.where(lay.open, lay.fixed[:, None], 0).astype(np.int64),
            routing=cfg.build_routing(),
            media=cfg.build_media(),
        )

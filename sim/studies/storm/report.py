"""The restart-storm section of the report: headline figures with 95% intervals, the
registrations over time, time-to-service against each policy's setting beside the fluid
bound ``N / C``, and what the evidence says (:mod:`.evidence`).

A share that is 0 in every replication (timeouts, numbers reassigned) is written as the
pooled count with its exact Clopper-Pearson bound, never "0 ± 0".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from models.provisioning.storm import fluid_drain_seconds
from models.stats import mean_ci

from ...results.store import ExperimentResult
from ..render import ci_table, figure, table
from .evidence import evidence, exact_text, families
from .values import Point, storm_points, values

__all__ = ["storm_section"]

HEADLINE = [
    ("storm.time_to_all", "every phone registered after (s)"),
    ("storm.registered_p95", "95% of phones registered after (s)"),
    ("storm.service_mean", "mean delay added to a phone's boot (s)"),
    ("storm.unregistered_share", "phones not registered by the horizon"),
    ("storm.timeouts", "transaction timeouts (Timer F)"),
    ("storm.timed_out_share", "phones with a timeout"),
    ("storm.rejected", "503s with Retry-After"),
    ("storm.messages_per_phone", "messages sent per phone"),
    ("storm.wasted_messages", "messages that registered no phone"),
    ("storm.dropped_full", "… dropped: queue full"),
    ("storm.dropped_limit", "… dropped: rate limiter"),
    ("storm.duplicates", "retransmissions the server answered again"),
    ("storm.stale", "negotiations for phones that had given up"),
    ("storm.wasted_work_share", "server time not spent registering"),
    ("storm.reassigned_share", "registered phones given another number"),
]


def _headline(result: ExperimentResult, pts: list[Point]) -> str:
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in HEADLINE])]
    if m.empty:
        return "<p>No run finished.</p>"
    labels = {p.index: p.label for p in pts}
    wide = ci_table(m, names=HEADLINE, col_labels=labels)
    row = {label: key for key, label in HEADLINE}
    for i, label in enumerate(wide.iloc[:, 0]):
        for p in pts:
            exact = exact_text(result, row[label], p.index)
            if exact is not None and p.label in wide.columns:
                wide.loc[i, p.label] = exact
    return table(wide)


def _registrations_figure(result: ExperimentResult, pts: list[Point]) -> str:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for p in pts:
        try:
            run = result.run(p.index, 0)
            reg = np.sort(run.storm_phones["registered"].to_numpy(np.float64))
            sec = run.storm_seconds
        except (KeyError, OSError, ValueError):  # a failed run: listed at the top
            continue
        reg = reg[np.isfinite(reg)]
        color = plt.get_cmap("tab20")(p.index % 20)
        ax.plot(reg, np.arange(1, len(reg) + 1), lw=1.2, color=color, label=p.label)
        ax2.plot(sec["second"], sec["sent"], lw=0.9, color=color, label=p.label)
    cfg = result.config.storm
    ax.axvline(cfg.target_seconds, color="k", ls="--", lw=1, label="target")
    ax.set_xlabel("seconds after power returned")
    ax.set_ylabel("phones registered")
    ax.set_title("Registrations over time (replication 0)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax2.set_xlabel("seconds after power returned")
    ax2.set_ylabel("messages sent per second (log scale)")
    ax2.set_yscale("symlog", linthresh=10)
    ax2.axhline(cfg.capacity, color="k", lw=1, ls=":", label="server capacity C")
    ax2.set_title("Offered load on the server (replication 0)")
    ax2.grid(alpha=0.3)
    return figure(
        fig,
        "Left: how many phones are registered, against seconds since power returned, one "
        "line per policy (first replication); the dashed line is the time-to-service "
        "target. Right: messages the phones send each second (first copies and "
        "retransmissions) against the server's capacity; what exceeds it is dropped, "
        "refused or queued.",
    )


def _settings_figure(result: ExperimentResult, pts: list[Point]) -> str:
    fams = families(pts)
    if not fams:
        return ""
    cfg = result.config.storm
    fig, axes = plt.subplots(1, len(fams), figsize=(4.6 * len(fams), 4), squeeze=False)
    for ax, ((policy, _), fam) in zip(axes[0], fams.items()):
        x, y, h = [], [], []
        for p in fam:
            mean, half = mean_ci(values(result, "storm.time_to_all", [p]).iloc[:, 0])
            x.append(p.setting)
            y.append(mean)
            h.append(half if np.isfinite(half) else 0.0)
        ax.errorbar(x, y, yerr=h, fmt="o-", capsize=4, label="every phone registered")
        ax.axhline(cfg.target_seconds, color="k", ls="--", lw=1, label="target")
        if policy in ("jitter", "combined"):
            bound = fluid_drain_seconds(cfg.phones, cfg.capacity)
            ax.axvline(bound, color="C3", ls=":", lw=1.2, label=f"N/C = {bound:g} s")
        ax.set_xlabel(f"{policy}: {fam[-1].knob_name}")
        ax.set_ylabel("seconds after power returned")
        ax.set_title(policy)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return figure(
        fig,
        "Time until the last phone registered (mean and 95% interval across replications) "
        "against each policy's setting; for jitter and Retry-After the point at 0 is running "
        "no policy. The dashed line is the target; the dotted line the fluid bound N/C, the "
        "shortest window whose mean arrival rate the server can absorb.",
    )


def storm_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the restart-storm section."""
    cfg = result.config.storm
    pts = storm_points(result, labels)
    bound = fluid_drain_seconds(cfg.phones, cfg.capacity)
    parts = [
        "<h2>Restart storm</h2>",
        f"<p>{cfg.phones:,} phones lose power together and renegotiate with one "
        f"provisioning server completing {cfg.capacity:,.0f} negotiations a second from a "
        f"queue of {cfg.queue_limit:,} messages (the fluid bound N/C = {bound:,.4g} s). Each "
        f"negotiation is a non-INVITE transaction over UDP with the timers of RFC 3261 "
        f"(T1 = {cfg.t1_seconds:g} s, T2 = {cfg.t2_seconds:g} s, Timer F = "
        f"{cfg.timer_f:g} s); after a timeout a phone waits {cfg.retry_seconds:g} s. Every "
        "policy of a replication faces the same phones (boot times, jitter and Retry-After "
        "draws: common random numbers). Means ± 95% confidence half-widths across "
        f"replications; the target is every phone registered within "
        f"{cfg.target_seconds:g} s.</p>",
        _headline(result, pts),
        _registrations_figure(result, pts),
        _settings_figure(result, pts),
        "<h3>What the evidence says</h3>",
        evidence(result, pts),
    ]
    return "".join(parts)

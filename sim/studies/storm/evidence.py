"""What the storm evidence says, generated from the tests that support it.

* **Recommendation** (per policy with a setting -- jitter window, Retry-After --, its
  ``none`` point counting as setting 0): a setting *meets the target* if every phone
  registered before the horizon in every replication and the upper end of the 95%
  Student-t interval of the time until every phone registered is at most
  ``storm.target_seconds`` (the stated margin); the smallest setting run that meets it is
  recommended, and only with at least :data:`MIN_REPLICATIONS` replications.
* **Timeouts vanish**: per setting, the phones that saw a Timer F expiry pooled over
  replications, with an exact Clopper-Pearson bound when there were none, beside the fluid
  bound ``N / C``.
* **Comparison**: :func:`models.evidence.best_option` on the time until every phone is
  registered among the settings that meet the target (paired: common random numbers), and
  the recommended setting's paired differences against running no policy.
* **Persistence**: registered phones given another number than before, pooled, with its
  exact bound.
"""

from __future__ import annotations

import html

import numpy as np

from models.evidence import best_option, paired_difference, rate_text
from models.provisioning.storm import STORM_POLICIES, fluid_drain_seconds

from ...results.store import ExperimentResult
from ..render import verdict
from .values import Point, exact_text, upper_bound, values

__all__ = ["MIN_REPLICATIONS", "evidence", "exact_text", "families", "meets_target"]

MIN_REPLICATIONS = 5
"""Replications below which nothing is recommended."""


def families(pts: list[Point]) -> dict[tuple[str, str], list[Point]]:
    """Points of each policy with a setting, in one context, by setting; the ``none``
    point of that context first (setting 0)."""
    out: dict[tuple[str, str], list[Point]] = {}
    for p in pts:
        if p.knob is not None:
            out.setdefault((p.policy, p.context), []).append(p)
    for (policy, context), fam in out.items():
        fam.sort(key=lambda p: p.setting)
        if STORM_POLICIES[policy].zero_is_none:
            fam[:0] = [p for p in pts if p.policy == "none" and p.context == context]
    return out


def _count(result: ExperimentResult, share: str, of: str, p: Point) -> tuple[int, int]:
    """A share's events and trials pooled over replications."""
    s = values(result, share, [p]).iloc[:, 0]
    n = values(result, of, [p]).iloc[:, 0]
    ok = np.isfinite(s) & np.isfinite(n)
    return int(round(float((s[ok] * n[ok]).sum()))), int(n[ok].sum())


def meets_target(result: ExperimentResult, p: Point) -> tuple[bool, float, int]:
    """(meets, upper bound of the time until every phone registered, replications)."""
    cfg = result.config.storm
    done = values(result, "storm.all_registered", [p]).iloc[:, 0].dropna()
    reps = len(done)
    upper = upper_bound(result, "storm.time_to_all", p)
    ok = bool(reps >= 2 and (done == 1).all() and np.isfinite(upper))
    return ok and upper <= cfg.target_seconds, upper, reps


def _setting(p: Point) -> str:
    if p.policy == "none":
        return "no policy"
    return f"{p.knob_name} = {p.setting:g}"


def _timeouts(result: ExperimentResult, fams) -> str:
    cfg = result.config.storm
    bound = fluid_drain_seconds(cfg.phones, cfg.capacity)
    rows = []
    for (policy, _), fam in fams.items():
        cells, vanish = [], None
        for p in fam:
            k, n = _count(result, "storm.timed_out_share", "storm.phones", p)
            cells.append(f"{html.escape(_setting(p))}: {rate_text(k, n)}")
            if k == 0 and n > 0:
                vanish = p if vanish is None else vanish
            else:
                vanish = None
        text = f"<li><b>{html.escape(policy)}</b> — phones with a timeout: " + "; ".join(cells)
        if vanish is not None and vanish.policy != "none":
            text += (
                f". Timeouts vanish from {html.escape(_setting(vanish))} on (no phone timed "
                "out at it or at any larger setting run)"
            )
            if policy in ("jitter", "combined"):
                text += f", beside the fluid bound N/C = {bound:,.4g} s"
        elif vanish is None:
            text += ". Timeouts did not vanish at the settings run"
        rows.append(text + ".</li>")
    return (
        "<p><b>Transaction timeouts.</b> Phones that saw Timer F expire, pooled over "
        "replications (95% Clopper-Pearson bounds):</p><ul>" + "".join(rows) + "</ul>"
    )


def _recommend(result: ExperimentResult, fams, pts: list[Point]) -> tuple[str, list[Point]]:
    cfg = result.config.storm
    reps = result.config.replications
    parts, eligible_all = [], []
    for (policy, _), fam in fams.items():
        judged = [(p, *meets_target(result, p)) for p in fam]
        eligible = [p for p, ok, _, _ in judged if ok]
        eligible_all += [p for p in eligible if p not in eligible_all]
        shown = "; ".join(
            f"{html.escape(_setting(p))}: {'meets' if ok else 'misses'} ({ub:,.1f} s)"
            if np.isfinite(ub)
            else f"{html.escape(_setting(p))}: not every phone registered / no interval"
            for p, ok, ub, _ in judged
        )
        head = (
            f"<p><b>{html.escape(policy)}.</b> Upper end of the 95% interval of the time until "
            f"every phone registered, against the target of {cfg.target_seconds:g} s: "
            f"{shown}.</p>"
        )
        if reps < MIN_REPLICATIONS:
            parts.append(
                head + f"<p>{reps} replication(s): at least {MIN_REPLICATIONS} are needed "
                "before a setting is recommended, so none is.</p>"
            )
            continue
        if not eligible:
            parts.append(head + "<p>No setting run meets the target, so none is recommended.</p>")
            continue
        best = eligible[0]
        if best.policy == "none":
            parts.append(
                head + f"<p><b>No {html.escape(policy)} is needed</b> to meet the target: "
                "with no policy every phone registered within it in every replication.</p>"
            )
            continue
        text = (
            f"<p><b>Recommended for {html.escape(policy)}: {html.escape(_setting(best))}</b> "
            "— the smallest setting run that meets the target in every replication"
        )
        smaller = [p for p in fam if p.setting < best.setting]
        if smaller:
            text += f" (the next smaller, {html.escape(_setting(smaller[-1]))}, misses it)"
        none = [p for p in fam if p.policy == "none"]
        if none and best.policy != "none":
            text += ". Against no policy, paired by replication (95% CI): " + "; ".join(
                f"{what} {_diff(result, metric, best, none[0], fmt)}"
                for metric, what, fmt in (
                    ("storm.time_to_all", "time until every phone registered", "{:,.1f} s"),
                    ("storm.timeouts", "timeouts", "{:,.0f}"),
                    ("storm.wasted_messages", "wasted messages", "{:,.0f}"),
                )
            )
        parts.append(head + text + ".</p>")
    return "".join(parts), eligible_all


def _diff(result, metric: str, a: Point, b: Point, fmt: str) -> str:
    v = values(result, metric, [a, b])
    d = paired_difference(v.iloc[:, 0], v.iloc[:, 1])
    if d.n == 0:
        return "not observed"
    diffs = (v.iloc[:, 0] - v.iloc[:, 1]).dropna()
    if d.n > 1 and (diffs == diffs.iloc[0]).all():
        return f"{fmt.format(diffs.iloc[0])} in each of the {d.n} paired replications"
    sig = "significant" if d.above() or d.below() else "not significant"
    return f"{d.text(fmt)} ({sig})"


def _compare(result: ExperimentResult, eligible: list[Point]) -> str:
    if len(eligible) < 2 or result.config.replications < MIN_REPLICATIONS:
        return ""
    v = values(result, "storm.time_to_all", eligible)
    parts = [
        "<p>Among the settings that meet the target, on the time until every phone is "
        "registered: "
        + verdict(
            best_option(v, lower_is_better=True),
            what="time until every phone is registered",
            lower_is_better=True,
            fmt="{:,.1f}",
            unit=" s",
        )
        + "</p>"
    ]
    v = values(result, "storm.wasted_messages", eligible)
    zero = [p for p in eligible if (v[p.label].dropna() == 0).all()]
    if not zero:
        choice = best_option(v, lower_is_better=True)
        parts.append(
            "<p>… on wasted messages: "
            + verdict(choice, what="wasted messages", lower_is_better=True, fmt="{:,.0f}")
            + "</p>"
        )
    else:
        bounds = "; ".join(
            f"{html.escape(p.label)}: {exact_text(result, 'storm.wasted_messages', p.index)}"
            for p in zero
        )
        rest = [p for p in eligible if p not in zero]
        always = [p for p in rest if (v[p.label].dropna() > 0).all()]
        text = f"<p>… on wasted messages: none was wasted ({bounds})"
        if rest:
            text += (
                "; "
                + ", ".join(html.escape(p.label) for p in always)
                + (" wasted messages in every replication" if always else "")
            )
        parts.append(text + ".</p>")
    return "".join(parts)


def _persistence(result: ExperimentResult, pts: list[Point]) -> str:
    rows = []
    for p in pts:
        exact = exact_text(result, "storm.reassigned_share", p.index)
        if exact is None:
            k, n = _count(result, "storm.reassigned_share", "storm.registered", p)
            exact = rate_text(k, n)
        kept = "the server kept its table" if p.persistent else "the server lost its table"
        rows.append(f"<li>{html.escape(p.label)} ({kept}): {exact}</li>")
    return (
        "<p><b>Numbers reassigned</b> — registered phones given another number than the one "
        "they had before the outage, pooled over replications (95% Clopper-Pearson):</p><ul>"
        + "".join(rows)
        + "</ul>"
    )


def evidence(result: ExperimentResult, pts: list[Point]) -> str:
    """HTML of the storm's conclusions, each from the test stated beside it."""
    fams = families(pts)
    text, eligible = _recommend(result, fams, pts)
    return "".join(
        [
            text or "<p>No policy with a setting was run, so no setting is recommended.</p>",
            _timeouts(result, fams) if fams else "",
            _compare(result, eligible),
            _persistence(result, pts),
        ]
    )

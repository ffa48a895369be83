"""The platform against closed-form theory, where a scenario has one: trunk blocking against
Erlang B, waits against Erlang C (M/M/n) and waits and abandonment against Erlang A
(M/M/n+M, Palm).

A scenario qualifies when it is stationary and plain: one tenant open around the clock
with flat profiles, one skill taking every call, no texts, outbound, transfers, surges,
wrap-up or retrials, fixed staffing, complete sharing.  Then

* ``erlang_b`` -- agents at least as many as trunks: every admitted call is answered at
  once and holds its trunk for the IVR and its talk, so blocking is B(N, lam (ivr + E[talk]))
  whatever the talk-time distribution;
* ``erlang_c`` -- exponential talk, no abandonment, ample trunks (at least 4n + 50):
  M/M/n; the IVR delays every arrival equally and leaves them Poisson;
* ``erlang_a`` -- the same with exponential patience: M/M/n+M.
"""

from __future__ import annotations

import math

from models.common import DAY, HOUR
from models.dni.erlang import erlang_b
from models.platform import ErlangA, erlang_c, erlang_c_mean_wait, erlang_c_service_level

from ...config.platform import Platform
from ...results.run import SimResult

__all__ = ["MEASURES", "theory_mode", "theory_metrics", "predictions"]

MEASURES = ("blocking", "p_wait", "p_abandon", "mean_wait", "sl")
"""What is compared, per mode (blocking for B; the rest for C and A)."""


def theory_mode(cfg: Platform) -> str | None:
    """``"erlang_b"``, ``"erlang_c"``, ``"erlang_a"`` or None (no closed form)."""
    if len(cfg.tenants) != 1 or cfg.bursts or cfg.staffing != "fixed":
        return None
    if cfg.isolation != "complete_sharing":
        return None
    t = cfg.tenants[0]
    if t.texts_per_day > 0 or t.outbound_per_hour > 0 or t.wrap_seconds > 0:
        return None
    if len(set(t.diurnal)) != 1 or len(set(t.weekly)) != 1 or tuple(t.open_hours) != (0, 24):
        return None
    if t.retry_prob > 0 and cfg.max_attempts > 1:
        return None
    taking = [s for s in t.skills if s.share > 0]
    if len(taking) != 1 or any(s.blind_transfer + s.warm_transfer > 0 for s in t.skills):
        return None
    n = sum(s.agents for s in t.skills)
    if n >= cfg.trunks:
        return "erlang_b"
    if taking[0].handle_seconds.kind != "exponential" or cfg.trunks < 4 * n + 50:
        return None
    if not t.abandons:
        return "erlang_c"
    return "erlang_a" if t.patience_seconds.kind == "exponential" else None


def predictions(cfg: Platform) -> dict[str, float]:
    """The closed form's values of the scenario (empty without one)."""
    mode = theory_mode(cfg)
    if mode is None:
        return {}
    t = cfg.tenants[0]
    s = next(s for s in t.skills if s.share > 0)
    lam = t.calls_per_day / DAY
    talk = s.handle_seconds.mean
    n = sum(x.agents for x in t.skills)
    if mode == "erlang_b":
        return {"blocking": float(erlang_b(cfg.trunks, lam * (t.ivr_seconds + talk)))}
    mu = 1.0 / talk
    if mode == "erlang_c":
        return {
            "p_wait": erlang_c(n, lam, mu),
            "p_abandon": 0.0,
            "mean_wait": erlang_c_mean_wait(n, lam, mu),
            "sl": erlang_c_service_level(n, lam, mu, cfg.sl_seconds),
        }
    q = ErlangA(n, lam, mu, 1.0 / t.patience_seconds.mean)
    return {
        "p_wait": q.p_wait,
        "p_abandon": q.p_abandon,
        "mean_wait": q.mean_wait,
        "sl": q.service_level(cfg.sl_seconds),
    }


def theory_metrics(result: SimResult) -> dict[str, float]:
    """Measured and predicted values (``platform.measured.<m>``, ``platform.theory.<m>``)
    and the admitted and offered attempts they are shares of, after the warm-up."""
    cfg = result.config.platform
    pred = predictions(cfg)
    if not pred:
        return {}
    h = result.platform_hourly
    h = h[h["t"] >= cfg.warmup_hours * HOUR]
    c = h[["offered", "blocked", "queued", "abandoned", "within_sl", "wait_seconds"]].sum()
    offered = float(c["offered"])
    admitted = offered - float(c["blocked"])
    ratio = lambda a, b: float(a / b) if b > 0 else math.nan  # noqa: E731
    measured = {
        "blocking": ratio(c["blocked"], offered),
        "p_wait": ratio(c["queued"], admitted),
        "p_abandon": ratio(c["abandoned"], admitted),
        "mean_wait": ratio(c["wait_seconds"], admitted),
        "sl": ratio(c["within_sl"], admitted),
    }
    out = {"platform.check.offered": offered, "platform.check.admitted": admitted}
    for m, v in pred.items():
        out[f"platform.theory.{m}"] = float(v)
        out[f"platform.measured.{m}"] = measured[m]
    out["platform.check.mode"] = float(("erlang_b", "erlang_c", "erlang_a").index(
        theory_mode(cfg) or "erlang_b"))  # fmt: skip
    return out

"""The voice-command section of the report: per noise level, each confirmation policy's
wrong actions (pooled counts with exact Clopper-Pearson intervals, never "0 ± 0"),
completion, turns and latency (means ± 95% intervals across replications), the
recogniser's accuracy and decoding time, and the recommendation generated from the
evidence: among the policies with no wrong action, the one with the fewest turns, named
only when paired intervals exclude zero."""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.evidence import best_option, clopper_pearson, rate_text
from models.stats import mean_ci

from ...results.store import ExperimentResult
from ..render import figure, table, verdict

__all__ = ["recommendation", "safe", "voice_section"]

TARGET_LEVELS = ("clean", "20db")
"""Levels at which the issue's targets apply."""
WITHIN_TWO_TARGET = 0.9
P95_TARGET_MS = 150.0


def _wide(m: pd.DataFrame, key: str) -> pd.Series:
    """Values of one metric by replication."""
    rows = m[m["metric"] == key]
    return rows.set_index("replication")["value"].sort_index()


def _ci(values: pd.Series, fmt: str = "{:.3g}") -> str:
    mean, half = mean_ci(values.to_numpy(np.float64))
    if not np.isfinite(half):
        return fmt.format(mean)
    return f"{fmt.format(mean)} ± {fmt.format(half)}"


def _share(m: pd.DataFrame, key: str, commands: str) -> str:
    """A share as mean ± 95% CI across replications, or -- when it is 0 (or 1) in every
    replication -- the pooled count with its exact interval, never "0 ± 0"."""
    values = _wide(m, key)
    n = _wide(m, commands)
    k = int(round(float((values * n).sum())))
    total = int(n.sum())
    if k == 0 or k == total:
        return rate_text(k, total)
    return _ci(values)


def _pooled(m: pd.DataFrame, level: str, policy: str) -> tuple[int, int]:
    k = int(_wide(m, f"voice.{level}.{policy}.wrong").sum())
    n = int(_wide(m, f"voice.{level}.{policy}.commands").sum())
    return k, n


def safe(m: pd.DataFrame, levels: list[str], policies: list[str]) -> list[str]:
    """The policies with no wrong action pooled over every replication at every level.

    Parameters
    ----------
    m : pandas.DataFrame
        The experiment's metrics (``replication``, ``metric``, ``value``).
    levels : list of str
        Noise levels ("clean", "20db"...).
    policies : list of str
        The policies compared, in report order.

    Returns
    -------
    list of str
        Those of ``policies`` with no wrong action at any of ``levels``, in their order.
    """
    return [p for p in policies if all(_pooled(m, lv, p)[0] == 0 for lv in levels)]


def recommendation(
    m: pd.DataFrame, level: str, policies: list[str], eligible: list[str] | None = None
) -> tuple[str | None, str]:
    """The recommended policy at ``level`` (or None) and the sentence saying why.

    Among the eligible policies the fewest mean turns per command wins only if its paired
    difference with every other eligible policy excludes zero.

    Parameters
    ----------
    m : pandas.DataFrame
        The experiment's metrics (``replication``, ``metric``, ``value``).
    level : str
        The noise level judged.
    policies : list of str
        The policies compared.
    eligible : list of str, optional
        The policies allowed to win (the report passes :func:`safe` over every target
        level: the service runs one policy whatever the noise); by default those with no
        wrong action pooled over every replication at ``level`` (the exact 95% upper bound
        of a zero is stated).

    Returns
    -------
    tuple
        The recommended policy (None when there is none or the evidence does not separate
        the best) and the HTML sentence saying why.
    """
    if eligible is None:
        eligible = safe(m, [level], policies)
    if not eligible:
        return None, "No policy avoided every wrong action: none is recommended."
    turns = pd.DataFrame({p: _wide(m, f"voice.{level}.{p}.turns") for p in policies})
    choice = best_option(turns, lower_is_better=True, eligible=eligible)
    k, n = _pooled(m, level, choice.tied[0])
    text = (
        f"Policies eligible: {', '.join(html.escape(p) for p in eligible)} "
        f"({html.escape(choice.tied[0])}: {rate_text(k, n)}). "
        + verdict(choice, what="turns per command", lower_is_better=True)
    )
    if choice.best is not None:
        return choice.best, text + f" Recommended at {level}: <b>{html.escape(choice.best)}</b>."
    return None, text + (
        f" Recommended at {level}: any of {', '.join(html.escape(p) for p in choice.tied)} "
        "(the evidence does not separate them)."
    )


def _level_table(m: pd.DataFrame, level: str, policies: list[str]) -> str:
    rows = []
    for p in policies:
        k, n = _pooled(m, level, p)
        key = f"voice.{level}.{p}"
        rows.append(
            {
                "policy": p,
                "wrong actions executed (pooled)": rate_text(k, n),
                "completed as meant": _share(m, f"{key}.completed", f"{key}.commands"),
                "completed within two turns": _share(m, f"{key}.within_two", f"{key}.commands"),
                "turns per command": _ci(_wide(m, f"{key}.turns")),
                "wrong answers (no change; pooled)": rate_text(
                    int(_wide(m, f"{key}.wrong_answers").sum()), n
                ),
                "recognition time per command (ms)": _ci(_wide(m, f"{key}.latency_ms"), "{:.0f}"),
            }
        )
    return table(pd.DataFrame(rows))


def _recogniser_table(m: pd.DataFrame, levels: list[str], policies: list[str]) -> str:
    rows = []
    for level in levels:
        n = f"voice.{level}.{policies[0]}.commands"
        rows.append(
            {
                "noise level": level,
                "exact-intent accuracy (first utterance)": _share(m, f"voice.{level}.accuracy", n),
                "decoding p50 (ms)": _ci(_wide(m, f"voice.{level}.recognition_p50_ms"), "{:.0f}"),
                "decoding p95 (ms)": _ci(_wide(m, f"voice.{level}.recognition_p95_ms"), "{:.0f}"),
            }
        )
    return table(pd.DataFrame(rows))


def _figure(m: pd.DataFrame, levels: list[str], policies: list[str]) -> str:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    width = 0.8 / len(policies)
    x = np.arange(len(levels))
    for j, p in enumerate(policies):
        means, halves, rates, highs = [], [], [], []
        for level in levels:
            mean, half = mean_ci(_wide(m, f"voice.{level}.{p}.turns").to_numpy(np.float64))
            means.append(mean)
            halves.append(half if np.isfinite(half) else 0.0)
            k, n = _pooled(m, level, p)
            lo, hi = clopper_pearson(k, n)
            rates.append(k / n if n else np.nan)
            highs.append(hi - (k / n if n else 0.0))
        ax.bar(x + j * width, means, width, yerr=halves, capsize=3, label=p)
        ax2.bar(
            x + j * width, rates, width, yerr=[np.zeros(len(levels)), highs], capsize=3, label=p
        )
    for a, title in ((ax, "Turns per command"), (ax2, "Wrong actions per command")):
        a.set_xticks(x + 0.4 - width / 2, levels)
        a.set_title(title)
        a.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)
    ax2.set_ylabel("share of commands (bar: pooled; whisker: exact 95% upper bound)")
    return figure(
        fig,
        "Left: utterances per command (command, read-back answers and repeats), mean and 95% "
        "interval across replications, per noise level and confirmation policy. Right: "
        "wrong actions executed per command, pooled over replications, with the exact "
        "(Clopper-Pearson) 95% upper bound: a policy with no wrong action still has a "
        "bound above zero.",
    )


def _judged(low: float, mean: float) -> str:
    if low >= WITHIN_TWO_TARGET:
        return "met"
    return "not shown (the interval reaches below)" if mean >= WITHIN_TWO_TARGET else "missed"


def _targets(m: pd.DataFrame, policy: str, levels: list[str]) -> str:
    items = []
    for level in [lv for lv in TARGET_LEVELS if lv in levels]:
        k, n = _pooled(m, level, policy)
        within = _wide(m, f"voice.{level}.{policy}.within_two").to_numpy(np.float64)
        w_mean, w_half = mean_ci(within)
        p95 = _wide(m, f"voice.{level}.recognition_p95_ms").to_numpy(np.float64)
        p_mean, _ = mean_ci(p95)
        low = w_mean - (w_half if np.isfinite(w_half) else 0.0)
        items.append(
            f"<li>{level}: wrong actions {rate_text(k, n)} — "
            f"{'met' if k == 0 else 'missed'}; completed within two turns "
            f"{_ci(pd.Series(within))} — "
            f"{_judged(low, w_mean)}"
            f" (target ≥ {WITHIN_TWO_TARGET:.0%}, judged on the interval's lower end); "
            f"decoding p95 {p_mean:.0f} ms — "
            f"{'met' if p_mean <= P95_TARGET_MS else 'missed'} (target ≤ {P95_TARGET_MS:.0f} ms, "
            "on a shared machine)</li>"
        )
    return f"<p>Targets under <b>{html.escape(policy)}</b>:</p><ul>{''.join(items)}</ul>"


def voice_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the voice-command section (empty unless the experiment runs the study)."""
    cfg = result.config.voice
    if not cfg.enabled:
        return ""
    m = result.metrics
    m = m[m["metric"].str.startswith("voice.")]
    if m.empty:
        return "<h2>Voice commands</h2><p>No run finished.</p>"
    levels = cfg.levels()
    policies = list(cfg.policies)
    parts = [
        "<h2>Voice commands</h2>",
        f"<p>Each replication draws a small switch and {cfg.commands} random commands of "
        f"every form ({html.escape(cfg.part)} part of the corpus), spoken by espeak-ng "
        f"({', '.join(html.escape(v) for v in cfg.voices)} at {', '.join(map(str, cfg.rates))} "
        "words a minute) and recognised by pocketsphinx against a grammar of the command "
        "forms and the live equipment, at each noise level "
        f"({', '.join(levels)}; noises {', '.join(cfg.noises)}). Every policy plays each "
        "command's dialogue on the same recognitions (paired). A wrong action is an "
        "executed command other than the one meant that changed the equipment. "
        "<b>Formant speech is not human speech</b>: these figures say how the grammar, the "
        "recogniser and the policies behave on synthetic voices, not how they would on "
        "technicians' voices.</p>",
        _recogniser_table(m, levels, policies),
        _figure(m, levels, policies),
    ]
    chosen: list[str | None] = []
    targets = [lv for lv in TARGET_LEVELS if lv in levels]
    for point in sorted(m["point"].unique()):
        mp = m[m["point"] == point]
        if len(m["point"].unique()) > 1:
            parts.append(f"<h3>{html.escape(labels.get(point, str(point)))}</h3>")
        both = safe(mp, targets, policies)  # one policy must serve every target level
        for level in levels:
            if level in TARGET_LEVELS:
                best, text = recommendation(mp, level, policies, both)
                chosen.append(best)
            else:
                best, text = recommendation(mp, level, policies)
            parts += [f"<h3>{level}</h3>", _level_table(mp, level, policies), f"<p>{text}</p>"]
    named = {c for c in chosen if c is not None}
    if len(named) == 1 and None not in chosen:
        policy = named.pop()
        parts.append(
            f"<p><b>Recommendation: {html.escape(policy)}</b> — at "
            f"{' and '.join(TARGET_LEVELS)} it executed no wrong action and, among the "
            "policies that executed none at either, needed the fewest turns at each by "
            "paired intervals (or was the only one; see each level above).</p>"
        )
        parts.append(_targets(m, policy, levels))
    else:
        parts.append(
            "<p><b>No single policy is recommended</b>: at the target levels "
            f"({', '.join(TARGET_LEVELS)}) the evidence names "
            f"{', '.join(c or 'no winner' for c in chosen)}.</p>"
        )
        for p in safe(m, targets, policies):
            parts.append(_targets(m, p, levels))
    return "".join(parts)

"""What every metric key means: its label, unit and definition, read once from
``glossary.toml`` beside this module, and how reports write its values for people.

``docs/metrics.md`` is generated from the same file (``python -m sim.studies.glossary >
docs/metrics.md``); a test fails on a key the studies emit that the glossary does not define.
"""

from __future__ import annotations

import html
import math
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

__all__ = [
    "Metric",
    "UNITS",
    "by_glossary",
    "describe",
    "format_value",
    "glossary_html",
    "groups",
    "label",
    "markdown",
    "not_observed",
    "value_text",
]

UNITS = {
    "share": "",
    "count": "",
    "numbers": "numbers",
    "days": "days",
    "hours": "h",
    "seconds": "s",
    "milliseconds": "ms",
    "dollars": "$",
    "calls/day": "calls/day",
    "ratio": "",
}
"""Units a metric may have, and the suffix written after a value ("" for none; shares are
written as percentages and dollars with a leading ``$``)."""


@dataclass(frozen=True)
class Metric:
    """One metric key of the glossary, resolved for a concrete key.

    Attributes
    ----------
    key : str
        The concrete key (e.g. ``calls_per_day.residential``).
    pattern : str
        The glossary's key with its placeholders (``calls_per_day.{kind}``).
    label : str
        A label for people, placeholders filled in.
    unit : str
        One of :data:`UNITS`.
    text : str
        The definition.
    template : str
        The label with its placeholders as words (``calls per day: <kind>``).
    group : str
        The study the metric belongs to.
    order : int
        Rank in the report: by group, then by the glossary's order.
    """

    key: str
    pattern: str
    label: str
    unit: str
    text: str
    template: str
    group: str
    order: int


@cache
def _entries() -> tuple[list[dict], list[tuple[re.Pattern[str], dict]]]:
    raw = tomllib.loads((Path(__file__).with_name("glossary.toml")).read_text())
    found, order = [], 0
    for group in raw["group"]:
        for entry in group["metrics"]:
            if entry["unit"] not in UNITS:
                raise ValueError(f"glossary: {entry['key']}: unknown unit {entry['unit']!r}")
            found.append({**entry, "group": group["name"], "title": group["title"], "order": order})
            order += 1
    compiled = []
    for entry in found:
        parts = re.split(r"\{(\w+)\}", entry["key"])
        regex = "".join(
            re.escape(p) if i % 2 == 0 else rf"(?P<{p}>[^.]+(?:\.\d+)?)"
            for i, p in enumerate(parts)
        )
        compiled.append((re.compile(regex + r"\Z"), entry))
    return raw["group"], compiled


def groups() -> list[tuple[str, str]]:
    """The glossary's groups (study name, title), in the report's order."""
    return [(g["name"], g["title"]) for g in _entries()[0]]


@cache
def describe(key: str) -> Metric | None:
    """The glossary's entry for a concrete metric key (None if the key is undocumented)."""
    for regex, entry in _entries()[1]:
        match = regex.match(key)
        if match:
            fill = {k: _part(v) for k, v in match.groupdict().items()}
            return Metric(
                key=key,
                pattern=entry["key"],
                label=entry["label"].format(**fill),
                unit=entry["unit"],
                text=entry["text"],
                template=_words(entry["label"]),
                group=entry["group"],
                order=entry["order"],
            )
    return None


def _part(text: str) -> str:
    """A key's part for a label: ``call_centre`` -> ``call centre``, ``300000`` ->
    ``300,000``."""
    return f"{int(text):,}" if text.isdigit() else text.replace("_", " ")


def _plain(value: float, digits: int = 3, whole: bool = True) -> str:
    """A number without scientific notation below 10^6: ``digits`` significant digits
    (all the digits left of the point when ``whole``), thousands separators, no trailing
    zeros after the point."""
    size = abs(value)
    if size >= 1e6:
        return f"{value:,.4g}" if size >= 1e15 else f"{value:,.0f}"
    if size == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(size))
    if decimals < 0 and not whole:  # significant digits left of the point: 1,234 -> 1,200
        value = round(value, decimals)
    text = f"{value:,.{max(0, min(6, decimals))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_value(value: float, unit: str, half_width: float | None = None) -> str:
    """A value (and its 95% confidence half-width) written for people.

    Parameters
    ----------
    value : float
        The value (NaN: not observed).
    unit : str
        One of :data:`UNITS`: shares become percentages, dollars get a ``$``.
    half_width : float, optional
        Half-width of its confidence interval (NaN or None: none shown).

    Returns
    -------
    str
        E.g. ``"12.3% ± 1.1"``, ``"$0.15 ± 0.02"``, ``"80,200"``, ``"not observed"``.
    """
    if value is None or not math.isfinite(value):
        return "not observed"
    scale = 100.0 if unit == "share" else 1.0
    text = _plain(value * scale)
    if unit == "share":
        text += "%"
    elif unit == "dollars":
        text = ("-$" if value < 0 else "$") + _plain(abs(value))
    if half_width is not None and math.isfinite(half_width) and half_width > 0:
        text += f" ± {_plain(half_width * scale, 2, whole=False)}"
    suffix = UNITS[unit]
    if suffix and unit != "dollars":
        text += f" {suffix}"
    return text


def label(key: str) -> str:
    """A metric key's label for people (the key itself if the glossary lacks it)."""
    found = describe(key)
    return found.label if found is not None else key


def by_glossary(keys) -> list[str]:
    """Metric keys in the glossary's order (undocumented ones last, by name)."""
    rank = {k: (d.order if d is not None else 10**6) for k, d in ((k, describe(k)) for k in keys)}
    return sorted(rank, key=lambda k: (rank[k], k))


def value_text(key: str, value: float) -> str:
    """A value of a metric key written in its glossary unit (a plain number if unknown)."""
    found = describe(key)
    return format_value(value, found.unit if found is not None else "ratio")


def not_observed(why: str) -> str:
    """The sentence a report shows in place of something nothing was observed for."""
    return f'<p class="empty">Not observed: {html.escape(why)}.</p>'


def glossary_html(keys: list[str], studies: list[str]) -> str:
    """The report's glossary: the definition of each metric key of the ``studies`` shown."""
    found = sorted(
        (m for m in map(describe, dict.fromkeys(keys)) if m is not None and m.group in studies),
        key=lambda m: m.order,
    )
    seen: dict[str, Metric] = {m.pattern: m for m in found}
    rows = "".join(
        f"<dt>{html.escape(m.template)}</dt><dd>{html.escape(m.text)} "
        f"<code>{html.escape(_words(m.pattern))}</code></dd>"
        for m in seen.values()
    )
    return f'<h2 id="glossary">Glossary</h2><dl class="glossary">{rows}</dl>'


def _words(pattern: str) -> str:
    """A glossary key or label with its placeholders written ``<name>``."""
    return re.sub(r"\{(\w+)\}", r"<\1>", pattern)


def markdown() -> str:
    """``docs/metrics.md``: every metric key, by study, with its label, unit and meaning."""
    lines = [
        "# Metrics",
        "",
        "Every metric key the studies write into `metrics.parquet` / `metrics.csv` (one row "
        "per run, key and value), generated from `sim/studies/glossary.toml` by "
        "`python -m sim.studies.glossary > docs/metrics.md`. A `<name>` in a key stands for "
        "one part (a caller kind, a model, a threshold). Shares are fractions in the tables "
        "and percentages in the reports; NaN in a table is *not observed* (nothing to count "
        "in that run), never zero.",
    ]
    table = pd.DataFrame(
        [
            {
                "group": e["title"],
                "key": f"`{_words(e['key'])}`",  # in code: <name> shows as is
                "unit": e["unit"],
                "meaning": html.escape(f"{_words(e['label'])}: {e['text']}"),
            }
            for _, e in _entries()[1]
        ]
    )
    for title, grp in table.groupby("group", sort=False):
        lines += ["", f"## {title}", "", "| key | unit | meaning |", "|---|---|---|"]
        lines += [f"| {r.key} | {r.unit} | {r.meaning} |" for r in grp.itertuples()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

"""Reports a policy maker reads: every shipped experiment renders at 2 days x 1
replication, with only the sections it studies, every metric labelled and documented, values
written for people, and nothing shown that was not observed."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import SHIPPED

from sim.studies import STUDIES
from sim.studies.glossary import describe, format_value, markdown
from sim.studies.render import figure

DOCS = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_experiment_renders_its_report(small_report, name):
    result = small_report(name)
    page = (result.out / "index.html").read_text()
    text = re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[^\"']+", "", page))
    # what was run
    assert "commit" in text and "command:" in text and "runtime" in text
    assert "How to read this report" in text and 'href="#glossary"' in page
    assert 'id="glossary"' in page
    # nothing not observed shown as a number
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), "a NaN reached the page"
    assert not re.search(r"(?<![\d.])0 ± 0(?![\d.])", text), "a row of 0 ± 0"
    assert not re.search(r"\d\.?\d*e[+-]\d\d", text), "scientific notation"
    # only the sections of the studies the experiment studies
    cfg = result.config
    shown = {s.name for s in STUDIES if s.studied(cfg)}
    assert shown, "a shipped experiment studies something"
    assert ("<h2>The world</h2>" in page) == ("world" in shown)
    if not cfg.subscribers.populated():
        assert "Not observed: no subscribers in this scenario" in text


@pytest.mark.parametrize("name", SHIPPED)
def test_every_metric_key_is_documented(small_report, name):
    keys = small_report(name).metrics["metric"].unique()
    undocumented = [k for k in keys if describe(k) is None]
    assert not undocumented, f"add these keys to sim/studies/glossary.toml: {undocumented}"


def test_the_metrics_page_is_current():
    assert DOCS.read_text() == markdown(), (
        "docs/metrics.md is stale: python -m sim.studies.glossary > docs/metrics.md"
    )


def test_an_unknown_key_is_undocumented():
    assert describe("dni.no_such_metric") is None
    assert describe("calls_per_day.call_centre").label == "calls per day: call centre"
    assert describe("dni.regret.300000").label == "regret after 300,000 impressions"


@pytest.mark.parametrize(
    ("value", "unit", "half", "text"),
    [
        (0.1234, "share", 0.0112, "12.3% ± 1.1"),
        (0.5, "share", 0.0, "50%"),  # every replication agreed: no "± 0"
        (80234.0, "count", None, "80,234"),
        (39950.0, "count", 1234.5, "39,950 ± 1,200"),
        (999999.0, "count", None, "999,999"),
        (0.000123, "ratio", None, "0.000123"),
        (0.1516, "dollars", 0.021, "$0.152 ± 0.021"),
        (2.5, "hours", 0.25, "2.5 ± 0.25 h"),
        (float("nan"), "share", None, "not observed"),
    ],
)
def test_values_are_written_for_people(value, unit, half, text):
    assert format_value(value, unit, half) == text


def test_legends_leave_the_data():
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="a")
        ax.plot([0, 1], [1, 0], label="b")
        ax.legend()
    html = figure(fig, "two panels, one legend")
    assert html.startswith("<figure><img") and all(ax.get_legend() is None for ax in axes)
    assert len(fig.legends) == 1  # the same legend once, right of the panels


def test_a_trade_off_with_no_false_flag_is_a_sentence_not_a_plot():
    from sim.studies.burst.replay import roc_figure

    pooled = pd.DataFrame(
        {
            "detector": ["fixed_window", "fixed_window", "cusum"],
            "threshold": [1.0, 2.0, 1.0],
            "false_flags": [0, 0, 0],
            "legit_new_lines": [500, 500, 500],
            "robocalls_blocked_share": [0.5, 0.6, 0.7],
        }
    )
    html = roc_figure(pooled, pooled.iloc[:0], 0.01, "the test replications")
    assert "<img" not in html and "0 of 500 (95% upper bound 0.74%)" in html
    pooled.loc[1, "false_flags"] = 3
    assert "<img" in roc_figure(pooled, pooled.iloc[:0], 0.01, "the test replications")

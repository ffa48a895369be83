"""The README is the index of the documentation: every page under docs/ (``*.md``, and the
executed notebooks ``docs/notebooks/*.html``) is linked from it, and every file it links
to exists."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
LINKS = set(re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README))
"""Targets of the README's Markdown links (without anchors)."""
PAGES = sorted(
    p.relative_to(ROOT).as_posix()
    for p in [*(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "notebooks").glob("*.html")]
)


def unlinked(pages: list[str], links: set[str]) -> list[str]:
    """The pages that no link names."""
    return [p for p in pages if p not in links]


@pytest.mark.parametrize("page", PAGES)
def test_every_docs_page_is_linked_from_the_readme(page):
    """A page nobody can find from the README is not documentation."""
    where = "the notebooks table" if page.endswith(".html") else "the `docs/` row of Layout"
    assert unlinked([page], LINKS) == [], f"README.md does not link to {page}: add it to {where}"


def test_every_local_link_of_the_readme_exists():
    local = [t for t in LINKS if not re.match(r"[a-z]+:", t)]
    assert local
    assert [t for t in local if not (ROOT / t).exists()] == []


def test_the_check_catches_an_unlinked_page():
    """A page named only in backquotes, or not at all, is not linked."""
    text = "See `docs/a.md` and [b](docs/b.md), [c](docs/c.md#part)."
    links = set(re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text))
    assert unlinked(["docs/a.md", "docs/b.md", "docs/c.md", "docs/d.md"], links) == [
        "docs/a.md",
        "docs/d.md",
    ]


def _subcommands() -> list[str]:
    from sim.cli import _parser

    (sub,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(sub.choices)


def test_the_command_line_section_shows_every_subcommand():
    """``tnlab --help``'s subcommands each appear as ``tnlab NAME`` in the README's "From
    the command line"."""
    section = README.split("## From the command line", 1)[1].split("\n## ", 1)[0]
    commands = _subcommands()
    assert {"run", "simulate", "validate", "report", "list", "compare", "serve"} <= set(commands)
    assert [c for c in commands if f"tnlab {c} " not in section] == []


def test_the_readme_examples_import_only_the_public_api():
    """Python examples in the README import from ``sim`` only what it exports."""
    import ast

    import sim

    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    found = [
        (node.module, alias.name)
        for block in blocks
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sim"
        for alias in node.names
    ]
    assert found
    assert [f for f in found if f[0] != "sim" or f[1] not in sim.__all__] == []

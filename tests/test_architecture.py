"""The architecture of docs/architecture.md, read from the code.

Every import counts -- at module level, inside functions (lazy) and under
``TYPE_CHECKING`` -- because each is a dependency of design.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "services", "sim")

LAYERS = (
    "models",
    "sim.core",
    "sim.config",
    "sim.world",
    "sim.results",
    "sim.studies",
    "sim.runs",
    "sim.report",
    "sim",
)
"""Lowest first: a module imports only modules of its own layer or of layers below.
``sim`` itself stands for its top modules (``sim.experiment``, ``sim.cli``) and the
package's public API."""
SHARED_STUDY_MODULES = ("sim.studies.study", "sim.studies.render", "sim.studies.glossary")
"""Modules of the studies layer that every study may use."""


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = f
    return mods


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Every module of ours that ``name`` imports, and every outside top-level package."""
    path = MODULES[name]
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_pkg else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES or target.split(".")[0] not in PACKAGES:
                found.add(target)
    found.discard(name)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _ours(name: str) -> bool:
    return name in MODULES


def layer(name: str) -> int:
    """Index of the layer a module belongs to (the longest matching prefix)."""
    best = -1
    for i, prefix in enumerate(LAYERS):
        if name == prefix or name.startswith(prefix + "."):
            if best < 0 or len(prefix) > len(LAYERS[best]):
                best = i
    if name.startswith("services"):
        return 0  # beside models: services never use sim
    assert best >= 0, name
    return best


def _study(name: str) -> str | None:
    """The study subpackage a module belongs to (``sim.studies.<study>``), if any."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[:2] == ["sim", "studies"] and name not in SHARED_STUDY_MODULES:
        return parts[2]
    return None


def test_layers_point_down():
    """A module imports only its own layer or layers below it."""
    bad = [
        f"{a} -> {b}" for a, deps in GRAPH.items() for b in deps if _ours(b) and layer(b) > layer(a)
    ]
    assert not bad, "imports that point up the layers: " + "; ".join(sorted(bad))


def test_models_and_services_never_import_sim_or_simpy():
    bad = [
        f"{a} -> {b}"
        for a, deps in GRAPH.items()
        if a.startswith(("models", "services"))
        for b in deps
        if b.split(".")[0] in ("sim", "simpy")
    ]
    assert not bad, "; ".join(sorted(bad))


def test_studies_never_import_each_other_or_the_registry():
    bad = [
        f"{a} -> {b}"
        for a, deps in GRAPH.items()
        if _study(a)
        for b in deps
        if (_study(b) and _study(b) != _study(a)) or b == "sim.studies"
    ]
    assert not bad, "; ".join(sorted(bad))


def test_the_world_never_imports_a_study():
    bad = [
        f"{a} -> {b}"
        for a, deps in GRAPH.items()
        if a.startswith("sim.world")
        for b in deps
        if b.startswith("sim.studies")
    ]
    assert not bad, "; ".join(sorted(bad))


def _cycles() -> list[list[str]]:
    # a package's __init__ re-exporting its own children is not a cycle of design
    graph = {
        a: {b for b in deps if _ours(b) and not b.startswith(a + ".")} for a, deps in GRAPH.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in graph:
        if v not in index:
            strong(v)
    return found


def test_no_import_cycles():
    assert _cycles() == []


def test_the_checks_can_fail(monkeypatch):
    """The checks above see a cycle and an upward import when there is one."""
    monkeypatch.setitem(GRAPH, "sim.core.atomic", GRAPH["sim.core.atomic"] | {"sim.cli"})
    monkeypatch.setitem(GRAPH, "sim.cli", GRAPH["sim.cli"] | {"sim.core.atomic"})
    assert _cycles()
    with pytest.raises(AssertionError):
        test_layers_point_down()


def test_few_top_modules_and_small_modules():
    top = [p.name for p in (ROOT / "sim").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 4, top
    big = {
        str(f.relative_to(ROOT)): n
        for f in MODULES.values()
        if (n := len(f.read_text().splitlines())) > 500
    }
    assert not big, big


def test_seconds_per_day_defined_once():
    lines = [
        f"{f.relative_to(ROOT)}:{i}"
        for f in MODULES.values()
        for i, line in enumerate(f.read_text().splitlines(), 1)
        if re.search(r"\b86_?400\b", line)
    ]
    assert lines == [
        "models/common.py:"
        + str(
            next(
                i
                for i, line in enumerate((ROOT / "models/common.py").read_text().splitlines(), 1)
                if "86400" in line
            )
        )
    ]


def _project_files(*suffixes: str):
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("build", "reports")]
        for name in files:
            if name.endswith(suffixes):
                yield Path(folder) / name


def test_nothing_cites_outside_the_repository():
    """Docs and code state what they take from elsewhere in their own words."""
    pattern = re.compile(r"REFERENCE\.md|DESIGN\.md|MISSION\.md|\.\./shared")
    bad = [
        str(f.relative_to(ROOT))
        for f in _project_files(".md", ".py", ".toml", ".ipynb")
        if pattern.search(f.read_text(errors="ignore"))
    ]
    assert not bad, bad

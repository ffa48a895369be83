"""Every notebook keeps the conventions of the README's "In a notebook" and runs top to
bottom with small parameters (papermill), so none of them rots.

* Its first code cell, tagged ``parameters``, holds only literal assignments, among them
  ``out_dir``, whose default is outside the repository; nothing is read from the
  environment.
* It imports only the public API: the names ``sim`` exports (``sim.__all__``), the names
  the ``models`` library's modules export (their ``__all__``), and outside packages.
* Executed with ``days=3``, ``replications=1`` (those it has) and ``out_dir`` under pytest's
  ``tmp_path``, it raises nothing, draws at least one figure, shows no empty table, and
  writes nothing into the repository.
"""

from __future__ import annotations

import ast
import html
import importlib
import re
from pathlib import Path

import nbformat
import papermill
import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
SMALL = {"days": 3.0, "replications": 1}
"""Parameters of the test's runs, for the notebooks that have them (plus ``out_dir``)."""


def _code(cell) -> str:
    """A code cell's Python, without IPython's magics and shell escapes."""
    lines = cell.source.splitlines()
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _parameters(path: Path) -> dict[str, object]:
    """The notebook's parameters and their defaults, checked against the conventions."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: one code cell tagged 'parameters', not {len(tagged)}"
    assert code[0] is tagged[0], f"{path.name}: the parameters cell is the first code cell"
    params = {}
    for stmt in ast.parse(_code(tagged[0])).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, (
            f"{path.name}: the parameters cell holds only assignments: {ast.unparse(stmt)}"
        )
        target = stmt.targets[0]
        assert isinstance(target, ast.Name), f"{path.name}: {ast.unparse(stmt)}"
        params[target.id] = ast.literal_eval(stmt.value)
    return params


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell(path):
    """A tagged parameters cell of literals with an ``out_dir`` outside the repository;
    no parameter from the environment."""
    params = _parameters(path)
    assert "out_dir" in params, f"{path.name}: no out_dir parameter"
    out = Path(str(params["out_dir"])).expanduser()
    assert out.is_absolute(), f"{path.name}: out_dir {out} is relative (inside the repository)"
    assert not out.resolve().is_relative_to(ROOT), f"{path.name}: out_dir {out} is inside it"
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    for word in ("environ", "getenv"):
        assert word not in source, f"{path.name}: reads the environment ({word})"


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """Every (module, name) a notebook imports (name None for ``import module``)."""
    found: list[tuple[str, str | None]] = []
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(_code(cell))):
            if isinstance(node, ast.Import):
                found += [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module, f"{path.name}: relative import"
                found += [(node.module, a.name) for a in node.names]
    return found


def public_api_violations(imports: list[tuple[str, str | None]]) -> list[str]:
    """The imports that reach past the public API (README, "In a notebook")."""
    bad = []
    for module, name in imports:
        top = module.split(".")[0]
        if top == "sim":
            if module != "sim" or (name is not None and name not in sim.__all__):
                bad.append(f"{module}.{name}" if name else module)
        elif top == "models":
            parts = module.split(".") + ([name] if name else [])
            if any(p.startswith("_") for p in parts):
                bad.append(".".join(parts))
            elif name is not None:
                found = importlib.import_module(module)
                exported = getattr(found, "__all__", None)
                if not hasattr(found, name) or (exported is not None and name not in exported):
                    bad.append(".".join(parts))
        elif top in ("services", "tests", "benchmarks"):
            bad.append(module)
    return bad


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_imports_only_the_public_api(path):
    """Only ``sim.__all__``, the ``__all__`` of ``models`` modules and outside packages."""
    imports = _imports(path)
    assert any(module == "sim" for module, _ in imports), f"{path.name}: does not use sim"
    assert public_api_violations(imports) == []


def test_the_import_check_catches_internals():
    """The check itself: internals of ``sim``, private names and other packages fail."""
    assert public_api_violations(
        [
            ("sim", "simulate"),
            ("sim", "metrics"),
            ("models.stats", "summarize"),
            ("numpy", None),
        ]
    ) == []  # fmt: skip
    assert public_api_violations(
        [
            ("sim.studies.aging.models", "run_frame"),
            ("sim", "cli"),
            ("sim.world", None),
            ("models.burst._kernels", "x"),
            ("models.stats", "_private"),
            ("models.stats", "np"),
            ("services.provisioning", None),
        ]
    ) == [
        "sim.studies.aging.models.run_frame",
        "sim.cli",
        "sim.world",
        "models.burst._kernels.x",
        "models.stats._private",
        "models.stats.np",
        "services.provisioning",
    ]  # fmt: skip


WRITABLE = ("notebooks", "data", "reports", "experiments")
"""Where a notebook that writes into the repository would write (its own folder, the
scratch folders, the default of ``run_experiment``, beside the configs)."""


def _files() -> set[Path]:
    return {
        p
        for folder in WRITABLE
        for p in (ROOT / folder).rglob("*")
        if ".ipynb_checkpoints" not in p.parts
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes(path, tmp_path):
    """Small parameters: no error, a figure, no empty table, nothing written beside it."""
    params = _parameters(path)
    given = {k: v for k, v in SMALL.items() if k in params}
    given["out_dir"] = str(tmp_path / "out")
    before = _files()
    nb = papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters=given,
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=300,
    )
    assert _files() - before == set(), f"{path.name} wrote into the repository"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no figure"
    texts = [o.get("data", {}).get("text/plain", "") for o in outputs] + [
        o.get("text", "") for o in outputs
    ]
    assert not [t for t in texts if "Empty DataFrame" in t], f"{path.name}: an empty table"


def test_metrics_of_one_study_or_all(tiny_config):
    """``sim.metrics``: a study's metrics are among all of them; an unknown study is named."""
    res = sim.simulate(tiny_config, progress=False)
    every, world = sim.metrics(res), sim.metrics(res, "world")
    assert world and world.keys() <= every.keys() and len(every) > len(world)
    with pytest.raises(ValueError, match="no study named 'nope'"):
        sim.metrics(res, "nope")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_published_executed_and_committed_without_outputs(path):
    """The source carries no outputs; ``docs/notebooks/<name>.html`` (``make docs``) shows
    every line of its current code, with at least one figure."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c for c in code if c.get("outputs")], f"{path.name}: committed with outputs"
    page = ROOT / "docs" / "notebooks" / f"{path.stem}.html"
    assert page.exists(), f"{path.name}: not published (make docs NOTEBOOKS={path.as_posix()})"
    text = page.read_text()
    assert "data:image/png;base64," in text, f"{page.name}: no figure"
    shown = html.unescape(re.sub(r"<[^>]+>", "", text))
    stale = [
        line.strip()
        for c in code
        for line in c.source.splitlines()
        if line.strip() and line.strip() not in shown
    ]
    assert stale == [], f"{page.name} is older than {path.name}: run make docs"

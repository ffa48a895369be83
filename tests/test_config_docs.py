"""docs/config.md is generated from the schemas and is never stale; every key is described
and every default lives in defaults.toml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.config.docs import render
from sim.config.experiment import ExperimentConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def test_config_reference_is_current():
    """Regenerate with: python -m sim.config.docs > docs/config.md"""
    assert DOC.read_text() == render()


def _fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every field of the schema, sections included, by dotted key (not inside
    distributions, whose parameters are described by their own classes)."""
    for name, field in model.model_fields.items():
        yield prefix + name, field
        for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if (
                isinstance(candidate, type)
                and issubclass(candidate, BaseModel)
                and "kind" not in candidate.model_fields
            ):
                yield from _fields(candidate, f"{prefix}{name}.")


def test_every_key_has_a_description():
    assert [k for k, f in _fields(ExperimentConfig) if not (f.description or "").strip()] == []


def test_no_default_lives_in_python():
    """Every default is in defaults.toml: no schema field has a Python default."""
    assert [k for k, f in _fields(ExperimentConfig) if not f.is_required()] == []

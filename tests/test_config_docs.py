"""docs/config.md is generated from the schemas and is never stale; every key is described."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from sim.config.docs import render
from sim.config.experiment import ExperimentConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def test_config_reference_is_current():
    """Regenerate with: python -m sim.config.docs > docs/config.md"""
    assert DOC.read_text() == render()


def _undescribed(model: type[BaseModel], prefix: str = "") -> list[str]:
    missing = []
    for name, field in model.model_fields.items():
        if not (field.description or "").strip():
            missing.append(prefix + name)
        sub = field.annotation
        for candidate in (sub, *getattr(sub, "__args__", ())):
            if (
                isinstance(candidate, type)
                and issubclass(candidate, BaseModel)
                and "kind" not in candidate.model_fields
            ):
                missing += _undescribed(candidate, f"{prefix}{name}.")
    return missing


def test_every_key_has_a_description():
    assert _undescribed(ExperimentConfig) == []


def test_no_default_lives_in_python():
    """Every default is in defaults.toml: no schema field has a Python default."""

    def with_defaults(model: type[BaseModel], prefix: str = "") -> list[str]:
        found = [prefix + n for n, f in model.model_fields.items() if not f.is_required()]
        for name, field in model.model_fields.items():
            for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
                if (
                    isinstance(candidate, type)
                    and issubclass(candidate, BaseModel)
                    and "kind" not in candidate.model_fields
                ):
                    found += with_defaults(candidate, f"{prefix}{name}.")
        return found

    assert with_defaults(ExperimentConfig) == []

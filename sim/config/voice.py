"""Config of the voice-command study: the corpus (voices, rates, noises, SNRs, commands per
replication, the tuning / held-out part), the confirmation policies compared and the rules
every dialogue follows."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from models.voice.policies import CONFIRMATION_POLICIES, ConfirmationPolicy
from models.voice.speech import NOISE_KINDS

from .base import Section, build_checked, check_tables, one_of

__all__ = ["Voice"]


def _voice_name(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*(\+[a-z0-9]+)?", value):
        raise ValueError("must be an espeak-ng voice such as 'en-us' or 'en-us+f2'")
    return value


class Voice(Section):
    """The voice-command study (``voice.enabled``): which confirmation policy keeps wrong
    actions at zero with the fewest turns, on a synthesised corpus."""

    enabled: bool = Field(description="Run the voice-command study in each run.")
    part: one_of("tuning", "heldout") = Field(
        description="Which part of the corpus: 'tuning' (to choose thresholds) or "
        "'heldout' (kept aside; the report's headline)."
    )
    commands: int = Field(
        ge=1, le=10_000, description="Commands per noise level in each replication."
    )
    clean: bool = Field(description="Also evaluate every command without added noise.")
    snr_db: list[float] = Field(
        max_length=10,
        description="Signal-to-noise ratios (dB, each -10..60) at which noise is added.",
    )
    noises: list[str] = Field(
        min_length=1,
        description="Kinds of noise ('white', 'babble', 'office'); each noisy utterance "
        "gets one at random.",
    )
    voices: list[str] = Field(
        min_length=1, max_length=20, description="espeak-ng voices that speak the commands."
    )
    rates: list[int] = Field(
        min_length=1, max_length=10, description="Speaking rates (words per minute, 80..400)."
    )
    repeat_below: float = Field(
        ge=0, le=1, description="Confidence below which the system asks to repeat."
    )
    max_turns: int = Field(
        ge=1, le=20, description="Utterances after which the speaker gives up on a command."
    )
    policies: dict[str, dict[str, Any]] = Field(
        min_length=1,
        description="The confirmation policies compared, each with its own parameters "
        "([voice.policies.<name>]; names in models.voice.CONFIRMATION_POLICIES).",
    )
    cache: str = Field(
        max_length=4096,
        description="Folder of synthesised audio ('' for $TNLAB_VOICE_CACHE or "
        "~/.cache/tnlab/voice).",
    )

    @field_validator("snr_db")
    @classmethod
    def _snr(cls, v: list[float]) -> list[float]:
        for i, x in enumerate(v):
            if not -10 <= x <= 60:
                raise ValueError(f"item {i}: {x:g} dB is outside -10..60")
        return v

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: list[int]) -> list[int]:
        for i, x in enumerate(v):
            if not 80 <= x <= 400:
                raise ValueError(f"item {i}: {x} words a minute is outside 80..400")
        return v

    @field_validator("noises")
    @classmethod
    def _noises(cls, v: list[str]) -> list[str]:
        for i, x in enumerate(v):
            if x not in NOISE_KINDS:
                raise ValueError(f"item {i}: {x!r} is not one of {', '.join(NOISE_KINDS)}")
        return v

    @field_validator("voices")
    @classmethod
    def _voices(cls, v: list[str]) -> list[str]:
        for i, x in enumerate(v):
            try:
                _voice_name(x)
            except ValueError as e:
                raise ValueError(f"item {i}: {e}") from None
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if not self.clean and not self.snr_db:
            raise ValueError("snr_db: empty while clean = false leaves nothing to evaluate")
        check_tables(CONFIRMATION_POLICIES, self.policies, "policies")
        for name in self.policies:
            self.build_policy(name)
        return self

    def levels(self) -> list[str]:
        """Noise levels evaluated: ``"clean"`` and ``"<snr>db"``."""
        return (["clean"] if self.clean else []) + [f"{s:g}db" for s in self.snr_db]

    def build_policy(self, name: str) -> ConfirmationPolicy:
        """The policy ``name`` built from its table."""
        return build_checked(
            CONFIRMATION_POLICIES, name, f"policies.{name}", **self.policies.get(name, {})
        )

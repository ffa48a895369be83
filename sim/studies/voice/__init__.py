"""The voice-command study: confirmation policies compared on a synthesised corpus of
spoken commands (no world needed: the runs may have no subscribers), per-run figures
judged against what was meant, and the report's voice-command section."""

from __future__ import annotations

from ..study import Study
from .metrics import voice_metrics
from .report import voice_section

__all__ = ["VOICE", "VoiceStudy"]


class VoiceStudy(Study):
    """Which confirmation policy keeps wrong actions at zero with the fewest turns."""

    name = "voice"

    def studied(self, config):
        return config.voice.enabled

    def metrics(self, result, folder=None):
        return voice_metrics(result)

    def section(self, result, labels):
        return voice_section(result, labels)


VOICE = VoiceStudy()

"""Per-run figures of the voice-command study: a fresh corpus sample drawn from the run's
seed and replication, recognised at every noise level, and every confirmation policy's
dialogue played on the same recognitions (paired), judged against what was meant."""

from __future__ import annotations

import zlib

import numpy as np

from models.voice.corpus import (
    Utterance,
    babble_speech,
    sample_equipment,
    sample_utterances,
    speak,
)
from models.voice.dialogue import DialogueResult, run_dialogue
from models.voice.grammar import spoken
from models.voice.jsgf import command_grammar, confirm_grammar
from models.voice.recognize import Recognition, Recognizer, in_dictionary
from models.voice.speech import mix, noise
from models.voice.state import Equipment

from ...results.run import SimResult

__all__ = ["FIGURES", "draw_corpus", "evaluate", "noisy", "utterance_rng", "voice_metrics"]

FIGURES = ("wrong", "completed", "within_two", "turns", "latency_ms", "commands")
"""Each policy's figures at each level: ``voice.<level>.<policy>.<figure>``."""


def _seed(cfg_seed: int, *parts: str | int) -> np.random.SeedSequence:
    key = tuple(p if isinstance(p, int) else zlib.crc32(p.encode()) for p in parts)
    return np.random.SeedSequence(cfg_seed, spawn_key=key)


def draw_corpus(config, replication: int) -> tuple[Equipment, list[Utterance]]:  # noqa: ANN001
    """The equipment and the commands of one replication of ``config.voice.part`` (the
    study's draw, shared by the threshold tuning and the bench)."""
    cfg = config.voice
    rng = np.random.default_rng(_seed(config.seed, "voice", cfg.part, replication))
    state = sample_equipment(rng)
    return state, sample_utterances(rng, state, cfg.commands, cfg.voices, cfg.rates)


def utterance_rng(config, replication: int, level: int, i: int) -> np.random.Generator:  # noqa: ANN001
    """The generator of command ``i``'s sayings and noise at the ``level``-th level."""
    return np.random.default_rng(
        _seed(config.seed, "voice", config.voice.part, replication, level, i)
    )


def noisy(
    cfg, audio: np.ndarray, snr: float | None, rng: np.random.Generator, babble
) -> np.ndarray:  # noqa: ANN001
    """``audio`` with one of ``cfg.noises`` (drawn from ``rng``) at ``snr`` dB (None: as is)."""
    if snr is None:
        return audio
    kind = cfg.noises[int(rng.integers(len(cfg.noises)))]
    return mix(audio, noise(kind, len(audio), rng, babble), snr)


def evaluate(config, replication: int) -> dict[str, float]:  # noqa: ANN001 -- VoiceConfig
    """Every figure of one replication (see :func:`voice_metrics`)."""
    cfg = config.voice
    state, utterances = draw_corpus(config, replication)
    rec = Recognizer("jsgf")
    rec.set_grammar("command", command_grammar(state, in_dictionary))
    rec.set_grammar("confirm", confirm_grammar(), fillers=True)
    babble = babble_speech(cfg.voices, cfg.cache or None) if "babble" in cfg.noises else None
    policies = {name: cfg.build_policy(name) for name in cfg.policies}
    out: dict[str, float] = {}
    for li, level in enumerate(cfg.levels()):
        snr = None if level == "clean" else float(level[:-2])
        results: dict[str, list[DialogueResult]] = {p: [] for p in policies}
        first: list[float] = []
        for i, u in enumerate(utterances):
            said = _Speaker(u, cfg, rec, utterance_rng(config, replication, li, i), snr, babble)
            for name, policy in policies.items():
                results[name].append(
                    run_dialogue(
                        u.intent,
                        state,
                        said.command,
                        said.answer,
                        policy=policy,
                        repeat_below=cfg.repeat_below,
                        max_turns=cfg.max_turns,
                    )
                )
            first.append(said.command(0).seconds)
        n = len(utterances)
        any_policy = next(iter(results.values()))
        out[f"voice.{level}.accuracy"] = float(np.mean([d.first_correct for d in any_policy]))
        out[f"voice.{level}.recognition_p50_ms"] = 1000 * float(np.percentile(first, 50))
        out[f"voice.{level}.recognition_p95_ms"] = 1000 * float(np.percentile(first, 95))
        for name, ds in results.items():
            key = f"voice.{level}.{name}"
            out[f"{key}.commands"] = float(n)
            out[f"{key}.wrong"] = float(sum(d.wrong_action for d in ds))
            out[f"{key}.wrong_answers"] = float(sum(d.wrong_answer for d in ds))
            out[f"{key}.completed"] = float(np.mean([d.completed for d in ds]))
            out[f"{key}.within_two"] = float(np.mean([d.completed and d.turns <= 2 for d in ds]))
            out[f"{key}.turns"] = float(np.mean([d.turns for d in ds]))
            out[f"{key}.latency_ms"] = 1000 * float(np.mean([d.seconds for d in ds]))
    return out


class _Speaker:
    """One corpus command's speaker: the k-th saying of the command (the first as drawn,
    later ones a fresh spoken variant at a random rate of the same voice) and the k-th yes
    or no, each with fresh noise, recognised once and remembered, so every policy hears
    the same utterances."""

    def __init__(self, u, cfg, rec: Recognizer, rng: np.random.Generator, snr, babble) -> None:  # noqa: ANN001
        self.u, self.cfg, self.rec, self.rng, self.snr, self.babble = u, cfg, rec, rng, snr, babble
        self.commands: dict[int, Recognition] = {}
        self.answers: dict[tuple[bool, int], Recognition] = {}

    def _hear(self, audio: np.ndarray, grammar: str) -> Recognition:
        audio = noisy(self.cfg, audio, self.snr, self.rng, self.babble)
        return self.rec.recognize(audio, grammar)

    def command(self, k: int) -> Recognition:
        if k not in self.commands:
            u, cfg = self.u, self.cfg
            text = u.text if k == 0 else spoken(u.intent, self.rng)
            rate = u.rate if k == 0 else int(cfg.rates[int(self.rng.integers(len(cfg.rates)))])
            self.commands[k] = self._hear(speak(text, u.voice, rate, cfg.cache or None), "command")
        return self.commands[k]

    def answer(self, yes: bool, k: int) -> Recognition:
        if (yes, k) not in self.answers:
            word = "yes" if yes else "no"
            audio = speak(word, self.u.voice, self.u.rate, self.cfg.cache or None)
            self.answers[(yes, k)] = self._hear(audio, "confirm")
        return self.answers[(yes, k)]


def voice_metrics(result: SimResult) -> dict[str, float]:
    """Voice figures of one run (empty unless ``voice.enabled``).

    Returns
    -------
    dict
        Per noise level (``clean``, ``20db``...): ``voice.<level>.accuracy`` (share of
        first utterances recognised as exactly the intended command),
        ``voice.<level>.recognition_p50_ms`` / ``_p95_ms`` (decoding time of a first
        utterance); per level and policy: ``commands``, ``wrong`` (wrong actions
        executed: another command that changed the equipment), ``wrong_answers`` (another
        command that changed nothing), ``completed`` (share executed as meant),
        ``within_two`` (share completed within two utterances), ``turns`` (mean
        utterances per command), ``latency_ms`` (mean recognition time per command).
    """
    if not result.config.voice.enabled:
        return {}
    return evaluate(result.config, int(result.manifest.get("replication", 0)))

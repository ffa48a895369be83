"""The corpus of spoken commands: random equipment, random commands of every form, spoken
by espeak-ng voices at several rates, with noise mixed in at several SNRs.

What the corpus holds is defined here and in the ``[voice]`` config section (voices,
rates, SNRs, noises, commands per replication, the tuning / held-out split); the audio is
synthesised on demand and cached outside the repository (``~/.cache/tnlab/voice`` unless
a folder is given), named by a hash of text, voice, rate and the espeak-ng version, so the
same seed always gives the same corpus.

Formant speech is not human speech: recordings with transcripts can be used instead
(:func:`recorded`).
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .grammar import FORMS, Intent, parse, spoken
from .speech import read_wav, synthesize
from .state import Equipment

__all__ = [
    "AREA_CODES",
    "PHONE_NAMES",
    "Utterance",
    "babble_speech",
    "cache_dir",
    "equipment_for",
    "recorded",
    "sample_equipment",
    "sample_intent",
    "sample_utterances",
    "speak",
]

PHONE_NAMES = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "lobby", "kitchen", "reception",
)  # fmt: skip
"""Names given to phones (every one is in the recogniser's dictionary)."""
AREA_CODES = (212, 312, 415, 617, 202, 305, 713, 206, 303, 404)
"""Area codes of the corpus's numbers."""
BABBLE_TEXT = (
    "the quarterly numbers are due on friday so please send them before lunch",
    "we moved the meeting to the small room on the third floor",
    "can you call the vendor back and ask about the delivery date",
    "i think the printer on this floor is out of paper again",
)
"""What the background talkers of babble noise say."""


@dataclass(frozen=True)
class Utterance:
    """One corpus command: what was meant and how it was said.

    Attributes
    ----------
    intent : Intent
        The truth.
    text : str
        The words spoken (a :func:`~models.voice.grammar.spoken` variant).
    voice : str
        The espeak-ng voice.
    rate : int
        Words per minute.
    """

    intent: Intent
    text: str
    voice: str
    rate: int


def _number(rng: np.random.Generator) -> str:
    area = int(rng.choice(AREA_CODES))
    exchange = int(rng.integers(200, 1000))
    while exchange % 100 == 11 or exchange == 555:  # no N11, no 555
        exchange = int(rng.integers(200, 1000))
    return f"{area}{exchange}{int(rng.integers(0, 10_000)):04d}"


def sample_equipment(rng: np.random.Generator, *, ports: int = 24, numbers: int = 12) -> Equipment:
    """A random small switch: ``ports`` ports and lines, about half cross-connected,
    ``numbers`` numbers (a third each available, assigned, aging), six phones with two
    extensions each, a few forwarded lines and calls up."""
    s = Equipment(ports=set(range(1, ports + 1)), lines=set(range(1, ports + 1)))
    p = rng.permutation(ports)[: ports // 2] + 1
    ln = rng.permutation(ports)[: ports // 2] + 1
    s.cross = {int(a): int(b) for a, b in zip(p, ln)}
    s.phones = {str(x) for x in rng.choice(PHONE_NAMES, 6, replace=False)}
    phones = sorted(s.phones)
    exts = rng.choice(np.arange(200, 300), 2 * len(phones), replace=False)
    s.extensions = {str(int(e)): phones[i // 2] for i, e in enumerate(exts)}
    while len(s.numbers) < numbers:
        n = _number(rng)
        kind = ("available", "assigned", "aging")[len(s.numbers) % 3]
        holder = None
        if kind == "assigned":
            holder = (
                f"phone:{rng.choice(phones)}"
                if rng.random() < 0.5
                else f"extension:{rng.choice(sorted(s.extensions))}"
            )
        s.numbers[n] = {"state": kind, "holder": holder}
    connected = sorted(s.cross.values())
    s.calls_up = {int(x) for x in rng.choice(connected, min(3, len(connected)), replace=False)}
    for x in rng.choice(sorted(s.lines), 2, replace=False):
        s.forwarding[int(x)] = _number(rng)
    return s


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def sample_intent(rng: np.random.Generator, state: Equipment) -> Intent:
    """A random command of a uniformly chosen form, naming equipment of ``state`` in a way
    that makes sense (connect a free port to a free line, release an assigned number...)."""
    form = FORMS[int(rng.integers(len(FORMS)))]
    s = state
    free_ports = sorted(s.ports - set(s.cross)) or sorted(s.ports)
    free_lines = sorted(s.lines - set(s.cross.values())) or sorted(s.lines)
    by_state = {k: sorted(n for n, r in s.numbers.items() if r["state"] == k) for k in
                ("available", "assigned")}  # fmt: skip
    values: dict[str, int | str] = {}
    for slot in form.slots:
        if slot == "port":
            values[slot] = int(
                _pick(rng, free_ports if form.action == "connect" else sorted(s.ports))
            )
        elif slot == "line":
            values[slot] = int(
                _pick(rng, free_lines if form.action == "connect" else sorted(s.lines))
            )
        elif slot == "number":
            wanted = {"release": "assigned", "assign_phone": "available"}.get(form.action)
            if form.action == "assign_extension":
                wanted = "available"
            pool = by_state.get(wanted or "", []) or sorted(s.numbers)
            values[slot] = str(_pick(rng, pool))
        elif slot == "target":
            values[slot] = _number(rng)
        elif slot == "extension":
            values[slot] = str(_pick(rng, sorted(s.extensions)))
        elif slot == "phone":
            values[slot] = str(_pick(rng, sorted(s.phones)))
    if form.action == "disconnect" and s.cross:
        port = int(_pick(rng, sorted(s.cross)))
        values = {"port": port, "line": s.cross[port]}
    return Intent(form.action, tuple((k, values[k]) for k in form.slots))


def sample_utterances(
    rng: np.random.Generator, state: Equipment, n: int, voices: list[str], rates: list[int]
) -> list[Utterance]:
    """``n`` random commands over ``state``, each with a random voice, rate and spoken
    variant."""
    out = []
    for _ in range(n):
        intent = sample_intent(rng, state)
        text = spoken(intent, rng)
        out.append(Utterance(intent, text, str(_pick(rng, voices)), int(_pick(rng, rates))))
    return out


def cache_dir(folder: str | os.PathLike[str] | None = None) -> Path:
    """Where synthesised audio is cached: ``folder``, else ``$TNLAB_VOICE_CACHE``, else
    ``~/.cache/tnlab/voice``."""
    if folder:
        return Path(folder)
    env = os.environ.get("TNLAB_VOICE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "tnlab" / "voice"


@lru_cache(maxsize=1)
def _espeak_version() -> str:
    try:
        return subprocess.run(
            ["espeak-ng", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "none"


def speak(
    text: str, voice: str, rate: int, folder: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """The int16 16 kHz samples of ``text`` (synthesised once, then read from the cache)."""
    key = hashlib.sha256(f"{text}|{voice}|{rate}|{_espeak_version()}".encode()).hexdigest()[:24]
    path = cache_dir(folder) / f"{key}.wav"
    if path.exists():
        try:
            return read_wav(path.read_bytes(), max_seconds=60)
        except ValueError:  # a damaged cache file: synthesise again
            pass
    data = synthesize(text, voice=voice, rate=rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return read_wav(data, max_seconds=60)


def babble_speech(voices: list[str], folder: str | os.PathLike[str] | None = None) -> np.ndarray:
    """Speech of other talkers for babble noise: :data:`BABBLE_TEXT` in every voice."""
    parts = [speak(t, v, 170, folder) for v in voices for t in BABBLE_TEXT]
    return np.concatenate(parts)


def equipment_for(intents: list[Intent], base: Equipment) -> Equipment:
    """``base`` with everything ``intents`` name added, so that a grammar over it can hear
    each of them: their ports, lines, phones and extensions; the numbers they name
    (assigned, so that a release can be heard); the port/line pairs they disconnect,
    cross-connected.  For measuring recognition on recorded commands, whose equipment is
    whatever the speakers named (preconditions of other commands are not arranged).

    Parameters
    ----------
    intents : list of Intent
        The recorded commands.
    base : Equipment
        The rest of the switch (e.g. :func:`sample_equipment`); not changed.
    """
    state = base.copy()
    for intent in intents:
        slots = dict(intent.slots)
        if "port" in slots:
            state.ports.add(int(slots["port"]))
        if "line" in slots:
            state.lines.add(int(slots["line"]))
        if "phone" in slots:
            state.phones.add(str(slots["phone"]))
        if "extension" in slots:
            state.extensions.setdefault(str(slots["extension"]), sorted(state.phones)[0])
        if "number" in slots:
            state.numbers[str(slots["number"])] = {"state": "assigned", "holder": None}
        if intent.action == "disconnect":
            port, line = int(slots["port"]), int(slots["line"])
            state.cross = {p: x for p, x in state.cross.items() if p != port and x != line}
            state.cross[port] = line
    return state


def recorded(folder: str | os.PathLike[str]) -> list[tuple[np.ndarray, Intent]]:
    """Recorded commands: ``folder/transcripts.csv`` with columns ``file,text`` (16 kHz
    mono WAV files beside it; the text as spoken, parsed by the grammar).

    Raises
    ------
    ValueError
        Naming the row whose file is unreadable or whose text is no command.
    """
    base = Path(folder)
    out = []
    with open(base / "transcripts.csv", newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            intent = parse(row["text"] or "")
            if intent is None:
                raise ValueError(f"transcripts.csv line {i}: {row['text']!r} is no command")
            try:
                samples = read_wav((base / (row["file"] or "")).read_bytes(), max_seconds=60)
            except (OSError, ValueError) as e:
                raise ValueError(f"transcripts.csv line {i}: {row['file']!r}: {e}") from None
            out.append((samples, intent))
    return out

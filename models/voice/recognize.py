"""Offline speech recognition with pocketsphinx (the pip package ships its US English
acoustic model, dictionary and language model, so nothing is downloaded at run time).

Two modes over the same acoustic model: ``jsgf`` -- the search is constrained to a JSGF
grammar (:mod:`.jsgf`, generated from the command grammar and the live equipment) -- and
``lm`` -- the package's general trigram language model, unconstrained (the bench's
baseline).  The confidence of a result is the decoder's posterior probability of the
hypothesis (``Hypothesis.prob``, from the lattice's forward-backward pass).

Filler words are kept out of grammar searches (``fsgusefiller = no``): with fillers
allowed between words, pocketsphinx often ends a grammar search in a short wrong path on
synthetic speech; batch cepstral mean normalisation suits whole utterances.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .fsg import minimal_fsg

__all__ = [
    "COMMAND_OPTIONS",
    "DECODER_OPTIONS",
    "PAUSE",
    "Recognition",
    "Recognizer",
    "in_dictionary",
    "trim",
]

RATE = 16_000
DITHER = 30.0
"""Standard deviation of the Gaussian dither added before decoding (int16 units, about
-60 dBFS): stretches of digital zeros (synthetic pauses) upset the decoder's features."""

PAUSE = "sil_pause"
"""A word whose pronunciation is the silence phone, added to every decoder's dictionary:
grammars place it (optionally) where a pause may fall -- before and after a command and
between the groups of a telephone number -- since filler words cannot be allowed
everywhere (see the module's notes).  It is removed from the recognised text."""
DECODER_OPTIONS: dict[str, Any] = {"loglevel": "FATAL", "cmn": "batch", "ds": 2, "topn": 8}
"""pocketsphinx options of every decoder: batch cepstral mean normalisation, every other
frame scored (``ds = 2``: as accurate as every frame on the tuning part of the corpus, and
cheaper) and the 8 best Gaussians of each frame instead of 4 (``topn``: exact-intent
accuracy 0.905 -> 0.922 clean and 0.907 -> 0.935 at 20 dB on 400 commands of the tuning
part, with :data:`COMMAND_OPTIONS`).  See docs/voice.md for the sweeps."""
COMMAND_OPTIONS: dict[str, Any] = {"wbeam": 1e-22}
"""Options of the decoder of command grammars (no fillers): a narrower word-exit beam than
pocketsphinx's 7e-29 -- fewer word exits, so a smaller lattice for the confidence, whose
construction grows with their square; the same accuracy on the tuning part.  Not for the
yes/no decoder: with filler words between, it lost "yes" and "cancel" altogether."""


def trim(samples: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Cut leading and trailing non-speech: keep from ``margin`` seconds before the first
    10 ms frame louder than the noise floor + 8 dB (and within 40 dB of the loudest) to
    ``margin`` after the last.  A grammar search without fillers must match every frame
    to a word, so silence around the words would be heard as words."""
    f = RATE // 100
    n = len(samples) // f
    if n == 0:
        return samples
    frames = samples[: n * f].astype(np.float64).reshape(n, f)
    energy = 10 * np.log10((frames**2).mean(axis=1) + 1e-9)
    threshold = max(float(np.percentile(energy, 10)) + 8.0, float(energy.max()) - 40.0)
    active = np.flatnonzero(energy > threshold)
    if len(active) == 0:
        return samples
    start = max(0, int(active[0]) * f - int(margin * RATE))
    end = min(len(samples), (int(active[-1]) + 1) * f + int(margin * RATE))
    return samples[start:end]


@dataclass(frozen=True)
class Recognition:
    """One recognised utterance.

    Attributes
    ----------
    text : str
        The best hypothesis ("" when the decoder found none).
    confidence : float
        Posterior probability of the hypothesis in [0, 1] (0 when none).
    seconds : float
        Decoding time, end-pointing included (wall clock, one core).
    """

    text: str
    confidence: float
    seconds: float


def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return str(get_model_path())


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    path = os.path.join(_model_dir(), "en-us", "cmudict-en-us.dict")
    with open(path, encoding="utf-8") as f:
        return frozenset(line.split(" ", 1)[0] for line in f if line.strip())


def in_dictionary(word: str) -> bool:
    """Whether the recogniser's pronunciation dictionary has ``word``."""
    return word.lower() in _dictionary()


class Recognizer:
    """A pocketsphinx decoder for 16 kHz mono int16 audio.

    Parameters
    ----------
    mode : {"jsgf", "lm"}
        Constrained by grammars (:meth:`set_grammar`) or the general language model.
    options : dict, optional
        pocketsphinx options over :data:`DECODER_OPTIONS` and :data:`COMMAND_OPTIONS` (the
        bench's sweeps).
    minimal : bool, optional
        Search each grammar as its minimal automaton (:func:`.fsg.minimal_fsg`; the
        default); False: as pocketsphinx compiles the JSGF (the bench's comparison).

    Notes
    -----
    Not thread-safe: one decoder per thread (the service decodes in one worker thread).
    """

    def __init__(
        self, mode: str = "jsgf", options: dict[str, Any] | None = None, minimal: bool = True
    ) -> None:
        if mode not in ("jsgf", "lm"):
            raise ValueError(f"mode must be 'jsgf' or 'lm', got {mode!r}")
        self.mode = mode
        self.minimal = minimal
        self._options: dict[str, Any] = dict(options or {})
        self._decoders: dict[bool, Any] = {}
        self._grammars: dict[str, tuple[str, bool]] = {}
        if mode == "lm":
            from pocketsphinx import Decoder

            self._lm = Decoder(**{**DECODER_OPTIONS, **self._options})

    def _decoder_for(self, fillers: bool) -> Any:
        from pocketsphinx import Decoder

        if fillers not in self._decoders:
            grammar = {} if fillers else COMMAND_OPTIONS
            options = {**DECODER_OPTIONS, **grammar, **self._options, "fsgusefiller": fillers}
            decoder = Decoder(lm=None, jsgf=None, **options)
            decoder.add_word(PAUSE, "SIL", True)
            self._decoders[fillers] = decoder
        return self._decoders[fillers]

    def set_grammar(self, name: str, jsgf: str, *, fillers: bool = False) -> None:
        """Add (or replace) the grammar ``name``; unchanged text costs nothing.

        The grammar is searched as its minimal automaton unless ``minimal`` is False
        (:func:`.fsg.minimal_fsg`: the same weighted language, a sixth of the states of
        pocketsphinx's own compilation on the study's switches).

        ``fillers`` lets silence and noise fillers sit between words: needed by one-word
        grammars (yes/no), harmful to long commands (see the module's notes).
        """
        if self.mode != "jsgf":
            raise ValueError("grammars need mode='jsgf'")
        if self._grammars.get(name) == (jsgf, fillers):
            return
        decoder = self._decoder_for(fillers)
        if self.minimal:
            decoder.add_fsg(name, minimal_fsg(decoder, jsgf, name))
        else:
            decoder.add_jsgf_string(name, jsgf)
        self._grammars[name] = (jsgf, fillers)

    def recognize(self, samples: np.ndarray, grammar: str | None = None) -> Recognition:
        """Decode one utterance (with the grammar ``grammar`` in ``jsgf`` mode)."""
        if self.mode == "jsgf":
            if grammar not in self._grammars:
                raise KeyError(f"no grammar {grammar!r} (set_grammar first)")
            d = self._decoder_for(self._grammars[grammar][1])
            d.activate_search(grammar)
        else:
            d = self._lm
        start = time.perf_counter()
        x = trim(np.asarray(samples, dtype=np.int16)).astype(np.float64)
        x += np.random.default_rng(len(x)).normal(0.0, DITHER, len(x))
        audio = np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()
        d.start_utt()
        d.process_raw(audio, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        seconds = time.perf_counter() - start
        if hyp is None or not hyp.hypstr.strip():
            return Recognition("", 0.0, seconds)
        text = " ".join(w for w in hyp.hypstr.split() if w != PAUSE)
        if not text:
            return Recognition("", 0.0, seconds)
        prob = float(hyp.prob)
        return Recognition(text, min(max(prob, 0.0), 1.0), seconds)

"""Recognition latency of the voice service's recogniser (``models.voice.recognize``): per
utterance, pocketsphinx constrained by the JSGF grammar of the command forms and the live
equipment, beside the same decoder with its general trigram language model
(unconstrained) and the grammar as pocketsphinx compiles the JSGF (before
:func:`models.voice.fsg.minimal_fsg`), on the same audio -- the first utterances of the
study's corpus (``experiments/voice_confirmation.toml``, replication 0 of the ``heldout``
part unless ``--part tuning``), clean and at 20 dB SNR with the study's noise draws.
Wall-clock time and the thread's CPU time (less sensitive to the other processes of a
shared machine) per utterance, the modes taking turns on each utterance.  The process is
pinned to one core; the load average is printed with the figures.  Nothing is asserted.

Decoder options are swept with ``--decoder KEY=VALUE`` (repeatable) on the tuning part
only: the held-out part is for the report's figures, never for choosing.

    python -m benchmarks.voice [--quick] [--part tuning] [--decoder ds=1] [--no-lm]
    python -m benchmarks.voice --recorded FOLDER   # recorded commands with transcripts
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np

from models.voice.corpus import (
    babble_speech,
    equipment_for,
    recorded,
    sample_equipment,
    speak,
)
from models.voice.grammar import Intent, parse
from models.voice.jsgf import command_grammar
from models.voice.recognize import Recognizer, in_dictionary
from models.voice.state import Equipment

__all__ = ["bench_voice"]

EXPERIMENT = "experiments/voice_confirmation.toml"


def bench_voice(
    quick: bool = False,
    part: str = "heldout",
    decoder: dict[str, Any] | None = None,
    lm: bool = True,
    recorded: str | None = None,
) -> None:
    """Print p50 / p95 decoding time per utterance and exact-intent accuracy, JSGF against
    the unconstrained language model.

    Parameters
    ----------
    quick : bool
        12 commands instead of 40.
    part : {"heldout", "tuning"}
        Which part of the study's corpus.
    decoder : dict, optional
        pocketsphinx options over the recogniser's defaults (JSGF mode).
    lm : bool
        Also decode with the language model (slow).
    recorded : str, optional
        A folder of recorded commands (``transcripts.csv`` with ``file,text`` and 16 kHz
        mono WAV files, :func:`models.voice.corpus.recorded`) to measure instead of the
        synthesised corpus, against a grammar over a switch holding everything they name.
    """
    pinned = hasattr(os, "sched_setaffinity")
    cores = os.sched_getaffinity(0) if pinned else set()
    if pinned:
        os.sched_setaffinity(0, {min(cores)})
    try:
        if recorded:
            _bench_recorded(recorded, decoder or {}, lm)
        else:
            _bench(quick, part, decoder or {}, lm)
    finally:
        if pinned:  # the benches after this one have every core again
            os.sched_setaffinity(0, cores)


def _modes(state: Equipment, decoder: dict[str, Any], with_lm: bool) -> list[tuple[str, Any]]:
    """The recognisers compared, each a function of the audio."""
    grammar = command_grammar(state, in_dictionary)
    jsgf = Recognizer("jsgf", decoder)
    jsgf.set_grammar("command", grammar)
    plain = Recognizer("jsgf", decoder, minimal=False)
    plain.set_grammar("command", grammar)
    modes = [
        ("JSGF, minimal automaton", lambda a: jsgf.recognize(a, "command")),
        ("JSGF as compiled", lambda a: plain.recognize(a, "command")),
    ]
    if with_lm:
        modes.append(("trigram LM (baseline)", Recognizer("lm").recognize))
    return modes


def _header(what: str, decoder: dict[str, Any]) -> None:
    load = os.getloadavg()[0]
    print(f"voice recognition, {what}, one core (load average {load:.1f}), "
          f"decoder options {decoder or 'default'}")  # fmt: skip
    print(
        f"  {'level':<8} {'mode':<24} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}"
        f" {'exact intent':>13}"
    )


def _measure(
    level: str, audio: list[np.ndarray], intents: list[Intent], modes: list[tuple[str, Any]]
) -> None:
    """Decode every utterance with every mode, the modes taking turns on each utterance,
    and print one row per mode."""
    for _, run in modes:  # warm up
        run(audio[0])
    results: dict[str, list[Any]] = {name: [] for name, _ in modes}
    cpu: dict[str, list[float]] = {name: [] for name, _ in modes}
    for a in audio:
        for name, run in modes:
            start = time.thread_time()
            results[name].append(run(a))
            cpu[name].append(1000 * (time.thread_time() - start))
    for name, _ in modes:
        ms = np.array([r.seconds for r in results[name]]) * 1000
        exact = np.mean([parse(r.text) == i for r, i in zip(results[name], intents)])
        print(
            f"  {level:<8} {name:<24} {np.percentile(ms, 50):8.0f} "
            f"{np.percentile(ms, 95):8.0f} {np.percentile(cpu[name], 50):8.0f} "
            f"{np.percentile(cpu[name], 95):8.0f} {exact:13.0%}"
        )
    seconds = np.mean([len(a) for a in audio]) / 16_000
    print(
        f"  (mean utterance {seconds:.1f} s of audio; wall-clock and CPU ms per utterance; "
        "p95 target <= 150 ms)"
    )


def _bench(quick: bool, part: str, decoder: dict[str, Any], with_lm: bool) -> None:
    from sim import load_config
    from sim.studies.voice.metrics import draw_corpus, noisy, utterance_rng

    config = load_config(EXPERIMENT, [f"voice.part={part!r}"])
    cfg = config.voice
    state, utterances = draw_corpus(config, 0)
    utterances = utterances[:12] if quick else utterances
    babble = babble_speech(cfg.voices, cfg.cache or None)
    modes = _modes(state, decoder, with_lm)
    _header(f"{part} part, {len(utterances)} commands per level", decoder)
    for li, level in enumerate(("clean", "20db")):
        audio = []
        for i, u in enumerate(utterances):
            x = speak(u.text, u.voice, u.rate, cfg.cache or None)
            snr = None if level == "clean" else 20.0  # the study's draw for the first utterance
            audio.append(noisy(cfg, x, snr, utterance_rng(config, 0, li, i), babble))
        _measure(level, audio, [u.intent for u in utterances], modes)


def _bench_recorded(folder: str, decoder: dict[str, Any], with_lm: bool) -> None:
    try:
        commands = recorded(folder)
    except (OSError, ValueError) as e:  # a bad folder or row: one line, status 2
        print(f"--recorded: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    intents = [intent for _, intent in commands]
    state = equipment_for(intents, sample_equipment(np.random.default_rng(0)))
    _header(f"{len(commands)} recorded commands from {folder}", decoder)
    _measure(
        "recorded", [samples for samples, _ in commands], intents, _modes(state, decoder, with_lm)
    )


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--decoder wants KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m benchmarks.voice")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--part", choices=("heldout", "tuning"), default="heldout")
    p.add_argument("--decoder", type=_option, action="append", default=[])
    p.add_argument("--no-lm", action="store_true")
    p.add_argument("--recorded", metavar="FOLDER", help="recorded commands instead (see docs)")
    a = p.parse_args()
    bench_voice(a.quick, a.part, dict(a.decoder), not a.no_lm, a.recorded)

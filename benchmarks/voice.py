"""Recognition latency of the voice service's recogniser (``models.voice.recognize``): per
utterance, pocketsphinx constrained by the JSGF grammar of the command forms and the live
equipment, beside the same decoder with its general trigram language model
(unconstrained), on the same audio -- corpus commands of every form at clean and 20 dB
SNR.  Wall-clock time and the thread's CPU time (less sensitive to the other processes of
a shared machine) per utterance.  The process is pinned to one core; the load average
is printed with the figures.  Nothing is asserted.

    python -m benchmarks.voice [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from models.voice.corpus import babble_speech, sample_equipment, sample_utterances, speak
from models.voice.grammar import parse
from models.voice.jsgf import command_grammar
from models.voice.recognize import Recognizer, in_dictionary
from models.voice.speech import mix, noise

__all__ = ["bench_voice"]

VOICES = ["en-us", "en-us+f2", "en-us+m3", "en-gb-x-rp"]


def bench_voice(quick: bool = False) -> None:
    """Print p50 / p95 decoding time per utterance and exact-intent accuracy, JSGF against
    the unconstrained language model."""
    pinned = hasattr(os, "sched_setaffinity")
    cores = os.sched_getaffinity(0) if pinned else set()
    if pinned:
        os.sched_setaffinity(0, {min(cores)})
    try:
        _bench(quick)
    finally:
        if pinned:  # the benches after this one have every core again
            os.sched_setaffinity(0, cores)


def _bench(quick: bool) -> None:
    rng = np.random.default_rng(2023_0134524)
    state = sample_equipment(rng)
    utterances = sample_utterances(rng, state, 12 if quick else 40, VOICES, [140, 170])
    babble = babble_speech(VOICES)
    jsgf = Recognizer("jsgf")
    jsgf.set_grammar("command", command_grammar(state, in_dictionary))
    lm = Recognizer("lm")
    load = os.getloadavg()[0]
    print(f"voice recognition, {len(utterances)} corpus commands per level, one core "
          f"(load average {load:.1f})")  # fmt: skip
    print(
        f"  {'level':<6} {'mode':<22} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}"
        f" {'exact intent':>13}"
    )
    for level in ("clean", "20db"):
        audio = []
        for u in utterances:
            x = speak(u.text, u.voice, u.rate)
            if level != "clean":
                kind = ("white", "babble", "office")[int(rng.integers(3))]
                x = mix(x, noise(kind, len(x), rng, babble), 20.0)
            audio.append(x)
        jsgf.recognize(audio[0], "command")  # warm up
        lm.recognize(audio[0])
        for name, run in (
            ("JSGF (grammar + state)", lambda a: jsgf.recognize(a, "command")),
            ("trigram LM (baseline)", lm.recognize),
        ):
            results, cpu = [], []
            for a in audio:
                start = time.thread_time()
                results.append(run(a))
                cpu.append(1000 * (time.thread_time() - start))
            ms = np.array([r.seconds for r in results]) * 1000
            exact = np.mean([parse(r.text) == u.intent for r, u in zip(results, utterances)])
            print(
                f"  {level:<6} {name:<22} {np.percentile(ms, 50):8.0f} "
                f"{np.percentile(ms, 95):8.0f} {np.percentile(cpu, 50):8.0f} "
                f"{np.percentile(cpu, 95):8.0f} {exact:13.0%}"
            )
    seconds = np.mean([len(a) for a in audio]) / 16_000
    print(
        f"  (mean utterance {seconds:.1f} s of audio; wall-clock and CPU ms per utterance; "
        "p95 target <= 150 ms)"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m benchmarks.voice")
    p.add_argument("--quick", action="store_true")
    bench_voice(p.parse_args().quick)

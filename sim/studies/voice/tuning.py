"""Choosing the confidence threshold on the tuning part of the corpus (never on the
held-out part): every first utterance's confidence, whether it was recognised as the
intended command, and whether what was heard would have changed the equipment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.voice.corpus import babble_speech, speak
from models.voice.grammar import parse
from models.voice.jsgf import command_grammar, confirm_grammar
from models.voice.recognize import Recognizer, in_dictionary
from models.voice.state import execute, explain_missing, risky

from ...config.experiment import ExperimentConfig
from .metrics import draw_corpus, noisy, utterance_rng

__all__ = ["first_utterances", "threshold_for"]


def first_utterances(config: ExperimentConfig, replications: int) -> pd.DataFrame:
    """One row per first utterance of the tuning part: ``replication``, ``level``,
    ``truth`` and ``heard`` (actions), ``confidence``, ``correct``, ``harmful`` (heard
    another command that would change the equipment), ``risky`` (the heard command would
    be read back by the destructive rule)."""
    cfg = config.voice
    if cfg.part != "tuning":
        raise ValueError("voice.part: thresholds are chosen on the 'tuning' part only")
    rows = []
    babble = babble_speech(cfg.voices, cfg.cache or None)
    for rep in range(replications):
        state, utterances = draw_corpus(config, rep)
        rec = Recognizer("jsgf")
        rec.set_grammar("command", command_grammar(state, in_dictionary))
        rec.set_grammar("confirm", confirm_grammar(), fillers=True)
        for li, level in enumerate(cfg.levels()):
            for i, u in enumerate(utterances):
                audio = speak(u.text, u.voice, u.rate, cfg.cache or None)
                snr = None if level == "clean" else float(level[:-2])
                audio = noisy(cfg, audio, snr, utterance_rng(config, rep, li, i), babble)
                heard = rec.recognize(audio, "command")
                intent = parse(heard.text)
                ok = intent is not None and explain_missing(intent, state) is None
                harmful = bool(
                    ok
                    and intent != u.intent
                    and (intent.action == "undo" or execute(intent, state.copy()).change)
                )
                rows.append(
                    {
                        "replication": rep,
                        "level": level,
                        "truth": u.intent.action,
                        "heard": intent.action if intent else "",
                        "confidence": heard.confidence,
                        "correct": intent == u.intent,
                        "harmful": harmful,
                        "risky": bool(ok and risky(intent, state)),
                    }
                )
    return pd.DataFrame(rows)


def threshold_for(first: pd.DataFrame, step: float = 0.05) -> float:
    """The lowest threshold on a ``step`` grid above the confidence of every harmful
    hypothesis the destructive rule would not read back (so that, on the tuning part,
    threshold + destructive reads back every harmful first utterance)."""
    unguarded = first[first["harmful"] & ~first["risky"]]["confidence"]
    top = float(unguarded.max()) if len(unguarded) else 0.0
    return float(min(1.0, np.floor(top / step) * step + step))

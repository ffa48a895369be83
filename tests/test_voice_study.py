"""The voice-command study: the recommendation follows the evidence (no wrong action,
then fewest turns by paired intervals), zero counts are exact bounds, and a tiny corpus
runs end to end through the recogniser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tools import require, require_module

from sim.config import load_config
from sim.studies.voice.metrics import evaluate
from sim.studies.voice.report import _share, recommendation, safe

POLICIES = ["never", "always", "destructive"]


def _metrics(
    turns: dict[str, list[float]], wrong: dict[str, list[int]], n: int = 40, level: str = "clean"
):
    rows = []
    for p in POLICIES:
        for r, (t, w) in enumerate(zip(turns[p], wrong[p])):
            for fig, v in (("turns", t), ("wrong", w), ("commands", n)):
                rows.append(
                    {"point": 0, "replication": r, "metric": f"voice.{level}.{p}.{fig}", "value": v}
                )
    return pd.DataFrame(rows)


def test_a_policy_with_a_wrong_action_is_never_recommended():
    m = _metrics(
        {"never": [1.0] * 5, "always": [2.0, 2.1, 2.2, 2.0, 2.1], "destructive": [1.5] * 5},
        {"never": [0, 0, 1, 0, 0], "always": [0] * 5, "destructive": [0] * 5},
    )
    best, text = recommendation(m, "clean", POLICIES)
    assert best == "destructive"  # never has fewer turns but one wrong action
    assert "never" not in text.split("Policies eligible:")[1].split(".")[0]
    assert "0 of 200 (95% upper bound" in text  # the exact bound, not "0 ± 0"


def test_one_policy_for_every_target_level_a_wrong_action_at_one_excludes_it_at_all():
    turns = {"never": [1.0] * 5, "always": [2.0, 2.1, 2.2, 2.0, 2.1], "destructive": [1.5] * 5}
    clean = _metrics(turns, {p: [0] * 5 for p in POLICIES})
    noisy = _metrics(turns, {"never": [0] * 4 + [1], "always": [0] * 5, "destructive": [0] * 5},
                     level="20db")  # fmt: skip
    m = pd.concat([clean, noisy])
    assert recommendation(m, "clean", POLICIES)[0] == "never"  # clean alone: never is safe
    both = safe(m, ["clean", "20db"], POLICIES)
    assert both == ["always", "destructive"]
    assert recommendation(m, "clean", POLICIES, both)[0] == "destructive"
    assert recommendation(m, "20db", POLICIES, both)[0] == "destructive"


def test_no_winner_when_the_paired_interval_includes_zero():
    m = _metrics(
        {
            "never": [3.0] * 5,
            "always": [1.5, 1.7, 1.4, 1.8, 1.6],
            "destructive": [1.6, 1.5, 1.7, 1.5, 1.8],
        },
        {p: [0] * 5 for p in POLICIES},
    )
    best, text = recommendation(m, "clean", POLICIES)
    assert best is None and "No significant difference" in text
    assert "any of always, destructive" in text or "any of destructive, always" in text


def test_no_policy_without_wrong_actions():
    m = _metrics({p: [1.0] * 5 for p in POLICIES}, {p: [1, 0, 0, 0, 0] for p in POLICIES})
    assert recommendation(m, "clean", POLICIES)[0] is None


def test_a_share_of_zero_everywhere_is_an_exact_bound():
    m = pd.DataFrame(
        [{"replication": r, "metric": k, "value": v} for r in range(5)
         for k, v in (("a", 0.0), ("n", 40.0), ("b", 0.5))]
    )  # fmt: skip
    assert _share(m, "a", "n").startswith("0 of 200 (95% upper bound")
    assert "±" in _share(m, "b", "n") or _share(m, "b", "n") == "0.5"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    require("espeak-ng", "apt-get install espeak-ng")
    require_module("pocketsphinx", "pip install pocketsphinx (in requirements.lock)")
    cfg = load_config(
        "experiments/voice_confirmation.toml",
        ["voice.commands=3", "voice.snr_db=[20.0]", "voice.part='tuning'",
         f"voice.cache='{tmp_path_factory.mktemp('voice-cache')}'"],
    )  # fmt: skip
    return evaluate(cfg, 0)


def test_noise_around_a_short_command_is_heard_as_a_pause_not_as_words(tmp_path):
    require("espeak-ng", "apt-get install espeak-ng")
    require_module("pocketsphinx", "pip install pocketsphinx (in requirements.lock)")
    from models.voice.corpus import sample_equipment, speak
    from models.voice.grammar import parse
    from models.voice.jsgf import command_grammar
    from models.voice.recognize import Recognizer, in_dictionary
    from models.voice.speech import mix, noise

    rng = np.random.default_rng(7)
    state = sample_equipment(rng)
    rec = Recognizer("jsgf")
    rec.set_grammar("command", command_grammar(state, in_dictionary))
    speech = speak("show status of port one", "en-us", 170, tmp_path)
    gap = np.zeros(8000, dtype=np.int16)  # 0.5 s of office noise before and after
    audio = mix(np.concatenate([gap, speech, gap]), noise("office", len(speech) + 16000, rng), 20.0)
    heard = rec.recognize(audio, "command")
    assert heard.text == "show status of port one"  # the pause word never reaches the text
    assert parse(heard.text) is not None and 0 < heard.confidence <= 1


def test_a_tiny_corpus_runs_through_the_recogniser(tiny):
    for level in ("clean", "20db"):
        assert 0 <= tiny[f"voice.{level}.accuracy"] <= 1
        assert tiny[f"voice.{level}.recognition_p95_ms"] > 0
        for p in ("never", "always", "threshold", "destructive", "threshold_destructive"):
            assert tiny[f"voice.{level}.{p}.commands"] == 3
            assert 1 <= tiny[f"voice.{level}.{p}.turns"] <= 6
        # the same recognitions: reading everything back never saves a turn
        assert tiny[f"voice.{level}.always.turns"] >= tiny[f"voice.{level}.never.turns"]
    assert np.isfinite(list(tiny.values())).all()


def test_the_threshold_reads_back_every_unguarded_harmful_hypothesis():
    from sim.studies.voice.tuning import threshold_for

    first = pd.DataFrame(
        {
            "confidence": [0.9, 0.62, 0.95, 0.3],
            "harmful": [False, True, True, True],
            "risky": [False, False, True, False],  # the 0.95 one is read back anyway
        }
    )
    t = threshold_for(first)
    assert t == pytest.approx(0.65)
    assert (first[first.harmful & ~first.risky].confidence < t).all()
    assert threshold_for(first.assign(harmful=False)) == pytest.approx(0.05)


def test_recorded_commands_are_read_with_their_transcripts_and_bad_rows_named(tmp_path):
    require("espeak-ng", "apt-get install espeak-ng")
    from models.voice.corpus import recorded
    from models.voice.grammar import parse
    from models.voice.speech import synthesize

    (tmp_path / "a.wav").write_bytes(synthesize("show status of port three", voice="en-us"))
    csv = tmp_path / "transcripts.csv"
    csv.write_text("file,text\na.wav,show status of port three\n")
    [(samples, intent)] = recorded(tmp_path)
    assert intent == parse("show status of port three") and len(samples) > 8000
    csv.write_text("file,text\na.wav,make me a sandwich\n")
    with pytest.raises(ValueError, match="line 2: 'make me a sandwich' is no command"):
        recorded(tmp_path)
    csv.write_text("file,text\na.wav,show status of port three\nmissing.wav,undo the last change\n")
    with pytest.raises(ValueError, match="line 3: 'missing.wav'"):
        recorded(tmp_path)

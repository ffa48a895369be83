"""Audio: 16 kHz mono WAV in and out, checks of what a client sends, synthesis with
espeak-ng, and noise mixed at a target signal-to-noise ratio.

Synthesis runs the ``espeak-ng`` program (Debian package ``espeak-ng``), which writes a
22,050 Hz WAV to its standard output; it is resampled to 16 kHz with
:func:`scipy.signal.resample_poly`.  WAV files are read with the standard library's
:mod:`wave` inside strict checks, since a client's bytes may be anything.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

__all__ = [
    "RATE",
    "AudioError",
    "check_audio",
    "mix",
    "noise",
    "read_wav",
    "synthesize",
    "wav_bytes",
]

RATE = 16_000
"""Sample rate of every utterance (Hz)."""
NOISE_KINDS = ("white", "babble", "office")
"""Kinds of background noise of the corpus."""


class AudioError(ValueError):
    """Audio a client sent that cannot be used (the message says why, for a 4xx reply)."""


def read_wav(data: bytes, *, max_seconds: float, min_seconds: float = 0.2) -> np.ndarray:
    """The int16 samples of a 16 kHz mono 16-bit PCM WAV file.

    Raises
    ------
    AudioError
        Not a WAV, not PCM 16-bit mono, another sample rate, shorter than ``min_seconds``
        or longer than ``max_seconds``.
    """
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file (expected RIFF/WAVE 16-bit PCM, 16 kHz, mono)")
    if len(data) > 44 + 2 * RATE * max_seconds + 4096:
        raise AudioError(f"audio longer than {max_seconds:g} s")
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, ValueError, OSError) as err:
        raise AudioError(f"unreadable WAV file: {err}") from None
    if width != 2 or channels != 1:
        raise AudioError(f"expected 16-bit mono PCM, got {8 * width}-bit, {channels} channels")
    if rate != RATE:
        raise AudioError(f"expected a sample rate of {RATE} Hz, got {rate} Hz")
    samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.int16)
    seconds = len(samples) / RATE
    if seconds < min_seconds:
        raise AudioError(f"audio shorter than {min_seconds:g} s")
    if seconds > max_seconds:
        raise AudioError(f"audio longer than {max_seconds:g} s")
    return samples


def check_audio(samples: np.ndarray, *, silence_dbfs: float) -> None:
    """Refuse silence: raise :class:`AudioError` when the loudest 100 ms window's RMS is
    below ``silence_dbfs`` (dB relative to full scale)."""
    x = samples.astype(np.float64) / 32768.0
    win = RATE // 10
    n = len(x) // win
    if n == 0:
        raise AudioError("audio too short")
    rms = np.sqrt((x[: n * win].reshape(n, win) ** 2).mean(axis=1))
    loudest = 20 * np.log10(max(float(rms.max()), 1e-12))
    if loudest < silence_dbfs:
        raise AudioError(f"silence: the loudest moment is {loudest:.0f} dBFS")


def wav_bytes(samples: npt.ArrayLike, rate: int = RATE) -> bytes:
    """A mono 16-bit PCM WAV file of ``samples`` (int16, or floats clipped to [-1, 1])."""
    a = np.asarray(samples)
    if a.dtype.kind == "f":
        a = np.clip(a, -1.0, 1.0) * 32767.0
    a = np.asarray(np.round(a), dtype="<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(a.tobytes())
    return buf.getvalue()


def _raw_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of espeak-ng's streamed WAV (its header gives no length)."""
    rate = int.from_bytes(data[24:28], "little")
    pos = 12
    while pos + 8 <= len(data):  # walk the chunks to "data"
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if cid == b"data":
            body = data[pos + 8 :]
            return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2"), rate
        pos += 8 + size
    raise AudioError("espeak-ng wrote no audio")


def synthesize(text: str, *, voice: str = "en-us", rate: int = 160, pad: float = 0.3) -> bytes:
    """A 16 kHz WAV of ``text`` spoken by espeak-ng.

    Parameters
    ----------
    text : str
        What to say.
    voice : str
        An espeak-ng voice, with an optional variant (``"en-us+f2"``).
    rate : int
        Words per minute.
    pad : float
        Seconds of silence added before and after.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng)")
    out = subprocess.run(
        [exe, "-v", voice, "-s", str(int(rate)), "--stdout", "--", text],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    samples, src = _raw_wav(out)
    g = np.gcd(RATE, src)
    y = resample_poly(samples.astype(np.float64), RATE // g, src // g)
    silence = np.zeros(int(pad * RATE))
    return wav_bytes(
        np.round(np.concatenate([silence, y, silence])).clip(-32768, 32767).astype(np.int16)
    )


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spec / np.sqrt(f), n)


def noise(
    kind: str, n: int, rng: np.random.Generator, babble: np.ndarray | None = None
) -> np.ndarray:
    """``n`` samples of unit-RMS noise.

    ``white``: Gaussian; ``office``: pink (1/f) noise with keyboard clicks (decaying
    bursts at about 4 per second); ``babble``: four randomly shifted copies of ``babble``
    (speech of other voices) added together.
    """
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "office":
        x = _pink(rng, n)
        x /= np.sqrt(np.mean(x**2)) + 1e-12
        clicks = rng.random(n) < 4.0 / RATE
        t = np.arange(int(0.01 * RATE))
        burst = np.exp(-t / (0.002 * RATE)) * rng.standard_normal(len(t)) * 6.0
        x = x + np.convolve(clicks.astype(np.float64), burst)[:n]
    elif kind == "babble":
        if babble is None or len(babble) == 0:
            raise ValueError("babble noise needs speech to mix")
        src = np.resize(babble.astype(np.float64), max(n, len(babble)) * 2)
        x = np.zeros(n)
        for _ in range(4):
            start = int(rng.integers(0, len(src) - n))
            x += src[start : start + n]
    else:
        raise ValueError(f"unknown noise {kind!r} (known: {', '.join(NOISE_KINDS)})")
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def mix(clean: np.ndarray, noise_unit: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean`` plus noise scaled to ``snr_db`` dB below the speech (int16 out).

    The speech's power is measured over its active part (100 ms windows within 30 dB of
    the loudest), so leading and trailing silence do not lower it.
    """
    x = clean.astype(np.float64)
    win = RATE // 10
    k = max(len(x) // win, 1)
    power = (x[: k * win].reshape(k, -1) ** 2).mean(axis=1) if len(x) >= win else x**2
    active = power[power >= power.max() * 1e-3]
    p_speech = float(active.mean()) if len(active) else 0.0
    scale = np.sqrt(p_speech / 10 ** (snr_db / 10))
    y = x + scale * noise_unit[: len(x)]
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)

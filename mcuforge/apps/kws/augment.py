"""Audio augmentation for keyword clips and the noise-only clips of the "silence" class.

All of it is drawn from a NumPy Generator, so a data set is reproducible from one seed. Clips end as 16-bit
samples (what a microphone's ADC delivers), which also makes the quietest silence clips true digital silence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.apps.kws.noise import background, mix_at_snr

BANK_RECORDINGS = 6          # long noise recordings per kind, cropped at random offsets (as Speech Commands'
BANK_SECONDS = 5             # _background_noise_ files are): generating noise per clip would cost more than MFCC


@dataclass(frozen=True)
class Augmentation:
    """How one split's clips are altered: played faster or slower by a factor drawn in `stretch` (tempo, pitch and
    formants together, as a tape would: Kaldi's speed perturbation), spectral tilt y[n] = x[n] - a x[n-1] with a
    drawn in `tilt` (a brighter or duller microphone or voice), shift up to ±shift_ms, gain drawn in gain_db, and
    with probability noise_probability background noise of a kind from noise_kinds at an SNR drawn in snr_db."""
    shift_ms: float = 0.0
    gain_db: tuple[float, float] = (0.0, 0.0)
    snr_db: tuple[float, float] = (10.0, 30.0)
    noise_probability: float = 0.0
    noise_kinds: tuple[str, ...] = ("white", "pink", "brown", "hum", "babble")
    stretch: tuple[float, float] = (1.0, 1.0)
    tilt: tuple[float, float] = (0.0, 0.0)


class NoiseBank:
    """A few long unit-RMS recordings of each noise kind; `draw` crops one at a random offset and polarity."""

    def __init__(self, kinds, rng: np.random.Generator, speech: np.ndarray | None = None, sample_rate: int = 16000):
        length = BANK_SECONDS * sample_rate
        self.recordings = {kind: [background(kind, length, rng, speech) for _ in range(BANK_RECORDINGS)]
                           for kind in dict.fromkeys(kinds)}

    def draw(self, kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
        recording = self.recordings[kind][int(rng.integers(BANK_RECORDINGS))]
        start = int(rng.integers(len(recording) - n + 1))
        return recording[start:start + n] * np.float32(rng.choice((-1.0, 1.0)))


def to_16_bit(audio: np.ndarray) -> np.ndarray:
    """Clipped to [-1, 1) and rounded to the 16-bit grid."""
    return (np.clip(np.round(audio * 32768.0), -32768, 32767) / 32768.0).astype(np.float32)


def shift(clip: np.ndarray, samples: int) -> np.ndarray:
    """The clip moved `samples` later (earlier if negative), zero-filled, same length."""
    out = np.zeros_like(clip)
    if samples >= 0:
        out[samples:] = clip[:len(clip) - samples]
    else:
        out[:samples] = clip[-samples:]
    return out


def stretch(clip: np.ndarray, factor: float) -> np.ndarray:
    """The clip played `factor` times faster about its centre (linear interpolation, zeros beyond the ends)."""
    centre = (len(clip) - 1) / 2
    positions = centre + (np.arange(len(clip)) - centre) * factor
    return np.interp(positions, np.arange(len(clip)), clip, left=0.0, right=0.0).astype(np.float32)


def tilt(clip: np.ndarray, a: float) -> np.ndarray:
    """First-order spectral tilt: a > 0 brightens (pre-emphasis), a < 0 dulls."""
    out = clip.astype(np.float32).copy()
    out[1:] -= np.float32(a) * clip[:-1]
    return out


def augment(clips: np.ndarray, rng: np.random.Generator, how: Augmentation, bank: NoiseBank,
            sample_rate: int = 16000) -> np.ndarray:
    """[N, samples] clips altered as `how` says, one draw per clip, noise cropped from `bank`."""
    out = np.empty_like(clips, dtype=np.float32)
    max_shift = int(round(how.shift_ms * sample_rate / 1000))
    for i, clip in enumerate(clips):
        x = shift(clip, int(rng.integers(-max_shift, max_shift + 1))) if max_shift else clip.astype(np.float32)
        if how.stretch != (1.0, 1.0):
            x = stretch(x, rng.uniform(*how.stretch))
        if how.tilt != (0.0, 0.0):
            x = tilt(x, rng.uniform(*how.tilt))
        x = x * np.float32(10 ** (rng.uniform(*how.gain_db) / 20))
        if how.noise_kinds and rng.random() < how.noise_probability:
            kind = how.noise_kinds[int(rng.integers(len(how.noise_kinds)))]
            x = mix_at_snr(x, bank.draw(kind, len(x), rng), rng.uniform(*how.snr_db))
        out[i] = x
    return to_16_bit(out)


def silence_clips(count: int, samples: int, rng: np.random.Generator, kinds, bank: NoiseBank,
                  level_db: tuple[float, float] = (-110.0, -10.0)) -> np.ndarray:
    """[count, samples] noise-only clips: a kind from `kinds` at an RMS level drawn in `level_db` dBFS. Levels
    below about -105 dBFS round to digital silence, levels near -95 dBFS to a few LSBs of dither."""
    out = np.empty((count, samples), np.float32)
    for i in range(count):
        kind = kinds[int(rng.integers(len(kinds)))]
        out[i] = bank.draw(kind, samples, rng) * np.float32(10 ** (rng.uniform(*level_db) / 20))
    return to_16_bit(out)


def speech_windows(sentences: list[np.ndarray], count: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """[count, samples] windows cut from continuous speech at random offsets: each from a random sentence, its
    centre anywhere in the sentence, so most windows start and end inside words (fragments, not whole words) and
    some hold a sentence's first or last words next to silence. Zero beyond the sentence's ends."""
    out = np.zeros((count, samples), np.float32)
    for i in range(count):
        sentence = sentences[int(rng.integers(len(sentences)))]
        start = int(rng.integers(-(samples // 2), max(1, len(sentence) - samples // 2)))
        a, b = max(start, 0), min(start + samples, len(sentence))
        if b > a:
            out[i, a - start:b - start] = sentence[a:b]
    return out


def _speech_span(clip: np.ndarray, trim_db: float = 40.0) -> tuple[int, int] | None:
    loud = np.flatnonzero(np.abs(clip) >= np.abs(clip).max() * 10 ** (-trim_db / 20)) if clip.any() else []
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else None


def with_context(clips: np.ndarray, which: np.ndarray, sentences: list[np.ndarray], probability: float,
                 rng: np.random.Generator, gap_ms: tuple[float, float] = (40.0, 250.0),
                 level_db: tuple[float, float] = (-12.0, 0.0), sample_rate: int = 16000) -> np.ndarray:
    """The clips, where `which` is true and with probability `probability`, with neighbouring speech: the end of a
    random sentence before the word and/or the start of another after it (at least one side), each a gap drawn
    in gap_ms away from the word, at a peak level drawn in level_db relative to the word's peak, faded in and out
    over 10 ms. The word itself is unchanged: a keyword said inside a sentence keeps its label."""
    out = clips.astype(np.float32, copy=True)
    fade = sample_rate // 100
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    for i in np.flatnonzero(which):
        if rng.random() >= probability:
            continue
        span = _speech_span(out[i])
        if span is None:
            continue
        peak = float(np.abs(out[i]).max())
        side = int(rng.integers(3))          # 0: before, 1: after, 2: both
        for before in ((True,) if side == 0 else (False,) if side == 1 else (True, False)):
            gap = int(rng.uniform(*gap_ms) * sample_rate / 1000)
            length = span[0] - gap if before else len(out[i]) - span[1] - gap
            sentence = sentences[int(rng.integers(len(sentences)))]
            length = min(length, len(sentence))
            if length <= 2 * fade:
                continue
            piece = (sentence[len(sentence) - length:] if before else sentence[:length]).copy()
            piece[:fade] *= ramp
            piece[-fade:] *= ramp[::-1]
            piece *= np.float32(peak / max(float(np.abs(piece).max()), 1e-9) * 10 ** (rng.uniform(*level_db) / 20))
            if before:
                out[i, span[0] - gap - length:span[0] - gap] += piece
            else:
                out[i, span[1] + gap:span[1] + gap + length] += piece
    return out

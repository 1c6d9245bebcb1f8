"""Background noise made here (no corpus): coloured noise, mains hum, babble, and mixing at a chosen SNR.

Every generator takes a NumPy Generator so data sets built from them are reproducible from one seed. Outputs are
float32 with unit RMS (babble and hum included) so `mix_at_snr` alone sets the level."""

from __future__ import annotations

import numpy as np


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x / rms if rms > 0 else x).astype(np.float32)


def _spectral_noise(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """White Gaussian noise shaped to power ∝ 1/f**exponent in the frequency domain (DC removed)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spectrum.size, dtype=np.float64)
    f[0] = 1.0
    spectrum *= f ** (-exponent / 2.0)
    spectrum[0] = 0.0
    return _unit_rms(np.fft.irfft(spectrum, n))


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return _unit_rms(rng.standard_normal(n))


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise: fans, air conditioning, rain."""
    return _spectral_noise(n, rng, 1.0)


def brown_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f² noise: rumble of traffic and wind."""
    return _spectral_noise(n, rng, 2.0)


def hum(n: int, rng: np.random.Generator, sample_rate: int = 16000) -> np.ndarray:
    """Mains hum: 50 or 60 Hz with odd and even harmonics of random level and phase, a little white noise."""
    mains = rng.choice((50.0, 60.0)) * (1.0 + rng.uniform(-0.01, 0.01))
    t = np.arange(n) / sample_rate
    x = np.zeros(n)
    for k in range(1, 8):
        x += rng.uniform(0.05, 1.0) / k * np.sin(2 * np.pi * k * mains * t + rng.uniform(0, 2 * np.pi))
    return _unit_rms(x + 0.02 * rng.standard_normal(n))


def babble(n: int, rng: np.random.Generator, speech: np.ndarray, talkers: int = 4) -> np.ndarray:
    """Several talkers at once: `talkers` random rows of `speech` ([clips, samples] float), each tiled to n
    samples, circularly shifted and mixed at random gains, so no single word stays intelligible."""
    speech = np.atleast_2d(np.asarray(speech, dtype=np.float32))
    x = np.zeros(n)
    for row in rng.choice(len(speech), size=talkers, replace=len(speech) < talkers):
        voice = np.resize(speech[row], n)
        x += rng.uniform(0.5, 1.0) * np.roll(voice, int(rng.integers(n)))
    return _unit_rms(x)


NOISES = {"white": white_noise, "pink": pink_noise, "brown": brown_noise, "hum": hum}
NOISE_KINDS = (*NOISES, "babble")


def background(kind: str, n: int, rng: np.random.Generator, speech: np.ndarray | None = None) -> np.ndarray:
    """n samples of unit-RMS noise of one of NOISE_KINDS; "babble" mixes rows of `speech`."""
    if kind == "babble":
        if speech is None or not len(speech):
            raise ValueError("babble needs speech clips to mix")
        return babble(n, rng, speech)
    if kind not in NOISES:
        raise ValueError(f"unknown noise kind {kind!r} (known: {', '.join(NOISE_KINDS)})")
    return NOISES[kind](n, rng)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """signal + noise scaled so that 10·log10(P_signal / P_noise) = snr_db (the noise is tiled or cut to the
    signal's length). A silent signal gets the noise at unit RMS times 10**(-snr_db / 20)."""
    signal = np.asarray(signal, dtype=np.float32)
    noise = np.resize(np.asarray(noise, dtype=np.float32), signal.shape)
    p_signal = float(np.mean(np.square(signal, dtype=np.float64)))
    p_noise = float(np.mean(np.square(noise, dtype=np.float64))) or 1.0
    reference = p_signal if p_signal > 0 else 1.0
    scale = np.sqrt(reference / (p_noise * 10.0 ** (snr_db / 10.0)))
    return (signal + scale * noise).astype(np.float32)

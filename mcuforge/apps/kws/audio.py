"""Audio in and out of the front end: .wav reading (stdlib), band-limited resampling, fitting clips to 1 s."""

from __future__ import annotations

import wave
from math import gcd
from pathlib import Path

import numpy as np

from mcuforge.errors import InputError


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(float32 mono samples in [-1, 1], sample rate) of an 8/16/32-bit PCM .wav (channels averaged)."""
    try:
        with wave.open(str(path), "rb") as f:
            rate, width, channels = f.getframerate(), f.getsampwidth(), f.getnchannels()
            raw = f.readframes(f.getnframes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise InputError(f"{path}: not a readable PCM .wav file ({exc})") from None
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        dtype = np.int16 if width == 2 else np.int32
        samples = np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))
    else:
        raise InputError(f"{path}: {8 * width}-bit samples are not supported (8, 16 or 32-bit PCM)")
    return samples.reshape(-1, channels).mean(axis=1).astype(np.float32), rate


def resample(samples: np.ndarray, rate_in: int, rate_out: int, half_width: int = 24) -> np.ndarray:
    """Band-limited resampling by a rational factor: a Kaiser-windowed sinc low-pass at 0.95 of the lower
    Nyquist frequency, one filter phase per distinct fractional output position (polyphase)."""
    samples = np.asarray(samples, dtype=np.float64)
    if rate_in == rate_out:
        return samples.astype(np.float32)
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g                 # output m sits at input m * down / up
    n_out = (len(samples) * up) // down
    cutoff = 0.95 * min(1.0, up / down)                    # in units of the input Nyquist frequency
    width = int(np.ceil(half_width / cutoff))
    offsets = np.arange(-width + 1, width + 1)
    dist = (np.arange(up) / up)[:, None] - offsets[None, :]    # [phase, tap]
    kaiser = np.i0(8.0 * np.sqrt(np.clip(1.0 - (dist / width) ** 2, 0.0, 1.0))) / np.i0(8.0)
    phases = cutoff * np.sinc(cutoff * dist) * kaiser
    m = np.arange(n_out)
    base, phase = (m * down) // up, (m * down) % up
    taps = base[:, None] + offsets[None, :]
    padded = np.concatenate([np.zeros(width), samples, np.zeros(width + 1)])
    return (padded[taps + width] * phases[phase]).sum(axis=1).astype(np.float32)


def fit_clip(samples: np.ndarray, length: int = 16000, trim_db: float = 40.0) -> np.ndarray:
    """A [length] clip with the sound centred: trims leading/trailing parts quieter than `trim_db` below the
    peak, then zero-pads both sides equally (or keeps the centre if too long)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size and np.abs(samples).max() > 0:
        loud = np.flatnonzero(np.abs(samples) >= np.abs(samples).max() * 10 ** (-trim_db / 20))
        samples = samples[loud[0]:loud[-1] + 1]
    if len(samples) >= length:
        start = (len(samples) - length) // 2
        return samples[start:start + length].copy()
    out = np.zeros(length, np.float32)
    start = (length - len(samples)) // 2
    out[start:start + len(samples)] = samples
    return out


def load_audio(path: str | Path, sample_rate: int = 16000, clip_samples: int = 16000) -> np.ndarray:
    """float32 [N, clip_samples] from a .npy ([clip_samples] or [N, clip_samples], float in [-1, 1]) or a .wav
    (resampled to `sample_rate` and centred in one clip)."""
    path = Path(path)
    if path.suffix.lower() == ".wav":
        samples, rate = read_wav(path)
        return fit_clip(resample(samples, rate, sample_rate), clip_samples)[None, :]
    try:
        audio = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from None
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[1] != clip_samples or not np.issubdtype(audio.dtype, np.floating):
        raise InputError(f"{path}: expected float audio [N, {clip_samples}], got {audio.dtype} {list(audio.shape)}")
    return audio.astype(np.float32)

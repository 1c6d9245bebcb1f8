"""Vibration features: log band energies of a Welch-averaged, Hann-windowed power spectrum, per channel.

For each channel of a clip [channels, clip_samples]: frames of `frame_length` samples every `frame_step`, each
multiplied by a periodic Hann window w and transformed (FFT); the one-sided power of bin k is
    P_k = 2 |X_k|^2 / (N sum w^2)     (g^2; Parseval: sum_k P_k = the frame's mean square, windowed)
averaged over the frames (Welch). Bins 1 .. N/2 (DC dropped) are grouped into `num_bands` bands whose edges are
geometric in frequency but at least one bin wide, so the shaft harmonics (tens of Hz) get one band per bin while
the resonance region (kHz) gets wide bands. Feature b = ln(sum of P_k over band b + `floor`).
The feature vector is the channels' band features one after the other: [channels * num_bands].
`features_c.py` writes the same computation as C99 (float32, static buffers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.apps.anomaly.simulator import FAULTS, simulate
from mcuforge.errors import InputError


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: float = 6400.0
    clip_samples: int = 4096
    channels: int = 2
    frame_length: int = 1024   # FFT size: a power of two
    frame_step: int = 512
    num_bands: int = 32
    floor: float = 1e-10       # g^2, far below the sensor noise in any band

    @property
    def num_bins(self) -> int:
        return self.frame_length // 2 + 1

    @property
    def num_frames(self) -> int:
        return (self.clip_samples - self.frame_length) // self.frame_step + 1

    @property
    def num_features(self) -> int:
        return self.channels * self.num_bands

    def check(self) -> FeatureConfig:
        n = self.frame_length
        if n < 4 or n & (n - 1):
            raise InputError(f"frame_length must be a power of two >= 4, got {n}")
        if self.frame_step <= 0 or self.clip_samples < n:
            raise InputError("need frame_step > 0 and clip_samples >= frame_length")
        if not 0 < self.num_bands <= n // 2:
            raise InputError(f"num_bands must be in 1..{n // 2} for frame_length {n}, got {self.num_bands}")
        return self


def hann_window(length: int) -> np.ndarray:
    """Periodic Hann window: 0.5 - 0.5 cos(2 pi n / length)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def band_edges(config: FeatureConfig) -> np.ndarray:
    """num_bands + 1 bin indices: band b covers bins edges[b] .. edges[b + 1] - 1, from bin 1 to N/2 inclusive."""
    config.check()
    last = config.num_bins  # exclusive
    geometric = np.geomspace(1, last, config.num_bands + 1)
    edges = [1]
    for b in range(1, config.num_bands):
        # at least one bin per band, and room left for the bands still to come
        edges.append(int(min(max(round(geometric[b]), edges[-1] + 1), last - (config.num_bands - b))))
    edges.append(last)
    return np.asarray(edges)


def power_spectrum(clips: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Welch power P_k (see the module docstring): [..., channels, num_bins], float64."""
    n, step = config.frame_length, config.frame_step
    window = hann_window(n)
    starts = np.arange(config.num_frames) * step
    frames = clips[..., starts[:, None] + np.arange(n)] * window     # [..., channels, frames, n]
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2 * (2.0 / (n * np.sum(window ** 2)))
    return power.mean(axis=-2)


def vibration_features(clips: np.ndarray, config: FeatureConfig | None = None) -> np.ndarray:
    """Clips [..., channels, clip_samples] -> float32 features [..., channels * num_bands]."""
    config = (config or FeatureConfig()).check()
    clips = np.asarray(clips, dtype=np.float32).astype(np.float64)
    if clips.shape[-2:] != (config.channels, config.clip_samples):
        raise InputError(f"clips must end in [{config.channels}, {config.clip_samples}], got {list(clips.shape)}")
    power = power_spectrum(clips, config)
    edges = band_edges(config)
    bands = np.add.reduceat(power[..., :edges[-1]], edges[:-1], axis=-1)
    features = np.log(bands + config.floor)
    return features.reshape(*clips.shape[:-2], config.num_features).astype(np.float32)


@dataclass(frozen=True)
class Standardizer:
    """Per-feature standardization fitted on normal data (the autoencoder's input)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray) -> Standardizer:
        return cls(features.mean(axis=0), np.maximum(features.std(axis=0), 1e-3))

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.std).astype(np.float32)


def simulated_feature_sets(n_train: int, n_val: int, n_test: int, config: FeatureConfig | None = None
                           ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Features of simulated clips: normal training (seed 1) and validation (seed 2) sets, and `n_test` test
    clips of every fault in FAULTS (seeds 3, 4, ...): (train, val, {fault: test})."""
    def features(fault: str, count: int, seed: int) -> np.ndarray:
        return vibration_features(simulate(fault, count, seed), config)

    test = {fault: features(fault, n_test, 3 + i) for i, fault in enumerate(FAULTS)}
    return features("normal", n_train, 1), features("normal", n_val, 2), test

"""MFCC features exactly as the MLPerf Tiny KWS training pipeline computes them with tf.signal.

MLPerf Tiny's `get_dataset.py` (feature_type "mfcc"): the clip divided by its maximum (`wav / reduce_max(wav)`),
`tf.signal.stft(frame_length=480, frame_step=320, fft_length=None -> 512, window_fn=hann_window)` (periodic Hann,
no end padding: 49 frames), `abs`, `tensordot` with `linear_to_mel_weight_matrix(40, 257, 16000, 20, 4000)`,
`log(mel + 1e-6)`, `mfccs_from_log_mel_spectrograms` (unnormalized DCT-II times rsqrt(2 * num_mel_bins)), first 10.
Everything here is computed in float64 and returned as float32; TensorFlow is not needed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mcuforge.errors import InputError

MEL_BREAK_HZ = 700.0     # HTK mel scale, as TensorFlow's mel_ops: 1127 * ln(1 + f / 700)
MEL_HIGH_Q = 1127.0


@dataclass(frozen=True)
class MfccConfig:
    """One feature pipeline. `num_coefficients=0` stops after the log-mel spectrogram."""
    name: str = "custom"
    sample_rate: int = 16000
    clip_samples: int = 16000
    frame_length: int = 480
    frame_step: int = 320
    fft_length: int = 0              # 0: the smallest power of two >= frame_length (tf.signal.stft's default)
    num_mel_bins: int = 40
    lower_hz: float = 20.0
    upper_hz: float = 4000.0
    num_coefficients: int = 10
    log_offset: float = 1e-6
    peak_normalize: bool = True      # divide each clip by its maximum, as MLPerf's training pipeline does

    @property
    def fft_size(self) -> int:
        return self.fft_length or 1 << (self.frame_length - 1).bit_length()

    @property
    def num_bins(self) -> int:
        return self.fft_size // 2 + 1

    @property
    def num_frames(self) -> int:
        return 1 + (self.clip_samples - self.frame_length) // self.frame_step

    @property
    def num_features(self) -> int:
        return self.num_coefficients or self.num_mel_bins

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_frames, self.num_features)

    def check(self) -> "MfccConfig":
        n = self.fft_size
        problems = []
        if n & (n - 1) or n < 4:
            problems.append(f"fft_length {n} is not a power of two >= 4")
        if self.frame_length > n:
            problems.append(f"frame_length {self.frame_length} exceeds fft_length {n}")
        if self.frame_length < 2 or self.frame_step < 1 or self.clip_samples < self.frame_length:
            problems.append("need 2 <= frame_length <= clip_samples and frame_step >= 1")
        if not 0.0 <= self.lower_hz < self.upper_hz <= self.sample_rate / 2:
            problems.append(f"need 0 <= lower_hz < upper_hz <= {self.sample_rate / 2} (Nyquist)")
        if self.num_mel_bins < 1 or not 0 <= self.num_coefficients <= self.num_mel_bins:
            problems.append("need num_mel_bins >= 1 and 0 <= num_coefficients <= num_mel_bins")
        if problems:
            raise InputError(f"feature preset {self.name!r}: " + "; ".join(problems))
        return self


PRESETS = {
    "mlperf-kws": MfccConfig(name="mlperf-kws"),
    "mlperf-kws-logmel": MfccConfig(name="mlperf-kws-logmel", num_coefficients=0),
}


def get_preset(name: str = "mlperf-kws", **overrides) -> MfccConfig:
    """A named preset, optionally with fields replaced (`get_preset("mlperf-kws", num_coefficients=13)`)."""
    if name not in PRESETS:
        raise InputError(f"unknown feature preset {name!r} (known: {', '.join(sorted(PRESETS))})")
    config = PRESETS[name]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **overrides).check() if overrides else config.check()


def hertz_to_mel(hz):
    return MEL_HIGH_Q * np.log1p(np.asarray(hz, dtype=np.float64) / MEL_BREAK_HZ)


def hann_window(length: int) -> np.ndarray:
    """tf.signal.hann_window(length, periodic=True): 0.5 - 0.5 cos(2 pi n / length)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def mel_weight_matrix(config: MfccConfig) -> np.ndarray:
    """[num_bins, num_mel_bins] like tf.signal.linear_to_mel_weight_matrix: triangles linear in mel, band edges
    evenly spaced in mel between lower_hz and upper_hz, the DC bin zeroed (HTK)."""
    freqs = np.linspace(0.0, config.sample_rate / 2.0, config.num_bins)[1:]
    bins_mel = hertz_to_mel(freqs)[:, None]
    edges = np.linspace(hertz_to_mel(config.lower_hz), hertz_to_mel(config.upper_hz), config.num_mel_bins + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    weights = np.maximum(0.0, np.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center)))
    return np.pad(weights, [(1, 0), (0, 0)])


def dct_matrix(config: MfccConfig) -> np.ndarray:
    """[num_coefficients, num_mel_bins]: tf.signal.mfccs_from_log_mel_spectrograms = dct(type=2, norm=None),
    i.e. 2 * sum x_n cos(pi k (2n + 1) / 2N), times rsqrt(2N); no special case for k = 0."""
    n_mel = config.num_mel_bins
    k = np.arange(config.num_coefficients)[:, None]
    n = np.arange(n_mel)[None, :]
    return np.sqrt(2.0 / n_mel) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_mel))


def peak_normalize(audio: np.ndarray) -> np.ndarray:
    """Each clip divided by its maximum (MLPerf's `wav / reduce_max(wav)`, in float32); clips whose maximum is
    not positive (silence) are left unchanged instead of becoming NaN."""
    audio = np.asarray(audio, dtype=np.float32)
    peak = audio.max(axis=-1, keepdims=True)
    return np.where(peak > 0, audio / np.where(peak > 0, peak, np.float32(1)), audio).astype(np.float32)


def _clips(audio, config: MfccConfig) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim not in (1, 2) or audio.shape[-1] != config.clip_samples:
        raise InputError(f"audio must be [{config.clip_samples}] or [N, {config.clip_samples}] samples, "
                         f"got shape {list(audio.shape)}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise InputError(f"audio must be float samples in [-1, 1], got {audio.dtype}")
    audio = audio.astype(np.float32)
    return peak_normalize(audio) if config.peak_normalize else audio


def frames(audio: np.ndarray, config: MfccConfig) -> np.ndarray:
    """[..., num_frames, frame_length] frames (no end padding)."""
    starts = np.arange(config.num_frames) * config.frame_step
    return audio[..., starts[:, None] + np.arange(config.frame_length)[None, :]]


def frames_log_mel(framed: np.ndarray, config: MfccConfig) -> np.ndarray:
    """[..., num_mel_bins] float64 log(mel + log_offset) of frames [..., frame_length] (Hann window, |rfft|)."""
    windowed = np.asarray(framed, dtype=np.float64) * hann_window(config.frame_length)
    spectrum = np.abs(np.fft.rfft(windowed, n=config.fft_size, axis=-1))
    return np.log(spectrum @ mel_weight_matrix(config) + config.log_offset)


def log_mel_features(log_mel: np.ndarray, config: MfccConfig) -> np.ndarray:
    """float32 features of a float64 log-mel spectrogram: its MFCCs, or itself when num_coefficients=0."""
    if not config.num_coefficients:
        return log_mel.astype(np.float32)
    return (log_mel @ dct_matrix(config).T).astype(np.float32)


def log_mel_spectrogram(audio, config: MfccConfig | None = None) -> np.ndarray:
    """[..., num_frames, num_mel_bins] float64 log(mel + log_offset) of (peak-normalized) clips."""
    config = config or get_preset()
    return frames_log_mel(frames(_clips(audio, config), config), config)


def mfcc(audio, config: MfccConfig | str | None = None) -> np.ndarray:
    """Features of [clip_samples] or [N, clip_samples] float audio: float32 [..., num_frames, num_features]
    (MFCCs, or the log-mel spectrogram when the preset has num_coefficients=0)."""
    config = get_preset(config) if isinstance(config, str) else (config or get_preset())
    return log_mel_features(log_mel_spectrogram(audio, config), config)


def quantize_features(features: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 model input: round(x / scale) + zero_point (half away from zero, as TFLite's QUANTIZE), saturated."""
    q = np.asarray(features, dtype=np.float32) / np.float32(scale)
    q = np.sign(q) * np.floor(np.abs(q) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def model_input_quantization(graph) -> tuple[float, int]:
    """(scale, zero_point) of a model's single int8 input."""
    t = graph.tensors[graph.inputs[0]]
    if t.dtype != "int8" or t.quant is None:
        raise InputError(f"{graph.where()}: input {graph.inputs[0]!r} is {t.dtype}, not quantized int8")
    return t.quant.scalar_scale, t.quant.scalar_zero_point

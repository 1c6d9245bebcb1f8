"""Streaming keyword detection: the NumPy reference of the C detector (`c/kws_detector.c`).

Semantics of both implementations (hop = `frame_step` samples, 320 = 20 ms at 16 kHz). Steps 1-3 are float32
arithmetic (C and NumPy agree to ~1e-5); steps 4-5 are integer and bit-identical.

1. Frames. Audio arrives one hop at a time. Frame j covers samples [j * step, j * step + frame_length) and is
   complete after hop ceil(frame_length / step) + j (hops counted from 1): the C streaming MFCC front end
   computes exactly one new frame per hop. No per-clip peak normalization happens here (the clip's maximum is
   not known when its first frames are computed).
2. Inference. After hop n, when n % `infer_every_hops` == 0 (K) and the last `num_frames` (49) frames exist,
   the window of those frames is quantized to the model's int8 input and the model is invoked.
3. Gain normalization (`normalize_gain`, default on). MLPerf Tiny divides every 1 s clip by its maximum before
   the MFCC. Dividing the audio by p scales every mel energy by 1/p, so log(mel / p + eps) = log(mel + eps) -
   log p whenever mel >> eps (1e-6, i.e. anything above digital silence): each feature moves by -log(p) times
   its DCT row sum (sqrt(2 * num_mel) for c0, 0 for the others; 1 per log-mel bin). The detector applies that
   shift with p = max(peak_floor, max sample of the last ceil(clip_samples / step) hops) when p > 0, giving
   MLPerf's training-time features (within 0.01 on noisy speech, a sixtieth of the KWS model's input step)
   without recomputing 49 FFTs per inference.
4. Smoothing, in integers. The model must output probabilities: one whose output does not come from SOFTMAX
   (logits) gets TFLite's int8 SOFTMAX appended (`with_softmax`) in both implementations. Posterior q (int8) becomes u = q - output_zero_point (for an int8 softmax with scale
   1/256: the probability in 1/256 units, 0..255). Per class, u is summed over the last W
   (`smooth_inferences`) inferences, zeros before the first. A keyword class fires when its sum >=
   T * W, T = round(threshold / output_scale); the largest sum wins, ties go to the lower class index.
   `non_keywords` classes (silence, unknown) never fire.
5. Refractory period. After an event at hop n no event fires before hop n + ceil(refractory_ms / hop_ms);
   smoothing keeps running meanwhile, so a keyword still above threshold fires again once the period ends.

An event is (hop, label, score): hop n (its time is n * step / sample_rate seconds from the stream's start:
the end of the newest audio), the class index, and its smoothed sum. The C detector reproduces the smoothing
and refractory logic exactly given the same posteriors; its float MFCC differs from NumPy's by ~1e-5, which
can flip an int8 input by one step, so end-to-end agreement is checked with that tolerance (see the tests).

Defaults: K = 4 (80 ms between inferences): the MLPerf DS-CNN takes ~51 ms per inference on a 120 MHz
Cortex-M4 (docs/benchmarks.md), so K = 2 would not keep up there; W = 8 (640 ms of posteriors), threshold 0.6,
refractory 1 s. benchmarks/kws_streaming.py reports false accepts per hour and detection rates for other values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from mcuforge.apps.kws.mfcc import (
    MfccConfig,
    dct_matrix,
    frames_log_mel,
    get_preset,
    log_mel_features,
    model_input_quantization,
    quantize_features,
)
from mcuforge.apps.kws.synth import KWS_LABELS
from mcuforge.errors import InputError
from mcuforge.ir import Graph, Op, Quantization, Tensor


@dataclass(frozen=True)
class DetectorConfig:
    """Detector parameters; see the module docstring for what each does."""
    infer_every_hops: int = 4            # K: 4 hops = 80 ms between inferences
    smooth_inferences: int = 8           # W: average over the last 8 inferences (640 ms at K = 4)
    threshold: float = 0.6               # smoothed probability a keyword must reach
    refractory_ms: float = 1000.0
    normalize_gain: bool = True
    peak_floor: float = 0.0              # gain normalization never divides by less than this
    labels: tuple[str, ...] = KWS_LABELS
    non_keywords: tuple[str, ...] = ("silence", "unknown")
    features: MfccConfig = field(default_factory=get_preset)

    def check(self) -> DetectorConfig:
        problems = []
        if not 1 <= self.infer_every_hops <= 1000:
            problems.append(f"infer_every_hops {self.infer_every_hops} is not in 1..1000")
        if not 1 <= self.smooth_inferences <= 256:
            problems.append(f"smooth_inferences {self.smooth_inferences} is not in 1..256")
        if not 0.0 < self.threshold <= 1.0:
            problems.append(f"threshold {self.threshold} is not in (0, 1]")
        if not 0.0 <= self.refractory_ms <= 60000.0:
            problems.append(f"refractory_ms {self.refractory_ms} is not in 0..60000")
        if not 0.0 <= self.peak_floor < 1.0:
            problems.append(f"peak_floor {self.peak_floor} is not in [0, 1)")
        unknown = set(self.non_keywords) - set(self.labels)
        if unknown:
            problems.append(f"non_keywords {sorted(unknown)} are not labels")
        if self.features.frame_step > self.features.frame_length:
            problems.append("the streaming front end needs frame_step <= frame_length")
        if problems:
            raise InputError("detector config: " + "; ".join(problems))
        return self

    @property
    def hop_ms(self) -> float:
        return 1000.0 * self.features.frame_step / self.features.sample_rate

    @property
    def refractory_hops(self) -> int:
        return math.ceil(self.refractory_ms / self.hop_ms - 1e-9)

    @property
    def history_hops(self) -> int:
        """Hops before the first frame completes."""
        return -(-self.features.frame_length // self.features.frame_step)

    @property
    def first_window_hop(self) -> int:
        """The hop that completes the first full window of num_frames frames."""
        return self.history_hops + self.features.num_frames - 1

    @property
    def peak_hops(self) -> int:
        """Hops whose samples the gain normalization's maximum covers (one clip)."""
        return -(-self.features.clip_samples // self.features.frame_step)

    @property
    def keyword_mask(self) -> np.ndarray:
        return np.array([label not in self.non_keywords for label in self.labels])


@dataclass(frozen=True)
class ModelIO:
    """The model's int8 input and output quantization and its class count."""
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    num_classes: int
    input_shape: tuple[int, ...]

    def threshold_units(self, threshold: float) -> int:
        return round(threshold / self.output_scale)


def with_softmax(graph: Graph) -> Graph:
    """`graph` itself when its output is written by SOFTMAX; otherwise a copy whose int8 logits go through
    TFLite's int8 SOFTMAX (beta 1, output scale 1/256, zero point -128), so the detector smooths probabilities."""
    from mcuforge.ir.validate import validate_graph

    logits = graph.outputs[0] if len(graph.outputs) == 1 else None
    producer = graph.producers().get(logits) if logits else None
    if producer is None or graph.ops[producer].type == "SOFTMAX":
        return graph
    graph = graph.copy()
    name = f"{logits}_probabilities"
    graph.add_tensor(Tensor(name, tuple(graph.tensors[logits].shape), "int8",
                            quant=Quantization(np.float32(1.0 / 256.0), -128)))
    graph.ops.append(Op("SOFTMAX", [logits], [name], {"beta": 1.0}, name="detector_softmax"))
    graph.outputs = [name]
    return validate_graph(graph)


def model_io(graph, config: DetectorConfig) -> ModelIO:
    """Checks that `graph` fits the detector (one int8 input of num_frames * num_features values, one int8
    output with a class per label) and returns its quantization."""
    in_scale, in_zp = model_input_quantization(graph)
    t_in = graph.tensors[graph.inputs[0]]
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise InputError(f"{graph.where()}: the detector needs one input and one output")
    frames, features = config.features.shape
    if t_in.size != frames * features:
        raise InputError(f"{graph.where()}: input {graph.inputs[0]!r} has {t_in.size} values, the features give "
                         f"{frames} x {features}")
    t_out = graph.tensors[graph.outputs[0]]
    if t_out.dtype != "int8" or t_out.quant is None:
        raise InputError(f"{graph.where()}: output {graph.outputs[0]!r} is {t_out.dtype}, not quantized int8")
    if t_out.size != len(config.labels):
        raise InputError(f"{graph.where()}: output has {t_out.size} classes but the detector has "
                         f"{len(config.labels)} labels")
    return ModelIO(in_scale, in_zp, t_out.quant.scalar_scale, t_out.quant.scalar_zero_point, t_out.size,
                   tuple(t_in.shape))


def gain_response(features: MfccConfig) -> np.ndarray:
    """float32 [num_features]: how much each feature moves per unit of log gain (DCT row sums; 1 for log-mel)."""
    if not features.num_coefficients:
        return np.ones(features.num_mel_bins, np.float32)
    return dct_matrix(features).sum(axis=1).astype(np.float32)


def stream_frames(audio: np.ndarray, features: MfccConfig, chunk: int = 4096) -> np.ndarray:
    """float32 [frames, num_features] of a whole stream, frame j starting at sample j * frame_step (no peak
    normalization), computed in float64 like `mfcc`, in chunks of frames to bound memory."""
    audio = np.asarray(audio, dtype=np.float64)
    n = 0 if len(audio) < features.frame_length else 1 + (len(audio) - features.frame_length) // features.frame_step
    out = np.empty((n, features.num_features), np.float32)
    offsets = np.arange(features.frame_length)
    for lo in range(0, n, chunk):
        starts = np.arange(lo, min(n, lo + chunk)) * features.frame_step
        out[lo:lo + len(starts)] = log_mel_features(frames_log_mel(audio[starts[:, None] + offsets], features),
                                                    features)
    return out


def hop_peaks(audio: np.ndarray, step: int) -> np.ndarray:
    """float32 maximum sample of each complete hop."""
    n = len(audio) // step
    return np.asarray(audio[:n * step], np.float32).reshape(n, step).max(axis=1)


def inference_hops(num_hops: int, config: DetectorConfig) -> np.ndarray:
    """Hop counts (1-based) after which the detector invokes the model."""
    k = config.infer_every_hops
    first = -(-config.first_window_hop // k) * k
    return np.arange(first, num_hops + 1, k)


def window_inputs(frames: np.ndarray, peaks: np.ndarray, hops: np.ndarray, config: DetectorConfig,
                  io: ModelIO) -> np.ndarray:
    """int8 [len(hops), num_frames, num_features]: the model input after each hop in `hops`."""
    num_frames = config.features.num_frames
    response = gain_response(config.features)
    out = np.empty((len(hops), num_frames, config.features.num_features), np.int8)
    for i, hop in enumerate(hops):
        last = hop - config.history_hops            # index of the newest frame
        window = frames[last - num_frames + 1:last + 1]
        if config.normalize_gain:
            peak = max(np.float32(config.peak_floor), peaks[max(0, hop - config.peak_hops):hop].max())
            if peak > 0:
                window = window - response * np.log(np.float32(peak))
        out[i] = quantize_features(window, io.input_scale, io.input_zero_point)
    return out


class Event(NamedTuple):
    hop: int        # hops pushed when it fired (time = hop * frame_step / sample_rate)
    label: int      # class index into DetectorConfig.labels
    score: int      # smoothed sum of (posterior - output_zero_point) over the window


class PosteriorSmoother:
    """Steps 4 and 5 of the module docstring: integer smoothing, threshold and refractory period."""

    def __init__(self, config: DetectorConfig, io: ModelIO):
        self.config = config.check()
        self.zero_point = io.output_zero_point
        self.required = io.threshold_units(config.threshold) * config.smooth_inferences
        self.keyword = config.keyword_mask
        self.ring = np.zeros((config.smooth_inferences, io.num_classes), np.int64)
        self.sums = np.zeros(io.num_classes, np.int64)
        self.next = 0
        self.quiet_until = 0             # first hop at which an event may fire again

    def update(self, hop: int, posteriors: np.ndarray) -> Event | None:
        units = np.asarray(posteriors, np.int64).reshape(-1) - self.zero_point
        self.sums += units - self.ring[self.next]
        self.ring[self.next] = units
        self.next = (self.next + 1) % len(self.ring)
        if hop < self.quiet_until:
            return None
        scores = np.where(self.keyword, self.sums, np.iinfo(np.int64).min)
        best = int(np.argmax(scores))               # first maximum: ties go to the lower index
        if scores[best] < self.required:
            return None
        self.quiet_until = hop + self.config.refractory_hops
        return Event(hop, best, int(scores[best]))


def detect(hops, posteriors, config: DetectorConfig, io: ModelIO) -> list[Event]:
    """Events from int8 posteriors [inferences, classes] produced after hops `hops`."""
    smoother = PosteriorSmoother(config, io)
    events = (smoother.update(int(h), p) for h, p in zip(hops, posteriors))
    return [e for e in events if e is not None]


@dataclass
class StreamTrace:
    """Everything the reference detector computed on one stream."""
    hops: np.ndarray          # hop after which each inference ran
    inputs: np.ndarray        # int8 [inferences, num_frames, num_features]
    posteriors: np.ndarray    # int8 [inferences, classes]
    events: list[Event]


def run_model(graph, inputs: np.ndarray) -> np.ndarray:
    """int8 posteriors [N, classes] of int8 model inputs [N, ...] through the reference interpreter."""
    from mcuforge.runtime.reference import run_reference

    shape = tuple(graph.tensors[graph.inputs[0]].shape)
    classes = graph.tensors[graph.outputs[0]].size
    out = [run_reference(graph, [np.asarray(x, np.int8).reshape(shape)])[0].reshape(-1) for x in inputs]
    return np.asarray(out, np.int8).reshape(len(inputs), classes)


def reference_detect(audio: np.ndarray, graph, config: DetectorConfig | None = None) -> StreamTrace:
    """The whole detector in NumPy on float audio in [-1, 1] (trailing samples short of a hop are ignored)."""
    config = (config or DetectorConfig()).check()
    graph = with_softmax(graph)
    io = model_io(graph, config)
    audio = np.asarray(audio, np.float32)
    step = config.features.frame_step
    hops = inference_hops(len(audio) // step, config)
    inputs = window_inputs(stream_frames(audio, config.features), hop_peaks(audio, step), hops, config, io)
    posteriors = run_model(graph, inputs)
    return StreamTrace(hops, inputs, posteriors, detect(hops, posteriors, config, io))

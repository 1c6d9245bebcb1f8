"""Streaming keyword detection (mcuforge/apps/kws/streaming.py) run as host C: false accepts per hour on synthetic
non-keyword audio (espeak-ng and flite sentences without keywords over noise, noise alone, near-silence) and the
detection rate on a stream of inserted synthetic keywords, at several thresholds and smoothing windows, and without
the refractory period. SYNTHETIC SPEECH ONLY: not a real-speech false-accept rate.

    python benchmarks/kws_streaming.py [--model M.tflite] [--minutes 60] [--keywords 200]

Default model: out/kws_synth/ds_cnn_int8.tflite (benchmarks/kws_accuracy.py) when it exists, else the shared
MLPerf Tiny kws_ref_model.tflite. An hour takes ~4 min on two busy cores (K = 4: ~70 s of C detector CPU).

The C detector runs once per stream with the given settings (rows marked "(C)"); the other rows re-run only the
integer smoothing, threshold and refractory logic (streaming.detect, bit-identical to the C logic: checked here on
the "(C)" settings) on the posteriors the C program produced."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mcuforge.apps.kws.detector_c import HostDetector
from mcuforge.apps.kws.stream_audio import (
    background_chunks,
    keyword_stream,
    score_detections,
)
from mcuforge.apps.kws.streaming import DetectorConfig, detect
from mcuforge.errors import McuforgeError
from mcuforge.frontends import load_model

SYNTH_MODEL = Path("out/kws_synth/ds_cnn_int8.tflite")
SHARED_MODEL = Path("/work/shared/models/kws_ref_model.tflite")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_stream(detector: HostDetector, audio) -> tuple:
    """(C run with trace, C CPU seconds)."""
    cpu = child_cpu_seconds()
    run = detector.run_audio(audio, trace=True)
    return run, child_cpu_seconds() - cpu


def print_breakdown(events, segments, config: DetectorConfig, rate: int, total_samples: int) -> None:
    """False accepts at the C threshold by the kind of audio under the centre of the model's window, and by
    keyword."""
    starts = np.array([start for start, _, _ in segments])
    kinds = [description.split("+")[0] for _, _, description in segments]
    minutes = {kind: 0.0 for kind in kinds}
    for (start, length, _), kind in zip(segments, kinds):
        minutes[kind] += max(0, min(start + length, total_samples) - start) / rate / 60
    counts = dict.fromkeys(minutes, 0)
    for event in events:
        centre = event.hop * config.features.frame_step - config.features.clip_samples // 2
        counts[kinds[max(0, int(np.searchsorted(starts, centre, side="right")) - 1)]] += 1
    print("\n| audio under the window | minutes | false accepts | per hour |\n|---|---|---|---|")
    for kind in sorted(minutes):
        print(f"| {kind} | {minutes[kind]:.1f} | {counts[kind]} | {60 * counts[kind] / max(minutes[kind], 1e-9):.1f} |")
    by_label = {}
    for event in events:
        by_label[config.labels[event.label]] = by_label.get(config.labels[event.label], 0) + 1
    print("false accepts by keyword: " + ", ".join(f"{k} {v}" for k, v in sorted(by_label.items(), key=lambda kv: -kv[1])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SYNTH_MODEL if SYNTH_MODEL.exists() else SHARED_MODEL)
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of non-keyword audio")
    parser.add_argument("--keywords", type=int, default=200, help="keywords in the detection-rate stream")
    parser.add_argument("--every", type=int, default=4, help="K: hops (20 ms) between inferences")
    parser.add_argument("--smooth", type=int, default=8, help="W: inferences averaged")
    parser.add_argument("--threshold", type=float, default=0.6, help="the C detector's threshold")
    parser.add_argument("--refractory-ms", type=float, default=1000.0)
    parser.add_argument("--no-gain-normalization", action="store_true",
                        help="feed the raw streaming features (no per-window peak normalization)")
    parser.add_argument("--peak-floor", type=float, default=0.0, help="never normalize by a peak below this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        return run(args)
    except McuforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def response_window(config: DetectorConfig) -> float:
    """Seconds after a keyword ends in which its event counts: the 1 s model window plus the smoothing span."""
    features = config.features
    return (features.clip_samples / features.sample_rate
            + config.smooth_inferences * config.infer_every_hops * config.hop_ms / 1000)


def run(args) -> int:
    start = time.time()
    graph = load_model(args.model)
    config = DetectorConfig(infer_every_hops=args.every, smooth_inferences=args.smooth, threshold=args.threshold,
                            refractory_ms=args.refractory_ms, normalize_gain=not args.no_gain_normalization,
                            peak_floor=args.peak_floor).check()
    hop, rate = config.features.frame_step, config.features.sample_rate
    with HostDetector(graph, config) as detector:
        segments: list = []
        background, cpu_bg = run_stream(detector, background_chunks(args.minutes * 60.0, seed=args.seed,
                                                                    segments=segments))
        hours = background.hops * hop / rate / 3600
        stream = keyword_stream(args.keywords, seed=args.seed + 1)
        keywords, cpu_kw = run_stream(detector, stream.audio)

    def table_row(name: str, cfg: DetectorConfig) -> str:
        fa = detect(background.trace_hops, background.posteriors, cfg, detector.io)
        kw = detect(keywords.trace_hops, keywords.posteriors, cfg, detector.io)
        if cfg == config and (fa != background.events or kw != keywords.events):
            raise SystemExit("error: the C detector's events differ from streaming.detect on its own posteriors")
        score = score_detections(kw, stream, hop, response_window(cfg))
        return (f"| {name} | {len(fa)} | {len(fa) / hours:.1f} | {score.hits}/{len(stream.labels)} | "
                f"{score.detection_rate:.1%} | {score.wrong} | {score.extra} |")

    header = ("| {} | false accepts | per hour | detected | detection rate | wrong keyword | extra |\n"
              "|---|---|---|---|---|---|---|")
    print(f"model {args.model}; K = {config.infer_every_hops} hops ({config.infer_every_hops * config.hop_ms:g} ms "
          f"between inferences), W = {config.smooth_inferences} inferences, refractory {config.refractory_ms:g} ms, "
          f"gain normalization {'on' if config.normalize_gain else 'off'} (peak floor {config.peak_floor:g})")
    print(f"non-keyword audio: {hours * 60:.1f} min, {background.inferences} inferences, C detector CPU "
          f"{cpu_bg:.1f} s ({hours * 3600 / max(cpu_bg, 1e-9):.0f}x real time, "
          f"{1e3 * cpu_bg / max(1, background.inferences):.2f} ms per inference incl. MFCC)")
    print(f"keyword stream: {len(stream.labels)} keywords in {len(stream.audio) / rate / 60:.1f} min, "
          f"response window = keyword + {response_window(config):.2f} s\n")
    print(header.format("threshold"))
    for threshold in sorted(set(THRESHOLDS) | {args.threshold}):
        mark = " (C)" if threshold == args.threshold else ""
        print(table_row(f"{threshold:.2f}{mark}", replace(config, threshold=threshold)))
    print("\n" + header.format(f"at threshold {args.threshold:g}"))
    for w in sorted({1, 4, config.smooth_inferences, 2 * config.smooth_inferences}):
        span = w * config.infer_every_hops * config.hop_ms
        name = f"W = {w} ({span:g} ms)" + (" (C)" if w == config.smooth_inferences else "")
        print(table_row(name + (", no smoothing" if w == 1 else ""), replace(config, smooth_inferences=w)))
    print(table_row("no refractory period", replace(config, refractory_ms=0.0)))
    score = score_detections(keywords.events, stream, hop, response_window(config))
    print("\ndetection rate by TTS engine: " + ", ".join(
        f"{engine} {score.hit[stream.engines == engine].mean():.1%} of {int(np.sum(stream.engines == engine))}"
        for engine in sorted(set(stream.engines))))
    print_breakdown(background.events, segments, config, rate, background.hops * hop)
    print(f"\ntotal {time.time() - start:.0f} s (keyword stream C CPU {cpu_kw:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

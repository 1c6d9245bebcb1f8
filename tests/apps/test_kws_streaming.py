"""Streaming keyword detection: the C detector (host, ASan/UBSan, Cortex-M4 firmware on QEMU) against the NumPy
reference, the smoothing and refractory semantics, gain normalization, and the synthetic streams."""

import itertools
import os
import shutil
from dataclasses import replace

import numpy as np
import pytest

from mcuforge.apps.kws.detector_c import HostDetector
from mcuforge.apps.kws.detector_qemu import build_detector_firmware, run_detector_qemu
from mcuforge.apps.kws.mfcc import mfcc, quantize_features
from mcuforge.apps.kws.stream_audio import (
    SPEECH_COMMANDS_AUXILIARY,
    KeywordStream,
    background_chunks,
    keyword_stream,
    random_speaker,
    score_detections,
    speak_text,
    words_without_keywords,
)
from mcuforge.apps.kws.streaming import (
    DetectorConfig,
    Event,
    detect,
    gain_response,
    hop_peaks,
    inference_hops,
    model_io,
    reference_detect,
    run_model,
    stream_frames,
    window_inputs,
    with_softmax,
)
from mcuforge.apps.kws.synth import KEYWORDS, KWS_LABELS
from mcuforge.errors import InputError
from mcuforge.frontends import load_model
from tests.conftest import shared_model

CONFIG = DetectorConfig()          # K = 4, W = 8, threshold 0.6, refractory 1000 ms
YES = KWS_LABELS.index("yes")
SILENCE = KWS_LABELS.index("silence")


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is missing (required in CI)")
        pytest.skip(f"{tool} not installed")


@pytest.fixture(scope="module")
def graph():
    return load_model(shared_model("kws"))


@pytest.fixture(scope="module")
def host(graph, tmp_path_factory):
    with HostDetector(graph, CONFIG, workdir=tmp_path_factory.mktemp("kwsdet")) as detector:
        yield detector


@pytest.fixture(scope="module")
def stream():
    need("espeak-ng")
    need("flite")
    return keyword_stream(6, seed=3, pool_size=4)


def posteriors_with(label_units: dict[int, int], rest: int = SILENCE) -> np.ndarray:
    """One int8 softmax output (zero point -128) whose probability units are `label_units`, the remainder on
    `rest`."""
    units = np.zeros(len(KWS_LABELS), np.int64)
    for label, u in label_units.items():
        units[label] = u
    units[rest] += 255 - units.sum()
    return (units - 128).astype(np.int8)


def steady(n: int, first_hop: int, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hops = first_hop + CONFIG.infer_every_hops * np.arange(n)
    return hops, np.repeat(post[None, :], n, axis=0)


def test_smoothing_needs_a_sustained_keyword(graph, host):
    io = model_io(graph, CONFIG)
    quiet, loud = posteriors_with({}), posteriors_with({YES: 255})
    # One confident inference among silence: fires without smoothing (W = 1), never with W = 8.
    hops, post = steady(30, 52, quiet)
    post[10] = loud
    assert detect(hops, post, replace(CONFIG, smooth_inferences=1), io) == [Event(int(hops[10]), YES, 255)]
    assert detect(hops, post, CONFIG, io) == [] and host.run_posteriors(hops, post) == []
    # A sustained keyword fires once the 8-inference sum reaches 8 * round(0.6 * 256) = 1232: 5 * 255.
    post[10:20] = loud
    expected = [Event(int(hops[14]), YES, 5 * 255)]
    assert detect(hops, post, CONFIG, io) == expected and host.run_posteriors(hops, post) == expected


def test_refractory_period_spaces_events(graph, host):
    io = model_io(graph, CONFIG)
    hops, post = steady(100, 52, posteriors_with({YES: 200}))   # 8 s of a keyword held above threshold
    events = detect(hops, post, CONFIG, io)
    assert host.run_posteriors(hops, post) == events
    # 1000 ms = 50 hops; inferences every 4 hops, so events land 52 hops apart, the first when 8 * 200 >= 1232.
    assert [e.hop for e in events] == list(range(int(hops[6]), int(hops[-1]) + 1, 52))
    assert len(detect(hops, post, replace(CONFIG, refractory_ms=0.0), io)) == 100 - 6


def test_ties_and_non_keywords(graph, host, tmp_path):
    io = model_io(graph, CONFIG)
    no, up = KWS_LABELS.index("no"), KWS_LABELS.index("up")
    hops, post = steady(12, 52, posteriors_with({up: 127, no: 127}))
    low = replace(CONFIG, threshold=0.45)                       # two keywords can only tie above it below 0.5
    both = detect(hops, post, low, io)
    assert both and {e.label for e in both} == {no}            # equal sums: the lower class index wins
    with HostDetector(graph, low, workdir=tmp_path) as c_low:
        assert c_low.run_posteriors(hops, post) == both
    hops, post = steady(40, 52, posteriors_with({}, rest=KWS_LABELS.index("unknown")))
    assert detect(hops, post, CONFIG, io) == [] and host.run_posteriors(hops, post) == []


def test_random_posteriors_c_equals_numpy(graph, host):
    io = model_io(graph, CONFIG)
    rng = np.random.default_rng(0)
    n = 3000
    units = rng.dirichlet(np.full(12, 0.3), size=n)
    bursts = rng.integers(0, n, 60)
    for b in bursts:                                            # keyword-like bursts of 4-15 inferences
        units[b:b + rng.integers(4, 16)] = np.eye(12)[rng.integers(0, 12)] * rng.uniform(0.5, 1.0)
    post = np.clip(np.round(units * 255) - 128, -128, 127).astype(np.int8)
    hops = inference_hops(50 + 4 * n, CONFIG)[:n]
    events = detect(hops, post, CONFIG, io)
    assert len(events) >= 20 and host.run_posteriors(hops, post) == events


def test_c_detector_matches_reference_on_keyword_stream(graph, host, stream):
    run = host.run_audio(stream.audio, trace=True)
    ref = reference_detect(stream.audio, graph, CONFIG)
    assert run.hops == len(stream.audio) // 320 and np.array_equal(run.trace_hops, ref.hops)
    # Float MFCC in C and NumPy differ by ~1e-5: an int8 input may land one step apart, rarely.
    diff = np.abs(run.inputs.astype(int) - ref.inputs)
    assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3
    # Given the C front end's inputs, the NumPy model and detector reproduce the C detector bit for bit.
    assert np.array_equal(run_model(graph, run.inputs), run.posteriors)
    assert detect(run.trace_hops, run.posteriors, CONFIG, model_io(graph, CONFIG)) == run.events
    # End to end from audio: the same keywords at the same hops.
    assert len(run.events) >= 3 and [(e.hop, e.label) for e in run.events] == [(e.hop, e.label) for e in ref.events]
    # The shared model learnt real speech: it finds some of these synthetic keywords, not all of them.
    score = score_detections(run.events, stream, 320, 1.64)
    assert score.hits >= 2 and score.extra == 0


def test_c_detector_sanitizers_and_streamed_chunks(graph, host, stream, tmp_path):
    audio = stream.audio[:16000 * 7]
    whole = host.run_audio(audio)
    assert whole.events                                                   # the first keyword is in there
    pieces = np.array_split(audio, [1000, 1001, 77777, 100000])          # chunk edges inside hops
    assert host.run_audio(iter(pieces)).events == whole.events
    with HostDetector(graph, CONFIG, workdir=tmp_path, sanitize=True) as asan:
        assert asan.run_audio(audio).events == whole.events


def test_cortex_m4_firmware_on_qemu_matches_host(graph, host, stream, tmp_path):
    need("arm-none-eabi-gcc")
    firmware = build_detector_firmware(graph, tmp_path / "m4", CONFIG, "cortex-m4")   # -Werror cross build
    need("qemu-system-arm")
    audio = stream.audio[:16000 * 7]
    events, hops, posteriors = run_detector_qemu(firmware, audio)
    run = host.run_audio(audio, trace=True)
    assert events == run.events and len(events) >= 1
    # newlib's and glibc's logf/sqrtf may differ in the last bit: allow a rare changed posterior step
    assert np.array_equal(hops, run.trace_hops) and np.abs(posteriors.astype(int) - run.posteriors).max() <= 1


def test_logits_model_gets_tflite_softmax(graph, host, stream, tmp_path):
    logits = graph.copy()
    assert logits.ops[-1].type == "SOFTMAX"
    logits.outputs = [logits.ops.pop().inputs[0]]                  # the same model, ending in logits
    probabilities = with_softmax(logits)
    assert probabilities.ops[-1].type == "SOFTMAX" and with_softmax(graph) is graph
    inputs = np.random.default_rng(0).integers(-128, 128, (5, 49, 10), dtype=np.int8)
    assert np.array_equal(run_model(probabilities, inputs), run_model(graph, inputs))
    audio = stream.audio[:16000 * 7]
    with HostDetector(logits, CONFIG, workdir=tmp_path) as from_logits:
        assert from_logits.run_audio(audio).events == host.run_audio(audio).events


def test_gain_normalization_gives_mlperf_features(graph, stream):
    # Pushed hop by hop, the first full window (after hop 50) covers exactly the first 1 s clip: with gain
    # normalization its features are MLPerf's peak-normalized ones.
    io = model_io(graph, CONFIG)
    start = int(stream.starts[0]) - 4000
    clip = stream.audio[start:start + 16000] * 0.3
    shifted = stream_frames(clip, CONFIG.features) - gain_response(CONFIG.features) * np.log(np.float32(clip.max()))
    np.testing.assert_allclose(shifted, mfcc(clip), atol=1e-2)   # exact but for log(mel + 1e-6)
    every_hop = replace(CONFIG, infer_every_hops=1)
    assert inference_hops(50, every_hop).tolist() == [50]
    window = window_inputs(stream_frames(clip, CONFIG.features), hop_peaks(clip, 320), np.array([50]), every_hop, io)
    expected = quantize_features(mfcc(clip), io.input_scale, io.input_zero_point)
    assert np.abs(window[0].astype(int) - expected).max() <= 1 and np.mean(window[0] != expected) < 0.01


def test_window_inputs_are_gain_invariant(graph, stream):
    io = model_io(graph, CONFIG)
    audio = stream.audio[:16000 * 6]
    hops = inference_hops(len(audio) // 320, CONFIG)

    def inputs(x, config):
        return window_inputs(stream_frames(x, config.features), hop_peaks(x, 320), hops, config, io)

    assert np.abs(inputs(audio, CONFIG).astype(int) - inputs(audio * 0.1, CONFIG)).max() <= 1
    off = replace(CONFIG, normalize_gain=False)
    assert np.abs(inputs(audio, off).astype(int) - inputs(audio * 0.1, off)).max() > 5


def test_background_stream_is_reproducible_and_keyword_free():
    need("espeak-ng")
    need("flite")
    vocabulary = set(words_without_keywords())
    assert len(vocabulary) > 300 and not vocabulary & (set(KEYWORDS) | set(SPEECH_COMMANDS_AUXILIARY))
    segments = []
    first = list(background_chunks(25.0, seed=5, pool_size=3, chunk_seconds=10.0, segments=segments))
    again = list(background_chunks(25.0, seed=5, pool_size=3, chunk_seconds=10.0))
    assert [len(c) for c in first] == [160000, 160000, 80000]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert segments[0][0] == 0 and all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(segments))
    audio = np.concatenate(first)
    assert np.abs(audio).max() <= 1.0 and audio.std() > 1e-3
    rng = np.random.default_rng(1)
    flite = speak_text("a quiet morning in the garden", *random_speaker(rng, engines=("flite",)))
    assert len(flite) > 8000 and np.abs(flite).max() > 0.05


def test_score_detections():
    stream = KeywordStream(np.zeros(160000, np.float32), np.array([YES, 0]), np.array([16000, 80000]),
                           np.array([32000, 96000]), np.array(["flite", "espeak-ng"]))
    events = [Event(60, YES, 0), Event(70, YES, 0), Event(300, 1, 0), Event(400, 0, 0)]   # samples 19200 ... 128000
    score = score_detections(events, stream, 320, 1.0)
    assert (score.hits, score.misses, score.wrong, score.extra) == (1, 1, 2, 1) and score.hit.tolist() == [True, False]


def test_bad_config_and_model_are_one_line_errors(graph):
    with pytest.raises(InputError, match="threshold"):
        DetectorConfig(threshold=1.5).check()
    with pytest.raises(InputError, match="smooth_inferences"):
        DetectorConfig(smooth_inferences=0).check()
    with pytest.raises(InputError, match="labels"):
        model_io(graph, DetectorConfig(labels=KWS_LABELS[:10], non_keywords=()))
    with pytest.raises(InputError, match="input"):
        model_io(load_model(shared_model("ad")), CONFIG)

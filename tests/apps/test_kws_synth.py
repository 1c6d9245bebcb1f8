"""The shared MLPerf Tiny KWS model recognizes keywords synthesized with espeak-ng from our features."""

import os
import shutil

import numpy as np
import pytest

from mcuforge.apps.kws.mfcc import mfcc, model_input_quantization, quantize_features
from mcuforge.apps.kws.mfcc_c import run_mfcc_host
from mcuforge.apps.kws.synth import (KEYWORDS, KWS_LABELS, Style, espeak_variants, flite_voices, keyword_clips,
                                     resample_clips, split_at_silences, synthesize)
from mcuforge.errors import InputError
from mcuforge.frontends import load_model
from mcuforge.runtime.reference import run_reference
from tests.conftest import shared_model


@pytest.fixture(scope="module")
def clips():
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is missing (make apt installs it)")
        pytest.skip("espeak-ng not installed")
    return keyword_clips(per_word=3, seed=0)


def classify(graph, features):
    scale, zero_point = model_input_quantization(graph)
    q = quantize_features(features, scale, zero_point)
    return np.array([int(np.argmax(run_reference(graph, [x.reshape(1, 49, 10, 1)])[0])) for x in q])


def test_label_order():
    assert KWS_LABELS[:10] == KEYWORDS and KWS_LABELS[10:] == ("silence", "unknown")


def test_kws_model_recognizes_synthesized_keywords(clips):
    audio, labels = clips
    graph = load_model(shared_model("kws"))
    predicted = classify(graph, mfcc(audio))
    accuracy = float(np.mean(predicted == labels))
    assert len(labels) >= 30 and accuracy >= 0.4, f"top-1 {accuracy:.2f} on {len(labels)} clips"
    # The C front end gives the same class on (nearly) every clip.
    c_features, _ = run_mfcc_host(audio)
    assert np.mean(classify(graph, c_features) == predicted) >= 0.99


def test_one_call_for_many_words_cuts_them_apart(clips):
    words = ["stop", "up", "sheila", "yes"]
    style = Style(voice="en-gb-scotland", variant="f2", speed=180, pitch=30)
    batch = synthesize(words, style)
    alone = np.concatenate([synthesize([w], style) for w in words])
    assert batch.shape == alone.shape == (4, 16000)

    def duration(clip):
        loud = np.flatnonzero(np.abs(clip) >= 0.01 * np.abs(clip).max())
        return loud[-1] - loud[0]
    # each piece is that word: about as long as the word said alone (a cut in the wrong place is not)
    for a, b in zip(batch, alone):
        assert 0.75 < duration(a) / duration(b) < 1.25


def test_a_recording_without_the_gaps_is_not_cut():
    rate = 16000
    tone = np.sin(np.arange(rate) * 0.3).astype(np.float32)
    gap = np.zeros(rate // 2, np.float32)
    assert [len(p) > 0 for p in split_at_silences(np.concatenate([tone, gap, tone]), rate, 2)] == [True, True]
    assert split_at_silences(np.concatenate([tone, gap, tone]), rate, 3) is None
    assert split_at_silences(np.zeros(rate, np.float32), rate, 1) is None


def test_fft_resampling_keeps_a_tone():
    t = np.arange(22050) / 22050
    clip = np.sin(2 * np.pi * 440 * t)[None, :] * np.hanning(22050)
    out = resample_clips(clip, 22050, 16000)
    envelope = np.hanning(22050)[(np.arange(16000) * 22050) // 16000]
    expected = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000) * envelope
    assert out.shape == (1, 16000) and np.max(np.abs(out[0] - expected)) < 0.01


def test_voice_listings(clips):
    variants = espeak_variants()
    assert len(variants) >= 50 and {"f2", "m3", "klatt"} <= set(variants)
    with pytest.raises(InputError, match="engine"):
        synthesize(["yes"], Style(engine="festival"))


def test_flite_voices():
    if shutil.which("flite") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("flite is missing (make apt installs it)")
        pytest.skip("flite not installed")
    assert {"kal", "slt", "rms", "awb"} <= set(flite_voices()) and "awb_time" not in flite_voices()

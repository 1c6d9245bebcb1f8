"""The shared MLPerf Tiny KWS model recognizes keywords synthesized with espeak-ng from our features."""

import os
import shutil

import numpy as np
import pytest

from mcuforge.apps.kws.mfcc import mfcc, model_input_quantization, quantize_features
from mcuforge.apps.kws.mfcc_c import run_mfcc_host
from mcuforge.apps.kws.synth import KEYWORDS, KWS_LABELS, keyword_clips
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

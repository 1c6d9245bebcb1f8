"""Vibration features: definitions, and the generated C (host build) against NumPy."""

import numpy as np
import pytest

from mcuforge.apps.anomaly import (
    FAULTS,
    FeatureConfig,
    band_edges,
    simulate,
    vibration_features,
)
from mcuforge.apps.anomaly.basic_motions import BASIC_MOTIONS
from mcuforge.apps.anomaly.features_c import run_features_host
from mcuforge.errors import InputError


def test_band_layout_and_parseval():
    config = FeatureConfig()
    edges = band_edges(config)
    assert edges[0] == 1 and edges[-1] == 513 and len(edges) == 33 and np.all(np.diff(edges) >= 1)
    assert np.all(np.diff(edges)[:12] == 1)            # one band per bin where the shaft harmonics are
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, (1, 2, 4096))           # white: total band power = variance (DC excluded)
    total = np.exp(vibration_features(noise, config).astype(np.float64)).reshape(2, 32).sum(axis=1)
    np.testing.assert_allclose(total, 0.01, rtol=0.05)
    tone = np.sin(2 * np.pi * 1000 * np.arange(4096) / 6400)[None].repeat(2, 0)
    f = vibration_features(tone, config).reshape(2, 32)
    band = np.searchsorted(edges, 160, side="right") - 1   # 1000 Hz = bin 160
    assert np.argmax(f[0]) == band and np.exp(f[0]).sum() == pytest.approx(0.5, rel=0.01)
    with pytest.raises(InputError):
        vibration_features(np.zeros((2, 100)), config)
    with pytest.raises(InputError):
        FeatureConfig(frame_length=1000).check()


@pytest.mark.parametrize("config", [FeatureConfig(), BASIC_MOTIONS], ids=["machine", "basic_motions"])
def test_c_features_match_numpy(config):
    if config == BASIC_MOTIONS:
        clips = np.random.default_rng(1).normal(0, 2, (6, 6, 100)).astype(np.float32)
    else:
        clips = np.concatenate([simulate(fault, 2, seed=9) for fault in FAULTS])
    expected = vibration_features(clips, config)
    got = run_features_host(clips, config)
    assert got.shape == expected.shape == (len(clips), config.num_features)
    # |d ln E| <= 1e-3 is a relative error of 1e-3 on each band energy
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)

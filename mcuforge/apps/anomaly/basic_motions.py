"""Real-data sanity check: sktime's bundled BasicMotions (a smartwatch's 3-axis accelerometer and gyroscope at
10 Hz, 10 s per recording, 4 activities x 40 recordings) through the same feature pipeline and detector: train on
three activities, flag the fourth as anomalous."""

from __future__ import annotations

import numpy as np

from mcuforge.apps.anomaly.detector import fit_detector, roc_auc
from mcuforge.apps.anomaly.features import FeatureConfig, vibration_features

# 100 samples at 10 Hz, 6 channels: 64-sample frames every 12 samples (4 frames), 8 bands over 0.16 - 5 Hz.
BASIC_MOTIONS = FeatureConfig(sample_rate=10.0, clip_samples=100, channels=6, frame_length=64, frame_step=12,
                              num_bands=8)


def load_basic_motions() -> tuple[np.ndarray, np.ndarray]:
    """(recordings float32 [80, 6, 100], activity labels [80])."""
    from sktime.datasets import load_basic_motions as load

    x, y = load(return_type="numpy3D")
    return x.astype(np.float32), np.asarray(y).astype(str)


def held_out_activity_auc(x: np.ndarray, y: np.ndarray, anomaly: str, seed: int = 0, epochs: int = 300) -> float:
    """Train on half the recordings of the other activities; AUC of their other half vs all of `anomaly`."""
    features = vibration_features(x, BASIC_MOTIONS)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for activity in sorted(set(y) - {anomaly}):
        idx = rng.permutation(np.flatnonzero(y == activity))
        train.extend(idx[:len(idx) // 2])
        test.extend(idx[len(idx) // 2:])
    detector = fit_detector(features[train], features[train], hidden=16, bottleneck=4, depth=1, epochs=epochs,
                            seed=seed)
    return roc_auc(detector.scores(features[test]), detector.scores(features[y == anomaly]))

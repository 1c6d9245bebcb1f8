"""Vibration anomaly detection (predictive maintenance): a physical simulator of a rotating machine with
imbalance, misalignment and bearing faults; log band-energy features in NumPy and as generated C99; an
autoencoder trained on normal data whose reconstruction error is the anomaly score."""

from mcuforge.apps.anomaly.features import (
           FeatureConfig,
           Standardizer,
           band_edges,
           simulated_feature_sets,
           vibration_features,
)
from mcuforge.apps.anomaly.simulator import CHANNELS, FAULTS, Bearing, Machine, simulate

__all__ = ["CHANNELS", "FAULTS", "Bearing", "FeatureConfig", "Machine", "Standardizer", "band_edges", "simulate",
           "simulated_feature_sets", "vibration_features"]

"""Autoencoder anomaly detection on standardized vibration features: trained on normal data only; the anomaly
score is the mean squared reconstruction error; the alarm threshold is a high percentile of the scores of
held-out normal data. The int8 model (mcuforge.quantize) takes the int8-quantized standardized features and its
int8 output is dequantized before the same score is computed, so bit-exact int8 outputs (C on the target vs the
reference interpreter) give identical scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mcuforge.apps.anomaly.features import Standardizer
from mcuforge.compress.training import train
from mcuforge.ir import Graph
from mcuforge.models import FCAutoencoder
from mcuforge.runtime.reference import run_reference


@dataclass
class AnomalyDetector:
    model: nn.Module        # float autoencoder, eval mode
    standardizer: Standardizer
    threshold: float        # alarm when score > threshold

    def inputs(self, features: np.ndarray) -> np.ndarray:
        return self.standardizer(features)

    @torch.no_grad()
    def scores(self, features: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(self.inputs(features))
        return ((self.model(x) - x) ** 2).mean(dim=1).numpy().astype(np.float64)


def fit_detector(normal_train: np.ndarray, normal_val: np.ndarray, hidden: int = 32, bottleneck: int = 4,
                 depth: int = 2, epochs: int = 60, lr: float = 3e-3, percentile: float = 99.0,
                 seed: int = 0) -> AnomalyDetector:
    """Train an FCAutoencoder (mcuforge.models) on normal features [N, F]; threshold = `percentile` of the scores
    of `normal_val`."""
    standardizer = Standardizer.fit(normal_train)
    x = torch.from_numpy(standardizer(normal_train))
    torch.manual_seed(seed)
    model = FCAutoencoder(features=x.shape[1], hidden=hidden, bottleneck=bottleneck, depth=depth)
    train(model, (x, x), lambda m, xb, _: nn.functional.mse_loss(m(xb), xb), epochs=epochs, lr=lr, batch_size=32,
          seed=seed)
    detector = AnomalyDetector(model.eval(), standardizer, 0.0)
    detector.threshold = float(np.percentile(detector.scores(normal_val), percentile))
    return detector


def roc_auc(normal_scores, anomaly_scores) -> float:
    """Area under the ROC curve = P(anomaly score > normal score) + P(tie) / 2 (Mann-Whitney U, average ranks)."""
    normal, anomaly = np.asarray(normal_scores, np.float64), np.asarray(anomaly_scores, np.float64)
    values = np.concatenate([normal, anomaly])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size)
    ranks[order] = np.arange(1, values.size + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]  # ties share their mean rank
    u = ranks[normal.size:].sum() - anomaly.size * (anomaly.size + 1) / 2
    return float(u / (normal.size * anomaly.size))


# --- the int8 model ---------------------------------------------------------------------------------------------

def export_int8(detector: AnomalyDetector, calibration_features: np.ndarray) -> Graph:
    """from_torch + quantize with int8 input and output, calibrated on (standardized) normal features."""
    from mcuforge.frontends.torch_import import from_torch
    from mcuforge.quant.ptq import quantize

    inputs = detector.inputs(calibration_features)
    graph = from_torch(detector.model, torch.zeros(1, inputs.shape[1]))
    return quantize(graph, inputs[:, None, :])


def quantize_inputs(graph: Graph, detector: AnomalyDetector, features: np.ndarray) -> list[list[np.ndarray]]:
    """One input record per feature vector: int8 [1, F] on the model input's scale and zero point."""
    t = graph.tensors[graph.inputs[0]]
    scale, zero = t.quant.scalar_scale, t.quant.scalar_zero_point
    q = np.clip(np.round(detector.inputs(features) / scale) + zero, -128, 127).astype(np.int8)
    return [[row.reshape(t.shape)] for row in q]


def int8_scores(graph: Graph, records: list[list[np.ndarray]], outputs: list[list[np.ndarray]]) -> np.ndarray:
    """Mean squared error between each dequantized int8 input and its dequantized int8 reconstruction."""
    tin, tout = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]

    def dequantize(t, v):
        return (v.astype(np.float64).reshape(-1) - t.quant.scalar_zero_point) * t.quant.scalar_scale

    return np.array([np.mean((dequantize(tout, out[0]) - dequantize(tin, rec[0])) ** 2)
                     for rec, out in zip(records, outputs)])


def reference_outputs(graph: Graph, records: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    return [run_reference(graph, record) for record in records]

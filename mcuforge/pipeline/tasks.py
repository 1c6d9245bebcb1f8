"""What a task trains for and how its results are scored, for the float model and for the int8 model's outputs.

- classification: cross-entropy; accuracy (argmax of the logits; of the int8 output, whose scale is positive).
- anomaly: an autoencoder trained on normal samples only (mean squared reconstruction error); the score of a
  sample is its reconstruction error (for int8: dequantized input against dequantized output), scored as ROC AUC
  of each fault type against the normal samples (label 0), plus the mean over fault types."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mcuforge.apps.anomaly.detector import roc_auc

EVAL_BATCH = 256


def loss_fn(task: str, label_smoothing: float = 0.0):
    if task == "anomaly":
        return lambda m, x, _y: nn.functional.mse_loss(m(x), x)
    return lambda m, x, y: nn.functional.cross_entropy(m(x), y, label_smoothing=label_smoothing)


def training_pairs(task: str, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) tensors for compress.training.train; an autoencoder learns from normal samples only."""
    if task == "anomaly":
        x = x[y == 0]
        y = y[y == 0]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


@torch.no_grad()
def float_outputs(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    return np.concatenate([model(torch.from_numpy(np.ascontiguousarray(x[i:i + EVAL_BATCH]))).numpy()
                           for i in range(0, len(x), EVAL_BATCH)])


def scores(task: str, x: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Per-sample scores: class logits (classification) or reconstruction errors (anomaly)."""
    if task == "anomaly":
        return ((outputs.reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2).mean(axis=1).astype(np.float64)
    return outputs.reshape(len(x), -1)


def metrics(task: str, classes: tuple[str, ...], scored: np.ndarray, y: np.ndarray) -> dict:
    """{"accuracy": ...} or {"auc": {fault: ...}, "auc_mean": ...} (faults without samples are left out)."""
    if task == "classification":
        return {"accuracy": float(np.mean(scored.argmax(axis=1) == y)), "samples": len(y)}
    normal = scored[y == 0]
    auc = {classes[k]: roc_auc(normal, scored[y == k]) for k in range(1, len(classes)) if np.any(y == k)}
    out = {"auc": auc, "samples": len(y)}
    if auc and len(normal):
        out["auc_mean"] = float(np.mean(list(auc.values())))
    return out


def headline(task: str, result: dict) -> tuple[str, float | None]:
    """The one number of a result for the summary table: accuracy, or the mean ROC AUC."""
    if task == "classification":
        return "accuracy", result.get("accuracy")
    return "mean AUC", result.get("auc_mean")

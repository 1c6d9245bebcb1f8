"""A person detector: the zoo's MobileNetV1 trained on vww_splits, exported to an int8 graph (PTQ) whose input
takes the camera adapter's bytes, and scored in float and in int8 (reference interpreter)."""

from __future__ import annotations

import numpy as np
import torch

from mcuforge.apps.vww.camera import input_lut
from mcuforge.errors import InputError
from mcuforge.ir import Graph


def build_model(alpha: float, resolution: int, channels: int, seed: int = 0) -> torch.nn.Module:
    from mcuforge.models.mobilenet import MobileNetV1

    torch.manual_seed(seed)
    return MobileNetV1(alpha=alpha, resolution=resolution, classes=2, channels=channels)


def train_detector(splits: dict, alpha: float = 0.25, epochs: int = 12, lr: float = 3e-3, batch_size: int = 32,
                   seed: int = 0) -> torch.nn.Module:
    """Adam + cross-entropy on splits["train"]; keeps the weights of the epoch with the best validation accuracy
    (the last epoch when there is no validation split)."""
    from mcuforge.compress.training import accuracy, train

    x, y = (torch.from_numpy(a) for a in splits["train"])
    if len(x) == 0:
        raise InputError("vww training: the train split is empty")
    xv, yv = (torch.from_numpy(a) for a in splits.get("val", (x[:0].numpy(), y[:0].numpy())))
    model = build_model(alpha, x.shape[-1], x.shape[1], seed)
    optimizer = torch.optim.Adam(model.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, epochs))
    best = {"score": -1.0, "state": None}

    def after_epoch(_epoch: int) -> None:
        schedule.step()
        score = accuracy(model, xv, yv) if len(xv) else 0.0
        if score >= best["score"]:
            best.update(score=score, state={k: v.clone() for k, v in model.state_dict().items()})

    train(model, (x, y), lambda m, xb, yb: torch.nn.functional.cross_entropy(m(xb), yb), epochs,
          batch_size=batch_size, seed=seed, optimizer=optimizer, after_epoch=after_epoch)
    model.load_state_dict(best["state"])
    return model.eval()


def float_accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    from mcuforge.compress.training import accuracy

    return accuracy(model, torch.from_numpy(x), torch.from_numpy(y))


def export_int8(model: torch.nn.Module, calibration_x: np.ndarray) -> Graph:
    """from_torch (NHWC input) + PTQ with int8 input and output, calibrated on NCHW images in [0, 1]."""
    from mcuforge.frontends.torch_import import from_torch
    from mcuforge.quant.ptq import quantize

    graph = from_torch(model, torch.from_numpy(calibration_x[:1]))
    return quantize(graph, [[np.ascontiguousarray(img[None].transpose(0, 2, 3, 1))] for img in calibration_x])


def int8_inputs(graph: Graph, x: np.ndarray) -> list[np.ndarray]:
    """int8 NHWC model inputs for images in [0, 1] (NCHW), through the camera adapter's lookup table: the bytes a
    camera frame of the same pixels would give."""
    t = graph.tensors[graph.inputs[0]]
    lut = input_lut(t.quant.scalar_scale, t.quant.scalar_zero_point)
    pixels = np.clip(np.round(x * 255), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    return [lut[p][None] for p in pixels]


def person_scores(graph: Graph, outputs: list[np.ndarray]) -> np.ndarray:
    """The dequantized person output (class 1) of each int8 output [1, 2]."""
    t = graph.tensors[graph.outputs[0]]
    return np.array([(float(o.reshape(-1)[1]) - t.quant.scalar_zero_point) * t.quant.scalar_scale for o in outputs])


def int8_accuracy(graph: Graph, x: np.ndarray, y: np.ndarray) -> float:
    from mcuforge.runtime.reference import run_reference

    outputs = [run_reference(graph, [q])[0] for q in int8_inputs(graph, x)]
    predictions = np.array([int(np.argmax(o.reshape(-1))) for o in outputs])
    return float(np.mean(predictions == y)) if len(y) else 0.0

"""The quantize stage: the trained model as an int8 Graph with int8 input and output (PTQ with calibrated
ranges, or the QAT model's learned ranges through compress.qat.convert), and its evaluation on every split with
the reference interpreter (bit-exact with the generated C, which the verify stage checks on the emulator)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mcuforge.ir import Graph
from mcuforge.pipeline.config import PipelineConfig
from mcuforge.pipeline.data import Dataset
from mcuforge.pipeline.tasks import metrics, scores
from mcuforge.runtime.reference import run_reference


def graph_layout(x: np.ndarray) -> np.ndarray:
    """Model-layout samples (NCHW images) as the graph takes them (NHWC; other ranks unchanged)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if x.ndim == 4 else x, dtype=np.float32)


def calibration_set(config: PipelineConfig, dataset: Dataset) -> np.ndarray:
    """quantize.calibration_samples training samples (a seeded draw), in graph layout."""
    x, y = dataset.splits["train"]
    if dataset.task == "anomaly":
        x = x[y == 0]
    rng = np.random.default_rng(config.train.seed)
    pick = rng.permutation(len(x))[:config.quantize.calibration_samples]
    return graph_layout(x[np.sort(pick)])


def quantize_model(config: PipelineConfig, dataset: Dataset, model: nn.Module, qat_model: nn.Module | None = None
                   ) -> tuple[Graph, Graph]:
    """(float32 graph, int8 graph): PTQ of `model` with quantize.method, or conversion of `qat_model`."""
    from mcuforge.frontends.torch_import import from_torch
    from mcuforge.quant.ptq import quantize

    example = torch.zeros(tuple(model.input_shape))
    model.eval()
    float_graph = from_torch(model, example)
    calibration = calibration_set(config, dataset)
    if qat_model is not None:
        from mcuforge.compress.qat import convert

        qat_model.eval()
        int8 = convert(qat_model, torch.from_numpy(dataset.splits["train"][0][:1]), calibration, float_io=False)
    else:
        int8 = quantize(float_graph, calibration, method=config.quantize.method, where=f"{config.path}: calibration")
    return float_graph, int8


def quantize_inputs(graph: Graph, x: np.ndarray) -> list[list[np.ndarray]]:
    """Model-layout float samples -> one int8 record each, on the graph input's scale and zero point."""
    t = graph.tensors[graph.inputs[0]]
    scale, zero = t.quant.scalar_scale, t.quant.scalar_zero_point
    q = np.clip(np.round(graph_layout(x) / scale) + zero, -128, 127).astype(np.int8)
    return [[row.reshape(t.shape)] for row in q]


def dequantize(graph: Graph, name: str, values: np.ndarray) -> np.ndarray:
    t = graph.tensors[name]
    return (values.astype(np.float64) - t.quant.scalar_zero_point) * t.quant.scalar_scale


def int8_scores(graph: Graph, dataset: Dataset, records: list[list[np.ndarray]],
                outputs: list[list[np.ndarray]]) -> np.ndarray:
    """The task's scores of int8 outputs: dequantized logits, or the dequantized reconstruction error."""
    inputs = np.stack([dequantize(graph, graph.inputs[0], r[0]).reshape(-1) for r in records])
    outs = np.stack([dequantize(graph, graph.outputs[0], o[0]).reshape(-1) for o in outputs])
    return scores(dataset.task, inputs, outs)


def reference_outputs(graph: Graph, records: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    return [run_reference(graph, record) for record in records]


def evaluate_int8(graph: Graph, dataset: Dataset, split: str) -> dict:
    """The int8 model's metrics on a split, run by the reference interpreter."""
    x, y = dataset.splits[split]
    records = quantize_inputs(graph, x)
    outputs = reference_outputs(graph, records)
    return metrics(dataset.task, dataset.classes, int8_scores(graph, dataset, records, outputs), y)

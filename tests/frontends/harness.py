"""Compare an imported float graph with onnxruntime (and PyTorch) on seeded random inputs. The IR is NHWC, so
4-D inputs and outputs are transposed here, in the harness only."""

from __future__ import annotations

import io
import warnings

import numpy as np

from mcuforge.ir import Graph
from mcuforge.runtime.reference import run_reference

RTOL = 1e-5
ATOL = 1e-6


def to_nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


def to_nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def run_graph_nchw(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run the graph on ONNX-layout inputs, giving ONNX-layout outputs."""
    return [to_nchw(y) for y in run_reference(graph, [to_nhwc(x) for x in inputs])]


def run_onnxruntime(model_bytes: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feeds)


def assert_close(ours: list[np.ndarray], theirs: list[np.ndarray], what: str) -> None:
    assert len(ours) == len(theirs), what
    for k, (a, b) in enumerate(zip(ours, theirs)):
        b = np.asarray(b, dtype=np.float32)
        assert a.shape == b.shape, f"{what} output {k}: shape {a.shape} vs {b.shape}"
        scale = max(float(np.abs(b).max()), 1.0)
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * scale, err_msg=f"{what} output {k}")


def export_onnx(module, example_inputs: tuple) -> bytes:
    """The ONNX bytes from_torch imports (same exporter and settings)."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example_inputs, buffer, dynamo=False)
    return buffer.getvalue()


def check_against_onnxruntime(graph: Graph, model_bytes: bytes, shapes, seeds=(0, 1, 2)) -> None:
    for seed in seeds:
        rng = np.random.default_rng(seed)
        inputs = [rng.standard_normal(s).astype(np.float32) * 2 for s in shapes]
        assert_close(run_graph_nchw(graph, inputs), run_onnxruntime(model_bytes, inputs), f"seed {seed} vs onnxruntime")

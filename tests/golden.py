"""Golden comparison: our reference interpreter against LiteRT and TFLite Micro on seeded random inputs.

Integer outputs must be identical: to TFLite Micro under "double" rounding and to LiteRT's reference
kernels under "single" rounding (each oracle's own requantization convention, see quant/fixed_point.py).
Float outputs must agree within 1e-5 relative."""

from __future__ import annotations

import numpy as np

from mcuforge.frontends.tflite_export import export_tflite
from mcuforge.frontends.tflite_import import parse_tflite
from mcuforge.ir import Graph
from mcuforge.ir.validate import validate_graph
from mcuforge.passes import simplify
from mcuforge.runtime.reference import run_reference
from tests.oracles import TFLM, LiteRT, random_inputs

N_INPUTS = 50


def assert_outputs_match(ours: list[np.ndarray], theirs: list[np.ndarray], what: str) -> None:
    assert len(ours) == len(theirs), f"{what}: {len(ours)} outputs vs {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what} output {i}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        if a.dtype == np.float32:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"{what} output {i}")
        else:
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, (f"{what} output {i}: {diff.size}/{a.size} values differ, first at flat index "
                                    f"{diff[0]}: ours {a.reshape(-1)[diff[0]]} vs {b.reshape(-1)[diff[0]]}")


def check_model_golden(model: bytes, n: int = N_INPUTS, seed: int = 0, oracles=("tflm", "litert"),
                       input_fn=None) -> Graph:
    """Import `model`, run `n` seeded random inputs through our interpreter and each oracle."""
    graph = simplify(parse_tflite(model, "<golden>"))
    validate_graph(graph)
    tflm = TFLM(model, num_outputs=len(graph.outputs)) if "tflm" in oracles else None
    litert = LiteRT(model) if "litert" in oracles else None
    rng = np.random.default_rng(seed)
    for k in range(n):
        inputs = input_fn(graph, rng) if input_fn else random_inputs(graph, rng)
        if tflm is not None:
            assert_outputs_match(run_reference(graph, inputs, rounding="double"), tflm(inputs), f"TFLM, input {k}")
        if litert is not None:
            assert_outputs_match(run_reference(graph, inputs, rounding="single"), litert(inputs), f"LiteRT, input {k}")
    return graph


def check_graph_golden(graph: Graph, **kwargs) -> Graph:
    """Export a graph built in a test to .tflite, then compare as check_model_golden."""
    validate_graph(graph)
    return check_model_golden(export_tflite(graph), **kwargs)

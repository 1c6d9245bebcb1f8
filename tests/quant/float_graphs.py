"""Small float32 graphs for the post-training quantization tests, and helpers to compare a quantized graph
with its float original."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder

F32 = "float32"


def _weights(b: GraphBuilder, name: str, shape, gain: float = 1.0, out_axis: int = 0) -> str:
    """He-initialized float weights (fan-in: all but the output-channel axis)."""
    fan_in = int(np.prod(shape)) // shape[out_axis]
    return b.const(name, b.rng.standard_normal(shape) * gain * np.sqrt(2.0 / fan_in), F32)


def _bias(b: GraphBuilder, name: str, n: int) -> str:
    return b.const(name, b.rng.standard_normal(n) * 0.1, F32)


def _head(b: GraphBuilder, x: str, classes: int = 10) -> str:
    """Flatten, dense, softmax."""
    flat = b.op("RESHAPE", [x, b.const("flat_shape", np.array([1, -1]), "int32")], "flat", out_dtype=F32)
    depth = b.graph.tensors[flat].shape[1]
    logits = b.op("FULLY_CONNECTED", [flat, _weights(b, "fc_w", (classes, depth), 2.0), _bias(b, "fc_b", classes)],
                  "logits", out_dtype=F32)
    return b.op("SOFTMAX", [logits], "probs", out_dtype=F32)


def conv_stack(seed: int = 0) -> Graph:
    """CONV_2D + RELU, DEPTHWISE_CONV_2D + RELU6, MAX_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX."""
    b = GraphBuilder(seed=seed, name="conv_stack")
    x = b.input("x", (1, 10, 10, 3), dtype=F32)
    c1 = b.op("CONV_2D", [x, _weights(b, "conv_w", (8, 3, 3, 3)), _bias(b, "conv_b", 8)], "conv", out_dtype=F32,
              stride_h=1, stride_w=1, fused_activation_function="RELU")
    d1 = b.op("DEPTHWISE_CONV_2D", [c1, _weights(b, "dw_w", (1, 3, 3, 8), out_axis=3), _bias(b, "dw_b", 8)], "dw",
              out_dtype=F32, fused_activation_function="RELU6")
    pool = b.op("MAX_POOL_2D", [d1], "pool", out_dtype=F32, filter_height=2, filter_width=2, stride_h=2,
                stride_w=2, padding="VALID")
    return b.build(_head(b, pool))


def residual(seed: int = 1) -> Graph:
    """Two convs with a skip connection: ADD(+RELU) of the first conv's output and the second's."""
    b = GraphBuilder(seed=seed, name="residual")
    x = b.input("x", (1, 8, 8, 4), dtype=F32)
    c1 = b.op("CONV_2D", [x, _weights(b, "c1_w", (8, 3, 3, 4)), _bias(b, "c1_b", 8)], "c1", out_dtype=F32,
              fused_activation_function="RELU")
    c2 = b.op("CONV_2D", [c1, _weights(b, "c2_w", (8, 3, 3, 8)), _bias(b, "c2_b", 8)], "c2", out_dtype=F32)
    add = b.op("ADD", [c1, c2], "add", out_dtype=F32, fused_activation_function="RELU")
    pool = b.op("AVERAGE_POOL_2D", [add], "pool", out_dtype=F32, filter_height=4, filter_width=4, stride_h=4,
                stride_w=4, padding="VALID")
    return b.build(_head(b, pool))


def concat(seed: int = 2) -> Graph:
    """Two conv branches of very different ranges joined by CONCATENATION (which needs one quantization)."""
    b = GraphBuilder(seed=seed, name="concat")
    x = b.input("x", (1, 8, 8, 3), dtype=F32)
    small = b.op("CONV_2D", [x, _weights(b, "a_w", (4, 1, 1, 3), 0.5), _bias(b, "a_b", 4)], "small", out_dtype=F32)
    large = b.op("CONV_2D", [x, _weights(b, "b_w", (6, 3, 3, 3), 3.0), _bias(b, "b_b", 6)], "large", out_dtype=F32,
                 fused_activation_function="RELU")
    joined = b.op("CONCATENATION", [small, large], "joined", out_dtype=F32, axis=3)
    pool = b.op("AVERAGE_POOL_2D", [joined], "pool", out_dtype=F32, filter_height=2, filter_width=2, stride_h=2,
                stride_w=2, padding="VALID")
    return b.build(_head(b, pool))


def gates(seed: int = 3) -> Graph:
    """LOGISTIC and TANH outputs (fixed, different int8 grids) concatenated, then a dense layer."""
    b = GraphBuilder(seed=seed, name="gates")
    x = b.input("x", (1, 16), dtype=F32)
    s = b.op("LOGISTIC", [b.op("FULLY_CONNECTED", [x, _weights(b, "s_w", (8, 16)), ""], "s_in", out_dtype=F32)],
             "sigmoid", out_dtype=F32)
    t = b.op("TANH", [b.op("FULLY_CONNECTED", [x, _weights(b, "t_w", (8, 16)), ""], "t_in", out_dtype=F32)],
             "tanh", out_dtype=F32)
    joined = b.op("CONCATENATION", [s, t], "joined", out_dtype=F32, axis=1)
    y = b.op("FULLY_CONNECTED", [joined, _weights(b, "y_w", (4, 16)), _bias(b, "y_b", 4)], "y", out_dtype=F32)
    return b.build(y)


def gated_concat(seed: int = 5) -> Graph:
    """A LOGISTIC output (fixed grid [0, 1)) concatenated with a wide-range dense output."""
    b = GraphBuilder(seed=seed, name="gated_concat")
    x = b.input("x", (1, 16), dtype=F32)
    s = b.op("LOGISTIC", [b.op("FULLY_CONNECTED", [x, _weights(b, "s_w", (8, 16)), ""], "s_in", out_dtype=F32)],
             "sigmoid", out_dtype=F32)
    wide = b.op("FULLY_CONNECTED", [x, _weights(b, "w_w", (8, 16), 4.0), ""], "wide", out_dtype=F32)
    joined = b.op("CONCATENATION", [s, wide], "joined", out_dtype=F32, axis=1)
    y = b.op("FULLY_CONNECTED", [joined, _weights(b, "y_w", (4, 16), 2.0), _bias(b, "y_b", 4)], "y", out_dtype=F32)
    return b.build(y)


def dense(seed: int = 4, depth: int = 37, hidden: int = 19, units: int = 5, batch: int = 2) -> Graph:
    """Two FULLY_CONNECTED layers (odd sizes: int4 rows start mid-byte)."""
    b = GraphBuilder(seed=seed, name="dense")
    x = b.input("x", (batch, depth), dtype=F32)
    h = b.op("FULLY_CONNECTED", [x, _weights(b, "h_w", (hidden, depth)), _bias(b, "h_b", hidden)], "h",
             out_dtype=F32, fused_activation_function="RELU")
    y = b.op("FULLY_CONNECTED", [h, _weights(b, "y_w", (units, hidden)), _bias(b, "y_b", units)], "y",
             out_dtype=F32)
    return b.build(y)


def inputs_like(graph: Graph, n: int, seed: int, offset: float = 0.0) -> np.ndarray:
    """n standard-normal inputs (plus `offset`) for a single-input graph, stacked [n, *input shape]."""
    shape = graph.tensors[graph.inputs[0]].shape
    return (np.random.default_rng(seed).standard_normal((n, *shape)) + offset).astype(np.float32)


def run_dequantized(q: Graph, x: np.ndarray) -> np.ndarray:
    """The int8 graph `q` on a float input: quantized with the graph input's parameters, the first output
    dequantized."""
    qin, qout = q.tensors[q.inputs[0]].quant, q.tensors[q.outputs[0]].quant
    xq = np.clip(np.round(x / qin.scalar_scale) + qin.scalar_zero_point, -128, 127).astype(np.int8)
    y = run_reference(q, [xq])[0].astype(np.float64)
    return (y - qout.scalar_zero_point) * qout.scalar_scale


def output_pairs(g: Graph, q: Graph, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float outputs, dequantized int8 outputs) over a stack of inputs."""
    return (np.stack([run_reference(g, [x])[0] for x in xs]), np.stack([run_dequantized(q, x) for x in xs]))


def argmax_agreement(g: Graph, q: Graph, xs: np.ndarray) -> float:
    """Fraction of inputs whose float and int8 outputs pick the same class (last axis)."""
    f, d = output_pairs(g, q, xs)
    return float(np.mean(f.reshape(len(xs), -1).argmax(axis=1) == d.reshape(len(xs), -1).argmax(axis=1)))

"""Fuse a RELU, RELU6 or RELU_N1_TO_1 into the op before it (TFLite's fused_activation_function).

The producer must be an op whose kernels clamp their output (convolutions, dense, element-wise ADD/SUB/MUL,
pooling), have no fused activation yet, and feed only the activation. float32 graphs always qualify; an int8
pair only when the activation's input and output share one quantization, where the producer's clamp to the
activation range in the output's integers gives the very same values (so TFLite models stay bit-exact)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op

PRODUCERS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D",
             "MAX_POOL_2D")
ACTIVATIONS = ("RELU", "RELU6", "RELU_N1_TO_1")


def fuse_activation(graph: Graph) -> Graph:
    g = graph.copy()
    while (match := _next_match(g)) is not None:
        producer, activation = match
        g.ops[producer].attrs["fused_activation_function"] = g.ops[activation].type
        g.ops[producer].outputs[0] = g.ops[activation].outputs[0]
        del g.ops[activation]
    return g


def _same_quantization(g: Graph, a: str, b: str) -> bool:
    qa, qb = g.tensors[a].quant, g.tensors[b].quant
    if qa is None or qb is None or qa.per_channel or qb.per_channel:
        return False
    return np.float32(qa.scalar_scale) == np.float32(qb.scalar_scale) and qa.scalar_zero_point == qb.scalar_zero_point


def _fusable(g: Graph, producer: Op, activation: Op) -> bool:
    if producer.type not in PRODUCERS or producer.attrs.get("fused_activation_function", "NONE") != "NONE":
        return False
    t, out = activation.inputs[0], activation.outputs[0]
    if g.tensors[t].dtype != g.tensors[out].dtype:
        return False
    return g.tensors[t].dtype == "float32" or _same_quantization(g, t, out)


def _next_match(g: Graph):
    """(producer index, activation index) of the first fusable pair, or None."""
    producers, consumers = g.producers(), g.consumers()
    for i, op in enumerate(g.ops):
        if op.type not in ACTIVATIONS:
            continue
        t = op.inputs[0]
        if t in producers and t not in g.outputs and consumers.get(t) == [i] and _fusable(g, g.ops[producers[t]], op):
            return producers[t], i
    return None

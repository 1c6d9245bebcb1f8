"""Bring a float graph into the form post-training quantization works on: every weight in float32 and owned
by one layer, no quantization ops, no unused tensors."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Tensor
from mcuforge.passes.remove_unused import remove_unused_tensors

# Layers with constant weights, and the weights' output-channel axis (OHWI filters, 1HWO depthwise filters,
# [units, depth] dense weights): the per-channel quantization axis of TFLite's int8 kernels.
WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}


def weighted_layers(graph: Graph) -> list[int]:
    """Indices of the ops with constant weights and float32 input."""
    return [i for i, op in enumerate(graph.ops) if op.type in WEIGHT_AXIS and len(op.inputs) > 1
            and graph.tensors[op.inputs[1]].is_constant and graph.tensors[op.inputs[0]].dtype == "float32"]


def bias_name(op) -> str:
    return op.inputs[2] if len(op.inputs) > 2 else ""


def dequantize_constant(t: Tensor) -> np.ndarray:
    """The float32 values of a quantized constant (per tensor or per channel)."""
    q = t.quant
    scale, zero_point = q.scale.astype(np.float64), q.zero_point.astype(np.float64)
    if q.per_channel:
        shape = [1] * len(t.shape)
        shape[q.axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    else:
        scale, zero_point = scale[0], zero_point[0]
    return ((t.data.astype(np.float64) - zero_point) * scale).astype(np.float32)


def _to_float(t: Tensor, values: np.ndarray) -> None:
    t.dtype, t.quant, t.data = "float32", None, np.asarray(values, np.float32).reshape(t.shape)


def float_graph(graph: Graph) -> Graph:
    """A copy of `graph` ready for quantization: DEQUANTIZE ops of constants folded (float16/int8-stored
    weights), "hybrid" int8 weights of float layers (TFLite dynamic-range models) turned back to float32, and
    each layer's weights and bias owned by that layer alone (their quantization depends on the layer's input).
    Raises UnsupportedOpError for a graph that already computes in int8."""
    g = graph.copy()
    kept = []
    for i, op in enumerate(g.ops):
        source = g.tensors[op.inputs[0]] if op.inputs and op.inputs[0] else None
        if op.type == "DEQUANTIZE" and source is not None and source.is_constant:
            _to_float(g.tensors[op.outputs[0]], dequantize_constant(source))
            continue
        if op.type in ("QUANTIZE", "DEQUANTIZE"):
            raise UnsupportedOpError(f"{g.where()}: {op.label(i)}: the graph is already quantized; post-training "
                                     "quantization takes a float32 graph")
        kept.append(op)
    g.ops = kept
    for i in weighted_layers(g):
        w = g.tensors[g.ops[i].inputs[1]]
        if w.dtype != "float32" and w.quant is not None:
            _to_float(w, dequantize_constant(w))
    for name, t in g.tensors.items():
        if not t.is_constant and t.dtype == "int8":
            raise UnsupportedOpError(f"{g.where()}: tensor {name!r} is already int8; post-training quantization "
                                     "takes a float32 graph")
    _unshare_layer_constants(g)
    return remove_unused_tensors(g)


def _unshare_layer_constants(g: Graph) -> None:
    """Give each layer its own copy of weights or bias that another op or a graph output also uses."""
    users = g.consumers()
    for i in weighted_layers(g):
        op = g.ops[i]
        for k in (1, 2):
            name = op.inputs[k] if k < len(op.inputs) else ""
            if name and (len(users.get(name, [])) > 1 or name in g.outputs):
                copy = unique_name(g, f"{name}_{op.outputs[0]}")
                t = g.tensors[name]
                g.add_tensor(Tensor(copy, t.shape, t.dtype, data=t.data.copy(), quant=t.quant, meta=dict(t.meta)))
                op.inputs[k] = copy


def unique_name(g: Graph, base: str) -> str:
    name, k = base, 1
    while name in g.tensors:
        k += 1
        name = f"{base}_{k}"
    return name

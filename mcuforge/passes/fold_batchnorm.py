"""Fold batch normalization into the convolution or dense layer before it.

TFLite has no batch norm op, so the front ends emit an inference-mode BatchNormalization as its per-channel
affine map, MUL by scale then ADD of shift (a standalone batch norm stays that pair). Here every float32
MUL, ADD or SUB by a constant that is per output channel (one value, or one per channel on the last axis) and
follows a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED read by nothing else is folded into that layer:
    MUL s: filter[o] *= s[o], bias[o] *= s[o];   ADD t: bias[o] += t[o];   SUB t: bias[o] -= t[o].
int8 graphs are left alone: their layers' integer arithmetic cannot absorb a float factor."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op, Tensor

# The axis of each layer's filter that indexes output channels.
CHANNEL_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
AFFINE_OPS = ("MUL", "ADD", "SUB")


def fold_batchnorm(graph: Graph) -> Graph:
    g = graph.copy()
    while (match := _next_match(g)) is not None:
        _fold(g, *match)
    return g


def _per_channel(g: Graph, name: str, channels: int) -> np.ndarray | None:
    """The constant `name` as one float32 value per channel, if it is float32 and per output channel."""
    t = g.tensors[name]
    if not t.is_constant or t.dtype != "float32":
        return None
    shape = list(t.shape)
    while shape and shape[0] == 1:
        shape.pop(0)
    if shape not in ([], [channels]):
        return None
    return np.broadcast_to(t.data.reshape(-1), (channels,)).astype(np.float32)


def _is_foldable_layer(g: Graph, op: Op) -> bool:
    if op.type not in CHANNEL_AXIS or op.attrs.get("fused_activation_function", "NONE") != "NONE":
        return False
    x, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
    bias = op.inputs[2] if len(op.inputs) > 2 else ""
    return (x.dtype == w.dtype == "float32" and w.is_constant
            and (not bias or (g.tensors[bias].is_constant and g.tensors[bias].dtype == "float32")))


def _next_match(g: Graph):
    """(layer index, affine op index, per-channel constant) of the first foldable pair, or None."""
    producers, consumers = g.producers(), g.consumers()
    for i, op in enumerate(g.ops):
        if op.type not in AFFINE_OPS:
            continue
        for pos in (0, 1):
            if op.type == "SUB" and pos == 1:
                break  # t - y is not a bias on y
            t, other = op.inputs[pos], op.inputs[1 - pos]
            if t not in producers or t in g.outputs or consumers.get(t) != [i]:
                continue
            layer = producers[t]
            if not _is_foldable_layer(g, g.ops[layer]):
                continue
            channels = g.tensors[t].shape[-1]
            values = _per_channel(g, other, channels)
            if values is not None and g.tensors[op.outputs[0]].shape == g.tensors[t].shape:
                return layer, i, values
    return None


def _set_constant(g: Graph, op: Op, index: int, data: np.ndarray, hint: str) -> None:
    """Give `op` input `index` the constant `data`: a new tensor, since the old one may be shared."""
    name, i = f"{op.outputs[0]}/{hint}", 1
    while name in g.tensors:
        name, i = f"{op.outputs[0]}/{hint}:{i}", i + 1
    g.add_tensor(Tensor(name, data.shape, "float32", data=data))
    while len(op.inputs) <= index:
        op.inputs.append("")
    op.inputs[index] = name


def _fold(g: Graph, layer_index: int, affine_index: int, values: np.ndarray) -> None:
    layer, affine = g.ops[layer_index], g.ops[affine_index]
    channels = values.size
    bias_name = layer.inputs[2] if len(layer.inputs) > 2 else ""
    bias = g.tensors[bias_name].data.reshape(-1) if bias_name else np.zeros(channels, np.float32)
    if affine.type == "MUL":
        w = g.tensors[layer.inputs[1]].data
        shape = [1] * w.ndim
        shape[CHANNEL_AXIS[layer.type]] = channels
        _set_constant(g, layer, 1, (w * values.reshape(shape)).astype(np.float32), "folded_filter")
        new_bias = bias * values if bias_name else None
    else:
        new_bias = bias + values if affine.type == "ADD" else bias - values
    if new_bias is not None:
        _set_constant(g, layer, 2, new_bias.astype(np.float32), "folded_bias")
    layer.attrs["fused_activation_function"] = affine.attrs.get("fused_activation_function", "NONE")
    layer.outputs[0] = affine.outputs[0]
    del g.ops[affine_index]

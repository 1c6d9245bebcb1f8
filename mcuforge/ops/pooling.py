"""AVERAGE_POOL_2D and MAX_POOL_2D over NHWC tensors; int8 keeps the input's quantization.

Both follow TFLite's reference pooling kernels (reference_integer_ops::AveragePool / MaxPool): a window is
clamped to the input, so padding never enters a max nor the count of an average."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import (
    activation_range_float, apply_float_activation, conv_output_size, conv_padding, output_activation_range,
    require, require_quantized, saturate,
)
from mcuforge.ops.registry import OpDef, register

POOL_ATTRS = {"padding": "SAME", "stride_w": 1, "stride_h": 1, "filter_width": 1, "filter_height": 1,
              "fused_activation_function": "NONE"}


def _geometry(op: Op, graph: Graph):
    """((out_h, out_w), (pad_top, pad_left)) as pooling.cc's ComputePaddingHeightWidth (dilation 1)."""
    _, in_h, in_w, _ = graph.tensors[op.inputs[0]].shape
    a = op.attrs
    out_h = conv_output_size(a["padding"], in_h, a["filter_height"], a["stride_h"])
    out_w = conv_output_size(a["padding"], in_w, a["filter_width"], a["stride_w"])
    pad_top = conv_padding(a["padding"], in_h, a["filter_height"], a["stride_h"])[0]
    pad_left = conv_padding(a["padding"], in_w, a["filter_width"], a["stride_w"])[0]
    return (out_h, out_w), (pad_top, pad_left)


def infer_shapes(op: Op, graph: Graph):
    x = graph.tensors[op.inputs[0]]
    require(len(x.shape) == 4, op, graph, f"input must be 4-D NHWC, got shape {list(x.shape)}")
    a = op.attrs
    for key in ("stride_h", "stride_w", "filter_height", "filter_width"):
        require(a[key] > 0, op, graph, f"{key} must be positive, got {a[key]}")
    require(a["padding"] in ("SAME", "VALID"), op, graph, f"unknown padding {a['padding']!r}")
    (out_h, out_w), _ = _geometry(op, graph)
    require(out_h > 0 and out_w > 0, op, graph,
            f"{a['filter_height']}x{a['filter_width']} VALID window does not fit input {list(x.shape)}")
    return [(x.shape[0], out_h, out_w, x.shape[3])]


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        # pooling.cc GenericPrepare: the int8 kernels never rescale, so in and out must share quantization.
        same = (abs(x.quant.scalar_scale - y.quant.scalar_scale) <= 1e-6
                and x.quant.scalar_zero_point == y.quant.scalar_zero_point)
        require(same, op, graph, "int8 pooling needs the same scale and zero point on input and output")


def _pool_windows(op: Op, graph: Graph, plane: np.ndarray, fill) -> np.ndarray:
    """Every pooling window over H, W (axes 1, 2) of `plane`, padded with `fill`: shape
    plane.shape[:1] + (out_h, out_w) + plane.shape[3:] + (filter_h, filter_w)."""
    a = op.attrs
    fh, fw, sh, sw = a["filter_height"], a["filter_width"], a["stride_h"], a["stride_w"]
    (out_h, out_w), (pad_top, pad_left) = _geometry(op, graph)
    _, in_h, in_w = plane.shape[:3]
    # Pad enough after the input that the last window is a plain slice (the kernel clamps it instead).
    bottom = max((out_h - 1) * sh + fh - pad_top - in_h, 0)
    right = max((out_w - 1) * sw + fw - pad_left - in_w, 0)
    pad = [(0, 0), (pad_top, bottom), (pad_left, right)] + [(0, 0)] * (plane.ndim - 3)
    padded = np.pad(plane, pad, constant_values=fill)
    windows = sliding_window_view(padded, (fh, fw), axis=(1, 2))
    return windows[:, : (out_h - 1) * sh + 1 : sh, : (out_w - 1) * sw + 1 : sw]


def _in_bounds_counts(op: Op, graph: Graph) -> np.ndarray:
    """(out_h, out_w): how many taps of each window fall inside the input (the average's divisor)."""
    _, in_h, in_w, _ = graph.tensors[op.inputs[0]].shape
    inside = np.ones((1, in_h, in_w), np.int64)
    return _pool_windows(op, graph, inside, 0).sum(axis=(-2, -1))[0]


def _average_reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    out_t = graph.tensors[op.outputs[0]]
    count = _in_bounds_counts(op, graph)[None, :, :, None]
    if x.dtype == np.float32:
        # reference_ops::AveragePool: taps summed in float32 row by row (a padded tap adds 0, which changes no
        # sum), then divided by the in-bounds count.
        windows = _pool_windows(op, graph, x.astype(np.float32), np.float32(0))
        total = np.zeros(windows.shape[:-2], np.float32)
        for ky in range(windows.shape[-2]):
            for kx in range(windows.shape[-1]):
                total += windows[..., ky, kx]
        y = total / count.astype(np.float32)
        return [apply_float_activation(y, op.attrs["fused_activation_function"])]
    acc = _pool_windows(op, graph, x.astype(np.int64), 0).sum(axis=(-2, -1))
    # reference_integer_ops::AveragePool: add/subtract half the count, then C division (toward zero).
    half = count // 2
    numerator = np.where(acc > 0, acc + half, acc - half)
    quotient = np.abs(numerator) // count
    avg = np.where(numerator < 0, -quotient, quotient)
    lo, hi = output_activation_range(op, graph)
    return [saturate(avg, lo, hi, out_t.dtype)]


def _max_reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    out_t = graph.tensors[op.outputs[0]]
    if x.dtype == np.float32:
        y = _pool_windows(op, graph, x, np.float32(-np.inf)).max(axis=(-2, -1))
        return [apply_float_activation(y, op.attrs["fused_activation_function"])]
    # The int8 kernel starts from numeric_limits<int8_t>::lowest(), so padding with it changes nothing.
    windows = _pool_windows(op, graph, x, np.iinfo(x.dtype).min)
    lo, hi = output_activation_range(op, graph)
    return [saturate(windows.max(axis=(-2, -1)), lo, hi, out_t.dtype)]


def is_global_pool(op: Op, graph: Graph) -> bool:
    """Whether the one output pixel's window is the whole input: no padding and a filter at least the input's
    size (kernels/pooling_s8.h's mcuforge_global_avg_pool_s8)."""
    _, in_h, in_w, _ = graph.tensors[op.inputs[0]].shape
    a = op.attrs
    (out_h, out_w), (pad_top, pad_left) = _geometry(op, graph)
    return ((out_h, out_w, pad_top, pad_left) == (1, 1, 0, 0) and a["filter_height"] >= in_h
            and a["filter_width"] >= in_w)


# Up to this many input values in each of a graph's int8 global average pools, all of them run the one-tap loop
# (mcuforge_global_avg_pool_s8_small): ~250 B less flash than the DSP variant on an Armv7E-M core (166 B against
# 416 on the M4) for ~6-7 cycles a value more (~29 k cycles at the limit). A graph-wide choice, so no build links
# both.
SMALL_GLOBAL_POOL_VALUES = 4096


def small_global_pools(graph: Graph) -> bool:
    """Whether every int8 global average pool of the graph is small enough for the one-tap loop."""
    pools = [op for op in graph.ops if op.type == "AVERAGE_POOL_2D" and graph.tensors[op.inputs[0]].dtype == "int8"
             and is_global_pool(op, graph)]
    return all(graph.tensors[op.inputs[0]].size <= SMALL_GLOBAL_POOL_VALUES for op in pools)


def _emit_c(kind: str):
    """The emitter of one pool kind ("avg" or "max"): kernels/pooling_{s8,f32}.c, geometry precomputed here."""

    def emit_c(op: Op, graph: Graph, ctx) -> str:
        name = kind
        x = graph.tensors[op.inputs[0]]
        batches, in_h, in_w, channels = x.shape
        (out_h, out_w), (pad_top, pad_left) = _geometry(op, graph)
        a = op.attrs
        fields = {"batches": batches, "in_h": in_h, "in_w": in_w, "channels": channels, "out_h": out_h,
                  "out_w": out_w, "filter_h": a["filter_height"], "filter_w": a["filter_width"],
                  "stride_h": a["stride_h"], "stride_w": a["stride_w"], "pad_top": pad_top, "pad_left": pad_left}
        if x.dtype == "float32":
            ctx.use_kernel("pooling_f32")
            lo, hi = activation_range_float(a["fused_activation_function"])
            params = ctx.params("mcuforge_pool_f32_params", {**fields, "act_min": lo, "act_max": hi})
            suffix = "f32"
        else:
            ctx.use_kernel("dsp_s8", rounding_neutral=True)  # pooling_s8.c includes it: the DSP variant
            ctx.use_kernel("pooling_s8")
            lo, hi = output_activation_range(op, graph)
            params = ctx.params("mcuforge_pool_params", {**fields, "act_min": lo, "act_max": hi})
            suffix = "s8"
            if kind == "avg" and is_global_pool(op, graph):
                name = "global_avg"
                suffix = "s8_small" if small_global_pools(graph) else "s8"
        return f"mcuforge_{name}_pool_{suffix}({params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])});"

    return emit_c


def row_window(op: Op, graph: Graph) -> tuple[int, int]:
    """Both C kernels walk output rows in order; output row r reads input rows from r * stride_h - pad_top on."""
    return op.attrs["stride_h"], _geometry(op, graph)[1][0]


def macs(op: Op, graph: Graph) -> int:
    """One accumulate (or compare) per window tap."""
    return graph.tensors[op.outputs[0]].size * op.attrs["filter_height"] * op.attrs["filter_width"]


for _name, _reference, _kind, _doc in (
    ("AVERAGE_POOL_2D", _average_reference, "avg", "Windowed mean over H and W; padding is left out of the count."),
    ("MAX_POOL_2D", _max_reference, "max", "Windowed maximum over H and W."),
):
    register(OpDef(name=_name, infer_shapes=infer_shapes, reference=_reference, attrs=dict(POOL_ATTRS),
                   tflite_options="Pool2DOptions", check=check, macs=macs, c_kernel="pooling",
                   emit_c=_emit_c(_kind), row_window=row_window, doc=_doc))

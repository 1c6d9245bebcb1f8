"""ONNX layers with weights or windows -> IR: Conv, Gemm, MatMul, BatchNormalization, the pools.

Convolutions and pools take and give NHWC tensors. ONNX's explicit pads become TFLite's SAME when they pad
exactly as SAME does (the odd pixel after), VALID when nothing is read outside the input, and otherwise
VALID after a PAD (a PADV2 with the lowest float before a max pool; an average pool is then rescaled by a
constant map so it divides by the count ONNX divides by)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.frontends.onnx_values import NCHW_TO_NHWC, ImportContext, Value
from mcuforge.ops.common import conv_output_size, conv_padding


@dataclass(frozen=True)
class AxisWindow:
    """One spatial axis of a window op: ONNX's output size and padding, and the padding after the input
    that the windows actually reach (`needed_end`: ONNX may pad rows no window reads, or, with ceil_mode,
    read past its own padding)."""

    size: int
    kernel: int
    stride: int
    dilation: int
    out: int
    begin: int
    end: int
    needed_end: int

    @property
    def effective(self) -> int:
        return (self.kernel - 1) * self.dilation + 1

    def matches_same(self) -> bool:
        pads = conv_padding("SAME", self.size, self.kernel, self.stride, self.dilation)
        out = conv_output_size("SAME", self.size, self.kernel, self.stride, self.dilation)
        return pads == (self.begin, self.needed_end) and out == self.out

    @property
    def unpadded(self) -> bool:
        return self.begin == 0 and self.needed_end == 0


def axis_windows(ctx: ImportContext, attrs: dict, size_hw, kernel_hw, ceil_mode: bool = False) -> list[AxisWindow]:
    strides = attrs.get("strides", [1, 1])
    dilations = attrs.get("dilations", [1, 1])
    pads = attrs.get("pads", [0, 0, 0, 0])
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if len(kernel_hw) != 2 or len(strides) != 2 or len(pads) != 4:
        raise ctx.error("only 2-D windows are supported")
    axes = []
    for i, (size, k) in enumerate(zip(size_hw, kernel_hw)):
        s, d = int(strides[i]), int(dilations[i])
        eff = (k - 1) * d + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = -(-size // s)
            total = max((out - 1) * s + eff - size, 0)
            begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            end = total - begin
        elif auto_pad == "VALID":
            begin = end = 0
            out = (size - eff) // s + 1
        elif auto_pad == "NOTSET":
            begin, end = int(pads[i]), int(pads[i + 2])
            span = size + begin + end - eff
            out = (-(-span // s) if ceil_mode else span // s) + 1
            if ceil_mode and (out - 1) * s >= size + begin:
                out -= 1  # the last window must start inside the input or its leading padding
        else:
            raise ctx.error(f"unknown auto_pad {auto_pad!r}")
        if out < 1:
            raise ctx.error(f"a window of {k} does not fit an input of {size}")
        needed_end = max(0, (out - 1) * s + eff - size - begin)
        axes.append(AxisWindow(size, k, s, d, out, begin, end, needed_end))
    return axes


def _padding_attrs(axes: list[AxisWindow]) -> dict:
    h, w = axes
    return {"stride_h": h.stride, "stride_w": w.stride}


def _pad_explicitly(ctx: ImportContext, x: str, axes: list[AxisWindow], fill: float | None = None) -> str:
    h, w = axes
    pads = ctx.const(np.array([[0, 0], [h.begin, h.needed_end], [w.begin, w.needed_end], [0, 0]]), "pads", "int32")
    if fill is None:
        return ctx.emit("PAD", [x, pads])
    return ctx.emit("PADV2", [x, pads, ctx.const(np.array([fill]), "fill")])


def convert_conv(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    weights = ctx.const_input(1, "the filter").astype(np.float32)
    bias = ctx.const_input(2, "the bias")
    shape = ctx.shape(x)
    if len(shape) != 4 or weights.ndim != 4:
        raise ctx.error(f"only 2-D convolutions are supported (input shape {list(shape)})")
    out_channels, group_depth, kh, kw = weights.shape
    group = int(attrs.get("group", 1))
    axes = axis_windows(ctx, attrs, shape[2:], (kh, kw))
    if group_depth * group != shape[1]:
        raise ctx.error(f"filter depth {group_depth} x {group} groups does not match {shape[1]} input channels")
    conv_attrs = {**_padding_attrs(axes), "dilation_h_factor": axes[0].dilation, "dilation_w_factor": axes[1].dilation}
    data = ctx.nhwc(x)
    if all(a.unpadded for a in axes):
        conv_attrs["padding"] = "VALID"
    elif all(a.matches_same() for a in axes):
        conv_attrs["padding"] = "SAME"
    else:
        data = _pad_explicitly(ctx, data, axes)
        conv_attrs["padding"] = "VALID"
    bias_name = ctx.const(bias.reshape(-1), "bias") if bias is not None else ""
    if group > 1 and group_depth == 1:
        # Depthwise: output channel c * M + m filters input channel c, as DEPTHWISE_CONV_2D's [1, KH, KW, C * M].
        filt = ctx.const(weights.transpose(1, 2, 3, 0), "filter")
        out = ctx.emit("DEPTHWISE_CONV_2D", [data, filt, bias_name],
                       {**conv_attrs, "depth_multiplier": out_channels // group}, out=ctx.out_name())
    else:
        filt = ctx.const(weights.transpose(NCHW_TO_NHWC), "filter")  # OIHW -> OHWI
        out = ctx.emit("CONV_2D", [data, filt, bias_name], conv_attrs, out=ctx.out_name())
    ctx.set_output(Value(out, "nhwc"))


def _window_counts(axis: AxisWindow, include_pad: bool) -> np.ndarray:
    """How many taps of each window along one axis ONNX's average divides by."""
    lo, hi = (-axis.begin, axis.size + axis.end) if include_pad else (0, axis.size)
    starts = np.arange(axis.out) * axis.stride - axis.begin
    return np.minimum(starts + axis.kernel, hi) - np.maximum(starts, lo)


def _convert_pool(ctx: ImportContext, attrs: dict, op_type: str) -> None:
    x = ctx.input(0)
    shape = ctx.shape(x)
    kernel = [int(k) for k in attrs["kernel_shape"]]
    if len(shape) != 4:
        raise ctx.error(f"only 2-D pooling is supported (input shape {list(shape)})")
    if any(int(d) != 1 for d in attrs.get("dilations", [1, 1])):
        raise ctx.error("dilated pooling is not supported")
    if len(ctx.node.output) > 1 and ctx.node.output[1]:
        raise ctx.error("the Indices output is not supported")
    axes = axis_windows(ctx, attrs, shape[2:], kernel, bool(attrs.get("ceil_mode", 0)))
    pool_attrs = {**_padding_attrs(axes), "filter_height": kernel[0], "filter_width": kernel[1]}
    data = ctx.nhwc(x)
    include_pad = bool(attrs.get("count_include_pad", 0)) and op_type == "AVERAGE_POOL_2D"
    if all(a.unpadded for a in axes):
        pool_attrs["padding"] = "VALID"
    elif all(a.matches_same() for a in axes) and not include_pad:
        pool_attrs["padding"] = "SAME"  # TFLite leaves padding out of a window, as ONNX does here
    else:
        lowest = float(np.finfo(np.float32).min)
        data = _pad_explicitly(ctx, data, axes, fill=lowest if op_type == "MAX_POOL_2D" else None)
        pool_attrs["padding"] = "VALID"
        if op_type == "AVERAGE_POOL_2D":
            h, w = axes
            counts = np.outer(_window_counts(h, include_pad), _window_counts(w, include_pad))
            if np.any(counts != h.kernel * w.kernel):
                pooled = ctx.emit(op_type, [data], pool_attrs)
                factor = (h.kernel * w.kernel / counts).astype(np.float32).reshape(1, h.out, w.out, 1)
                out = ctx.emit("MUL", [pooled, ctx.const(factor, "count_correction")], out=ctx.out_name())
                ctx.set_output(Value(out, "nhwc"))
                return
    ctx.set_output(Value(ctx.emit(op_type, [data], pool_attrs, out=ctx.out_name()), "nhwc"))


def convert_average_pool(ctx: ImportContext, node, attrs: dict) -> None:
    _convert_pool(ctx, attrs, "AVERAGE_POOL_2D")


def convert_max_pool(ctx: ImportContext, node, attrs: dict) -> None:
    _convert_pool(ctx, attrs, "MAX_POOL_2D")


def _convert_global_pool(ctx: ImportContext, op_type: str) -> None:
    x = ctx.input(0)
    if len(ctx.shape(x)) != 4:
        raise ctx.error(f"only 4-D inputs are supported, got shape {list(ctx.shape(x))}")
    axes = ctx.const(np.array([1, 2]), "axes", "int32")
    ctx.set_output(Value(ctx.emit(op_type, [ctx.nhwc(x), axes], {"keep_dims": True}, out=ctx.out_name()), "nhwc"))


def convert_global_average_pool(ctx: ImportContext, node, attrs: dict) -> None:
    _convert_global_pool(ctx, "MEAN")


def convert_global_max_pool(ctx: ImportContext, node, attrs: dict) -> None:
    _convert_global_pool(ctx, "REDUCE_MAX")


def convert_batch_norm(ctx: ImportContext, node, attrs: dict) -> None:
    """y = x * s + t per channel (TFLite has no batch norm op); passes/fold_batchnorm.py folds the pair into
    a preceding convolution or dense layer."""
    if attrs.get("training_mode", 0) or any(node.output[1:]):
        raise ctx.error("training mode (running statistics outputs) is not supported")
    x = ctx.input(0)
    gamma, beta, mean, var = (ctx.const_input(i, name).astype(np.float64)
                              for i, name in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")))
    scale = gamma / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
    shift = beta - mean * scale
    rank = len(ctx.shape(x))
    if rank == 4:
        data, layout, const_shape = ctx.nhwc(x), "nhwc", (-1,)
    else:
        data, layout, const_shape = ctx.plain(x), "plain", (-1,) + (1,) * max(rank - 2, 0)
    scaled = ctx.emit("MUL", [data, ctx.const(scale.reshape(const_shape), "bn_scale")])
    out = ctx.emit("ADD", [scaled, ctx.const(shift.reshape(const_shape), "bn_shift")], out=ctx.out_name())
    ctx.set_output(Value(out, layout))


def _fully_connected(ctx: ImportContext, x: Value, weights: np.ndarray, bias: np.ndarray | None) -> None:
    """FULLY_CONNECTED with weights [units, depth] over the last axis of `x`."""
    if x.layout == "flat_hwc":
        # The input is flattened in (h, w, c) order: permute the weight columns from ONNX's (c, h, w) to match.
        h, w, c = x.hwc
        units = weights.shape[0]
        weights = weights.reshape(units, c, h, w).transpose(0, 2, 3, 1).reshape(units, -1)
        data = x.name
    else:
        data = ctx.plain(x)
    rank = len(ctx.graph.tensors[data].shape)
    inputs = [data, ctx.const(weights, "weights"), ctx.const(bias, "bias") if bias is not None else ""]
    out = ctx.emit("FULLY_CONNECTED", inputs, {"keep_num_dims": rank > 2}, out=ctx.out_name())
    ctx.set_output(Value(out))


def convert_gemm(ctx: ImportContext, node, attrs: dict) -> None:
    if attrs.get("transA", 0):
        raise ctx.error("transA=1 is not supported")
    x = ctx.input(0)
    if len(ctx.shape(x)) != 2:
        raise ctx.error(f"input must be 2-D, got shape {list(ctx.shape(x))}")
    b = ctx.const_input(1, "B (the weights)").astype(np.float32)
    weights = (b if attrs.get("transB", 0) else b.T) * np.float32(attrs.get("alpha", 1.0))
    c = ctx.const_input(2, "C (the bias)")
    bias = None
    if c is not None:
        units = weights.shape[0]
        if c.size not in (1, units) or (c.ndim == 2 and c.shape[0] != 1):
            raise ctx.error(f"C of shape {list(c.shape)} is not a bias of {units} units")
        bias = np.broadcast_to(c.astype(np.float32).reshape(-1), (units,)) * np.float32(attrs.get("beta", 1.0))
    _fully_connected(ctx, x, np.ascontiguousarray(weights), bias)


def convert_matmul(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    b = ctx.const_input(1, "the second operand (weights)")
    if b.ndim != 2 or len(ctx.shape(x)) < 2:
        raise ctx.error(f"only [..., K] x [K, N] products are supported, got {list(ctx.shape(x))} x {list(b.shape)}")
    _fully_connected(ctx, x, np.ascontiguousarray(b.astype(np.float32).T), None)


CONVERTERS = {
    "Conv": convert_conv,
    "AveragePool": convert_average_pool,
    "MaxPool": convert_max_pool,
    "GlobalAveragePool": convert_global_average_pool,
    "GlobalMaxPool": convert_global_max_pool,
    "BatchNormalization": convert_batch_norm,
    "Gemm": convert_gemm,
    "MatMul": convert_matmul,
}

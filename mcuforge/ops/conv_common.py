"""What CONV_2D and DEPTHWISE_CONV_2D share (as TFLM's conv_common.cc / depthwise_conv_common.cc do): window
geometry, padded window gathers for the vectorized reference kernels, attribute and quantization checks, and
the per-channel requantization of PopulateConvolutionQuantizationParams.

Importing this module registers no op."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import (activation_range_float, apply_float_activation, conv_output_size, conv_padding,
                                 output_activation_range, require, require_quantized, saturate)
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multipliers, use_rounding

# Attributes both conv ops read from Conv2DOptions / DepthwiseConv2DOptions.
CONV_ATTRS = {"padding": "SAME", "stride_w": 1, "stride_h": 1, "dilation_w_factor": 1, "dilation_h_factor": 1,
              "fused_activation_function": "NONE"}


@dataclass(frozen=True)
class ConvGeometry:
    """Output size and padding of a 2-D window op over an NHWC input, as TFLite's ComputePaddingHeightWidth."""

    out_h: int
    out_w: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int

    @classmethod
    def of(cls, attrs: dict, in_h: int, in_w: int, kernel_h: int, kernel_w: int) -> "ConvGeometry":
        padding = attrs["padding"]
        sh, sw = attrs["stride_h"], attrs["stride_w"]
        dh, dw = attrs["dilation_h_factor"], attrs["dilation_w_factor"]
        top, bottom = conv_padding(padding, in_h, kernel_h, sh, dh)
        left, right = conv_padding(padding, in_w, kernel_w, sw, dw)
        return cls(conv_output_size(padding, in_h, kernel_h, sh, dh), conv_output_size(padding, in_w, kernel_w, sw, dw),
                   top, bottom, left, right, kernel_h, kernel_w, sh, sw, dh, dw)

    def padded(self, x: np.ndarray) -> np.ndarray:
        """`x` (NHWC) with zeros around it. Callers pass the input minus its zero point, so a padded pixel
        contributes nothing, exactly as TFLite's kernels skip points outside the image."""
        if not (self.pad_top or self.pad_bottom or self.pad_left or self.pad_right):
            return x
        return np.pad(x, ((0, 0), (self.pad_top, self.pad_bottom), (self.pad_left, self.pad_right), (0, 0)))

    def tap(self, padded: np.ndarray, ky: int, kx: int) -> np.ndarray:
        """The input pixels that filter tap (ky, kx) meets, one per output position: [N, out_h, out_w, C]."""
        y0, x0 = ky * self.dilation_h, kx * self.dilation_w
        return padded[:, y0:y0 + (self.out_h - 1) * self.stride_h + 1:self.stride_h,
                      x0:x0 + (self.out_w - 1) * self.stride_w + 1:self.stride_w, :]

    def im2col(self, padded: np.ndarray) -> np.ndarray:
        """Every output position's receptive field as a row, ordered (ky, kx, c) like an OHWI filter's
        [KH, KW, I] block: [N * out_h * out_w, KH * KW * C]; may be a view of `padded` for a 1x1 filter."""
        if self.kernel_h == self.kernel_w == 1:
            return self.tap(padded, 0, 0).reshape(-1, padded.shape[3])
        eff_h = (self.kernel_h - 1) * self.dilation_h + 1
        eff_w = (self.kernel_w - 1) * self.dilation_w + 1
        windows = np.lib.stride_tricks.sliding_window_view(padded, (eff_h, eff_w), axis=(1, 2))
        # windows: [N, H', W', C, eff_h, eff_w]; keep strided outputs and dilated taps, then put C last.
        windows = windows[:, :(self.out_h - 1) * self.stride_h + 1:self.stride_h,
                          :(self.out_w - 1) * self.stride_w + 1:self.stride_w, :, ::self.dilation_h, ::self.dilation_w]
        return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, self.kernel_h * self.kernel_w * padded.shape[3])


def conv_geometry(op: Op, graph: Graph) -> ConvGeometry:
    """Geometry of a conv op whose filter is [*, KH, KW, *] (OHWI for CONV_2D, 1HWO for DEPTHWISE_CONV_2D)."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    return ConvGeometry.of(op.attrs, x.shape[1], x.shape[2], w.shape[1], w.shape[2])


def check_window_attrs(op: Op, graph: Graph) -> None:
    """The checks shared by both conv ops' shape rules (they run before `check`, in the GraphBuilder)."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    require(len(x.shape) == 4, op, graph, f"input must be 4-D NHWC, got shape {list(x.shape)}")
    require(len(w.shape) == 4, op, graph, f"filter must be 4-D, got shape {list(w.shape)}")
    require(op.attrs["padding"] in ("SAME", "VALID"), op, graph, f"unknown padding {op.attrs['padding']!r}")
    for name in ("stride_h", "stride_w", "dilation_h_factor", "dilation_w_factor"):
        require(int(op.attrs[name]) >= 1, op, graph, f"{name} must be at least 1, got {op.attrs[name]}")


def is_hybrid(op: Op, graph: Graph) -> bool:
    """float32 activations with an int8 filter: TFLite's "dynamic range" quantization."""
    return graph.tensors[op.inputs[0]].dtype == "float32" and graph.tensors[op.inputs[1]].dtype == "int8"


def check_conv_tensors(op: Op, graph: Graph, channels: int, quant_axis: int, hybrid_ok: bool = False) -> None:
    """Dtype and quantization rules of both conv ops; `channels` output channels, filter scales on `quant_axis`.
    `hybrid_ok`: the op accepts a float32 input with an int8 filter whose scales are all equal."""
    x, w, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    bias = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] else None
    require(w.is_constant, op, graph, "filter must be a constant")
    require(y.dtype == x.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    if bias is not None:
        require(bias.size == channels, op, graph, f"bias has {bias.size} values for {channels} output channels")
    if is_hybrid(op, graph):
        where = f"{graph.where()}: {op.type} ({op.outputs[0]})"
        if not hybrid_ok:
            raise UnsupportedOpError(f"{where}: float32 input with an int8 filter (hybrid) is not supported")
        require_quantized(op, graph, [op.inputs[1]])
        if len(np.unique(w.quant.scale)) > 1:
            raise UnsupportedOpError(f"{where}: hybrid conv with distinct per-channel filter scales "
                                     "(LiteRT's asymmetric EvalHybridPerChannel) is not supported")
        require(bias is None or bias.dtype == "float32", op, graph, "hybrid conv needs a float32 bias")
        return
    if x.dtype == "float32":
        require(w.dtype == "float32", op, graph, f"float32 input needs float32 filter, got {w.dtype}")
        require(bias is None or bias.dtype == "float32", op, graph, "float32 conv needs a float32 bias")
        return
    require(w.dtype == "int8", op, graph, f"int8 input needs an int8 filter, got {w.dtype}")
    if bias is not None:
        require(bias.dtype == "int32", op, graph, f"int8 conv needs an int32 bias, got {bias.dtype}")
    require_quantized(op, graph, [op.inputs[0], op.inputs[1], op.outputs[0]])
    # The int8 kernels never read the filter zero point (weights_offset is unused): TFLite requires symmetric.
    require(not w.quant.zero_point.any(), op, graph, "int8 filter must be symmetric (zero point 0)")
    if w.quant.per_channel:
        require(w.quant.axis == quant_axis and w.quant.scale.size == channels, op, graph,
                f"per-channel filter scales must be {channels} values on axis {quant_axis}, got "
                f"{w.quant.scale.size} on axis {w.quant.axis}")
    for t in (x, y):
        require(not t.quant.per_channel, op, graph, f"tensor {t.name!r} must be quantized per tensor")


def output_multipliers(op: Op, graph: Graph, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift) as PopulateConvolutionQuantizationParams: the scale product is
    double(input_scale) * double(filter_scale[c]) / double(output_scale); a per-tensor filter scale is
    broadcast to every channel through the same double-precision path (unlike FULLY_CONNECTED's float32)."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    filter_scales = np.broadcast_to(w.quant.scale.astype(np.float64), (channels,))
    real = np.float64(x.quant.scalar_scale) * filter_scales / np.float64(y.quant.scalar_scale)
    return quantize_multipliers(real)


def centered_input(op: Op, graph: Graph, x: np.ndarray) -> np.ndarray:
    """The input as float64 with the zero point removed (TFLite's input_offset = -zero_point), or the float
    input widened. float64 keeps every int8 product and sum exact (|sum| < 2^31 << 2^53)."""
    if x.dtype == np.float32:
        return x.astype(np.float64)
    return x.astype(np.float64) - graph.tensors[op.inputs[0]].quant.scalar_zero_point


def finish_conv(op: Op, graph: Graph, acc: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Accumulators [..., C] -> the op's output: bias, then requantization, output offset and activation clamp
    for int8 (ConvPerChannel / DepthwiseConvPerChannel), or bias and activation for float32."""
    out = graph.tensors[op.outputs[0]]
    activation = op.attrs.get("fused_activation_function", "NONE")
    if out.dtype == "float32":
        y = acc.astype(np.float32)
        if bias is not None:
            y = y + bias.astype(np.float32)
        return apply_float_activation(y, activation).reshape(out.shape)
    acc = acc.astype(np.int64)  # exact: the float64 sums hold integers
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    mult, shift = output_multipliers(op, graph, acc.shape[-1])
    y = multiply_by_quantized_multiplier(acc, mult, shift) + out.quant.scalar_zero_point
    lo, hi = output_activation_range(op, graph)
    return saturate(y, lo, hi, out.dtype).reshape(out.shape)


# --- C emission helpers (see kernels/conv_window.h) ---

def _inner_range(out: int, pad: int, stride: int, kernel: int, dilation: int, size: int) -> tuple[int, int]:
    """Outputs [lo, hi) whose every tap lands inside [0, size) along one axis."""
    lo = min(-(-pad // stride), out)
    hi = (size - 1 - (kernel - 1) * dilation + pad) // stride + 1
    return lo, max(lo, min(hi, out))


def geometry_fields(op: Op, graph: Graph) -> dict:
    """The mcuforge_conv_geometry initializer of a conv op, in the struct's field order."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    g = conv_geometry(op, graph)
    inner_y = _inner_range(g.out_h, g.pad_top, g.stride_h, g.kernel_h, g.dilation_h, x.shape[1])
    inner_x = _inner_range(g.out_w, g.pad_left, g.stride_w, g.kernel_w, g.dilation_w, x.shape[2])
    return {"batches": x.shape[0], "in_h": x.shape[1], "in_w": x.shape[2], "in_c": x.shape[3],
            "out_h": y.shape[1], "out_w": y.shape[2], "out_c": y.shape[3], "kernel_h": g.kernel_h,
            "kernel_w": g.kernel_w, "stride_h": g.stride_h, "stride_w": g.stride_w, "dilation_h": g.dilation_h,
            "dilation_w": g.dilation_w, "pad_top": g.pad_top, "pad_left": g.pad_left, "inner_y0": inner_y[0],
            "inner_y1": inner_y[1], "inner_x0": inner_x[0], "inner_x1": inner_x[1]}


def folded_bias(op: Op, graph: Graph, filter_sums: np.ndarray) -> np.ndarray:
    """bias[c] + input_offset * filter_sums[c] as int32: where no tap is padded, the kernel then sums x * w
    alone instead of (x + input_offset) * w."""
    bias_name = op.inputs[2] if len(op.inputs) > 2 else ""
    bias = graph.tensors[bias_name].data.astype(np.int64) if bias_name else np.zeros(len(filter_sums), np.int64)
    folded = bias - graph.tensors[op.inputs[0]].quant.scalar_zero_point * filter_sums.astype(np.int64)
    if np.any(np.abs(folded) >= 1 << 31):
        raise UnsupportedOpError(f"{graph.where()}: {op.type} ({op.outputs[0]}): bias plus input offset times "
                                 "the filter sum overflows int32")
    return folded.astype(np.int32)


# The forms of the DSP kernels' requantization (kernels/dsp_s8.h, MCUFORGE_DSP_FOLDED / _GENERAL): both need
# accumulators in [-2^30, 2^30) (twice the accumulator fits in int32); the folded form TFLite shifts in
# [-22, -1], the general one in [-31, 0].
DSP_ACC_LIMIT = 1 << 30
DSP_FOLDED, DSP_GENERAL = 1, 2


def dsp_requant(op: Op, graph: Graph, start: np.ndarray, weight_abs_sums: np.ndarray, multipliers: np.ndarray,
                shifts: np.ndarray, max_abs_input: int = 128) -> tuple[int, np.ndarray]:
    """(the params' `dsp_requant`, the accumulator starts to emit): the DSP requantization form that is exact for
    every channel, whose accumulator is `start[c]` plus products of inputs at most `max_abs_input` in magnitude
    with filter c, or 0 for none. A channel whose filter is all zero (a pruned channel, often with a bias of
    +-2^30 that pins its output to the clamp) has a constant output: its start is clipped into the DSP range
    when that leaves the output unchanged, for the portable kernels too (the same array serves both)."""
    start = start.astype(np.int64)
    dead = weight_abs_sums == 0
    if np.any(dead):
        out = graph.tensors[op.outputs[0]]
        lo, hi = output_activation_range(op, graph)

        def outputs(acc):
            with use_rounding("double"):  # conv kernels round twice in both runtimes
                return np.clip(multiply_by_quantized_multiplier(acc, multipliers, shifts) + out.quant.scalar_zero_point,
                               lo, hi)
        clipped = np.where(dead, np.clip(start, -DSP_ACC_LIMIT, DSP_ACC_LIMIT - 1), start)
        start = np.where(outputs(clipped) == outputs(start), clipped, start)
    reach = max_abs_input * weight_abs_sums.astype(np.int64)
    start = start.astype(np.int32)  # clipped or as folded_bias made it: int32
    if not (np.all(start - reach >= -DSP_ACC_LIMIT) and np.all(start + reach < DSP_ACC_LIMIT)
            and np.all(multipliers >= 0)):
        return 0, start
    if np.all((shifts >= -22) & (shifts <= -1)) and np.all(multipliers > 0):
        return DSP_FOLDED, start
    return (DSP_GENERAL if np.all((shifts >= -31) & (shifts <= 0)) else 0), start


def constant_dead_channels(op: Op, graph: Graph, start: np.ndarray, weight_abs_sums: np.ndarray,
                           multipliers: np.ndarray, shifts: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, multipliers, shifts) with every all-zero filter's channel rewritten to requantize with (2^30, -1)
    from 4 t, t its constant output minus the output zero point: SaturatingRoundingDoublingHighMul(4 t, 2^30) is
    2 t exactly, and halving 2 t rounds nothing, so the channel still outputs clamp(t + zero point), its output.
    Pruned channels often carry shifts outside [-22, -1] (vww: 0 and -23..-31), which alone kept whole layers
    off the folded DSP requantization (kernels/dsp_s8.h). Only for kernels that read no bias but `start`: a
    padded tap's bias would meet the new multipliers."""
    dead = weight_abs_sums == 0
    if not np.any(dead):
        return start, multipliers, shifts
    lo, hi = output_activation_range(op, graph)
    zero_point = graph.tensors[op.outputs[0]].quant.scalar_zero_point
    with use_rounding("double"):  # conv kernels round twice in both runtimes
        outputs = np.clip(multiply_by_quantized_multiplier(start.astype(np.int64), multipliers, shifts)
                          + zero_point, lo, hi)
    start = np.where(dead, 4 * (outputs - zero_point), start).astype(np.int32)
    multipliers = np.where(dead, 1 << 30, multipliers).astype(multipliers.dtype)
    shifts = np.where(dead, -1, shifts).astype(shifts.dtype)
    return start, multipliers, shifts


def conv_int8_requant(op: Op, graph: Graph, folded_only: bool, dsp: bool = True
                      ) -> tuple[int, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """An int8 CONV_2D's (`dsp_requant`, accumulator starts, (multipliers, shifts)): the DSP requantization form
    (dsp_requant; 0 for a grouped conv or `dsp` False), the folded bias and the per-channel requantization. A
    kernel that reads only the folded bias (`folded_only`: a 1x1 filter, never padded) has its pruned channels
    requantize their constant output the folded way (constant_dead_channels)."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    flat = w.data.reshape(w.shape[0], -1).astype(np.int64)
    start = folded_bias(op, graph, flat.sum(axis=1))
    requant = output_multipliers(op, graph, w.shape[0])
    if not dsp or x.shape[3] != w.shape[3]:
        return 0, start, requant
    abs_sums = np.abs(flat).sum(axis=1)
    if folded_only:
        start, *requant = constant_dead_channels(op, graph, start, abs_sums, *requant)
    form, start = dsp_requant(op, graph, start, abs_sums, *requant)
    return form, start, tuple(requant)


def use_dense_conv_kernels(ctx) -> None:
    """Ship the dense int8 conv kernel (conv_2d_s8.c) and the SIMD parts its DSP variant is built from."""
    ctx.use_kernel("dsp_s8", rounding_neutral=True)  # conv_2d_s8.h includes both: the DSP variant
    ctx.use_kernel("dsp_gemm_s8", rounding_neutral=True)
    ctx.use_kernel("dsp_window_s8", rounding_neutral=True)
    ctx.use_kernel("conv_2d_s8")


def dsp_pairs_scratch(k: int, filters: int) -> int:
    """MCUFORGE_CONV_DSP_SCRATCH of a dense int8 conv without a padded window's gather (kernels/conv_2d_s8.h): a
    channel table of 20 bytes a filter, two pixels' windows of k values widened."""
    return 20 * filters + 4 * 4 * ((k + 3) // 4)


def row_window(op: Op, graph: Graph) -> tuple[int, int]:
    """(stride_h, pad_top): the conv kernels read no input row before r * stride_h - pad_top for output row r."""
    g = conv_geometry(op, graph)
    return g.stride_h, g.pad_top


def float_activation_range(op: Op, graph: Graph) -> tuple[float, float]:
    """Clamp bounds of a float conv's fused activation (the C kernels clamp; they compute no TANH)."""
    activation = op.attrs.get("fused_activation_function", "NONE")
    if activation not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise UnsupportedOpError(f"{graph.where()}: {op.type} ({op.outputs[0]}): fused activation {activation} "
                                 "has no C kernel")
    return activation_range_float(activation)

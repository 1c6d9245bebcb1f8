"""Rules shared by several ops: fused activations, padding, quantization lookups, validation helpers."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import GraphValidationError
from mcuforge.ir import Graph, Op
from mcuforge.quant.fixed_point import round_half_away

INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-(1 << 31), (1 << 31) - 1)}
ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")


def quantize_scalar(value: float, scale: float, zero_point: int) -> int:
    """TFLite's `zero_point + TfLiteRound(f / scale)`, computed in float32 like the C++ lambda."""
    return zero_point + int(round_half_away(np.float32(value) / np.float32(scale)))


def activation_range_quantized(activation: str, dtype: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: the clamp bounds of a fused activation in the output's integers."""
    qmin, qmax = INT_RANGES[dtype]
    if activation == "RELU":
        return max(qmin, quantize_scalar(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return max(qmin, quantize_scalar(0.0, scale, zero_point)), min(qmax, quantize_scalar(6.0, scale, zero_point))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantize_scalar(-1.0, scale, zero_point)), min(qmax, quantize_scalar(1.0, scale, zero_point))
    return qmin, qmax


def activation_range_float(activation: str) -> tuple[float, float]:
    return {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}.get(activation, (-np.inf, np.inf))


def apply_float_activation(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "TANH":
        return np.tanh(x).astype(np.float32)
    lo, hi = activation_range_float(activation)
    return np.clip(x, lo, hi).astype(np.float32)


def output_activation_range(op: Op, graph: Graph) -> tuple[int, int]:
    """Clamp bounds of `op`'s first output under its fused activation."""
    out = graph.tensors[op.outputs[0]]
    return activation_range_quantized(op.attrs.get("fused_activation_function", "NONE"), out.dtype,
                                      out.quant.scalar_scale, out.quant.scalar_zero_point)


def conv_output_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def conv_padding(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding as TFLite's ComputePaddingWithOffset: the odd pixel goes after."""
    out = conv_output_size(padding, in_size, filter_size, stride, dilation)
    effective = (filter_size - 1) * dilation + 1
    total = max((out - 1) * stride + effective - in_size, 0)
    return total // 2, total - total // 2


def qparams(graph: Graph, name: str) -> tuple[float, int]:
    """(scale, zero_point) of a per-tensor quantized tensor."""
    q = graph.tensors[name].quant
    return q.scalar_scale, q.scalar_zero_point


def require(condition: bool, op: Op, graph: Graph, message: str) -> None:
    if not condition:
        raise GraphValidationError(f"{graph.where()}: {op.type} ({op.outputs[0]}): {message}")


def require_quantized(op: Op, graph: Graph, names: list[str]) -> None:
    for name in names:
        t = graph.tensors[name]
        require(t.quant is not None, op, graph, f"{t.dtype} tensor {name!r} has no quantization parameters")


def same_shape(op: Op, graph: Graph) -> list[tuple[int, ...]]:
    """Shape rule of element-wise unary ops."""
    return [graph.tensors[op.inputs[0]].shape]


def broadcast_shape(op: Op, graph: Graph) -> list[tuple[int, ...]]:
    """Shape rule of broadcasting binary ops (NumPy rules, as TFLite's broadcast kernels)."""
    a, b = (graph.tensors[n].shape for n in op.inputs[:2])
    try:
        return [tuple(np.broadcast_shapes(a, b))]
    except ValueError:
        raise GraphValidationError(f"{graph.where()}: {op.type} ({op.outputs[0]}): shapes {a} and {b} "
                                   "do not broadcast") from None


def saturate(acc: np.ndarray, lo: int, hi: int, dtype: str) -> np.ndarray:
    return np.clip(acc, lo, hi).astype(dtype)


def emit_int8_lookup_table(op: Op, graph: Graph, ctx, reference) -> str:
    """C for an int8 -> int8 element-wise op: a function of 256 inputs, so the op's own reference (run by emit_c
    under the compat being compiled for) fills a table indexed by the input's bits as uint8_t."""
    size = graph.tensors[op.inputs[0]].size
    table = reference(op, graph, [np.arange(256, dtype=np.uint8).view(np.int8)])[0]
    ctx.use_kernel("lut_s8")
    params = ctx.params("mcuforge_lut_s8_params", {"size": size, "table": ctx.const_array("table", table, "int8_t")})
    return f"mcuforge_lut_s8({params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])});"


def emit_elementwise_unary(op: Op, graph: Graph, ctx, reference, float_kernel: str) -> str:
    """C for LOGISTIC/TANH/HARD_SWISH-like ops: float32 calls `mcuforge_<float_kernel>` (params: size only),
    int8 is a lookup table filled by the op's reference."""
    x = graph.tensors[op.inputs[0]]
    if x.dtype != "float32":
        return emit_int8_lookup_table(op, graph, ctx, reference)
    ctx.use_kernel(float_kernel)
    params = ctx.params(f"mcuforge_{float_kernel}_params", {"size": x.size})
    return f"mcuforge_{float_kernel}({params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])});"

"""MEAN and REDUCE_MAX over constant axes (ReducerOptions.keep_dims).

int8 MEAN is TFLite's reference_ops::QuantizedMeanOrSum: sum the raw values, subtract zero point x count,
then one requantization whose multiplier has 1/count folded in (see `_mean_int8`). int8 REDUCE_MAX needs the
same quantization on input and output and works on the raw values."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require, require_quantized
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multiplier, use_rounding, wrap_int32


def raw_axes(op: Op, graph: Graph) -> list[int]:
    """The axis operand as stored (possibly negative, possibly repeated)."""
    axis_t = graph.tensors[op.inputs[1]]
    require(axis_t.is_constant, op, graph, "axis must be a constant tensor")
    return [int(v) for v in axis_t.data.reshape(-1)]


def resolved_axes(op: Op, graph: Graph) -> list[int]:
    """reference_ops::ResolveAxis: negative axes wrapped, duplicates dropped, order kept."""
    rank = len(graph.tensors[op.inputs[0]].shape)
    axes: list[int] = []
    for a in raw_axes(op, graph):
        require(-rank <= a < rank, op, graph, f"axis {a} is out of range for rank {rank}")
        a = a + rank if a < 0 else a
        if a not in axes:
            axes.append(a)
    return axes


def infer_shapes(op: Op, graph: Graph):
    shape = graph.tensors[op.inputs[0]].shape
    axes = resolved_axes(op, graph)
    if op.attrs.get("keep_dims"):
        return [tuple(1 if i in axes else d for i, d in enumerate(shape))]
    return [tuple(d for i, d in enumerate(shape) if i not in axes)]


def same_quantization(op: Op, graph: Graph) -> bool:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    return (x.quant.scalar_zero_point == y.quant.scalar_zero_point
            and np.float32(x.quant.scalar_scale) == np.float32(y.quant.scalar_scale))


def check_mean(op: Op, graph: Graph) -> None:
    """Rules shared by MEAN and REDUCE_MAX; MEAN may requantize, so it needs nothing more."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(graph.tensors[op.inputs[1]].dtype == "int32", op, graph, "axis must be int32")
    require(x.dtype == y.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    resolved_axes(op, graph)
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])


def check_max(op: Op, graph: Graph) -> None:
    check_mean(op, graph)  # the shared rules
    if graph.tensors[op.inputs[0]].dtype == "int8":
        # reduce.cc EvalMax: TF_LITE_ENSURE_EQ on scale and zero point; a max cannot requantize.
        require(same_quantization(op, graph), op, graph, "int8 REDUCE_MAX needs the same scale and zero point "
                                                         "on input and output")


def _mean_multiplier(op: Op, graph: Graph) -> tuple[int, int]:
    """PrepareMeanOrSum: QuantizeMultiplier(double(input_scale) / double(output_scale))."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    return quantize_multiplier(float(np.float64(x.quant.scalar_scale) / np.float64(y.quant.scalar_scale)))


def _mean_int8(op: Op, graph: Graph, x: np.ndarray) -> np.ndarray:
    """reference_ops::QuantizedMeanOrSum (compute_sum=false), under double rounding whatever the mode.

    Both oracles take this one path for every int8 MEAN, even with equal input/output quantization (where
    older kernels truncated the raw sum / count) and for the 4-D keep_dims spatial mean (where older LiteRT
    used reference_integer_ops::Mean). LiteRT's MEAN also requantizes with gemmlowp's double rounding,
    although the rest of its build uses single rounding: measured on ai-edge-litert 2.3.0, where single
    rounding differs from LiteRT on ~1% of outputs and double rounding on none."""
    out_t = graph.tensors[op.outputs[0]]
    axes = resolved_axes(op, graph)
    if not axes:
        return x.reshape(out_t.shape)  # QuantizedMeanOrSum with no axis is a copy (ReduceIsCopy)
    count = _count(op, graph)
    total = x.astype(np.int64).sum(axis=tuple(axes)).reshape(out_t.shape)
    in_zp = graph.tensors[op.inputs[0]].quant.scalar_zero_point
    multiplier, shift = _mean_count_multiplier(op, graph)
    with use_rounding("double"):
        acc = multiply_by_quantized_multiplier(wrap_int32(total - in_zp * count), multiplier, shift)
    return np.clip(acc + out_t.quant.scalar_zero_point, -128, 127).astype(np.int8)


def _count(op: Op, graph: Graph) -> int:
    """Input elements combined into each output element."""
    shape = graph.tensors[op.inputs[0]].shape
    return int(np.prod([shape[a] for a in resolved_axes(op, graph)], dtype=np.int64))


def _mean_count_multiplier(op: Op, graph: Graph) -> tuple[int, int]:
    """QuantizedMeanOrSum's (multiplier, shift) with 1/count folded in: the multiplier is shifted left by
    floor(log2(count)) to keep precision, clamped so the shift stays <= 32 and the final shift >= -31."""
    count = _count(op, graph)
    with use_rounding("double"):
        multiplier, shift = _mean_multiplier(op, graph)
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << extra) // count, shift - extra


def _mean_float32(op: Op, graph: Graph, x: np.ndarray) -> np.ndarray:
    """reference_ops::Mean: one float32 sum per output, the reduced elements added in row-major input order,
    then divided by the count (as float32). The Python loop runs over the reduced elements.

    LiteRT's BUILTIN_REF MEAN over the last axis alone takes Eigen's vectorized sum (optimized_ops::MeanGeneral)
    instead, whose order depends on the build: only that case may differ from LiteRT by an ulp."""
    axes = sorted(resolved_axes(op, graph))
    kept = [d for d in range(x.ndim) if d not in axes]
    grouped = x.astype(np.float32).transpose(kept + axes)
    grouped = grouped.reshape(grouped.shape[:len(kept)] + (-1,))
    total = np.zeros(grouped.shape[:-1], np.float32)
    for r in range(grouped.shape[-1]):
        total += grouped[..., r]
    return total / np.float32(_count(op, graph))


def _mean_reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    out_shape = graph.tensors[op.outputs[0]].shape
    if x.dtype == np.float32:
        return [_mean_float32(op, graph, x).reshape(out_shape)]
    return [_mean_int8(op, graph, x)]


def _max_reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    axes = tuple(resolved_axes(op, graph))
    return [x.max(axis=axes).reshape(graph.tensors[op.outputs[0]].shape)]


MAX_WALK_DIMS = 4  # MCUFORGE_REDUCE_MAX_DIMS in kernels/reduce_{s8,f32}.h


def _walks(op: Op, graph: Graph) -> dict:
    """The reduction as the kernels' two strided walks over the input (strides in elements): the kept dimensions
    (one output element each, in output order) and the reduced ones. Size-1 dimensions are dropped and
    neighbours of the same kind merged (row-major neighbours are always contiguous), so kept and reduced runs
    alternate. An empty walk becomes one dimension of size 1."""
    shape = graph.tensors[op.inputs[0]].shape
    axes = set(resolved_axes(op, graph))
    strides = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))]
    runs: list[list] = []  # [size, stride, reduced]
    for d, (size, stride) in enumerate(zip(shape, strides)):
        if size == 1:
            continue
        if runs and runs[-1][2] == (d in axes):
            runs[-1][0] *= size
            runs[-1][1] = stride
        else:
            runs.append([size, stride, d in axes])
    fields = {}
    for prefix, reduced in (("out", False), ("reduce", True)):
        dims = [(n, s) for n, s, r in runs if r == reduced] or [(1, 0)]
        if len(dims) > MAX_WALK_DIMS:
            raise UnsupportedOpError(f"{graph.where()}: {op.type} ({op.outputs[0]}): more than {MAX_WALK_DIMS} "
                                     f"alternating kept/reduced dimension groups in {list(shape)}")
        fields[f"{prefix}_rank"] = len(dims)
        fields[f"{prefix}_dims"] = "{" + ", ".join(str(n) for n, _ in dims) + "}"
        fields[f"{prefix}_strides"] = "{" + ", ".join(str(s) for _, s in dims) + "}"
    fields["out_count"] = graph.tensors[op.outputs[0]].size
    fields["count"] = _count(op, graph)
    return fields


def _emit_c(kind: str):
    """The emitter of MEAN ("mean") or REDUCE_MAX ("reduce_max"): kernels/reduce_{s8,f32}.c."""

    def emit_c(op: Op, graph: Graph, ctx) -> str:
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        src, dst = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
        if x.dtype == "float32":
            ctx.use_kernel("reduce_f32")
            return f"mcuforge_{kind}_f32({ctx.params('mcuforge_reduce_f32_params', _walks(op, graph))}, {src}, {dst});"
        if kind == "mean" and not resolved_axes(op, graph):
            return f"memcpy({dst}, {src}, {x.nbytes}); /* no axis: TFLite copies (ReduceIsCopy) */"
        ctx.use_kernel("reduce_s8")
        fields = _walks(op, graph)
        if kind == "mean":
            multiplier, shift = _mean_count_multiplier(op, graph)
            offset = int(wrap_int32(-x.quant.scalar_zero_point * fields["count"]))
            fields.update(input_offset=offset, multiplier=multiplier, shift=shift,
                          output_offset=y.quant.scalar_zero_point)
        else:
            fields.update(input_offset=0, multiplier=0, shift=0, output_offset=0)
        return f"mcuforge_{kind}_s8({ctx.params('mcuforge_reduce_params', fields)}, {src}, {dst});"

    return emit_c


def mean_macs(op: Op, graph: Graph) -> int:
    """One accumulate per input element."""
    return graph.tensors[op.inputs[0]].size


register(OpDef(name="MEAN", infer_shapes=infer_shapes, reference=_mean_reference, attrs={"keep_dims": False},
               tflite_options="ReducerOptions", check=check_mean, macs=mean_macs, c_kernel="reduce",
               emit_c=_emit_c("mean"), litert_rounding="double", doc="Mean over constant axes."))
register(OpDef(name="REDUCE_MAX", infer_shapes=infer_shapes, reference=_max_reference, attrs={"keep_dims": False},
               tflite_options="ReducerOptions", check=check_max, macs=mean_macs, c_kernel="reduce",
               emit_c=_emit_c("reduce_max"), litert_rounding="double",  # shares reduce_s8 with MEAN
               doc="Maximum over constant axes."))

"""CONV_2D: NHWC input, OHWI filter [out, KH, KW, in / groups], optional bias; int8 (per-channel or per-tensor
filter scales on axis 0, int32 bias), float32, or hybrid (float32 activations, int8 filter with one scale).

The int8 reference kernel is TFLite's ConvPerChannel as one float64 matmul over im2col rows; float64 is exact
for int8 products and their sums. The float32 kernel accumulates in float32 in TFLite's reference Conv order
(see `_grouped_matmul_f32`), so it equals LiteRT to the bit. Grouped convolution (input depth a multiple of the filter's) follows the same
kernel's `groups = input_depth / filter_input_depth`.

Hybrid ("dynamic range" quantized) convs run as LiteRT's EvalHybrid: each batch item is quantized
symmetrically to int8 on the fly, convolved in integers, then scaled back to float. TFLite Micro rejects them
("Hybrid models are not supported"), so LiteRT is their only oracle."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import output_activation_range, require
from mcuforge.ops.conv_2d_sparse import dense_compute, dense_compute_blocks, dense_compute_scratch, emit_sparse_conv
from mcuforge.ops.conv_common import (CONV_ATTRS, DSP_FOLDED, DSP_GENERAL, ConvGeometry, centered_input,
                                      check_conv_tensors, check_window_attrs, conv_geometry, conv_int8_requant,
                                      dsp_pairs_scratch, finish_conv, float_activation_range, folded_bias,
                                      geometry_fields, is_hybrid, output_multipliers, row_window,
                                      use_dense_conv_kernels)
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.int4 import is_int4, packed_weights
from mcuforge.quant.sparse import sparse_op_weights, use_sparse


def _groups(op: Op, graph: Graph) -> int:
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    return x.shape[3] // w.shape[3]


def infer_shapes(op: Op, graph: Graph):
    check_window_attrs(op, graph)
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out_channels, in_depth = w.shape[0], w.shape[3]
    require(x.shape[3] % in_depth == 0, op, graph,
            f"input depth {x.shape[3]} is not a multiple of the filter depth {in_depth}")
    require(out_channels % (x.shape[3] // in_depth) == 0, op, graph,
            f"{out_channels} filters do not split into {x.shape[3] // in_depth} groups")
    geom = conv_geometry(op, graph)
    require(geom.out_h > 0 and geom.out_w > 0, op, graph,
            f"a {w.shape[1]}x{w.shape[2]} filter (dilation {op.attrs['dilation_h_factor']}x"
            f"{op.attrs['dilation_w_factor']}) does not fit the {x.shape[1]}x{x.shape[2]} input")
    return [(x.shape[0], geom.out_h, geom.out_w, out_channels)]


def check(op: Op, graph: Graph) -> None:
    check_conv_tensors(op, graph, channels=graph.tensors[op.inputs[1]].shape[0], quant_axis=0, hybrid_ok=True)
    if is_hybrid(op, graph) and _groups(op, graph) != 1:
        # LiteRT sends grouped hybrid convs to EvalHybridPerChannel (asymmetric input quantization).
        raise UnsupportedOpError(f"{graph.where()}: CONV_2D ({op.outputs[0]}): grouped hybrid conv is not supported")


def _grouped_matmul(rows: np.ndarray, w: np.ndarray, geom: ConvGeometry, groups: int) -> np.ndarray:
    """im2col rows [P, KH*KW*C_in] times the OHWI filter, group by group: [P, C_out] in float64."""
    out_channels = w.shape[0]
    filters = w.astype(np.float64).reshape(groups, out_channels // groups, -1)  # [G, F/G, KH*KW*C_in/G]
    if groups == 1:
        acc = rows @ filters[0].T
    else:
        taps = geom.kernel_h * geom.kernel_w
        per_group = rows.reshape(len(rows), taps, groups, -1).transpose(2, 0, 1, 3).reshape(groups, len(rows), -1)
        acc = (per_group @ filters.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(len(rows), out_channels)
    return acc


def _grouped_matmul_f32(rows: np.ndarray, w: np.ndarray, geom: ConvGeometry, groups: int) -> np.ndarray:
    """The float32 form of `_grouped_matmul`, summed as TFLite's reference Conv: one float32 accumulator per
    output, products added one at a time in (ky, kx, c) order. Vectorized over positions and channels; the
    Python loop runs over the KH*KW*C_in/G products (NumPy rounds each product and each sum to float32)."""
    out_channels = w.shape[0]
    taps = geom.kernel_h * geom.kernel_w
    # [G, K, P] and [G, K, F/G]: row k of each is contiguous.
    per_group = np.ascontiguousarray(
        rows.astype(np.float32).reshape(len(rows), taps, groups, -1).transpose(2, 1, 3, 0)
        .reshape(groups, -1, len(rows)))
    filters = np.ascontiguousarray(
        w.astype(np.float32).reshape(groups, out_channels // groups, -1).transpose(0, 2, 1))
    acc = np.zeros((groups, len(rows), out_channels // groups), np.float32)
    product = np.empty_like(acc)
    for k in range(per_group.shape[1]):
        np.multiply(per_group[:, k, :, np.newaxis], filters[:, k, np.newaxis, :], out=product)
        acc += product
    return acc.transpose(1, 0, 2).reshape(len(rows), out_channels)


def _symmetric_quantize(x: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """LiteRT's SymmetricQuantizeFloats on one batch item: int8 values (as float64) in [-127, 127] and the
    float32 scale range / 127, computed in float32 as the C code does (scale 1 for an all-zero input)."""
    value_range = np.float32(np.max(np.abs(x)))
    if value_range == 0:
        return np.zeros(x.shape), np.float32(1)
    scaled = (x * (np.float32(127) / value_range)).astype(np.float64)  # float32 product, exact widening
    quantized = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # std::round, exact in float64
    return np.clip(quantized, -127, 127), value_range / np.float32(127)


def _hybrid_reference(op: Op, graph: Graph, x, w, bias) -> np.ndarray:
    geom = conv_geometry(op, graph)
    filter_scale = graph.tensors[op.inputs[1]].quant.scale[0]
    out = []
    for item in x:
        quantized, scale = _symmetric_quantize(item)
        rows = geom.im2col(geom.padded(quantized[np.newaxis]))  # zero point 0, so zero padding is exact
        acc = _grouped_matmul(rows, w, geom, _groups(op, graph))  # integer-valued, exact in float64
        out.append(acc.astype(np.float32) * np.float32(scale * filter_scale))
    return finish_conv(op, graph, np.stack(out), bias)


def reference(op: Op, graph: Graph, inputs):
    x, w = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    if is_hybrid(op, graph):
        return [_hybrid_reference(op, graph, x, w, bias)]
    geom = conv_geometry(op, graph)
    if x.dtype == np.float32:
        rows = geom.im2col(geom.padded(x))  # float32 rows; a padded tap adds 0 * w, which changes no sum
        return [finish_conv(op, graph, _grouped_matmul_f32(rows, w, geom, _groups(op, graph)), bias)]
    rows = geom.im2col(geom.padded(centered_input(op, graph, x)))  # [positions, KH*KW*C_in]
    acc = _grouped_matmul(rows, w, geom, _groups(op, graph))
    return [finish_conv(op, graph, acc, bias)]


# Zero bytes after an int8 filter array whose rows end in a partial group of four (see emit_c), and the note its
# array carries in the generated C.
FILTER_PADDING = 3
FILTER_PADDING_NOTE = f"{FILTER_PADDING} zero bytes past the last filter: the DSP kernels read whole groups of four"


def emit_c(op: Op, graph: Graph, ctx) -> str:
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if x.dtype == "int8" and is_int4(w):
        ctx.use_kernel("conv_window")
        return _emit_s4(op, graph, ctx)
    if x.dtype == "int8" and use_sparse(w, one_group=_groups(op, graph) == 1):  # compressed (ops/conv_2d_sparse.py)
        return emit_sparse_conv(op, graph, ctx)
    geom = geometry_fields(op, graph)
    x_ptr, y_ptr = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    pointwise = _pointwise(op, graph)
    # The int8 pointwise kernel reads only the folded bias: the bias array itself is then never emitted.
    bias = "" if pointwise and x.dtype == "int8" else ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    if is_hybrid(op, graph):
        ctx.use_kernel("conv_window")
        ctx.use_kernel("conv_2d_hybrid")
        lo, hi = float_activation_range(op, graph)
        params = ctx.params("mcuforge_conv_hybrid_params", {"geom": geom, "filter_scale": w.quant.scale[0],
                                                            "act_min": lo, "act_max": hi})
        w_ptr = ctx.ptr(op.inputs[1])
        return f"mcuforge_conv_hybrid({params}, {x_ptr}, {w_ptr}, {bias}, {y_ptr}, (int8_t *){ctx.scratch()});"
    ctx.use_kernel("conv_window")
    if x.dtype == "float32":
        ctx.use_kernel("conv_2d_f32")
        lo, hi = float_activation_range(op, graph)
        params = ctx.params("mcuforge_conv_f32_params", {"geom": geom, "groups": _groups(op, graph),
                                                         "act_min": lo, "act_max": hi})
        return f"mcuforge_conv_f32({params}, {x_ptr}, {ctx.ptr(op.inputs[1])}, {bias}, {y_ptr});"
    use_dense_conv_kernels(ctx)
    lo, hi = output_activation_range(op, graph)
    dsp, bias_folded, requant = _dsp_requant(op, graph)
    params = ctx.params("mcuforge_conv_params", {
        "geom": geom, "groups": _groups(op, graph), "input_offset": -x.quant.scalar_zero_point,
        "output_offset": y.quant.scalar_zero_point, "act_min": lo, "act_max": hi,
        "bias_folded": ctx.const_array("bias_folded", bias_folded),
        "requant": ctx.requant(*requant), "dsp_requant": dsp})
    scratch = ctx.scratch() if dsp else "NULL"
    if dsp and w.data[0].size % 4:
        # The DSP pair loop reads each filter row in whole groups of four: the last row's last group runs up to
        # three bytes past the filters, multiplied by the block's zero padding. Three zero bytes keep that read
        # inside the array (kernels/conv_2d_s8.c), so every pair of filters takes the assembly.
        padded = np.concatenate([w.data.reshape(-1), np.zeros(FILTER_PADDING, w.data.dtype)])
        w_ptr = ctx.weights(op.inputs[1], stored=padded, ctype="int8_t", note=FILTER_PADDING_NOTE)
    else:
        w_ptr = ctx.ptr(op.inputs[1])
    fast = _dsp_entry(op, graph, dsp)
    if pointwise:
        return f"mcuforge_conv_1x1_s8{fast}({params}, {x_ptr}, {w_ptr}, {y_ptr}, {scratch});"
    return f"mcuforge_conv_s8{fast}({params}, {x_ptr}, {w_ptr}, {bias}, {y_ptr}, {scratch});"


def _emit_s4(op: Op, graph: Graph, ctx) -> str:
    """INT4 filters (quant/int4.py): flash holds them packed two per byte, the portable kernel decodes them."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    ctx.use_kernel("int4_s8", rounding_neutral=True)
    ctx.use_kernel("conv_2d_s4")
    lo, hi = output_activation_range(op, graph)
    filter_sums = w.data.reshape(w.shape[0], -1).astype(np.int64).sum(axis=1)
    params = ctx.params("mcuforge_conv_params", {
        "geom": geometry_fields(op, graph), "groups": _groups(op, graph), "input_offset": -x.quant.scalar_zero_point,
        "output_offset": y.quant.scalar_zero_point, "act_min": lo, "act_max": hi,
        "bias_folded": ctx.const_array("bias_folded", folded_bias(op, graph, filter_sums)),
        "requant": ctx.requant(*output_multipliers(op, graph, w.shape[0]))})
    # A 1x1 filter in one group is never padded: every pixel starts from the folded bias, the bias is not read.
    pointwise = w.shape[1] == w.shape[2] == 1 and _groups(op, graph) == 1
    bias = "NULL" if pointwise else ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    return (f"mcuforge_conv_s4({params}, {ctx.ptr(op.inputs[0])}, {packed_weights(ctx, op.inputs[1])}, {bias}, "
            f"{ctx.ptr(op.outputs[0])});")


def _dsp_requant(op: Op, graph: Graph) -> tuple[int, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The int8 kernel's (`dsp_requant`, `bias_folded`, (multipliers, shifts)) (conv_common.conv_int8_requant);
    the pointwise kernel reads only the folded bias."""
    return conv_int8_requant(op, graph, folded_only=_pointwise(op, graph))


def _dsp_entry(op: Op, graph: Graph, form: int) -> str:
    """The entry point's suffix for a layer of DSP requantization `form`: "_fast"/"_wide" link only the DSP
    variant's output stage the layer needs (kernels/conv_2d_s8.h; clamp [-128, 127], one group), "_narrow"/
    "_narrow16" the weight-stationary kernels of a fast layer of their shape, "_tiles" the 3x2 tiles (`_tiles`), ""
    the generic entry."""
    full_range = output_activation_range(op, graph) == (-128, 127) and _groups(op, graph) == 1
    fast = {DSP_FOLDED: "_fast", DSP_GENERAL: "_wide"}.get(form, "") if full_range else ""
    return (_narrow(op, graph) or _tiles(op, graph) or fast) if fast == "_fast" else fast


def _pointwise(op: Op, graph: Graph) -> bool:
    """A 1x1 filter at stride 1 in one group: never padded, its int8 kernel reads the folded bias alone."""
    g = geometry_fields(op, graph)
    return g["kernel_h"] == g["kernel_w"] == g["stride_h"] == g["stride_w"] == 1 and _groups(op, graph) == 1


# kernels/dsp_gemm_s8.h: a pointwise layer of at most NARROW_MAX_K input channels into NARROW_FILTERS filters
# takes the narrow kernel (weight-stationary) with the fast output stage, with more scratch (NARROW_SCRATCH: the
# channel table, the filters' records, NARROW_PIXELS + NARROW_RUN pixels widened); its deeper kind up to
# NARROW16_MAX_K input channels into NARROW16_FILTERS filters (two passes a filter).
NARROW_MAX_K, NARROW_FILTERS, NARROW_PIXELS = 8, 16, 128
NARROW_RUN = 8
NARROW_SCRATCH = (20 + 32) * NARROW_FILTERS + 16 * (NARROW_PIXELS + NARROW_RUN)
NARROW16_MAX_K, NARROW16_FILTERS, NARROW16_PIXELS = 16, 32, 128
NARROW16_SCRATCH = (20 + 48) * NARROW16_FILTERS + (20 + 16) * (NARROW16_PIXELS + NARROW_RUN)


def _narrow(op: Op, graph: Graph) -> str:
    """The narrow entry point's suffix ("_narrow", "_narrow16") of a pointwise layer of that shape, else "". The
    deeper kind also takes a 1x1 filter at any stride (never padded: mcuforge_conv_s8_narrow16). Like the tiles
    (`_tiles`), the deeper kind is a speed-for-flash trade a model pruned to save flash does not take: its ~1.35 KB
    of code save ~0.6 cycles a MAC over the pairs on its layers (vww's 16 -> 32 layer: 1.72 against 2.30, 170k
    cycles), while the narrow kind's ~0.75 KB saves ~1.6 (vww's 8 -> 16 layer: 2.08 against 3.66, 466k cycles)."""
    w = graph.tensors[op.inputs[1]]
    one_by_one = w.shape[1] == w.shape[2] == 1 and _groups(op, graph) == 1
    if not one_by_one:
        return ""
    if _pointwise(op, graph) and w.shape[0] == NARROW_FILTERS and w.shape[3] <= NARROW_MAX_K:
        return "_narrow"
    if w.shape[0] != NARROW16_FILTERS or w.shape[3] > NARROW16_MAX_K:
        return ""
    return "" if _stores_sparse_convs(graph) else "_narrow16"


def scratch_bytes(op: Op, graph: Graph) -> int:
    """A hybrid conv quantizes one batch item of its input into int8 scratch. An int8 conv's DSP variant takes
    MCUFORGE_CONV_DSP_SCRATCH bytes (a channel table, two pixels' windows widened), or the narrow kernels' or
    the tiles' more, reserved whatever the target: the same library runs the DSP variant on cores with the DSP
    extension, portable code elsewhere. The int4 and sparse kernels need none, but for the sparse pointwise _dense
    entry point."""
    if is_hybrid(op, graph):
        shape = graph.tensors[op.inputs[0]].shape
        return shape[1] * shape[2] * shape[3]
    w = graph.tensors[op.inputs[1]]
    if graph.tensors[op.inputs[0]].dtype != "int8" or is_int4(w):
        return 0
    if use_sparse(w, one_group=_groups(op, graph) == 1):  # ops/conv_2d_sparse.py
        return dense_compute_scratch(op, graph) if dense_compute(op, graph) else 0
    form = _dsp_requant(op, graph)[0]
    if not form:
        return 0
    k, in_c = w.shape[1] * w.shape[2] * w.shape[3], graph.tensors[op.inputs[0]].shape[3]
    entry = _dsp_entry(op, graph, form)
    # a padded window's bytes and a zero word (mcuforge_conv_s8_tiles: its pixels past the tiles, whatever in_c)
    gather = k + 4 if (in_c % 4 or entry == "_tiles") and not _pointwise(op, graph) else 0
    narrow = {"_narrow": NARROW_SCRATCH, "_narrow16": NARROW16_SCRATCH}.get(entry, 0)
    pixels = graph.tensors[op.outputs[0]].size // w.shape[0]
    tiles = _tiles_scratch(k, w.shape[0], pixels) if entry == "_tiles" else 0
    return max(dsp_pairs_scratch(k, w.shape[0]) + gather, narrow, tiles)


# kernels/dsp_gemm_s8.h: the _tiles entry points run a _fast layer with an even filter count and k a multiple of 4
# in 3x2 tiles, passes of up to TILES_BYTES of them (TILES_MIN tiles at least, else none; the passes as few and as
# even as they go: MCUFORGE_DSP_TILES_EVEN) widened after the channel table, then a filter pair's rows widened (4
# bytes a value, fewer than TILES_ALIGN), ending at a multiple of TILES_ALIGN (TILES_ALIGN bytes reserved for that).
TILES_BYTES, TILES_MIN, TILES_ALIGN = 4224, 6, 512


def _tiles_per_pass(k: int, tiles: int) -> int:
    """The tiles a pass takes of a layer's `tiles` (MCUFORGE_DSP_TILES_EVEN), 0 when the tiles do not fit k."""
    most = TILES_BYTES // (6 * k)
    if most < TILES_MIN or 4 * k >= TILES_ALIGN or tiles <= 0:
        return 0
    passes = -(-tiles // most)
    return -(-tiles // passes)


def _tiles_scratch(k: int, filters: int, pixels: int) -> int:
    per_pass = _tiles_per_pass(k, pixels // 3)
    if not per_pass or filters % 2 or k % 4:
        return 0
    return 20 * filters + 6 * k * per_pass + 4 * k + TILES_ALIGN


def _tiles(op: Op, graph: Graph) -> str:
    """"_tiles" for a _fast layer of the tiles' shape (three output pixels at least), else "". The tiles run
    kws's pointwise layers at 1.28 cycles/MAC instead of 1.50 for ~1.6 KB more code: a model that stores conv
    weights sparse (pruned to save flash, as vww) keeps the smaller pairs. A layer of another filter (each window
    gathered into the tiles: kws's 10x4 first layer, 1.53 against 1.89) takes them only in a model whose pointwise
    layers link them already: the tiles' ~1.6 KB would not pay for a model's odd windowed layer (ResNet's 1x1
    stride-2 shortcut, 1% of its MACs), while the windows' own ~1.3 KB is about what the pairs' window gathering
    takes (kws then links none of it)."""
    w, y = graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    k = w.shape[1] * w.shape[2] * w.shape[3]
    if not _tiles_scratch(k, w.shape[0], y.size // y.shape[3]) or _stores_sparse_convs(graph):
        return ""
    if _pointwise(op, graph):
        return "_tiles"
    return "_tiles" if any(_links_pointwise_tiles(o, graph) for o in graph.ops) else ""


def _links_pointwise_tiles(op: Op, graph: Graph) -> bool:
    """Whether `op` is a pointwise CONV_2D that runs in the tiles (mcuforge_conv_1x1_s8_tiles)."""
    if op.type != "CONV_2D" or not _pointwise(op, graph) or graph.tensors[op.inputs[0]].dtype != "int8":
        return False
    if is_int4(graph.tensors[op.inputs[1]]):
        return False
    return _dsp_entry(op, graph, _dsp_requant(op, graph)[0]) == "_tiles"


def _stores_sparse_convs(graph: Graph) -> bool:
    """Whether any CONV_2D of the model stores its weights sparse (quant/sparse.py, the storage mode in force)."""
    return any(o.type == "CONV_2D" and sparse_op_weights(o, graph) is not None for o in graph.ops)


def _row_window(op: Op, graph: Graph) -> tuple[int, int]:
    """conv_common.row_window, but (0, 0) (every output row reads the input from its first row: no overlap) for a
    sparse conv whose several blocks of filters each read the whole input (ops/conv_2d_sparse.py dense_compute).
    With one block the _dense entry point reads a chunk's pixels before it writes their outputs, chunk after chunk
    in pixel order: a 1x1 conv's usual window holds."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if (x.dtype == "int8" and use_sparse(w, one_group=_groups(op, graph) == 1) and dense_compute(op, graph)
            and dense_compute_blocks(op, graph)[0] < w.shape[0]):
        return 0, 0
    return row_window(op, graph)


def macs(op: Op, graph: Graph) -> int:
    w = graph.tensors[op.inputs[1]]
    return graph.tensors[op.outputs[0]].size * w.shape[1] * w.shape[2] * w.shape[3]


register(OpDef(
    litert_rounding="double",
    name="CONV_2D",
    infer_shapes=infer_shapes,
    reference=reference,
    attrs={**CONV_ATTRS, "quantized_bias_type": 0},
    tflite_options="Conv2DOptions",
    check=check,
    macs=macs,
    c_kernel="conv_2d",
    emit_c=emit_c,
    scratch_bytes=scratch_bytes,
    row_window=_row_window,
    doc="2-D convolution, NHWC input, OHWI filter; SAME/VALID padding, strides, dilation, groups.",
))

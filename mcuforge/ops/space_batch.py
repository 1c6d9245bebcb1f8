"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND: move spatial blocks into the batch and back.

TFLite's converter wraps a dilated convolution in this pair (pad + space-to-batch, a plain conv on the
sub-sampled batches, batch-to-space + crop). Both take constant `block_shape` [M] and `paddings` / `crops`
[M, 2] inputs over the M = rank - 2 spatial axes of a 3-D (NHC) or 4-D (NHWC) tensor, as TFLite does.
Pure data movement: the output keeps the input's quantization.

Padding value: LiteRT pads an int8 tensor with its zero point (a real 0.0), which is what the dilated-conv
rewrite needs. TFLite Micro's SPACE_TO_BATCH_ND never sets `output_offset` (its Prepare leaves the persistent
SpaceToBatchParams untouched), so it pads with whatever that memory holds. We follow LiteRT."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require
from mcuforge.ops.registry import OpDef, register


def _constant_operands(op: Op, graph: Graph, edge_name: str) -> tuple[list[int], np.ndarray]:
    """(block_shape, paddings-or-crops [M, 2]) after checking them against the input."""
    x = graph.tensors[op.inputs[0]]
    require(len(op.inputs) == 3 and all(op.inputs), op, graph, f"needs input, block_shape and {edge_name}")
    block_t, edges_t = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
    require(block_t.is_constant and edges_t.is_constant, op, graph, f"block_shape and {edge_name} must be constants")
    require(len(x.shape) in (3, 4), op, graph, f"input must be 3-D (NHC) or 4-D (NHWC), got {list(x.shape)}")
    spatial = len(x.shape) - 2
    block = [int(v) for v in block_t.data.reshape(-1)]
    require(len(block) == spatial, op, graph, f"block_shape has {len(block)} values for {spatial} spatial axes")
    require(all(b >= 1 for b in block), op, graph, f"block_shape {block} must be positive")
    require(edges_t.size == 2 * spatial, op, graph, f"{edge_name} must be [{spatial}, 2], got {list(edges_t.shape)}")
    edges = edges_t.data.reshape(spatial, 2).astype(np.int64)
    require(bool((edges >= 0).all()), op, graph, f"{edge_name} {edges.tolist()} must be non-negative")
    return block, edges


def _check_same_quant(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    if x.dtype == "int8":
        require(x.quant is not None and y.quant is not None, op, graph, "int8 tensors need quantization parameters")
        require(np.array_equal(x.quant.scale, y.quant.scale) and np.array_equal(x.quant.zero_point,
                                                                                y.quant.zero_point),
                op, graph, "input and output quantization differ (moving data cannot requantize)")


def _space_to_batch_shape(op: Op, graph: Graph):
    x = graph.tensors[op.inputs[0]]
    block, paddings = _constant_operands(op, graph, "paddings")
    spatial = []
    for axis, (b, (before, after)) in enumerate(zip(block, paddings), start=1):
        padded = x.shape[axis] + int(before) + int(after)
        require(padded % b == 0, op, graph, f"padded size {padded} of axis {axis} is not a multiple of block {b}")
        spatial.append(padded // b)
    return [(x.shape[0] * int(np.prod(block)), *spatial, x.shape[-1])]


def _space_to_batch(op: Op, graph: Graph, inputs):
    x, block, paddings = inputs[0], [int(v) for v in inputs[1].reshape(-1)], inputs[2].reshape(-1, 2)
    quant = graph.tensors[op.outputs[0]].quant
    pad_value = quant.scalar_zero_point if x.dtype != np.float32 and quant is not None else 0
    padded = np.pad(x, [(0, 0), *[(int(a), int(b)) for a, b in paddings], (0, 0)], constant_values=pad_value)
    m, batch = len(block), x.shape[0]
    # [N, S1/B1, B1, S2/B2, B2, C] -> [B1, B2, N, S1/B1, S2/B2, C]: batch index (b1 * B2 + b2) * N + n.
    split = [batch] + [d for i, b in enumerate(block) for d in (padded.shape[1 + i] // b, b)] + [x.shape[-1]]
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + [2 * m + 1]
    return [padded.reshape(split).transpose(order).reshape(graph.tensors[op.outputs[0]].shape)]


def _batch_to_space_shape(op: Op, graph: Graph):
    x = graph.tensors[op.inputs[0]]
    block, crops = _constant_operands(op, graph, "crops")
    blocks = int(np.prod(block))
    require(x.shape[0] % blocks == 0, op, graph, f"batch {x.shape[0]} is not a multiple of the {blocks} blocks")
    spatial = []
    for axis, (b, (before, after)) in enumerate(zip(block, crops), start=1):
        size = x.shape[axis] * b - int(before) - int(after)
        require(size > 0, op, graph, f"crops {crops.tolist()} remove all of axis {axis}")
        spatial.append(size)
    return [(x.shape[0] // blocks, *spatial, x.shape[-1])]


def _batch_to_space(op: Op, graph: Graph, inputs):
    x, block, crops = inputs[0], [int(v) for v in inputs[1].reshape(-1)], inputs[2].reshape(-1, 2)
    m, batch = len(block), x.shape[0] // int(np.prod(block))
    # [B1, B2, N, S1, S2, C] -> [N, S1, B1, S2, B2, C]: the inverse of _space_to_batch's shuffle.
    split = block + [batch] + list(x.shape[1:])
    order = [m] + [d for i in range(m) for d in (m + 1 + i, i)] + [2 * m + 1]
    full = x.reshape(split).transpose(order).reshape([batch] + [s * b for s, b in zip(x.shape[1:-1], block)]
                                                     + [x.shape[-1]])
    window = tuple(slice(int(a), full.shape[1 + i] - int(b)) for i, (a, b) in enumerate(crops))
    return [full[(slice(None), *window)]]


def _kernel_params(op: Op, graph: Graph, ctx, spatial: str, blocked: str) -> str:
    """The mcuforge_space_batch_params of either op: `spatial` and `blocked` name its NHWC (or NHC) tensors."""
    s, t = graph.tensors[spatial], graph.tensors[blocked]
    block = [int(v) for v in graph.tensors[op.inputs[1]].data.reshape(-1)] + [1]  # NHC: a W axis of 1
    edges = graph.tensors[op.inputs[2]].data.reshape(-1, 2).astype(np.int64).tolist() + [[0, 0]]
    wide = len(s.shape) == 4
    ctx.use_kernel("space_batch")
    return ctx.params("mcuforge_space_batch_params", {
        "batches": s.shape[0], "space_h": s.shape[1], "space_w": s.shape[2] if wide else 1,
        "blocked_h": t.shape[1], "blocked_w": t.shape[2] if wide else 1, "block_h": block[0], "block_w": block[1],
        "edge_top": edges[0][0], "edge_left": edges[1][0], "pixel_bytes": s.shape[-1] * s.nbytes // s.size,
        "element_size": s.nbytes // s.size})


def _emit_space_to_batch(op: Op, graph: Graph, ctx) -> str:
    params = _kernel_params(op, graph, ctx, op.inputs[0], op.outputs[0])
    y = graph.tensors[op.outputs[0]]
    pad = np.zeros(1, y.dtype)
    if y.dtype != "float32" and y.quant is not None:
        pad[0] = y.quant.scalar_zero_point
    pad_bytes = ctx.const_array("pad_value", np.frombuffer(pad.tobytes(), np.uint8), "uint8_t")
    return f"mcuforge_space_to_batch({params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}, {pad_bytes});"


def _emit_batch_to_space(op: Op, graph: Graph, ctx) -> str:
    params = _kernel_params(op, graph, ctx, op.outputs[0], op.inputs[0])
    return f"mcuforge_batch_to_space({params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])});"


register(OpDef(name="SPACE_TO_BATCH_ND", infer_shapes=_space_to_batch_shape, reference=_space_to_batch,
               tflite_options="SpaceToBatchNDOptions", check=_check_same_quant, c_kernel="space_batch",
               emit_c=_emit_space_to_batch,
               doc="Zero-pad, then move spatial blocks into the batch (dilated-conv prologue)."))
register(OpDef(name="BATCH_TO_SPACE_ND", infer_shapes=_batch_to_space_shape, reference=_batch_to_space,
               tflite_options="BatchToSpaceNDOptions", check=_check_same_quant, c_kernel="space_batch",
               emit_c=_emit_batch_to_space,
               doc="Move batch blocks back into space, then crop (dilated-conv epilogue)."))

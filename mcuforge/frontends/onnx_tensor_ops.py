"""ONNX element-wise, shape and reduction ops -> IR, with axes remapped for values held NHWC.

Element-wise ops keep their input's layout; a binary op whose result is 4-D works in NHWC when either operand
is NHWC (constants are transposed at import, lower-rank operands broadcast as ONNX does). Shape ops work on
ONNX's element order, except Flatten/Reshape of an NHWC value to [N, C*H*W], which flattens the NHWC tensor
as it is and leaves the (h, w, c) order for the next dense layer to absorb (see onnx_values.Value)."""

from __future__ import annotations

import numpy as np

from mcuforge.frontends.onnx_values import (
    NCHW_TO_NHWC,
    NHWC_AXIS,
    ImportContext,
    Value,
    keeps_memory_order,
)

# ONNX ops that map to one IR op of the same meaning, element by element.
UNARY = {"Relu": "RELU", "Sigmoid": "LOGISTIC", "Tanh": "TANH", "HardSwish": "HARD_SWISH"}
# Clip bounds TFLite has an activation op for.
CLIPS = {(0.0, 6.0): "RELU6", (0.0, np.inf): "RELU", (-1.0, 1.0): "RELU_N1_TO_1", (0.0, 1.0): "RELU_0_TO_1"}
BINARY = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "MUL"}


def _unary(ctx: ImportContext, op_type: str, attrs: dict | None = None) -> None:
    x = ctx.input(0)
    data = x.name if x.layout != "plain" else ctx.plain(x)
    ctx.set_output(ctx.like(x, ctx.emit(op_type, [data], attrs, out=ctx.out_name())))


def convert_unary(ctx: ImportContext, node, attrs: dict) -> None:
    _unary(ctx, UNARY[node.op_type])


def convert_leaky_relu(ctx: ImportContext, node, attrs: dict) -> None:
    _unary(ctx, "LEAKY_RELU", {"alpha": float(attrs.get("alpha", 0.01))})


def convert_clip(ctx: ImportContext, node, attrs: dict) -> None:
    if ctx.opset < 11:
        lo, hi = attrs.get("min", -np.inf), attrs.get("max", np.inf)
    else:
        lo_t, hi_t = ctx.const_input(1, "min"), ctx.const_input(2, "max")
        lo = float(lo_t.reshape(-1)[0]) if lo_t is not None else -np.inf
        hi = float(hi_t.reshape(-1)[0]) if hi_t is not None else np.inf
    op_type = CLIPS.get((float(lo), float(hi)))
    if op_type is None:
        raise ctx.error(f"Clip({lo}, {hi}) is not supported (only [0, 6], [0, inf), [-1, 1] and [0, 1])")
    _unary(ctx, op_type)


def convert_hard_sigmoid(ctx: ImportContext, node, attrs: dict) -> None:
    """max(0, min(1, alpha * x + beta)) as MUL, ADD and RELU_0_TO_1 (TFLite has no hard sigmoid)."""
    x = ctx.input(0)
    data = x.name if x.layout != "plain" else ctx.plain(x)
    scaled = ctx.emit("MUL", [data, ctx.const(np.float32(attrs.get("alpha", 0.2)), "alpha")])
    shifted = ctx.emit("ADD", [scaled, ctx.const(np.float32(attrs.get("beta", 0.5)), "beta")])
    ctx.set_output(ctx.like(x, ctx.emit("RELU_0_TO_1", [shifted], out=ctx.out_name())))


def convert_identity(ctx: ImportContext, node, attrs: dict) -> None:
    """Identity, Dropout (inference), and Cast between float types: the output is the input."""
    if node.op_type == "Cast" and attrs.get("to") != 1:  # 1: FLOAT
        raise ctx.error("only casts to float are supported on activations")
    if node.op_type == "Dropout" and any(node.output[1:]):
        raise ctx.error("the mask output is not supported")
    ctx.set_output(ctx.input(0))


def _operand(ctx: ImportContext, v: Value, rank: int, nhwc: bool) -> str:
    """One operand of a broadcasting op whose result has `rank` dimensions, as an IR tensor."""
    shape = ctx.shape(v)
    if not nhwc:
        if v.is_const:
            return ctx.const(v.const, "operand", "float32")
        return ctx.plain(v)
    if v.is_const:
        data = v.const.astype(np.float32).reshape((1,) * (rank - len(shape)) + shape)
        return ctx.const(data.transpose(NCHW_TO_NHWC), "operand")
    if len(shape) < 4:  # broadcast as ONNX does: leading ones, then into NHWC
        return ctx.nhwc(Value(ctx.reshape(ctx.plain(v), (1,) * (4 - len(shape)) + shape)))
    return ctx.nhwc(v)


def convert_binary(ctx: ImportContext, node, attrs: dict) -> None:
    a, b = ctx.input(0), ctx.input(1)
    op_type = BINARY[node.op_type]
    if node.op_type == "Div":
        if not b.is_const:
            raise ctx.error("division by a non-constant tensor is not supported")
        b = Value(const=(np.float32(1) / b.const.astype(np.float32)))
    if a.layout == b.layout == "flat_hwc" and a.hwc == b.hwc:
        ctx.set_output(ctx.like(a, ctx.emit(op_type, [a.name, b.name], out=ctx.out_name())))
        return
    rank = max(len(ctx.shape(a)), len(ctx.shape(b)))
    nhwc = rank == 4 and "nhwc" in (a.layout, b.layout)
    inputs = [_operand(ctx, v, rank, nhwc) for v in (a, b)]
    ctx.set_output(Value(ctx.emit(op_type, inputs, out=ctx.out_name()), "nhwc" if nhwc else "plain"))


def _flatten_nhwc(ctx: ImportContext, x: Value) -> None:
    """[N, C, H, W] held NHWC -> [N, C*H*W]: a free RESHAPE; the elements stay in (h, w, c) order unless the
    orders coincide."""
    n, c, h, w = ctx.shape(x)
    out = ctx.reshape(x.name, (n, c * h * w), out=ctx.out_name())
    ctx.set_output(Value(out) if keeps_memory_order((n, c, h, w)) else Value(out, "flat_hwc", hwc=(h, w, c)))


def _reshape_to(ctx: ImportContext, x: Value, shape) -> None:
    shape = tuple(int(d) for d in shape)
    if x.layout == "nhwc" and len(shape) == 2 and shape[0] == ctx.shape(x)[0]:
        _flatten_nhwc(ctx, x)
    elif x.layout == "flat_hwc" and shape == ctx.shape(x):
        ctx.set_output(x)
    else:
        ctx.set_output(Value(ctx.reshape(ctx.plain(x), shape, out=ctx.out_name())))


def convert_flatten(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    shape = ctx.shape(x)
    axis = int(attrs.get("axis", 1))
    axis = axis + len(shape) if axis < 0 else axis
    _reshape_to(ctx, x, (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64))))


def convert_reshape(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    in_shape = ctx.shape(x)
    target = [int(d) for d in ctx.const_input(1, "the shape")]
    if not attrs.get("allowzero", 0):
        target = [in_shape[i] if d == 0 else d for i, d in enumerate(target)]
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        target[target.index(-1)] = int(np.prod(in_shape, dtype=np.int64)) // known
    _reshape_to(ctx, x, target)


def _axes(ctx: ImportContext, attrs: dict, input_index: int, name: str = "axes") -> list[int] | None:
    """An axes operand: an input from the opset that moved it there, an attribute before."""
    if name in attrs:
        return [int(a) for a in attrs[name]]
    axes = ctx.const_input(input_index, name)
    return None if axes is None else [int(a) for a in axes.reshape(-1)]


def convert_squeeze(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    shape = ctx.shape(x)
    axes = _axes(ctx, attrs, 1)
    if axes is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    axes = {a % len(shape) for a in axes}
    _reshape_to(ctx, x, [d for i, d in enumerate(shape) if i not in axes])


def convert_unsqueeze(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    shape = list(ctx.shape(x))
    axes = _axes(ctx, attrs, 1)
    rank = len(shape) + len(axes)
    for a in sorted(a % rank for a in axes):
        shape.insert(a, 1)
    _reshape_to(ctx, x, shape)


def convert_transpose(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    rank = len(ctx.shape(x))
    perm = [int(p) for p in attrs.get("perm", range(rank - 1, -1, -1))]
    if x.layout != "nhwc":
        data = ctx.plain(x)
        ctx.set_output(Value(ctx.transpose(data, perm, out=ctx.out_name())) if perm != list(range(rank)) else x)
        return
    # Compose with the NCHW -> NHWC move already made: free when the two cancel (a TensorFlow-style NCHW ->
    # NHWC transpose), else one TRANSPOSE straight to the result's NHWC form.
    to_plain = [NHWC_AXIS[p] for p in perm]
    if to_plain == list(range(rank)):
        ctx.set_output(Value(x.name))
        return
    to_nhwc = [NHWC_AXIS[perm[q]] for q in NCHW_TO_NHWC]
    ctx.set_output(Value(ctx.transpose(x.name, to_nhwc, out=ctx.out_name()), "nhwc"))


def convert_concat(ctx: ImportContext, node, attrs: dict) -> None:
    values = [ctx.value(n) for n in node.input if n]
    rank = len(ctx.shape(values[0]))
    axis = int(attrs["axis"]) % rank
    if rank == 4 and any(v.layout == "nhwc" for v in values):
        inputs, axis, layout = [ctx.nhwc(v) for v in values], NHWC_AXIS[axis], "nhwc"
    else:
        inputs, layout = [ctx.plain(v) for v in values], "plain"
    ctx.set_output(Value(ctx.emit("CONCATENATION", inputs, {"axis": axis}, out=ctx.out_name()), layout))


def convert_pad(ctx: ImportContext, node, attrs: dict) -> None:
    if attrs.get("mode", "constant") != "constant":
        raise ctx.error(f"pad mode {attrs['mode']!r} is not supported (only constant)")
    x = ctx.input(0)
    rank = len(ctx.shape(x))
    if ctx.opset < 11:
        pads, fill = [int(p) for p in attrs["pads"]], float(attrs.get("value", 0.0))
    else:
        pads = [int(p) for p in ctx.const_input(1, "pads").reshape(-1)]
        fill_t = ctx.const_input(2, "constant_value")
        fill = float(fill_t.reshape(-1)[0]) if fill_t is not None and fill_t.size else 0.0
        axes = _axes(ctx, {}, 3) if len(node.input) > 3 and node.input[3] else None
        if axes is not None:
            full = [0] * (2 * rank)
            for i, a in enumerate(a % rank for a in axes):
                full[a], full[a + rank] = pads[i], pads[i + len(axes)]
            pads = full
    if any(p < 0 for p in pads):
        raise ctx.error("negative pads (cropping) are not supported")
    pairs = [(pads[i], pads[i + rank]) for i in range(rank)]
    if x.layout == "nhwc":
        data, pairs, layout = x.name, [pairs[a] for a in NCHW_TO_NHWC], "nhwc"
    else:
        data, layout = ctx.plain(x), "plain"
    inputs = [data, ctx.const(np.array(pairs), "pads", "int32")]
    if fill != 0.0:
        inputs.append(ctx.const(np.array([fill]), "fill"))
    ctx.set_output(Value(ctx.emit("PADV2" if fill != 0.0 else "PAD", inputs, out=ctx.out_name()), layout))


def convert_softmax(ctx: ImportContext, node, attrs: dict) -> None:
    x = ctx.input(0)
    shape = ctx.shape(x)
    rank = len(shape)
    axis = int(attrs.get("axis", -1 if ctx.opset >= 13 else 1)) % rank
    if x.layout == "flat_hwc" and axis == 1:  # a softmax over a whole row does not care about its order
        ctx.set_output(ctx.like(x, ctx.emit("SOFTMAX", [x.name], out=ctx.out_name())))
        return
    if ctx.opset < 13 and axis != rank - 1:  # softmax over the flattened trailing dimensions
        rows = ctx.reshape(ctx.plain(x), (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))
        ctx.set_output(Value(ctx.reshape(ctx.emit("SOFTMAX", [rows]), shape, out=ctx.out_name())))
        return
    if x.layout == "nhwc":
        data, axis, layout = x.name, NHWC_AXIS[axis], "nhwc"
    else:
        data, layout = ctx.plain(x), "plain"
    if axis == rank - 1:
        ctx.set_output(Value(ctx.emit("SOFTMAX", [data], out=ctx.out_name()), layout))
        return
    perm = [d for d in range(rank) if d != axis] + [axis]  # TFLite's SOFTMAX works on the last axis
    moved = ctx.emit("SOFTMAX", [ctx.transpose(data, perm)])
    ctx.set_output(Value(ctx.transpose(moved, list(np.argsort(perm)), out=ctx.out_name()), layout))


def convert_reduce(ctx: ImportContext, node, attrs: dict) -> None:
    op_type = {"ReduceMean": "MEAN", "ReduceMax": "REDUCE_MAX"}[node.op_type]
    x = ctx.input(0)
    rank = len(ctx.shape(x))
    axes = _axes(ctx, attrs, 1)
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            ctx.set_output(x)
            return
        axes = list(range(rank))
    axes = sorted({a % rank for a in axes})
    keep = bool(attrs.get("keepdims", 1))
    kept = [NHWC_AXIS[a] for a in range(rank) if a not in axes] if x.layout == "nhwc" else []
    if x.layout == "nhwc" and (keep or kept == sorted(kept)):  # kept axes stay in ONNX's order
        data, axes, layout = x.name, [NHWC_AXIS[a] for a in axes], "nhwc" if keep else "plain"
    elif x.layout == "flat_hwc" and 1 in axes:  # the whole row: its order does not matter
        data, layout = x.name, "plain"
    else:
        data, layout = ctx.plain(x), "plain"
    out = ctx.emit(op_type, [data, ctx.const(np.array(axes), "axes", "int32")], {"keep_dims": keep},
                   out=ctx.out_name())
    ctx.set_output(Value(out, layout))


CONVERTERS = {
    **{name: convert_unary for name in UNARY},
    "LeakyRelu": convert_leaky_relu,
    "Clip": convert_clip,
    "HardSigmoid": convert_hard_sigmoid,
    "Identity": convert_identity,
    "Dropout": convert_identity,
    "Cast": convert_identity,
    **{name: convert_binary for name in BINARY},
    "Flatten": convert_flatten,
    "Reshape": convert_reshape,
    "Squeeze": convert_squeeze,
    "Unsqueeze": convert_unsqueeze,
    "Transpose": convert_transpose,
    "Concat": convert_concat,
    "Pad": convert_pad,
    "Softmax": convert_softmax,
    "ReduceMean": convert_reduce,
    "ReduceMax": convert_reduce,
}

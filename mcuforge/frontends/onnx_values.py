"""The state of one ONNX import: which IR tensor holds each ONNX value, in which layout, and the helpers the
op converters emit IR ops through.

ONNX is NCHW, the IR (like TFLite) NHWC. Rather than transposing around every op, each value remembers the
layout its IR tensor is in, and a converter asks for the layout it needs (`plain`: ONNX's own, `nhwc`); a
TRANSPOSE is emitted only where a value really crosses layouts, and none at all when the move keeps the memory
order (C == 1, or H == W == 1: then a RESHAPE, which costs nothing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Op, Tensor
from mcuforge.ops.registry import get_op

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)
NHWC_AXIS = (0, 3, 1, 2)  # ONNX axis a of a 4-D NCHW value is axis NHWC_AXIS[a] of its NHWC tensor


@dataclass
class Value:
    """An ONNX value as the import holds it.

    layout "plain": the IR tensor `name` has the ONNX shape and element order;
    "nhwc": a 4-D NCHW value whose IR tensor is NHWC;
    "flat_hwc": a Flatten to [N, C*H*W] of an NHWC tensor, whose IR tensor is in (h, w, c) order (NHWC
    memory) rather than ONNX's (c, h, w); `hwc` = (H, W, C). A following MatMul/Gemm permutes its weight
    columns instead of the data.
    A constant has `const` set and gets an IR tensor only where an op reads it."""

    name: str = ""
    layout: str = "plain"
    const: np.ndarray | None = None
    hwc: tuple[int, int, int] = ()

    @property
    def is_const(self) -> bool:
        return self.const is not None


def node_label(node) -> str:
    """How errors name a node: its name, or its first output when it has none."""
    return repr(node.name) if node.name else f"(unnamed, output {node.output[0]!r})"


def keeps_memory_order(nchw_shape) -> bool:
    """Whether NCHW <-> NHWC leaves the elements in the same order (then a RESHAPE moves between them)."""
    _, c, h, w = nchw_shape
    return c == 1 or h * w == 1


class ImportContext:
    def __init__(self, graph: Graph, opset: int, source: str):
        self.graph = graph
        self.opset = opset
        self.source = source
        self.values: dict[str, Value] = {}
        self.node = None  # the NodeProto being converted: names the IR ops and the errors
        self._converted: dict[tuple[str, str], str] = {}  # (IR tensor, wanted layout) -> converted tensor

    # --- errors and names ---

    def error(self, message: str) -> UnsupportedOpError:
        node = self.node
        return UnsupportedOpError(f"{self.source}: ONNX {node.op_type} node {node_label(node)}: {message}")

    def fresh(self, hint: str) -> str:
        name, i = hint, 1
        while name in self.graph.tensors:
            name, i = f"{hint}:{i}", i + 1
        return name

    def _hint(self, suffix: str) -> str:
        base = (self.node.name or self.node.output[0]) if self.node is not None else "onnx"
        return f"{base}/{suffix}"

    # --- values ---

    def value(self, name: str) -> Value:
        try:
            return self.values[name]
        except KeyError:
            raise self.error(f"input {name!r} is not available (an unsupported optional output?)") from None

    def input(self, index: int) -> Value | None:
        """The node's input `index`, or None when absent."""
        inputs = self.node.input
        return self.value(inputs[index]) if index < len(inputs) and inputs[index] else None

    def const_input(self, index: int, what: str) -> np.ndarray | None:
        v = self.input(index)
        if v is None:
            return None
        if not v.is_const:
            raise self.error(f"{what} must be a constant")
        return v.const

    def set_output(self, value: Value, index: int = 0) -> None:
        self.values[self.node.output[index]] = value

    def out_name(self, index: int = 0) -> str:
        """The name for the IR tensor of the node's output `index` (the ONNX name, when free)."""
        return self.node.output[index]

    def shape(self, v: Value) -> tuple[int, ...]:
        """The ONNX shape of a value."""
        if v.is_const:
            return tuple(v.const.shape)
        shape = self.graph.tensors[v.name].shape
        return tuple(shape[i] for i in NHWC_TO_NCHW) if v.layout == "nhwc" else shape

    # --- emitting IR ---

    def const(self, array, hint: str = "const", dtype: str = "float32") -> str:
        array = np.asarray(array).astype(dtype)
        name = self.fresh(self._hint(hint))
        self.graph.add_tensor(Tensor(name, array.shape, dtype, data=array))
        return name

    def emit(self, op_type: str, inputs: list[str], attrs: dict | None = None, out: str | None = None) -> str:
        """Append one IR op; its output tensor gets the shape the op's rule infers and the first input's dtype."""
        opdef = get_op(op_type)
        name = self.fresh(out or self._hint(op_type.lower()))
        op = Op(op_type, list(inputs), [name], {**opdef.attrs, **(attrs or {})},
                name=self.node.name if self.node is not None else "")
        dtype = self.graph.tensors[inputs[0]].dtype
        self.graph.add_tensor(Tensor(name, (), dtype))  # the shape rule may name the output in its errors
        shape = opdef.infer_shapes(op, self.graph)[0]
        self.graph.tensors[name] = Tensor(name, shape, dtype)
        self.graph.ops.append(op)
        return name

    def reshape(self, name: str, shape, out: str | None = None) -> str:
        shape = [int(d) for d in shape]
        return self.emit("RESHAPE", [name, self.const(np.array(shape), "shape", "int32")], {"new_shape": shape}, out)

    def transpose(self, name: str, perm, out: str | None = None) -> str:
        return self.emit("TRANSPOSE", [name, self.const(np.array(perm), "perm", "int32")], out=out)

    # --- layouts ---

    def plain(self, v: Value) -> str:
        """An IR tensor holding the value in ONNX's shape and element order."""
        if v.is_const:
            if not v.name:
                v.name = self.const(v.const, "const", _ir_dtype(v.const))
            return v.name
        if v.layout == "plain":
            return v.name
        key = (v.name, "plain")
        if key not in self._converted:
            if v.layout == "nhwc":
                nchw = self.shape(v)
                converted = (self.reshape(v.name, nchw, out=f"{v.name}/nchw") if keeps_memory_order(nchw)
                             else self.transpose(v.name, NHWC_TO_NCHW, out=f"{v.name}/nchw"))
            else:  # flat_hwc: back to NHWC, to NCHW, flattened again
                n, (h, w, c) = self.graph.tensors[v.name].shape[0], v.hwc
                nhwc = self.reshape(v.name, (n, h, w, c), out=f"{v.name}/nhwc")
                converted = self.reshape(self.transpose(nhwc, NHWC_TO_NCHW), (n, c * h * w), out=f"{v.name}/chw")
            self._converted[key] = converted
        return self._converted[key]

    def nhwc(self, v: Value) -> str:
        """An IR tensor holding a 4-D value in NHWC."""
        shape = self.shape(v)
        if len(shape) != 4:
            raise self.error(f"expected a 4-D NCHW tensor, got shape {list(shape)}")
        if v.is_const:
            return self.const(v.const.transpose(NCHW_TO_NHWC), "const_nhwc", _ir_dtype(v.const))
        if v.layout == "nhwc":
            return v.name
        key = (v.name, "nhwc")
        if key not in self._converted:
            name = self.plain(v)
            nhwc_shape = [shape[i] for i in NCHW_TO_NHWC]
            self._converted[key] = (self.reshape(name, nhwc_shape, out=f"{name}/nhwc") if keeps_memory_order(shape)
                                    else self.transpose(name, NCHW_TO_NHWC, out=f"{name}/nhwc"))
        return self._converted[key]

    def like(self, v: Value, name: str) -> Value:
        """A value in the same layout as `v` (for ops that work element by element)."""
        return Value(name, v.layout, hwc=v.hwc)


def _ir_dtype(array: np.ndarray) -> str:
    """Float constants become float32, integer ones int32 (TFLite's index type), booleans stay."""
    if array.dtype.kind == "f":
        return "float32"
    if array.dtype.kind == "b":
        return "bool"
    return "int32"

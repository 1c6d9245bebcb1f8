"""ONNX model -> Graph (float32), NCHW converted to NHWC at import.

Graph inputs and outputs of rank 4 are NHWC (the IR's layout); other ranks keep ONNX's shape. Shapes must be
static: a symbolic dimension (a dynamic batch) is taken as 1. Every node whose inputs are all constant (the
Shape -> Gather -> Concat glue exporters emit around Reshape, Constant nodes, ...) is evaluated at import by
onnx's reference evaluator, so only real layers reach the op converters (onnx_nn_ops.py, onnx_tensor_ops.py).
Needs the `onnx` package (`pip install mcuforge[torch]`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuforge.errors import ModelFormatError, UnsupportedOpError
from mcuforge.frontends import read_model_file
from mcuforge.frontends.onnx_values import (
    NCHW_TO_NHWC,
    ImportContext,
    Value,
    node_label,
)
from mcuforge.ir import Graph, Tensor

ONNX_HINT = "see `mcuforge.frontends.onnx_import.supported_onnx_ops()` for the ONNX ops mcuforge imports"
# Ops that are not functions of their inputs: never evaluated at import.
RANDOM_OPS = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ModelFormatError("reading ONNX models needs the `onnx` package (pip install 'mcuforge[torch]')") from None
    return onnx


def _converters() -> dict:
    from mcuforge.frontends.onnx_nn_ops import CONVERTERS as NN
    from mcuforge.frontends.onnx_tensor_ops import CONVERTERS as TENSOR

    return {**NN, **TENSOR}


def supported_onnx_ops() -> list[str]:
    """The ONNX op types the importer converts (any op is accepted where all its inputs are constant)."""
    return sorted(set(_converters()) | {"Constant", "Shape", "Size"})


def load_onnx(path: str | Path) -> Graph:
    path = Path(path)
    return parse_onnx(read_model_file(path), str(path), weights_dir=path.parent)


def parse_onnx(model, source: str = "<onnx>", weights_dir: Path | None = None) -> Graph:
    """An ONNX ModelProto, or its serialized bytes -> Graph (not yet simplified nor validated). Weights stored
    as external data are read from `weights_dir` (a model file's folder)."""
    onnx = _onnx()
    if isinstance(model, (bytes, bytearray)):
        if not model:
            raise ModelFormatError(f"{source}: empty file")
        try:
            model = onnx.load_model_from_string(bytes(model))
        except Exception as exc:  # protobuf raises DecodeError and friends on garbage
            raise ModelFormatError(f"{source}: not a readable ONNX model ({type(exc).__name__})") from None
    if not model.graph.node and not model.graph.output:
        raise ModelFormatError(f"{source}: not an ONNX model (no graph)")
    if weights_dir is not None and _has_external_data(model):
        from onnx.external_data_helper import load_external_data_for_model

        try:
            load_external_data_for_model(model, str(weights_dir))
        except OSError as exc:
            raise ModelFormatError(f"{source}: cannot read the external weights ({exc})") from None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    name = Path(source).stem if not source.startswith("<") else (model.graph.name or "model")
    ctx = ImportContext(Graph(name=name, source=source), opset, source)
    _read_constants(ctx, model.graph)
    _read_inputs(ctx, model.graph)
    converters = _converters()
    for node in model.graph.node:
        ctx.node = node
        _convert_node(ctx, node, converters)
    ctx.node = None
    _set_outputs(ctx, model.graph)
    _remove_dead_ops(ctx.graph)
    _name_outputs_as_onnx(ctx.graph, [out.name for out in model.graph.output])
    return ctx.graph


def _has_external_data(model) -> bool:
    from onnx import TensorProto

    return any(init.data_location == TensorProto.EXTERNAL for init in model.graph.initializer)


def _read_constants(ctx: ImportContext, graph) -> None:
    from onnx import TensorProto, numpy_helper

    for init in graph.initializer:
        if init.data_location == TensorProto.EXTERNAL:
            raise ModelFormatError(f"{ctx.source}: initializer {init.name!r} is stored in an external file; "
                                   "import the model from its path (or export with external_data=False)")
        ctx.values[init.name] = Value(const=numpy_helper.to_array(init))


def _read_inputs(ctx: ImportContext, graph) -> None:
    from onnx import TensorProto

    for inp in graph.input:
        if inp.name in ctx.values:  # an initializer listed as an input (IR version < 4): a constant
            continue
        tensor_type = inp.type.tensor_type
        if tensor_type.elem_type != TensorProto.FLOAT:
            raise UnsupportedOpError(f"{ctx.source}: input {inp.name!r} has element type "
                                     f"{TensorProto.DataType.Name(tensor_type.elem_type)}; only float inputs "
                                     "are supported")
        shape = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                      for d in tensor_type.shape.dim)
        if len(shape) == 4:
            ctx.graph.add_tensor(Tensor(inp.name, tuple(shape[i] for i in NCHW_TO_NHWC), "float32"))
            ctx.values[inp.name] = Value(inp.name, "nhwc")
        else:
            ctx.graph.add_tensor(Tensor(inp.name, shape, "float32"))
            ctx.values[inp.name] = Value(inp.name)
        ctx.graph.inputs.append(inp.name)


def _attributes(node) -> dict:
    from onnx import helper

    attrs = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        attrs[a.name] = value.decode() if isinstance(value, bytes) else value
    return attrs


def _convert_node(ctx: ImportContext, node, converters: dict) -> None:
    if node.domain not in ("", "ai.onnx"):
        raise UnsupportedOpError(f"{ctx.source}: unsupported ONNX op {node.domain}.{node.op_type} "
                                 f"(node {node_label(node)}); {ONNX_HINT}")
    inputs = [ctx.value(n) if n else None for n in node.input]
    if node.op_type in ("Shape", "Size") and inputs[0] is not None and not inputs[0].is_const:
        shape = np.array(ctx.shape(inputs[0]), dtype=np.int64)
        if node.op_type == "Size":
            ctx.set_output(Value(const=np.array(np.prod(shape), dtype=np.int64)))
        else:
            attrs = _attributes(node)
            ctx.set_output(Value(const=shape[attrs.get("start", 0):attrs.get("end", len(shape))]))
        return
    if all(v is None or v.is_const for v in inputs) and node.op_type not in RANDOM_OPS:
        _fold(ctx, node, inputs)
        return
    converter = converters.get(node.op_type)
    if converter is None:
        raise UnsupportedOpError(f"{ctx.source}: unsupported ONNX op {node.op_type} (node {node_label(node)}); "
                                 f"{ONNX_HINT}")
    converter(ctx, node, _attributes(node))


def _fold(ctx: ImportContext, node, inputs: list[Value | None]) -> None:
    """Evaluate a node of constants with onnx's reference implementation, under the model's opset."""
    from onnx.reference import ReferenceEvaluator

    feeds = {name: v.const for name, v in zip(node.input, inputs) if v is not None}
    try:
        results = ReferenceEvaluator(node, opsets={"": ctx.opset}).run(None, feeds)
    except Exception as exc:  # the reference raises assorted errors on ops or attributes it does not know
        raise ctx.error(f"cannot evaluate this node of constants ({type(exc).__name__}: {exc})") from None
    for i, result in enumerate(results):
        if node.output[i]:
            ctx.set_output(Value(const=np.asarray(result)), i)


def _set_outputs(ctx: ImportContext, graph) -> None:
    for out in graph.output:
        v = ctx.values.get(out.name)
        if v is None:
            raise ModelFormatError(f"{ctx.source}: graph output {out.name!r} is never computed")
        name = ctx.nhwc(v) if len(ctx.shape(v)) == 4 else ctx.plain(v)
        if v.is_const and ctx.graph.tensors[name].dtype != "float32":
            raise UnsupportedOpError(f"{ctx.source}: graph output {out.name!r} is a non-float constant")
        ctx.graph.outputs.append(name)


def _remove_dead_ops(graph: Graph) -> None:
    """Drop ops no graph output depends on (layout conversions a converter made and did not use)."""
    needed = set(graph.outputs)
    kept = []
    for op in reversed(graph.ops):
        if any(n in needed for n in op.outputs):
            kept.append(op)
            needed.update(n for n in op.inputs if n)
    graph.ops = kept[::-1]


def _name_outputs_as_onnx(graph: Graph, names: list[str]) -> None:
    """Give each graph output its ONNX name where a layout conversion made a new tensor for it."""
    used = set(graph.inputs) | {n for op in graph.ops for n in op.inputs + op.outputs}
    for i, (current, wanted) in enumerate(zip(list(graph.outputs), names)):
        t = graph.tensors[current]
        if current == wanted or wanted in used or t.is_constant or current in graph.inputs:
            continue
        if graph.outputs.count(current) > 1:
            continue
        graph.tensors.pop(wanted, None)  # a dead tensor of that name
        graph.tensors[wanted] = graph.tensors.pop(current)
        t.name = wanted
        for op in graph.ops:
            op.inputs = [wanted if n == current else n for n in op.inputs]
            op.outputs = [wanted if n == current else n for n in op.outputs]
        graph.outputs[i] = wanted
        used.add(wanted)


def from_onnx(model, source: str = "<onnx>") -> Graph:
    """An ONNX model (a path, serialized bytes or a ModelProto) -> a simplified, validated float32 Graph;
    `source` names an in-memory model in error messages."""
    from mcuforge.ir.validate import validate_graph
    from mcuforge.passes import simplify

    graph = load_onnx(model) if isinstance(model, (str, Path)) else parse_onnx(model, source)
    graph = simplify(graph)
    validate_graph(graph)
    return graph

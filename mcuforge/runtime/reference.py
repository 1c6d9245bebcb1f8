"""The reference interpreter: walks the graph and calls each op's NumPy reference kernel."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import InputError
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op
from mcuforge.quant.fixed_point import use_compat, use_rounding


def check_inputs(graph: Graph, inputs) -> list[np.ndarray]:
    """Inputs as a list in graph-input order, each checked against the model's shape and dtype."""
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    if isinstance(inputs, dict):
        inputs = [inputs[name] for name in graph.inputs]
    inputs = list(inputs)
    if len(inputs) != len(graph.inputs):
        raise InputError(f"{graph.where()} takes {len(graph.inputs)} input(s), got {len(inputs)}")
    checked = []
    for name, value in zip(graph.inputs, inputs):
        t = graph.tensors[name]
        value = np.asarray(value)
        if value.dtype != np.dtype(t.dtype):
            raise InputError(f"input {name!r} of {graph.where()} must be {t.dtype}, got {value.dtype}")
        if tuple(value.shape) != t.shape:
            raise InputError(f"input {name!r} of {graph.where()} must have shape {list(t.shape)}, "
                             f"got {list(value.shape)}")
        checked.append(value)
    return checked


def op_rounding(opdef, compat: str) -> str:
    """The requantization rounding an op uses in the runtime `compat` (see quant/fixed_point.py)."""
    return opdef.litert_rounding if compat == "litert" else "double"


def run_reference(graph: Graph, inputs, keep_intermediates: bool = False, compat: str = "tflm"):
    """Run one inference. Returns the list of outputs, or (outputs, {tensor name: value}) when
    `keep_intermediates` is set. `compat` picks whose integer arithmetic to reproduce bit for bit: "tflm"
    (TFLite Micro and CMSIS-NN, what runs on microcontrollers) or "litert" (LiteRT's reference kernels)."""
    with use_compat(compat):
        return _run(graph, inputs, keep_intermediates, compat)


def _run(graph: Graph, inputs, keep_intermediates: bool, compat: str):
    values: dict[str, np.ndarray] = {n: t.data for n, t in graph.tensors.items() if t.is_constant}
    values.update(zip(graph.inputs, check_inputs(graph, inputs)))
    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type, f"{graph.where()}: op #{i}")
        args = [values[n] if n else None for n in op.inputs]
        with use_rounding(op_rounding(opdef, compat)):
            results = opdef.reference(op, graph, args)
        for name, result in zip(op.outputs, results):
            t = graph.tensors[name]
            values[name] = np.asarray(result).astype(t.dtype, copy=False).reshape(t.shape)
    outputs = [values[n] for n in graph.outputs]
    return (outputs, values) if keep_intermediates else outputs

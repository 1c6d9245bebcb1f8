"""The op registry: one OpDef per operator, holding everything the toolchain knows about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mcuforge.errors import UnsupportedOpError

SUPPORTED_OPS_HINT = "run `mcuforge ops` (or see docs/ops.md) for the supported ops"


def _no_macs(op, graph) -> int:
    return 0


@dataclass(frozen=True)
class OpDef:
    """An operator. `infer_shapes(op, graph)` gives the output shapes; `reference(op, graph, inputs)`
    computes the outputs from NumPy inputs (None for an absent optional input) with TFLite's exact
    integer semantics; `check(op, graph)` raises GraphValidationError on bad dtypes/quantization."""

    name: str
    infer_shapes: Callable[..., list[tuple[int, ...]]]
    reference: Callable[..., list[np.ndarray]]
    attrs: dict[str, Any] = field(default_factory=dict)  # schema: name -> default value
    tflite_options: str | None = None  # the options table in the TFLite schema, e.g. "Conv2DOptions"
    dtypes: tuple[str, ...] = ("int8", "float32")  # dtypes of the main input the reference handles
    check: Callable[..., None] | None = None
    macs: Callable[..., int] = _no_macs
    c_kernel: str | None = None  # name of the C kernel family under mcuforge/kernels
    # Code generation: emit_c(op, graph, ctx) returns the C statements of one call (see codegen/emit.py);
    # view_of_input: the output is the input's bytes under a new shape (no code, no memory);
    # inplace_inputs: inputs whose buffer the output may reuse when this op is their last reader;
    # scratch_bytes(op, graph): bytes of temporary arena memory the kernel needs during the call;
    # row_window(op, graph) -> (stride_h, pad_top): set when the C kernel streams NHWC rows in order (output row
    # r reads no input row before r * stride_h - pad_top), so its output may overlap input rows already consumed.
    emit_c: Callable[..., str] | None = None
    view_of_input: bool = False
    inplace_inputs: tuple[int, ...] = ()
    scratch_bytes: Callable[..., int] | None = None
    row_window: Callable[..., tuple[int, int]] | None = None
    # LiteRT does not round alike in every kernel: its FULLY_CONNECTED rounds once (TFLITE_SINGLE_ROUNDING-like),
    # its convolutions, element-wise ops and MEAN twice like TFLite Micro. Measured on ai-edge-litert 2.3.0.
    litert_rounding: str = "single"
    doc: str = ""


OPS: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.name in OPS:
        raise ValueError(f"op {opdef.name} registered twice")
    OPS[opdef.name] = opdef
    return opdef


def get_op(name: str, where: str = "") -> OpDef:
    _load_all()
    try:
        return OPS[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise UnsupportedOpError(f"{prefix}unsupported op {name}; {SUPPORTED_OPS_HINT}") from None


def supported_ops() -> list[str]:
    _load_all()
    return sorted(OPS)


def _load_all() -> None:
    import mcuforge.ops  # noqa: F401  (importing the package registers every op module)

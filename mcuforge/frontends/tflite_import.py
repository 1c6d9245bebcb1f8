"""TFLite flatbuffer -> Graph: every tensor, buffer, quantization parameter and builtin option."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tflite

from mcuforge.errors import ModelFormatError, UnsupportedOpError
from mcuforge.frontends import read_model_file
from mcuforge.frontends.tflite_schema import (
    OPCODE_NAMES,
    OPTIONS_TYPES,
    TENSOR_TYPE_NAMES,
    TENSOR_TYPES,
    read_options,
)
from mcuforge.ir import Graph, Op, Quantization, Tensor
from mcuforge.ops.registry import OPS, SUPPORTED_OPS_HINT, get_op
from mcuforge.quant.int4 import BITS_KEY, unpack_int4

INT4_TYPE = tflite.TensorType.INT4


def load_tflite(path: str | Path) -> Graph:
    path = Path(path)
    return parse_tflite(read_model_file(path), str(path))


def parse_tflite(data: bytes, source: str = "<bytes>") -> Graph:
    if len(data) == 0:
        raise ModelFormatError(f"{source}: empty file")
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelFormatError(f"{source}: not a TFLite model (missing the 'TFL3' file identifier)")
    try:
        model = tflite.Model.GetRootAs(data, 0)
        return _build_graph(model, source)
    except (ModelFormatError, UnsupportedOpError):
        raise
    except Exception as exc:  # the flatbuffers reader raises assorted errors on corrupt or truncated data
        raise ModelFormatError(f"{source}: corrupt or truncated TFLite file ({type(exc).__name__}: {exc})") from None


def _build_graph(model, source: str) -> Graph:
    if model.SubgraphsLength() < 1:
        raise ModelFormatError(f"{source}: the model has no subgraph")
    sub = model.Subgraphs(0)
    graph = Graph(name=Path(source).stem if source != "<bytes>" else "model", source=source)
    names = _tensor_names(sub)
    for i in range(sub.TensorsLength()):
        graph.add_tensor(_read_tensor(model, sub.Tensors(i), names[i], source))
    graph.inputs = [names[i] for i in sub.InputsAsNumpy()]
    graph.outputs = [names[i] for i in sub.OutputsAsNumpy()]
    for i in range(sub.OperatorsLength()):
        graph.ops.append(_read_op(model, sub.Operators(i), i, names, source))
    return graph


def _tensor_names(sub) -> list[str]:
    """Tensor names made unique (TFLite allows duplicates and empty names)."""
    seen: set[str] = set()
    names = []
    for i in range(sub.TensorsLength()):
        name = (sub.Tensors(i).Name() or b"").decode("utf-8", "replace") or f"t{i}"
        if name in seen:
            name = f"{name}:{i}"
        seen.add(name)
        names.append(name)
    return names


def _read_tensor(model, t, name: str, source: str) -> Tensor:
    type_code = t.Type()
    if type_code == INT4_TYPE:
        return _read_int4_tensor(model, t, name, source)
    if type_code not in TENSOR_TYPES:
        type_name = next((k for k, v in TENSOR_TYPE_NAMES.items() if v == type_code), str(type_code))
        raise UnsupportedOpError(f"{source}: tensor {name!r} has unsupported type {type_name}")
    dtype = TENSOR_TYPES[type_code]
    shape = tuple(max(int(d), 1) for d in t.ShapeAsNumpy()) if not t.ShapeIsNone() else ()
    data = None
    buffer_index = t.Buffer()
    if 0 < buffer_index < model.BuffersLength():
        buf = model.Buffers(buffer_index)
        if buf.Offset() > 1:
            raise ModelFormatError(f"{source}: tensor {name!r} stores data outside the flatbuffer, "
                                   "which mcuforge does not read")
        if not buf.DataIsNone() and buf.DataLength() > 0:
            raw = buf.DataAsNumpy().tobytes()
            expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            if len(raw) != expected:
                raise ModelFormatError(f"{source}: tensor {name!r} has {len(raw)} bytes of data, "
                                       f"expected {expected} for {dtype}{list(shape)}")
            data = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return Tensor(name=name, shape=shape, dtype=dtype, data=data, quant=_read_quant(t))


def _read_int4_tensor(model, t, name: str, source: str) -> Tensor:
    """A constant INT4 tensor (two values a byte, low nibble first) -> int8 values marked as int4 weights."""
    shape = tuple(max(int(d), 1) for d in t.ShapeAsNumpy()) if not t.ShapeIsNone() else ()
    count = int(np.prod(shape, dtype=np.int64))
    buffer_index = t.Buffer()
    buf = model.Buffers(buffer_index) if 0 < buffer_index < model.BuffersLength() else None
    if buf is not None and buf.Offset() > 1:
        raise ModelFormatError(f"{source}: tensor {name!r} stores data outside the flatbuffer, "
                               "which mcuforge does not read")
    if buf is None or buf.DataIsNone() or buf.DataLength() == 0:
        raise UnsupportedOpError(f"{source}: tensor {name!r} is INT4 but not constant; mcuforge reads INT4 only "
                                 "for constant weights")
    raw = buf.DataAsNumpy()
    if raw.size != (count + 1) // 2:
        raise ModelFormatError(f"{source}: tensor {name!r} has {raw.size} bytes of data, expected "
                               f"{(count + 1) // 2} for int4{list(shape)} packed two per byte")
    tensor = Tensor(name=name, shape=shape, dtype="int8", data=unpack_int4(raw, count).reshape(shape),
                    quant=_read_quant(t))
    tensor.meta[BITS_KEY] = 4
    return tensor


def _read_quant(t) -> Quantization | None:
    q = t.Quantization()
    if q is None or q.ScaleIsNone() or q.ScaleLength() == 0:
        return None
    zero_points = q.ZeroPointAsNumpy() if not q.ZeroPointIsNone() else np.zeros(q.ScaleLength(), np.int64)
    return Quantization(scale=q.ScaleAsNumpy().copy(), zero_point=np.array(zero_points).copy(),
                        axis=q.QuantizedDimension())


def _read_op(model, op, index: int, names: list[str], source: str) -> Op:
    code_index = op.OpcodeIndex()
    if code_index >= model.OperatorCodesLength():
        raise ModelFormatError(f"{source}: op #{index} refers to opcode {code_index}, beyond the opcode table")
    opcode = model.OperatorCodes(code_index)
    code = max(opcode.BuiltinCode(), opcode.DeprecatedBuiltinCode())
    if code == 32:  # CUSTOM
        custom = (opcode.CustomCode() or b"?").decode()
        raise UnsupportedOpError(f"{source}: unsupported custom op {custom!r} at op #{index}; {SUPPORTED_OPS_HINT}")
    op_type = OPCODE_NAMES.get(code, f"BUILTIN_{code}")
    opdef = get_op(op_type, f"{source}: op #{index}")
    attrs = dict(opdef.attrs)
    options_type = op.BuiltinOptionsType()
    if options_type != 0 and op.BuiltinOptions() is not None:
        options_name = next((k for k, v in OPTIONS_TYPES.items() if v == options_type), None)
        if options_name is not None:
            raw = read_options(options_name, op.BuiltinOptions())
            attrs.update({k: v for k, v in raw.items() if k in opdef.attrs})
    inputs = [names[i] if i >= 0 else "" for i in op.InputsAsNumpy()] if not op.InputsIsNone() else []
    outputs = [names[i] for i in op.OutputsAsNumpy()] if not op.OutputsIsNone() else []
    assert op_type in OPS
    return Op(type=op_type, inputs=inputs, outputs=outputs, attrs=attrs, name=outputs[0] if outputs else "")

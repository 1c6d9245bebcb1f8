"""Graph -> TFLite flatbuffer, so graphs mcuforge makes also run in LiteRT and TFLite Micro.

INT4 weights (quant/int4.py) are written as TFLite INT4 tensors: the values packed two per byte, low nibble
first, as TFLite packs constant int4 tensors; tflite_import reads them back as marked int8-valued weights."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import tflite

from mcuforge.frontends.tflite_schema import OPCODES, OPTIONS_TYPES, TENSOR_TYPE_CODES, write_options
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op
from mcuforge.quant.int4 import is_int4, pack_int4

INT4_TYPE = tflite.TensorType.INT4


def _vector(builder, start_fn, values, prepend) -> int:
    start_fn(builder, len(values))
    for v in reversed(values):
        prepend(v)
    return builder.EndVector()


def _quantization(builder, quant) -> int:
    scale = builder.CreateNumpyVector(quant.scale.astype(np.float32))
    zero_point = builder.CreateNumpyVector(quant.zero_point.astype(np.int64))
    tflite.QuantizationParametersStart(builder)
    tflite.QuantizationParametersAddScale(builder, scale)
    tflite.QuantizationParametersAddZeroPoint(builder, zero_point)
    tflite.QuantizationParametersAddQuantizedDimension(builder, int(quant.axis))
    return tflite.QuantizationParametersEnd(builder)


def _packed_int4(t) -> bool:
    return t.is_constant and is_int4(t)


def export_tflite(graph: Graph, int4_tensors: bool = True) -> bytes:
    """The graph as a .tflite flatbuffer. int4_tensors=False writes INT4 weights as plain int8 tensors (same
    values): for runtimes without INT4 kernels."""
    builder = flatbuffers.Builder(1024)
    names = list(graph.tensors)
    index = {n: i for i, n in enumerate(names)}

    # Buffer 0 is the empty sentinel every TFLite model starts with; each constant gets its own buffer.
    buffer_data: list[bytes | None] = [None]
    tensor_buffer = {}
    for name in names:
        t = graph.tensors[name]
        if t.is_constant:
            tensor_buffer[name] = len(buffer_data)
            packed = int4_tensors and _packed_int4(t)
            buffer_data.append((pack_int4(t.data) if packed else np.ascontiguousarray(t.data)).tobytes())
        else:
            tensor_buffer[name] = 0

    buffers = []
    for raw in buffer_data:
        data = None
        if raw:
            builder.StartVector(1, len(raw), 16)
            builder.head = builder.head - len(raw)
            builder.Bytes[builder.head:builder.head + len(raw)] = raw
            data = builder.EndVector()
        tflite.BufferStart(builder)
        if data is not None:
            tflite.BufferAddData(builder, data)
        buffers.append(tflite.BufferEnd(builder))

    tensors = []
    for name in names:
        t = graph.tensors[name]
        name_off = builder.CreateString(name)
        shape = _vector(builder, tflite.TensorStartShapeVector, list(t.shape), builder.PrependInt32)
        quant = _quantization(builder, t.quant) if t.quant is not None else None
        tflite.TensorStart(builder)
        tflite.TensorAddShape(builder, shape)
        tflite.TensorAddType(builder, INT4_TYPE if int4_tensors and _packed_int4(t) else TENSOR_TYPE_CODES[t.dtype])
        tflite.TensorAddBuffer(builder, tensor_buffer[name])
        tflite.TensorAddName(builder, name_off)
        if quant is not None:
            tflite.TensorAddQuantization(builder, quant)
        tensors.append(tflite.TensorEnd(builder))

    op_types = sorted({op.type for op in graph.ops}, key=lambda n: OPCODES[n])
    opcode_index = {n: i for i, n in enumerate(op_types)}
    codes = []
    for name in op_types:
        code = OPCODES[name]
        tflite.OperatorCodeStart(builder)
        tflite.OperatorCodeAddBuiltinCode(builder, code)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, min(code, 127))
        tflite.OperatorCodeAddVersion(builder, 1)
        codes.append(tflite.OperatorCodeEnd(builder))

    operators = []
    for op in graph.ops:
        opdef = get_op(op.type)
        options = write_options(builder, opdef.tflite_options, op.attrs) if opdef.tflite_options else None
        ins = _vector(builder, tflite.OperatorStartInputsVector, [index[n] if n else -1 for n in op.inputs],
                      builder.PrependInt32)
        outs = _vector(builder, tflite.OperatorStartOutputsVector, [index[n] for n in op.outputs],
                       builder.PrependInt32)
        tflite.OperatorStart(builder)
        tflite.OperatorAddOpcodeIndex(builder, opcode_index[op.type])
        tflite.OperatorAddInputs(builder, ins)
        tflite.OperatorAddOutputs(builder, outs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(builder, OPTIONS_TYPES[opdef.tflite_options])
            tflite.OperatorAddBuiltinOptions(builder, options)
        operators.append(tflite.OperatorEnd(builder))

    tensors_vec = _vector(builder, tflite.SubGraphStartTensorsVector, tensors, builder.PrependUOffsetTRelative)
    inputs_vec = _vector(builder, tflite.SubGraphStartInputsVector, [index[n] for n in graph.inputs],
                         builder.PrependInt32)
    outputs_vec = _vector(builder, tflite.SubGraphStartOutputsVector, [index[n] for n in graph.outputs],
                          builder.PrependInt32)
    ops_vec = _vector(builder, tflite.SubGraphStartOperatorsVector, operators, builder.PrependUOffsetTRelative)
    sub_name = builder.CreateString("main")
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensors_vec)
    tflite.SubGraphAddInputs(builder, inputs_vec)
    tflite.SubGraphAddOutputs(builder, outputs_vec)
    tflite.SubGraphAddOperators(builder, ops_vec)
    tflite.SubGraphAddName(builder, sub_name)
    subgraph = tflite.SubGraphEnd(builder)

    subgraphs_vec = _vector(builder, tflite.ModelStartSubgraphsVector, [subgraph], builder.PrependUOffsetTRelative)
    codes_vec = _vector(builder, tflite.ModelStartOperatorCodesVector, codes, builder.PrependUOffsetTRelative)
    buffers_vec = _vector(builder, tflite.ModelStartBuffersVector, buffers, builder.PrependUOffsetTRelative)
    description = builder.CreateString("mcuforge")
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddOperatorCodes(builder, codes_vec)
    tflite.ModelAddSubgraphs(builder, subgraphs_vec)
    tflite.ModelAddDescription(builder, description)
    tflite.ModelAddBuffers(builder, buffers_vec)
    model = tflite.ModelEnd(builder)
    builder.Finish(model, file_identifier=b"TFL3")
    return bytes(builder.Output())


def save_tflite(graph: Graph, path: str | Path, int4_tensors: bool = True) -> Path:
    path = Path(path)
    path.write_bytes(export_tflite(graph, int4_tensors))
    return path

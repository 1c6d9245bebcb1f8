"""Post-training quantization: a float32 graph plus calibration data -> an int8 graph TFLite's int8 kernels
(and mcuforge's C kernels) run.

- Weights of CONV_2D / FULLY_CONNECTED (axis 0) and DEPTHWISE_CONV_2D (axis 3): symmetric per channel, zero
  point 0, in [-127, 127]; or in [-7, 7] for INT4 layers (int8-valued, tensor.meta["bits"] = 4, see int4.py).
- Biases: int32 on scale input_scale * weight_scale[c], zero point 0.
- Activations: asymmetric int8 from calibrated ranges (calibrate.py) under the kernels' constraints
  (constraints.py); float constants feeding activation operands are quantized like activations.
- Graph inputs and outputs become int8, or stay float32 behind QUANTIZE / DEQUANTIZE ops (`float_io`)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op, Quantization, Tensor
from mcuforge.ir.validate import validate_graph
from mcuforge.quant.bias_correction import BiasCorrection
from mcuforge.quant.calibrate import (DEFAULT_PERCENTILE, calibration_samples, check_method, collect_statistics,
                                      estimate_range)
from mcuforge.quant.constraints import plan_activations
from mcuforge.quant.int4 import BITS_KEY, INT4_MAX, int4_scales
from mcuforge.quant.prepare import WEIGHT_AXIS, bias_name, float_graph, unique_name, weighted_layers
from mcuforge.quant.qparams import (bias_scales, dequantize_symmetric, min_weight_scales, quantize_activation_constant,
                                    quantize_bias, quantize_symmetric, symmetric_scales)

WEIGHT_FORMATS = ("int8", "int4")
INT8_WEIGHT_MAX = 127


def quantize(graph: Graph, calibration, method: str = "minmax", weights: str = "int8", int4_layers=None,
             bias_correction: bool = False, *, percentile: float = DEFAULT_PERCENTILE, float_io: bool = False,
             where: str = "calibration", ranges: dict | None = None) -> Graph:
    """Quantize a float32 graph to int8 with calibration data (see calibrate.calibration_samples for its forms).

    method: activation ranges from "minmax", "percentile" (`percentile`, default 99.99) or "mse".
    weights: "int8", or "int4" for every layer's weights; int4_layers: the layers (op indices, op names or
    output tensor names) whose weights are INT4 while the others stay int8 (mixed precision).
    bias_correction: shift each layer's bias by the mean output change its weight quantization causes.
    float_io: keep float32 graph inputs and outputs, with QUANTIZE / DEQUANTIZE ops at the boundary.
    `where` names the calibration data in error messages (e.g. its file).
    ranges: {tensor name: (lo, hi)} taking the place of the calibrated ranges of those activations (e.g. the ranges
    quantization-aware training learned, compress/qat.py)."""
    check_method(method, percentile)
    if weights not in WEIGHT_FORMATS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHT_FORMATS)}, got {weights!r}")
    g = float_graph(graph)
    layers = weighted_layers(g)
    bits = _weight_bits(g, layers, weights, int4_layers)
    quantized_weights = {i: _quantize_weights(g, i, bits[i]) for i in layers}
    observers = []
    if bias_correction:
        observers.append(BiasCorrection(g, {i: dequantize_symmetric(values, scales, WEIGHT_AXIS[g.ops[i].type])
                                            for i, (values, scales) in quantized_weights.items()}))
    stats = collect_statistics(g, calibration_samples(g, calibration, where), observers)
    calibrated = {name: estimate_range(s, method, percentile) for name, s in stats.items()}
    unknown = sorted(set(ranges or {}) - set(calibrated))
    if unknown:
        raise ValueError(f"ranges given for {', '.join(map(repr, unknown))}, not activations of {g.where()}")
    ranges = {**calibrated, **{name: (float(lo), float(hi)) for name, (lo, hi) in (ranges or {}).items()}}
    layer_constants = {n for i in layers for n in g.ops[i].inputs[1:3] if n}
    plan = plan_activations(g, ranges, exclude=layer_constants)
    q = g.copy()
    for name, quant in plan.quant.items():
        t = q.tensors[name]
        if t.is_constant:
            t.data = quantize_activation_constant(t.data, quant.scalar_scale, quant.scalar_zero_point)
        t.dtype, t.quant = "int8", quant
    corrections = observers[0].corrections() if bias_correction else {}
    for i in layers:
        _quantize_layer(g, q, i, quantized_weights[i], bits[i], corrections.get(i))
    _requantize_inputs(q, plan.requantize)
    if float_io:
        _float_boundary(q)
    return validate_graph(q)


def _weight_bits(g: Graph, layers: list[int], weights: str, int4_layers) -> dict[int, int]:
    if int4_layers is None:
        chosen = set(layers) if weights == "int4" else set()
    else:
        chosen = {_resolve_layer(g, layers, key) for key in int4_layers}
    return {i: 4 if i in chosen else 8 for i in layers}


def _resolve_layer(g: Graph, layers: list[int], key) -> int:
    for i in layers:
        op = g.ops[i]
        matches = key == i if isinstance(key, (int, np.integer)) else key in (op.name, op.outputs[0])
        if matches:
            return i
    names = ", ".join(f"#{i} {g.ops[i].name or g.ops[i].outputs[0]}" for i in layers)
    raise ValueError(f"int4 layer {key!r} is not a layer with weights (CONV_2D, DEPTHWISE_CONV_2D, "
                     f"FULLY_CONNECTED) of {g.where()}; the layers are: {names}")


def _quantize_weights(g: Graph, i: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(int8-valued weights, per-channel scales) of layer i."""
    w, axis = g.tensors[g.ops[i].inputs[1]].data, WEIGHT_AXIS[g.ops[i].type]
    qmax = INT4_MAX if bits == 4 else INT8_WEIGHT_MAX
    scales = int4_scales(w, axis) if bits == 4 else symmetric_scales(w, axis, qmax)
    return quantize_symmetric(w, scales, axis, qmax), scales


def _quantize_layer(g: Graph, q: Graph, i: int, weights: tuple[np.ndarray, np.ndarray], bits: int,
                    correction: np.ndarray | None) -> None:
    """Write layer i's quantized weights and int32 bias into `q` (float originals read from `g`)."""
    op, axis = q.ops[i], WEIGHT_AXIS[q.ops[i].type]
    values, scales = weights
    float_w = g.tensors[op.inputs[1]].data
    channels = float_w.shape[axis]
    input_scale = q.tensors[op.inputs[0]].quant.scalar_scale
    bias = g.tensors[bias_name(op)].data.astype(np.float64) if bias_name(op) else np.zeros(channels)
    if correction is not None:
        bias = bias + correction
    floor = min_weight_scales(bias, input_scale)
    if (scales < floor).any():  # a bias too large for int32 on input_scale * weight_scale: coarser weights
        scales = np.maximum(scales, floor)
        values = quantize_symmetric(float_w, scales, axis, INT4_MAX if bits == 4 else INT8_WEIGHT_MAX)
    w = q.tensors[op.inputs[1]]
    w.dtype, w.data = "int8", values
    w.quant = Quantization(scales, np.zeros(channels, np.int64), axis)
    if bits == 4:
        w.meta[BITS_KEY] = 4
    if not bias_name(op) and correction is None:
        return
    b_scales = bias_scales(input_scale, scales)
    b_quant = Quantization(b_scales, np.zeros(channels, np.int64), 0)
    data = quantize_bias(bias, b_scales)
    if bias_name(op):
        t = q.tensors[bias_name(op)]
        t.dtype, t.data, t.quant = "int32", data, b_quant
        return
    name = unique_name(q, f"{op.outputs[0]}_bias")
    q.add_tensor(Tensor(name, (channels,), "int32", data=data, quant=b_quant))
    op.inputs[2:] = [name]


def _requantize_inputs(q: Graph, requantize: list[tuple[int, int]]) -> None:
    """Insert a QUANTIZE (int8 -> int8) before each listed op input, onto the op's output quantization."""
    for i, k in sorted(requantize, reverse=True):
        op = q.ops[i]
        source = q.tensors[op.inputs[k]]
        name = unique_name(q, f"{source.name}_requantized")
        q.add_tensor(Tensor(name, source.shape, "int8", quant=q.tensors[op.outputs[0]].quant))
        q.ops.insert(i, Op("QUANTIZE", [source.name], [name], name=name))
        op.inputs[k] = name


def _rename(q: Graph, old: str, new: str) -> None:
    for op in q.ops:
        op.inputs = [new if n == old else n for n in op.inputs]
        op.outputs = [new if n == old else n for n in op.outputs]


def _float_boundary(q: Graph) -> None:
    """Graph inputs and outputs back to float32: QUANTIZE after each int8 input, DEQUANTIZE before each output."""
    for name in q.inputs:
        t = q.tensors[name]
        if t.dtype != "int8" or name in q.outputs:
            continue
        inner = unique_name(q, f"{name}_int8")
        q.add_tensor(Tensor(inner, t.shape, "int8", quant=t.quant))
        _rename(q, name, inner)
        t.dtype, t.quant = "float32", None
        q.ops.insert(0, Op("QUANTIZE", [name], [inner], name=inner))
    for name in q.outputs:
        t = q.tensors[name]
        if t.dtype != "int8" or name in q.inputs or t.is_constant:
            continue
        inner = unique_name(q, f"{name}_int8")
        q.add_tensor(Tensor(inner, t.shape, "int8", quant=t.quant))
        _rename(q, name, inner)
        t.dtype, t.quant = "float32", None
        q.ops.append(Op("DEQUANTIZE", [inner], [name], name=name))

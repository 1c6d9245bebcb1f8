"""Quantization-aware training that mirrors mcuforge's integer scheme, and its conversion to an int8 Graph.

Build the model from these layers (NCHW, as any PyTorch model):
- `ActivationQuantizer`: fake-quantizes a tensor as an asymmetric int8 activation. Its range is an exponential
  moving average of the batch min / max seen in training; its (scale, zero point) come from
  qparams.asymmetric_qparams, TFLite's nudging, so 0.0 is exact. Put one on the model's input.
- `QConv2d` / `QLinear`: a convolution (optionally with batch norm) or dense layer, an activation ("relu",
  "relu6" or None) and an ActivationQuantizer on the output. Batch norm is folded into the weights as the front
  end's fold_batchnorm does (w * gamma / sqrt(var + eps), bias (b - mean) * gamma / sqrt(var + eps) + beta), with
  the running statistics, which training keeps updating from the batch statistics; the folded weights are
  fake-quantized per output channel, symmetric in [-127, 127], scale max|w| / 127, rounded half away from zero
  exactly as ptq.quantize rounds them (qparams.symmetric_scales / quantize_symmetric). With `weight_bits=4`
  (or set_weight_bits) they are fake-quantized as INT4 weights, in [-7, 7] on int4.int4_scales' clipped scales:
  ptq's own functions, so the deployed int4 layer holds the very values training saw.
Gradients pass the rounding straight through (STE), and are zeroed where an activation is clamped. A
MagnitudePruner (prune.py) on a QAT model sets each layer's `weight_mask`, which every forward and the folding
apply: pruned weights stay 0 through QAT training and conversion.
`prepare_qat(model)` turns a trained float model (e.g. a zoo model) into these layers: conv -> batch norm
[-> ReLU/ReLU6] into QConv2d, linear [-> batch norm] [-> ReLU/ReLU6] into QLinear, behind an input quantizer.

`convert(model, example_input, calibration)` exports the model with its weights folded (`deploy_module`), imports
it with from_torch and quantizes it with the learned activation ranges (ptq.quantize's `ranges`), each matched to
its graph tensor by value; tensors no quantizer observed (e.g. a pooling output) take calibrated ranges. The layers
trained with 4-bit weights become INT4 layers (ptq.quantize's `int4_layers`), unless `weights=` says otherwise."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mcuforge.quant.constraints import SAME_AS_INPUT
from mcuforge.quant.int4 import INT4_MAX, int4_scales
from mcuforge.quant.qparams import INT8_MAX, INT8_MIN, asymmetric_qparams, quantize_symmetric

WEIGHT_QMAX = 127
WEIGHT_BITS = (8, 4)
WEIGHT_FORMATS = {"int8": 8, "int4": 4}
WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
ACTIVATIONS = {None: None, "relu": nn.ReLU, "relu6": nn.ReLU6}


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def fake_quantize_activation(x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    """x through int8 (scale, zero point) and back; gradient straight through inside the range, 0 outside."""
    s = torch.tensor(scale, dtype=torch.float32)
    q = round_half_away(x.detach() / s) + zero_point
    inside = (q >= INT8_MIN) & (q <= INT8_MAX)
    y = (torch.clamp(q, INT8_MIN, INT8_MAX) - zero_point) * s
    return y + (x - x.detach()) * inside


def fake_quantize_weights(w: torch.Tensor, axis: int = 0, bits: int = 8) -> torch.Tensor:
    """Per-channel symmetric int8 fake quantization, the float64 arithmetic of qparams.symmetric_scales and
    quantize_symmetric (an all-zero channel takes the largest scale); bits=4: INT4 (fake_quantize_int4).
    Gradient straight through."""
    if bits == 4:
        return fake_quantize_int4(w, axis)
    w64 = w.detach().double()
    amax = w64.abs().transpose(0, axis).reshape(w.shape[axis], -1).amax(dim=1)
    fallback = amax.max() if amax.max() > 0 else torch.ones((), dtype=torch.float64)
    scales = (torch.where(amax > 0, amax, fallback) / WEIGHT_QMAX).float().double()  # float32, as the graph stores
    shape = [1] * w.dim()
    shape[axis] = -1
    scales = scales.reshape(shape)
    q = torch.clamp(round_half_away(w64 * (1.0 / scales)), -WEIGHT_QMAX, WEIGHT_QMAX)
    return (q * scales).float() + (w - w.detach())


def fake_quantize_int4(w: torch.Tensor, axis: int = 0) -> torch.Tensor:
    """Per-channel symmetric INT4 fake quantization with ptq's int4 scales (int4.int4_scales: the clipping of
    max|w| with the smallest error) and rounding (quantize_symmetric to [-7, 7]), computed on the same float32
    values ptq will see; gradient straight through."""
    w_np = w.detach().cpu().numpy().astype(np.float32)
    scales = int4_scales(w_np, axis)
    q = quantize_symmetric(w_np, scales, axis, INT4_MAX).astype(np.float64)
    shape = [1] * w.dim()
    shape[axis] = -1
    values = torch.from_numpy(q * scales.astype(np.float64).reshape(shape)).float().to(w.device)
    return values + (w - w.detach())


class ActivationQuantizer(nn.Module):
    """EMA min / max observer (updated in training) + asymmetric int8 fake quantization (once it has a range)."""

    def __init__(self, momentum: float = 0.1):
        super().__init__()
        self.momentum = momentum
        self.enabled = True
        self.register_buffer("lo", torch.zeros(()))
        self.register_buffer("hi", torch.zeros(()))
        self.register_buffer("observed", torch.zeros((), dtype=torch.bool))

    def forward(self, x):
        if self.training:
            lo, hi = x.detach().min(), x.detach().max()
            with torch.no_grad():
                if bool(self.observed):
                    self.lo.lerp_(lo, self.momentum)
                    self.hi.lerp_(hi, self.momentum)
                else:
                    self.lo.copy_(lo)
                    self.hi.copy_(hi)
                    self.observed.fill_(True)
        if not self.enabled or not bool(self.observed):
            return x
        return fake_quantize_activation(x, *self.qparams())

    def range(self) -> tuple[float, float]:
        return float(self.lo), float(self.hi)

    def qparams(self) -> tuple[float, int]:
        scale, zero_point = asymmetric_qparams(*self.range())
        return float(scale), int(zero_point)


class _QuantLayer(nn.Module):
    """Shared by QConv2d and QLinear: folded, fake-quantized weights -> activation -> output quantizer."""

    weight_axis = 0
    weight_bits = 8  # 4: INT4 weights (fake_quantize_int4), deployed as an int4 layer by convert()
    weight_mask: torch.Tensor | None = None  # 0/1, same shape as layer.weight: set by prune.MagnitudePruner

    def _linear_op(self, x, w, b):
        raise NotImplementedError

    def _float_layer(self) -> nn.Module:
        raise NotImplementedError

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) with the batch norm (running statistics) folded in, as float32; pruned weights (the
        mask's zeros) are 0 whatever the optimizer did to them since the pruner last applied the mask."""
        w = self.layer.weight
        if self.weight_mask is not None:
            w = w * self.weight_mask
        b = self.layer.bias if self.layer.bias is not None else torch.zeros(w.shape[0], dtype=w.dtype)
        if self.bn is None:
            return w, b
        factor = self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
        shape = [-1] + [1] * (w.dim() - 1)
        return w * factor.reshape(shape), (b - self.bn.running_mean) * factor + self.bn.bias

    def forward(self, x):
        if self.training and self.bn is not None:
            with torch.no_grad():  # keep the running statistics tracking the float layer's batch statistics
                w = self.layer.weight if self.weight_mask is None else self.layer.weight * self.weight_mask
                y = self._linear_op(x, w, self.layer.bias)
                F.batch_norm(y, self.bn.running_mean, self.bn.running_var, training=True,
                             momentum=self.bn.momentum, eps=self.bn.eps)
        w, b = self.folded()
        if self.output_quant.enabled:
            if self.weight_bits == 4:
                w = fake_quantize_int4(w, self.weight_axis)
            else:
                w = fake_quantize_weights(w, self.weight_axis)
        y = self._linear_op(x, w, b)
        if self.activation is not None:
            y = self.activation(y)
        return self.output_quant(y)

    def deployed(self) -> nn.Module:
        """The float layer with folded weights, its activation, and an Identity in the quantizer's place (same
        submodule name, so that convert() finds its output)."""
        layer = self._float_layer()
        w, b = self.folded()
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        parts = [("layer", layer)] + ([("activation", copy.deepcopy(self.activation))] if self.activation else [])
        return nn.Sequential(OrderedDict(parts + [("output_quant", nn.Identity())]))


class QConv2d(_QuantLayer):
    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0, groups: int = 1, batchnorm: bool = True,
                 activation: str | None = "relu", momentum: float = 0.1, weight_bits: int = 8):
        super().__init__()
        self.weight_bits = _check_bits(weight_bits)
        self.layer = nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=not batchnorm)
        self.bn = nn.BatchNorm2d(cout) if batchnorm else None
        self.activation = ACTIVATIONS[activation]() if activation else None
        self.output_quant = ActivationQuantizer(momentum)

    def _linear_op(self, x, w, b):
        c = self.layer
        return F.conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups)

    def _float_layer(self) -> nn.Module:
        c = self.layer
        return nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, c.dilation, c.groups,
                         bias=True)


class QLinear(_QuantLayer):
    def __init__(self, cin: int, cout: int, activation: str | None = None, momentum: float = 0.1,
                 weight_bits: int = 8):
        super().__init__()
        self.weight_bits = _check_bits(weight_bits)
        self.layer = nn.Linear(cin, cout)
        self.bn = None
        self.activation = ACTIVATIONS[activation]() if activation else None
        self.output_quant = ActivationQuantizer(momentum)

    def _linear_op(self, x, w, b):
        return F.linear(x, w, b)

    def _float_layer(self) -> nn.Module:
        return nn.Linear(self.layer.in_features, self.layer.out_features)


# --- float models (e.g. the zoo's) as QAT layers ---------------------------------------------------------------------

def _activation_name(module: nn.Module | None) -> str | None:
    if isinstance(module, nn.ReLU6):
        return "relu6"
    if isinstance(module, nn.ReLU):
        return "relu"
    return None


def _qat_sequential(seq: nn.Sequential) -> nn.Module:
    """Conv2d -> BatchNorm2d [-> ReLU/ReLU6] becomes one QConv2d, Linear [-> BatchNorm1d] [-> ReLU/ReLU6] one
    QLinear (weights and batch-norm state carried over); other modules are converted recursively."""
    items, out, i = list(seq), [], 0
    while i < len(items):
        m = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if isinstance(m, nn.Conv2d) and isinstance(nxt, nn.BatchNorm2d):
            after = items[i + 2] if i + 2 < len(items) else None
            act = _activation_name(after)
            q = QConv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.groups,
                        batchnorm=True, activation=act)
            q.layer.load_state_dict(m.state_dict(), strict=False)
            if m.bias is not None:  # QConv2d with batch norm has no conv bias: fold it into the BN mean
                with torch.no_grad():
                    nxt.running_mean.sub_(m.bias)
            q.bn.load_state_dict(nxt.state_dict())
            out.append(q)
            i += 3 if act else 2
            continue
        if isinstance(m, nn.Linear):
            bn = nxt if isinstance(nxt, nn.BatchNorm1d) else None
            after = items[i + (2 if bn is not None else 1)] if i + (2 if bn is not None else 1) < len(items) else None
            act = _activation_name(after)
            out.append(_qlinear(m, bn, act))
            i += 1 + (bn is not None) + (act is not None)
            continue
        out.append(prepare_qat_layers(m))
        i += 1
    return nn.Sequential(*out)


def _qlinear(m: nn.Linear, bn: nn.BatchNorm1d | None, act: str | None):
    q = QLinear(m.in_features, m.out_features, activation=act)
    q.layer.load_state_dict(m.state_dict())
    if bn is not None:
        q.bn = bn  # _QuantLayer folds any batch norm it holds (per output channel)
    return q


def prepare_qat_layers(module: nn.Module) -> nn.Module:
    """`module` with its conv-bn(-act) and linear(-act) runs as QAT layers, in place for custom modules."""
    if isinstance(module, nn.Sequential):
        return _qat_sequential(module)
    if isinstance(module, nn.Linear):
        return _qlinear(module, None, None)
    for name, child in list(module.named_children()):
        setattr(module, name, prepare_qat_layers(child))
    return module


def prepare_qat(model: nn.Module) -> nn.Module:
    """A QAT copy of a trained float model (e.g. a zoo model; its `input_shape`, if any, carried over): an input
    quantizer, then the model's layers as QConv2d / QLinear."""
    qat = nn.Sequential()
    qat.add_module("input_quant", ActivationQuantizer())
    qat.add_module("model", prepare_qat_layers(copy.deepcopy(model)))
    if hasattr(model, "input_shape"):
        qat.input_shape = model.input_shape
    return qat


def _check_bits(bits: int) -> int:
    if bits not in WEIGHT_BITS:
        raise ValueError(f"weight_bits must be one of {WEIGHT_BITS}, got {bits!r}")
    return bits


def quant_layers(model: nn.Module) -> dict[str, _QuantLayer]:
    """{qualified name: layer} of the QConv2d / QLinear layers of `model` ("" for the model itself)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, _QuantLayer)}


def set_weight_bits(model: nn.Module, bits: int, layers: list[str] | None = None) -> nn.Module:
    """Train (and deploy) the weights of the named QAT layers (default: all) at `bits` (8 or 4)."""
    _check_bits(bits)
    found = quant_layers(model)
    missing = [n for n in layers or [] if n not in found]
    if missing:
        raise ValueError(f"no QConv2d / QLinear named {', '.join(map(repr, missing))} in {type(model).__name__}; "
                         f"the QAT layers are: {', '.join(map(repr, found))}")
    for name in layers if layers is not None else found:
        found[name].weight_bits = bits
    return model


def set_fake_quant(model: nn.Module, enabled: bool) -> nn.Module:
    """Turn fake quantization on or off everywhere (off: a float model that still observes ranges)."""
    for m in model.modules():
        if isinstance(m, ActivationQuantizer):
            m.enabled = enabled
    return model


def qat_ranges(model: nn.Module) -> dict[str, tuple[float, float]]:
    """{quantizer's module name: (lo, hi)} of every quantizer that has observed data."""
    return {name: m.range() for name, m in model.named_modules()
            if isinstance(m, ActivationQuantizer) and bool(m.observed)}


def deploy_module(model: nn.Module) -> nn.Module:
    """A float copy of `model` (eval mode): QAT layers become plain layers with the folded weights, quantizers
    become Identity modules of the same names."""
    if isinstance(model, _QuantLayer):
        return model.deployed().eval()
    deployed = copy.deepcopy(model).eval()
    for name, m in list(deployed.named_modules()):
        if not name or not isinstance(m, (_QuantLayer, ActivationQuantizer)):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = deployed.get_submodule(parent_name) if parent_name else deployed
        if parent is None or getattr(parent, child, None) is not m:
            continue  # inside a layer already replaced
        setattr(parent, child, m.deployed() if isinstance(m, _QuantLayer) else nn.Identity())
    return deployed


def _to_graph_layout(t: torch.Tensor) -> np.ndarray:
    a = t.detach().numpy()
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


def match_outputs(graph, deployed: nn.Module, modules: list[str], example_input) -> dict[str, list[str]]:
    """{module name: the graph tensors whose values equal that module's output on `example_input`} (found by
    shape and value: tensor names do not survive the export)."""
    from mcuforge.runtime.reference import run_reference

    captured = {}
    hooks = [deployed.get_submodule(name).register_forward_hook(
        lambda _m, _i, out, name=name: captured.__setitem__(name, _to_graph_layout(out))) for name in modules]
    try:
        with torch.no_grad():
            deployed(example_input)
    finally:
        for h in hooks:
            h.remove()
    _, values = run_reference(graph, [_to_graph_layout(example_input).astype(np.float32)], keep_intermediates=True)
    candidates = [n for n, t in graph.tensors.items() if not t.is_constant and t.dtype == "float32"]
    found = {}
    for name, value in captured.items():
        found[name] = [n for n in candidates if values[n].shape == value.shape
                       and np.allclose(values[n], value, rtol=1e-4, atol=1e-5 * (1 + np.abs(value).max()))]
        if not found[name]:
            raise ValueError(f"the output of {name!r} ({list(value.shape)}) is no tensor of {graph.where()}")
    return found


def match_ranges(graph, deployed: nn.Module, ranges: dict[str, tuple[float, float]], example_input) -> dict:
    """{graph tensor name: range}: each quantizer's output found among the graph's tensors by shape and value on
    `example_input`, then carried along ops that keep their input's quantization (pooling, reshapes)."""
    by_tensor: dict[str, tuple[float, float]] = {}
    for name, tensors in match_outputs(graph, deployed, list(ranges), example_input).items():
        for n in tensors:
            by_tensor[n] = ranges[name]
    for op in graph.ops:
        if op.type in SAME_AS_INPUT and op.inputs[0] in by_tensor and op.outputs[0] not in by_tensor:
            by_tensor[op.outputs[0]] = by_tensor[op.inputs[0]]
    return by_tensor


def _output_quant_name(layer_name: str) -> str:
    return f"{layer_name}.output_quant" if layer_name else "output_quant"


def int4_layer_ops(graph, model: nn.Module, deployed: nn.Module, example_input) -> list[str]:
    """Output tensor names of the graph ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) that the QAT layers
    trained with 4-bit weights became: the op whose output is the layer's output (activation fused)."""
    names = [n for n, m in quant_layers(model).items() if m.weight_bits == 4]
    if not names:
        return []
    producers = {op.outputs[0]: op for op in graph.ops if op.type in WEIGHTED_OPS}
    outputs = []
    for name, tensors in match_outputs(graph, deployed, [_output_quant_name(n) for n in names],
                                       example_input).items():
        ops = [t for t in tensors if t in producers]
        if len(ops) != 1:
            raise ValueError(f"QAT layer {name.rpartition('.')[0]!r} became {len(ops)} layers with weights in "
                             f"{graph.where()}, expected 1")
        outputs.append(ops[0])
    return outputs


def convert(model: nn.Module, example_input: torch.Tensor, calibration=None, float_io: bool = True,
            weights: str | None = None):
    """The trained QAT model -> an int8 Graph with its learned ranges. `example_input` (NCHW, batch 1) traces the
    model and matches tensors; `calibration` (graph layout, NHWC for images; default: the example) only sets the
    ranges of tensors no quantizer observed. weights: None keeps each layer's training precision (INT4 for the
    layers with weight_bits 4, int8 for the others); "int8" or "int4" sets every layer's."""
    from mcuforge.frontends.torch_import import from_torch
    from mcuforge.quant.ptq import quantize

    if weights is not None and weights not in WEIGHT_FORMATS:
        raise ValueError(f"weights must be None (as trained) or one of {', '.join(WEIGHT_FORMATS)}, got {weights!r}")
    deployed = deploy_module(model)
    graph = from_torch(deployed, example_input)
    ranges = match_ranges(graph, deployed, qat_ranges(model), example_input)
    int4_layers = int4_layer_ops(graph, model, deployed, example_input) if weights is None else None
    if calibration is None:
        calibration = _to_graph_layout(example_input).astype(np.float32)
    return quantize(graph, calibration, weights=weights or "int8", int4_layers=int4_layers, float_io=float_io,
                    ranges=ranges)

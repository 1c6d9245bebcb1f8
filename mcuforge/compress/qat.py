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
  exactly as ptq.quantize rounds them (qparams.symmetric_scales / quantize_symmetric).
Gradients pass the rounding straight through (STE), and are zeroed where an activation is clamped.

`convert(model, example_input, calibration)` exports the model with its weights folded (`deploy_module`), imports
it with from_torch and quantizes it with the learned activation ranges (ptq.quantize's `ranges`), each matched to
its graph tensor by value; tensors no quantizer observed (e.g. a pooling output) take calibrated ranges."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mcuforge.quant.constraints import SAME_AS_INPUT
from mcuforge.quant.qparams import INT8_MAX, INT8_MIN, asymmetric_qparams

WEIGHT_QMAX = 127
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


def fake_quantize_weights(w: torch.Tensor, axis: int = 0) -> torch.Tensor:
    """Per-channel symmetric int8 fake quantization, the float64 arithmetic of qparams.symmetric_scales and
    quantize_symmetric (an all-zero channel takes the largest scale); gradient straight through."""
    w64 = w.detach().double()
    amax = w64.abs().transpose(0, axis).reshape(w.shape[axis], -1).amax(dim=1)
    fallback = amax.max() if amax.max() > 0 else torch.ones((), dtype=torch.float64)
    scales = (torch.where(amax > 0, amax, fallback) / WEIGHT_QMAX).float().double()  # float32, as the graph stores
    shape = [1] * w.dim()
    shape[axis] = -1
    scales = scales.reshape(shape)
    q = torch.clamp(round_half_away(w64 * (1.0 / scales)), -WEIGHT_QMAX, WEIGHT_QMAX)
    return (q * scales).float() + (w - w.detach())


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

    def _linear_op(self, x, w, b):
        raise NotImplementedError

    def _float_layer(self) -> nn.Module:
        raise NotImplementedError

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) with the batch norm (running statistics) folded in, as float32."""
        w = self.layer.weight
        b = self.layer.bias if self.layer.bias is not None else torch.zeros(w.shape[0], dtype=w.dtype)
        if self.bn is None:
            return w, b
        factor = self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
        shape = [-1] + [1] * (w.dim() - 1)
        return w * factor.reshape(shape), (b - self.bn.running_mean) * factor + self.bn.bias

    def forward(self, x):
        if self.training and self.bn is not None:
            with torch.no_grad():  # keep the running statistics tracking the float layer's batch statistics
                y = self._linear_op(x, self.layer.weight, self.layer.bias)
                F.batch_norm(y, self.bn.running_mean, self.bn.running_var, training=True,
                             momentum=self.bn.momentum, eps=self.bn.eps)
        w, b = self.folded()
        if self.output_quant.enabled:
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
                 activation: str | None = "relu", momentum: float = 0.1):
        super().__init__()
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
    def __init__(self, cin: int, cout: int, activation: str | None = None, momentum: float = 0.1):
        super().__init__()
        self.layer = nn.Linear(cin, cout)
        self.bn = None
        self.activation = ACTIVATIONS[activation]() if activation else None
        self.output_quant = ActivationQuantizer(momentum)

    def _linear_op(self, x, w, b):
        return F.linear(x, w, b)

    def _float_layer(self) -> nn.Module:
        return nn.Linear(self.layer.in_features, self.layer.out_features)


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


def match_ranges(graph, deployed: nn.Module, ranges: dict[str, tuple[float, float]], example_input) -> dict:
    """{graph tensor name: range}: each quantizer's output found among the graph's tensors by shape and value on
    `example_input`, then carried along ops that keep their input's quantization (pooling, reshapes)."""
    from mcuforge.runtime.reference import run_reference

    captured = {}
    hooks = [deployed.get_submodule(name).register_forward_hook(
        lambda _m, _i, out, name=name: captured.__setitem__(name, _to_graph_layout(out))) for name in ranges]
    try:
        with torch.no_grad():
            deployed(example_input)
    finally:
        for h in hooks:
            h.remove()
    _, values = run_reference(graph, [_to_graph_layout(example_input).astype(np.float32)], keep_intermediates=True)
    candidates = [n for n, t in graph.tensors.items() if not t.is_constant and t.dtype == "float32"]
    by_tensor: dict[str, tuple[float, float]] = {}
    for name, value in captured.items():
        found = [n for n in candidates if values[n].shape == value.shape
                 and np.allclose(values[n], value, rtol=1e-4, atol=1e-5 * (1 + np.abs(value).max()))]
        if not found:
            raise ValueError(f"the output of quantizer {name!r} ({list(value.shape)}) is no tensor of {graph.where()}")
        for n in found:
            by_tensor[n] = ranges[name]
    for op in graph.ops:
        if op.type in SAME_AS_INPUT and op.inputs[0] in by_tensor and op.outputs[0] not in by_tensor:
            by_tensor[op.outputs[0]] = by_tensor[op.inputs[0]]
    return by_tensor


def convert(model: nn.Module, example_input: torch.Tensor, calibration=None, float_io: bool = True):
    """The trained QAT model -> an int8 Graph with its learned ranges. `example_input` (NCHW, batch 1) traces the
    model and matches tensors; `calibration` (graph layout, NHWC for images; default: the example) only sets the
    ranges of tensors no quantizer observed."""
    from mcuforge.frontends.torch_import import from_torch
    from mcuforge.quant.ptq import quantize

    deployed = deploy_module(model)
    graph = from_torch(deployed, example_input)
    ranges = match_ranges(graph, deployed, qat_ranges(model), example_input)
    if calibration is None:
        calibration = _to_graph_layout(example_input).astype(np.float32)
    return quantize(graph, calibration, float_io=float_io, ranges=ranges)

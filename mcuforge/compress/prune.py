"""Unstructured magnitude pruning of a PyTorch module, and Zhu & Gupta's gradual schedule.

A `MagnitudePruner` keeps one 0/1 mask per pruned weight: `prune(sparsity)` zeroes the smallest-magnitude
weights (over all pruned layers together, scope="global", or in each layer, scope="layer"), and the masks stay
in force during fine-tuning: a forward pre-hook re-applies them before every forward, and a gradient hook zeroes
the gradients of pruned weights. Masks only grow: a pruned weight is 0, so it stays among the smallest.

On QAT layers (qat.QConv2d / QLinear, whose forward reads their inner layer's weight without calling it, so
the pre-hook never runs) the masks are handed to the QAT layer (`weight_mask`), which applies them in every
forward and when folding for deployment. `keep_zeros` puts the zeros a pruned model already has under masks:
e.g. a pruned float model's weights loaded into QAT layers keep their zeros through QAT training.

Structured (channel) pruning, which makes the model physically smaller, is in prune_structured.py; the sparse
weights this produces are stored compressed in the generated C by prune_sparse_c.py."""

from __future__ import annotations

import torch
from torch import nn

from mcuforge.compress.qat import quant_layers

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)
SCOPES = ("global", "layer")


def prunable_layers(module: nn.Module) -> dict[str, nn.Module]:
    """{qualified name: layer} of the Linear and Conv layers of `module`."""
    return {name: m for name, m in module.named_modules() if isinstance(m, PRUNABLE)}


def _smallest_mask(magnitudes: torch.Tensor, count: int) -> torch.Tensor:
    """A 0/1 mask (float, same shape) with exactly `count` zeros on the smallest magnitudes (ties: first)."""
    flat = magnitudes.reshape(-1)
    mask = torch.ones_like(flat)
    if count > 0:
        order = torch.sort(flat, stable=True).indices
        mask[order[:count]] = 0.0
    return mask.reshape(magnitudes.shape)


class MagnitudePruner:
    """Masks on the `weight` of the given layers (default: every Linear / Conv layer of `module`)."""

    def __init__(self, module: nn.Module, layers: dict[str, nn.Module] | list[str] | None = None,
                 scope: str = "global"):
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        found = prunable_layers(module)
        if layers is None:
            layers = found
        elif not isinstance(layers, dict):
            named = dict(module.named_modules())
            missing = [n for n in layers if n not in named]
            if missing:
                raise ValueError(f"no layer named {', '.join(map(repr, missing))} in {type(module).__name__}")
            layers = {n: named[n] for n in layers}
        if not layers:
            raise ValueError(f"{type(module).__name__} has no Linear or Conv layer to prune")
        self.module, self.layers, self.scope = module, dict(layers), scope
        self.masks = {name: torch.ones_like(m.weight, requires_grad=False) for name, m in self.layers.items()}
        # QAT layers that hold a pruned layer: {pruned layer name: QAT layer}
        owners = {id(q.layer): q for q in quant_layers(module).values()}
        self._qat = {name: owners[id(m)] for name, m in self.layers.items() if id(m) in owners}
        self._handles = []
        for name, layer in self.layers.items():
            self._handles.append(layer.register_forward_pre_hook(self._pre_hook(name)))
            self._handles.append(layer.weight.register_hook(self._grad_hook(name)))

    def _pre_hook(self, name):
        def hook(layer, _inputs):
            with torch.no_grad():
                layer.weight.mul_(self.masks[name])
        return hook

    def _grad_hook(self, name):
        return lambda grad: grad * self.masks[name]

    @torch.no_grad()
    def prune(self, sparsity: float) -> dict[str, float]:
        """Zero the fraction `sparsity` of the weights with the smallest magnitudes; returns layer sparsities."""
        if not 0.0 <= sparsity <= 1.0:
            raise ValueError(f"sparsity must lie in [0, 1], got {sparsity}")
        magnitudes = {n: (m.weight * self.masks[n]).abs() for n, m in self.layers.items()}
        if self.scope == "layer":
            for name, mag in magnitudes.items():
                self.masks[name] = _smallest_mask(mag, round(sparsity * mag.numel()))
        else:
            flat = torch.cat([mag.reshape(-1) for mag in magnitudes.values()])
            mask = _smallest_mask(flat, round(sparsity * flat.numel()))
            start = 0
            for name, mag in magnitudes.items():
                self.masks[name] = mask[start:start + mag.numel()].reshape(mag.shape)
                start += mag.numel()
        self.apply()
        return self.sparsity()

    @torch.no_grad()
    def apply(self) -> None:
        """Re-impose the masks (e.g. after an optimizer step moved pruned weights through momentum or decay)."""
        for name, layer in self.layers.items():
            layer.weight.mul_(self.masks[name])
        for name, qat_layer in self._qat.items():
            qat_layer.weight_mask = self.masks[name]

    def sparsity(self) -> dict[str, float]:
        """Fraction of masked weights per layer, and over all of them under the key "global"."""
        out = {n: float((m == 0).sum()) / m.numel() for n, m in self.masks.items()}
        out["global"] = float(sum((m == 0).sum() for m in self.masks.values())) / sum(
            m.numel() for m in self.masks.values())
        return out

    def remove(self) -> nn.Module:
        """Make the pruning permanent (weights stay zero) and drop the hooks; returns the module."""
        self.apply()
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for qat_layer in self._qat.values():
            qat_layer.weight_mask = None
        return self.module


def prune_magnitude(module: nn.Module, sparsity: float, scope: str = "global",
                    layers: dict[str, nn.Module] | list[str] | None = None) -> MagnitudePruner:
    """Prune `module` in place to `sparsity`; the returned pruner keeps the masks during fine-tuning (call its
    remove() when done)."""
    pruner = MagnitudePruner(module, layers, scope)
    pruner.prune(sparsity)
    return pruner


def keep_zeros(module: nn.Module, layers: dict[str, nn.Module] | list[str] | None = None) -> MagnitudePruner:
    """A pruner whose masks are the weights' current zeros: they stay 0 through further training (QAT included)
    until its remove()."""
    pruner = MagnitudePruner(module, layers)
    with torch.no_grad():
        pruner.masks = {name: (layer.weight != 0).to(layer.weight.dtype) for name, layer in pruner.layers.items()}
    pruner.apply()
    return pruner


def weight_sparsity(module: nn.Module) -> dict[str, float]:
    """Fraction of exact zeros in each Linear / Conv weight, and over all of them under "global"."""
    layers = prunable_layers(module)
    out = {n: float((m.weight == 0).sum()) / m.weight.numel() for n, m in layers.items()}
    total = sum(m.weight.numel() for m in layers.values())
    out["global"] = float(sum((m.weight == 0).sum() for m in layers.values())) / max(total, 1)
    return out


def polynomial_sparsity(step: int, final_sparsity: float, begin_step: int, end_step: int,
                        initial_sparsity: float = 0.0, power: int = 3) -> float:
    """Zhu & Gupta (2017): s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (t1 - t0)) ** power for t in [t0, t1];
    s_i before t0 (0 before any pruning happens is the caller's business), s_f after t1."""
    if step >= end_step:
        return final_sparsity
    if step <= begin_step:
        return initial_sparsity
    progress = (step - begin_step) / (end_step - begin_step)
    return final_sparsity + (initial_sparsity - final_sparsity) * (1.0 - progress) ** power


class GradualPruner:
    """Gradual magnitude pruning during fine-tuning: call step() once per training step, after the optimizer
    step. Every `frequency` steps from `begin_step` to `end_step` (and at `end_step`) the masks are recomputed for
    polynomial_sparsity(step); on every step they are re-applied."""

    def __init__(self, module: nn.Module, final_sparsity: float, begin_step: int, end_step: int,
                 frequency: int = 100, initial_sparsity: float = 0.0, power: int = 3, scope: str = "global",
                 layers: dict[str, nn.Module] | list[str] | None = None):
        if frequency < 1 or end_step < begin_step:
            raise ValueError(f"need frequency >= 1 and end_step >= begin_step, got {frequency}, "
                             f"{begin_step}..{end_step}")
        self.pruner = MagnitudePruner(module, layers, scope)
        self.final_sparsity, self.initial_sparsity, self.power = final_sparsity, initial_sparsity, power
        self.begin_step, self.end_step, self.frequency = begin_step, end_step, frequency
        self.step_count = 0
        self.history: list[tuple[int, float]] = []  # (step, target sparsity) of each pruning event

    def target(self, step: int) -> float:
        return polynomial_sparsity(step, self.final_sparsity, self.begin_step, self.end_step,
                                   self.initial_sparsity, self.power)

    def step(self) -> float | None:
        """Advance one training step; returns the target sparsity when masks were updated on this step."""
        t = self.step_count
        self.step_count += 1
        due = self.begin_step <= t <= self.end_step and ((t - self.begin_step) % self.frequency == 0
                                                         or t == self.end_step)
        if not due:
            self.pruner.apply()
            return None
        target = self.target(t)
        self.pruner.prune(target)
        self.history.append((t, target))
        return target

    @property
    def masks(self) -> dict[str, torch.Tensor]:
        return self.pruner.masks

    def sparsity(self) -> dict[str, float]:
        return self.pruner.sparsity()

    def remove(self) -> nn.Module:
        return self.pruner.remove()

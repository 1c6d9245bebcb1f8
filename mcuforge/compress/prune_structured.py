"""Structured channel pruning: physically remove the output channels of Conv / Linear layers with the smallest
L1 or L2 weight norms, and with them the matching entries downstream, so the torch module itself gets smaller
(fewer parameters and MACs, and so a smaller compiled model).

The module is traced with torch.fx to follow each layer's output to the layers that read it. A channel can be
removed when, between the producer and its consumers, the tensor only passes through per-channel ops: batch
norm (its entries go too), element-wise activations, dropout, pooling, depthwise convolutions (the same
channels go) and a flatten in front of a Linear (the channel's block of input features goes). Any other use (a
residual add, a concatenation, a graph output, an unknown function) keeps the producer intact: it is reported
under `skipped` with the reason. Producers whose output is used by a residual add are therefore never pruned,
which keeps both branches of the add consistent by construction."""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import fx, nn

NORMS = ("l1", "l2")
PASS_MODULES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.GELU,
                nn.SiLU, nn.ELU, nn.Dropout, nn.Identity, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
                nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
PASS_FUNCTIONS = {F.relu, F.relu6, F.leaky_relu, F.hardswish, F.sigmoid, F.tanh, F.gelu, F.silu, F.dropout,
                  F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.max_pool1d, F.avg_pool1d,
                  torch.relu, torch.sigmoid, torch.tanh}
PASS_METHODS = {"relu", "sigmoid", "tanh", "contiguous"}
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def _is_depthwise(m: nn.Module) -> bool:
    return isinstance(m, (nn.Conv1d, nn.Conv2d)) and m.groups > 1 and m.groups == m.in_channels


def _is_dense(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear) or (isinstance(m, (nn.Conv1d, nn.Conv2d)) and m.groups == 1)


def _is_flatten(node: fx.Node, modules: dict) -> bool:
    if node.op == "call_module":
        return isinstance(modules[node.target], nn.Flatten) and modules[node.target].start_dim == 1
    start = node.kwargs.get("start_dim", node.args[1] if len(node.args) > 1 else 0)
    if node.op == "call_function" and node.target is torch.flatten:
        return start == 1
    if node.op == "call_method" and node.target == "flatten":
        return start == 1
    # x.view(x.size(0), -1) / x.reshape(n, -1)
    return node.op == "call_method" and node.target in ("view", "reshape") and len(node.args) == 3 \
        and node.args[2] == -1


def _channel_norms(m: nn.Module, norm: str) -> torch.Tensor:
    w = m.weight.detach().reshape(m.weight.shape[0], -1)
    return w.abs().sum(1) if norm == "l1" else w.pow(2).sum(1).sqrt()


class _Plan:
    """What removing channels of one producer touches: (kind, module name, extra) steps, in order."""

    def __init__(self, producer: str, linear: bool):
        self.producer, self.linear, self.steps, self.reason = producer, linear, [], ""


def _follow(node: fx.Node, modules: dict, plan: _Plan, flattened: bool, seen: set) -> bool:
    """Walk the users of `node` (whose channel axis is 1); False (with plan.reason) when one is not allowed."""
    for user in node.users:
        if user in seen:
            continue
        seen.add(user)
        m = modules.get(user.target) if user.op == "call_module" else None
        if m is not None and _is_dense(m) and user.args[0] is node:
            if isinstance(m, nn.Linear) != (flattened or plan.linear):
                plan.reason = f"{user.target} does not read its channels as input features"
                return False
            plan.steps.append(("consumer", user.target, flattened))
            continue
        if m is not None and _is_depthwise(m) and not flattened:
            plan.steps.append(("depthwise", user.target, None))
        elif m is not None and isinstance(m, BATCH_NORMS) and not flattened:
            plan.steps.append(("batchnorm", user.target, None))
        elif m is not None and isinstance(m, PASS_MODULES) or (user.op == "call_function" and user.target in PASS_FUNCTIONS) or \
                (user.op == "call_method" and user.target in PASS_METHODS):
            pass
        elif not flattened and _is_flatten(user, modules):
            if not _follow(user, modules, plan, True, seen):
                return False
            continue
        else:
            what = user.target if user.op != "call_function" else getattr(user.target, "__name__", user.target)
            if user.op == "call_function" and user.target in (operator.add, torch.add, operator.iadd):
                what = "a residual add"
            plan.reason = f"its output reaches {what} ({user.op})"
            return False
        if not _follow(user, modules, plan, flattened, seen):
            return False
    return True


def _trim(t: torch.Tensor | None, keep: torch.Tensor, dim: int = 0):
    return None if t is None else nn.Parameter(t.detach().index_select(dim, keep).clone(),
                                               requires_grad=t.requires_grad)


@torch.no_grad()
def _apply(modules: dict, plan: _Plan, keep: torch.Tensor, channels: int) -> None:
    prod = modules[plan.producer]
    prod.weight = _trim(prod.weight, keep)
    if prod.bias is not None:
        prod.bias = _trim(prod.bias, keep)
    if isinstance(prod, nn.Linear):
        prod.out_features = len(keep)
    else:
        prod.out_channels = len(keep)
    current, current_channels = keep, channels
    for kind, name, flattened in plan.steps:
        m = modules[name]
        if kind == "batchnorm":
            m.weight, m.bias = _trim(m.weight, current), _trim(m.bias, current)
            m.running_mean, m.running_var = m.running_mean[current].clone(), m.running_var[current].clone()
            m.num_features = len(current)
        elif kind == "depthwise":
            mult = m.out_channels // m.in_channels
            rows = (current[:, None] * mult + torch.arange(mult)[None, :]).reshape(-1)
            m.weight = _trim(m.weight, rows)
            if m.bias is not None:
                m.bias = _trim(m.bias, rows)
            m.in_channels, m.out_channels, m.groups = len(current), len(rows), len(current)
            current, current_channels = rows, current_channels * mult
        else:  # consumer: drop input channels (or, after a flatten, each channel's block of features)
            depth = m.weight.shape[1]
            cols = current
            if flattened:
                block = depth // current_channels
                cols = (current[:, None] * block + torch.arange(block)[None, :]).reshape(-1)
            m.weight = _trim(m.weight, cols, dim=1)
            if isinstance(m, nn.Linear):
                m.in_features = len(cols)
            else:
                m.in_channels = len(cols)


def prune_channels(module: nn.Module, amount: float = 0.5, norm: str = "l1", layers: list[str] | None = None,
                   ) -> dict:
    """Remove the fraction `amount` of output channels (smallest norm first, at least one kept) from each
    prunable Conv / Linear layer of `module` (or those named in `layers`), in place.

    Returns {"pruned": {layer: (channels before, after)}, "skipped": {layer: reason}}. A producer feeding only
    the module output is skipped (its width is the model's output)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"amount must lie in [0, 1), got {amount}")
    graph = fx.symbolic_trace(module).graph
    modules = dict(module.named_modules())
    calls: dict[str, int] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    plans, skipped = [], {}
    for node in graph.nodes:
        if node.op != "call_module" or not _is_dense(modules[node.target]):
            continue
        name = node.target
        if layers is not None and name not in layers:
            continue
        plan = _Plan(name, isinstance(modules[name], nn.Linear))
        if calls[name] > 1:
            skipped[name] = "the layer is called more than once"
        elif not _follow(node, modules, plan, False, set()):
            skipped[name] = plan.reason
        elif not any(kind == "consumer" for kind, _, _ in plan.steps):
            skipped[name] = "no layer reads its output"
        elif any(calls.get(s[1], 0) > 1 for s in plan.steps):
            skipped[name] = "a layer downstream is called more than once"
        else:
            plans.append(plan)
    pruned = {}
    for plan in plans:  # norms of each producer are read before its own trim; consumers' rows are unaffected
        prod = modules[plan.producer]
        norms = _channel_norms(prod, norm)
        channels = norms.numel()
        n_keep = max(1, channels - round(amount * channels))
        keep = torch.sort(torch.topk(norms, n_keep, sorted=False).indices).values
        _apply(modules, plan, keep, channels)
        pruned[plan.producer] = (channels, n_keep)
    return {"pruned": pruned, "skipped": skipped}

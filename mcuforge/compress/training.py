"""Small PyTorch training loops shared by QAT and distillation: (inputs, labels) tensors in seeded mini-batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


def batches(data, batch_size: int = 64, shuffle: bool = True, generator: torch.Generator | None = None) -> Iterable:
    """Mini-batches of `data`: an (inputs, labels) pair of tensors (shuffled by `generator`), or an iterable of
    batches already (a DataLoader), returned as is."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor)):
        return data
    x, y = data
    order = torch.randperm(len(x), generator=generator) if shuffle else torch.arange(len(x))
    return [(x[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in range(0, len(x), batch_size)]


def train(model: nn.Module, data, loss_fn: Callable, epochs: int = 5, lr: float = 1e-2, batch_size: int = 64,
          seed: int = 0, optimizer: torch.optim.Optimizer | None = None, after_step: Callable[[], object] | None = None,
          after_epoch: Callable[[int], object] | None = None) -> nn.Module:
    """Adam (or `optimizer`) on loss_fn(model, inputs, labels) over `epochs` passes of `data`; returns the model in
    eval mode. `after_step()` runs after every optimizer step (a per-step LR schedule, a pruner) and
    `after_epoch(epoch)` after every pass (a per-epoch schedule, validation: it may leave the model in eval mode,
    each pass starts in train mode)."""
    generator = torch.Generator().manual_seed(seed)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr)
    for epoch in range(epochs):
        model.train()
        for x, y in batches(data, batch_size, generator=generator):
            loss = loss_fn(model, x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step()
        if after_epoch is not None:
            after_epoch(epoch)
    return model.eval()


def train_classifier(model: nn.Module, data, epochs: int = 5, lr: float = 1e-2, batch_size: int = 64,
                     seed: int = 0, after_step: Callable[[], object] | None = None) -> nn.Module:
    """Cross-entropy training of a classifier that outputs logits."""
    return train(model, data, lambda m, x, y: nn.functional.cross_entropy(m(x), y), epochs, lr, batch_size, seed,
                 after_step=after_step)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float((model(x).argmax(1) == y).float().mean())

"""The training stages (PyTorch): float training, pruning with fine-tuning, and quantization-aware fine-tuning.

Order: train the float model -> prune it (and fine-tune with the masks held) -> QAT fine-tune (train.qat_epochs,
masks still held, so pruned weights stay zero) -> quantize (pipeline/quantize.py). Pruning before QAT keeps the
fake-quantized model the one that is deployed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from mcuforge.compress.prune import (
    GradualPruner,
    MagnitudePruner,
    keep_zeros,
    prunable_layers,
    weight_sparsity,
)
from mcuforge.compress.qat import prepare_qat
from mcuforge.compress.training import train
from mcuforge.pipeline.config import PipelineConfig
from mcuforge.pipeline.data import Dataset
from mcuforge.pipeline.tasks import float_outputs, loss_fn, scores, training_pairs


def validation_score(dataset: Dataset, model: nn.Module) -> float:
    """Higher is better: val accuracy (classification) or minus the val reconstruction error (anomaly)."""
    x, y = dataset.splits["val"]
    out = float_outputs(model, x)
    if dataset.task == "anomaly":
        return -float(np.mean(scores(dataset.task, x, out)))
    return float(np.mean(out.argmax(axis=1) == y))


def optimizer_and_schedule(config: PipelineConfig, model: nn.Module, steps_per_epoch: int):
    """Adam (AdamW with train.weight_decay) and the train.schedule: cosine decay per epoch, one-cycle per step
    (warm-up over the first 15 %, then cosine decay), or constant. Returns (optimizer, scheduler, per_step)."""
    t = config.train
    optimizer = (torch.optim.AdamW(model.parameters(), t.lr, weight_decay=t.weight_decay) if t.weight_decay
                 else torch.optim.Adam(model.parameters(), t.lr))
    if t.schedule == "onecycle":
        return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=t.lr, total_steps=t.epochs *
                                                              steps_per_epoch, pct_start=0.15), True
    if t.schedule == "cosine":
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, t.epochs), False
    return optimizer, None, False


def train_float(config: PipelineConfig, dataset: Dataset, model: nn.Module,
                progress: Callable[[int, float | None], None] | None = None) -> nn.Module:
    """The task's loss (train.label_smoothing for classification) over train.epochs of seeded mini-batches of the
    train split, with the optimizer and schedule of optimizer_and_schedule and, with train.keep_best, the weights
    of the epoch that scored best on the val split; returns the model in eval mode. `progress(epoch, val score)`
    is called after every epoch."""
    t = config.train
    data = training_pairs(dataset.task, *dataset.splits["train"])
    optimizer, schedule, per_step = optimizer_and_schedule(config, model, -(-len(data[0]) // t.batch_size))
    best, best_state = -np.inf, None

    def end_of_epoch(epoch: int) -> None:
        nonlocal best, best_state
        if schedule is not None and not per_step:
            schedule.step()
        score = validation_score(dataset, model) if t.keep_best or progress else None
        if t.keep_best and score >= best:
            best, best_state = score, copy.deepcopy(model.state_dict())
        if progress is not None:
            progress(epoch + 1, score)

    train(model, data, loss_fn(dataset.task, t.label_smoothing), t.epochs, t.lr, t.batch_size, t.seed,
          optimizer=optimizer, after_step=schedule.step if per_step else None, after_epoch=end_of_epoch)
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval()


@dataclass
class PruneResult:
    method: str
    sparsity: float  # magnitude: share of zero weights in the pruned layers; structured: share of parameters removed
    layers: dict = field(default_factory=dict)  # magnitude: sparsity per pruned layer; structured: channels kept
    params_before: int = 0
    params_after: int = 0  # structured: parameters left; magnitude: parameters left nonzero
    skipped: dict[str, str] = field(default_factory=dict)  # structured: layers left whole, and why
    masks: dict[str, torch.Tensor] | None = None  # magnitude: what QAT must keep at zero

    def to_dict(self) -> dict:
        return {"method": self.method, "sparsity": self.sparsity, "layers": self.layers,
                "params_before": self.params_before, "params_after": self.params_after, "skipped": self.skipped}


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def magnitude_layers(model: nn.Module) -> list[str]:
    """The layers magnitude pruning thins: dense convolutions and linear layers, except the first layer (few
    weights per output, and every later feature depends on it); depthwise kernels (9 weights a channel) stay."""
    layers = [name for name, m in prunable_layers(model).items()
              if not (isinstance(m, (nn.Conv1d, nn.Conv2d)) and m.groups > 1)]
    return layers[1:] if len(layers) > 1 else layers


def fine_tune(model: nn.Module, data, loss, epochs: int, lr: float, batch_size: int, seed: int,
              pruner: GradualPruner | None = None) -> nn.Module:
    """Adam fine-tuning; a GradualPruner steps after every optimizer step."""
    return train(model, data, loss, epochs, lr, batch_size, seed, after_step=None if pruner is None else pruner.step)


def prune(config: PipelineConfig, dataset: Dataset, model: nn.Module) -> tuple[nn.Module, PruneResult]:
    """prune.method "magnitude" (gradual, Zhu & Gupta, to prune.sparsity over the fine-tuning) or "structured"
    (remove that share of channels by L1 norm, then fine-tune); a pruned copy of the model."""
    p, t = config.prune, config.train
    model = copy.deepcopy(model)
    before = _params(model)
    data = training_pairs(dataset.task, *dataset.splits["train"])
    loss = loss_fn(dataset.task, t.label_smoothing)
    seed = t.seed + 1
    if p.method == "structured":
        from mcuforge.compress.prune_structured import prune_channels

        done = prune_channels(model, amount=p.sparsity, norm="l1")
        fine_tune(model, data, loss, p.fine_tune_epochs, p.lr, t.batch_size, seed)
        after = _params(model)
        kept = {name: f"{n_after} of {n_before} channels" for name, (n_before, n_after) in done["pruned"].items()}
        return model, PruneResult("structured", 1 - after / before, kept,
                                  before, after, {k: str(v) for k, v in done["skipped"].items()})
    layers = magnitude_layers(model)
    steps = p.fine_tune_epochs * -(-len(data[0]) // t.batch_size)
    if steps == 0:
        pruner = MagnitudePruner(model, layers, scope="layer")
        pruner.prune(p.sparsity)
    else:
        # the schedule reaches the final sparsity two thirds of the way through, the rest recovers accuracy
        end = max(steps * 2 // 3, 1)
        pruner = GradualPruner(model, p.sparsity, begin_step=0, end_step=end, frequency=max(end // 10, 1),
                               scope="layer", layers=layers)
        fine_tune(model, data, loss, p.fine_tune_epochs, p.lr, t.batch_size, seed, pruner)
    masks = {name: mask.clone() for name, mask in pruner.masks.items()}
    pruner.remove()
    sparsity = weight_sparsity(model)
    per_layer = {name: sparsity[name] for name in layers}
    zeros = sum(float((masks[n] == 0).sum()) for n in layers)
    total = sum(masks[n].numel() for n in layers)
    return model, PruneResult("magnitude", zeros / total, per_layer, before, before - int(zeros), masks=masks)


def train_qat(config: PipelineConfig, dataset: Dataset, model: nn.Module,
              masks: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """QAT fine-tuning (train.qat_epochs at train.qat_lr) of the trained (and pruned) float model; pruned weights
    get zero gradients, so they stay zero."""
    t = config.train
    qat = prepare_qat(model)
    pruner = None
    if masks:
        # the QAT layers keep each float layer's weight under `<layer>.layer`; hold the same zeros there
        layers = {name: m for name, m in prunable_layers(qat).items() if float((m.weight == 0).sum()) > 0}
        pruner = keep_zeros(qat, layers)
    data = training_pairs(dataset.task, *dataset.splits["train"])
    fine_tune(qat, data, loss_fn(dataset.task, t.label_smoothing), t.qat_epochs, t.qat_lr, t.batch_size, t.seed + 2)
    if pruner is not None:
        pruner.remove()
    return qat

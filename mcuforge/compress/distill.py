"""Knowledge distillation (Hinton et al. 2015): a small student learns from a teacher's softened outputs and the
labels. loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels);
the T^2 keeps the soft term's gradients on the scale of the hard term's as T grows."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mcuforge.compress.training import train


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      T: float = 4.0, alpha: float = 0.7) -> torch.Tensor:
    """The batch mean of the distillation loss above (KL in nats, per sample)."""
    if T <= 0:
        raise ValueError(f"temperature T must be positive, got {T}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.log_softmax(teacher_logits / T, dim=1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * T * T * soft + (1.0 - alpha) * hard


def distill(teacher: nn.Module, student: nn.Module, data, T: float = 4.0, alpha: float = 0.7, epochs: int = 5,
            lr: float = 1e-2, batch_size: int = 64, seed: int = 0) -> nn.Module:
    """Train `student` on `data` ((inputs, labels) tensors, or an iterable of such batches) against the frozen
    `teacher`'s logits; returns the student in eval mode (the teacher is left in eval mode)."""
    teacher.eval()

    def loss_fn(model, x, y):
        with torch.no_grad():
            teacher_logits = teacher(x)
        return distillation_loss(model(x), teacher_logits, y, T, alpha)

    return train(student, data, loss_fn, epochs, lr, batch_size, seed)

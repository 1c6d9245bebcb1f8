"""sklearn's 8x8 digits as NCHW float tensors in [0, 1], split once (seeded) into training and held-out sets."""

import functools

import torch


@functools.cache
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, test = order[:1400], order[1400:]
    return (x[train], y[train]), (x[test], y[test])

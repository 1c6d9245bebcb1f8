"""The architecture stage: a zoo model (mcuforge.models.ZOO) built from `model.arch` and its parameters (width,
resolution, ...), with the parameters the data decides filled in (classes, input frames, resolution, features),
and the check that it fits the target before any training (models.fit.estimate_fit)."""

from __future__ import annotations

import dataclasses
import inspect

import torch
from torch import nn

from mcuforge.errors import DoesNotFitError
from mcuforge.models import ZOO
from mcuforge.models.fit import FitResult, estimate_fit
from mcuforge.pipeline.config import PipelineConfig
from mcuforge.pipeline.data import Dataset
from mcuforge.targets.profiles import KIB, get_profile

# Constructor parameters the data fixes, per sample rank: name -> (index into the sample shape).
FROM_SAMPLE = {
    4: {},  # unused: samples have no batch axis
    3: {"channels": 0, "frames": 1, "coefficients": 2, "resolution": 1},
    2: {"channels": 0, "length": 1},
    1: {"features": 0},
}


def model_parameters(arch: str) -> list[str]:
    return list(inspect.signature(ZOO[arch]).parameters)


def build_model(config: PipelineConfig, dataset: Dataset, seed: int | None = None) -> nn.Module:
    """The untrained zoo model for `config.model` and the data's samples (seeded by train.seed)."""
    arch = config.model["arch"]
    if arch not in ZOO:
        raise config.error("model.arch", f"{arch!r} is not a zoo model (models: {', '.join(ZOO)})")
    params = {k: v for k, v in config.model.items() if k != "arch"}
    names = model_parameters(arch)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise config.error(f"model.{unknown[0]}", f"is not a parameter of {arch} (parameters: {', '.join(names)})")
    shape = dataset.sample_shape
    for name, axis in FROM_SAMPLE.get(len(shape), {}).items():
        if name in names and name not in params:
            params[name] = shape[axis]
    if dataset.task == "classification" and "classes" in names:
        if "classes" not in params:
            params["classes"] = len(dataset.classes)
        elif params["classes"] != len(dataset.classes):
            raise config.error("model.classes", f"is {params['classes']!r} but the data has {len(dataset.classes)} "
                                                f"classes (leave it out to take the data's)")
    torch.manual_seed(config.train.seed if seed is None else seed)
    try:
        model = ZOO[arch](**params)
    except (TypeError, ValueError, RuntimeError) as exc:  # RuntimeError: torch on e.g. negative widths
        raise config.error("model", f"{arch}({', '.join(f'{k}={v!r}' for k, v in params.items())}): {exc}") from None
    if tuple(model.input_shape[1:]) != shape:
        given = ", ".join(f"{k}={params[k]}" for k in params if k in FROM_SAMPLE.get(len(shape), {}))
        raise config.error("model", f"{arch} takes inputs of shape {list(model.input_shape[1:])} ({given}) but the "
                                    f"data's samples are {list(shape)}")
    model.arch_params = params  # what summary.json records
    return model


def target_board(config: PipelineConfig):
    """The target's board (target.board picks one by MCU or board name), with ram_kb / flash_kb overrides."""
    profile = get_profile(config.target.name)
    board = profile.board
    if config.target.board:
        wanted = config.target.board.lower()
        matches = [b for b in profile.boards if wanted in (b.mcu.lower(), b.name.lower())]
        if not matches:
            raise config.error("target.board", f"{config.target.board!r} is not a board of {profile.name} (boards: "
                                               f"{', '.join(b.mcu for b in profile.boards)})")
        board = matches[0]
    changes = {}
    if config.target.ram_kb is not None:
        changes["ram_bytes"] = int(config.target.ram_kb * KIB)
    if config.target.flash_kb is not None:
        changes["flash_bytes"] = int(config.target.flash_kb * KIB)
    return dataclasses.replace(board, **changes) if changes else board


def check_fit(config: PipelineConfig, model: nn.Module) -> FitResult:
    """The int8 deployment's flash and RAM against the target board; DoesNotFitError naming the layer that
    overflows when it does not fit."""
    from mcuforge.frontends.torch_import import from_torch

    board = target_board(config)
    model.eval()
    graph = from_torch(model, torch.zeros(tuple(model.input_shape)))
    fit = estimate_fit(graph, config.target.name, board=board, sparse=config.compile.sparse)
    fit.model = config.model["arch"]
    if fit.fits:
        return fit
    what = f"{config.path}: {fit.model} ({', '.join(f'{k}={v}' for k, v in model.arch_params.items())})"
    where = f"{board.mcu}, {board.ram_bytes / KIB:g} KiB RAM, {board.flash_bytes / KIB:g} KiB flash"
    if not fit.fits_ram:
        raise DoesNotFitError(f"{what} does not fit {config.target.name} ({where}): RAM {fit.ram_bytes:,} B > "
                              f"{fit.ram_limit:,} B, overflows at layer {fit.ram_layer}")
    raise DoesNotFitError(f"{what} does not fit {config.target.name} ({where}): flash {fit.flash_bytes:,} B of "
                          f"weights > {fit.flash_limit:,} B (the flash less room for the code), overflows at layer "
                          f"{fit.flash_layer}")

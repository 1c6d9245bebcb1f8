"""estimate_fit against the code the firmware build generates: its RAM is the arena compile_model plans with the
graph inputs and outputs inside (as build_firmware compiles) plus the stack allowance, and its flash counts the
weights as the code generator stores them (sparse for pruned layers unless sparse storage is off)."""

import numpy as np
import pytest
import torch

from mcuforge.codegen.project import render_project
from mcuforge.compress.prune import prune_magnitude
from mcuforge.frontends.torch_import import from_torch
from mcuforge.models import ZOO, estimate_fit
from mcuforge.models.fit import STACK_ALLOWANCE
from mcuforge.ops.registry import get_op
from mcuforge.quant.ptq import quantize
from mcuforge.quant.sparse import flash_saved, sparse_storage

CASES = {"ds_cnn": {"width": 64, "blocks": 2, "frames": 12, "coefficients": 8},
         "mobilenet_v1": {"resolution": 16, "alpha": 0.25},
         "vibration_cnn": {"length": 32},
         "fc_autoencoder": {"features": 16, "hidden": 8, "depth": 1}}


def float_and_int8(arch: str, sparsity: float = 0.0, scope: str = "global"):
    torch.manual_seed(0)
    model = ZOO[arch](**CASES[arch]).eval()
    if sparsity:
        prune_magnitude(model, sparsity, scope=scope).remove()
    graph = from_torch(model, torch.zeros(tuple(model.input_shape)))
    shape = graph.tensors[graph.inputs[0]].shape[1:]
    calibration = np.random.default_rng(0).standard_normal((8, *shape)).astype(np.float32)
    return graph, quantize(graph, calibration)


def compiled(graph, sparse: str = "auto"):
    """(arena bytes, flash bytes of every constant array) of the library build_firmware would compile."""
    _, plan, sources = render_project(graph, io_in_arena=True, sparse=sparse)
    return plan.arena_size, sum(a.values.nbytes for a in sources.context.arrays)


@pytest.mark.parametrize("arch", sorted(CASES))
def test_fit_ram_is_the_firmware_arena_plus_stack(arch):
    graph, int8 = float_and_int8(arch)
    fit = estimate_fit(graph)
    arena, constants = compiled(int8)
    assert fit.arena_bytes == arena and fit.ram_bytes == arena + STACK_ALLOWANCE
    assert fit.flash_bytes >= constants  # conservative: weights, biases and the per-channel tables
    assert estimate_fit(int8).arena_bytes == arena  # the quantized graph itself: the same plan


def test_pruned_model_counts_sparse_storage_as_the_code_generator_stores_it():
    graph, int8 = float_and_int8("ds_cnn", sparsity=0.85)
    with sparse_storage("auto"):
        saved = sum(flash_saved(int8).values())
    auto, off = estimate_fit(graph), estimate_fit(graph, sparse="off")
    assert auto.sparse_layers > 0 and off.sparse_layers == 0 and saved > 0
    assert off.flash_bytes - auto.flash_bytes == saved  # the zero pattern PTQ gives, layer by layer
    (arena_auto, flash_auto), (arena_off, flash_off) = compiled(int8), compiled(int8, "off")
    assert flash_off - flash_auto == saved
    assert auto.flash_bytes >= flash_auto and off.flash_bytes >= flash_off
    # sparse layers reserve no SIMD scratch (at 85% zeros none runs the dense-compute path; the depthwise filters stay
    # dense): each mode's arena is the build's
    assert (auto.arena_bytes, off.arena_bytes) == (arena_auto, arena_off) and arena_auto <= arena_off


def test_sparse_depthwise_reserves_its_decoded_filter_as_the_build_does():
    """Pruned layer by layer, the depthwise filters go sparse too and are decoded for the dense DSP kernel
    (sparse storage, dense compute): their scratch is the dense kernel's plus the filter, in the fit as in the
    build."""
    graph, int8 = float_and_int8("ds_cnn", sparsity=0.9, scope="layer")
    with sparse_storage("auto"):
        depthwise = [op for op in int8.ops if op.type == "DEPTHWISE_CONV_2D"]
        assert depthwise and all(op.inputs[1] in flash_saved(int8) for op in depthwise)
        assert all(get_op(op.type).scratch_bytes(op, int8) > 0 for op in depthwise)
    auto, off = estimate_fit(graph), estimate_fit(graph, sparse="off")
    assert (auto.arena_bytes, off.arena_bytes) == (compiled(int8)[0], compiled(int8, "off")[0])


def test_unpruned_weights_stay_dense():
    graph, _ = float_and_int8("ds_cnn")
    fit = estimate_fit(graph)
    assert fit.sparse_layers == 0 and fit.flash_bytes == estimate_fit(graph, sparse="off").flash_bytes

"""Sparse storage off (compile_model / build_firmware sparse="off", `--sparse off`): a pruned model whose layers
would go sparse compiles to the dense kernels only, with the same outputs."""

import numpy as np
import pytest
import torch

from mcuforge.cli import main
from mcuforge.codegen.host import build_host, run_host
from mcuforge.codegen.project import compile_model, render_project
from mcuforge.compress.prune import prune_magnitude
from mcuforge.errors import McuforgeError
from mcuforge.frontends.torch_import import from_torch
from mcuforge.models import DSCNN
from mcuforge.quant.ptq import quantize
from mcuforge.runtime.reference import run_reference


@pytest.fixture(scope="module")
def pruned_int8():
    """A DS-CNN (conv, depthwise and FC layers) magnitude-pruned to 85% zeros in each layer, quantized with PTQ."""
    torch.manual_seed(0)
    model = DSCNN(width=32, blocks=1, frames=12, coefficients=8).eval()
    prune_magnitude(model, 0.85, scope="layer").remove()
    graph = from_torch(model, torch.zeros(tuple(model.input_shape)))
    shape = graph.tensors[graph.inputs[0]].shape[1:]
    calibration = np.random.default_rng(0).standard_normal((16, *shape)).astype(np.float32)
    return quantize(graph, calibration)


def sparse_kernels(graph, **options) -> set[str]:
    return {k for k in render_project(graph, **options)[2].kernels if k.endswith("_sparse_s8")}


def test_off_emits_no_sparse_kernel_and_the_same_outputs(pruned_int8, tmp_path):
    graph = pruned_int8
    auto = sparse_kernels(graph)
    assert {"conv_2d_sparse_s8", "depthwise_conv_2d_sparse_s8", "fully_connected_sparse_s8"} <= auto
    assert sparse_kernels(graph, sparse="off") == set()
    x = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(1)
    batch = [[rng.integers(-128, 128, size=x.shape).astype(np.int8)] for _ in range(6)]
    outputs = {}
    for mode in ("auto", "off"):
        compiled = compile_model(graph, tmp_path / mode, name="kws", sparse=mode)
        outputs[mode] = run_host(build_host(compiled.outdir, "kws"), graph, batch)
    for record, got_auto, got_off in zip(batch, outputs["auto"], outputs["off"]):
        expected = run_reference(graph, [record[0]])
        for a, o, e in zip(got_auto, got_off, expected):
            np.testing.assert_array_equal(a, o)
            np.testing.assert_array_equal(o, e)


def test_off_costs_flash_and_reserves_the_simd_scratch(pruned_int8):
    _, plan_auto, src_auto = render_project(pruned_int8, io_in_arena=True)
    _, plan_off, src_off = render_project(pruned_int8, io_in_arena=True, sparse="off")
    assert src_off.context.sparse == "off" and src_auto.context.sparse == "auto"

    def weights(sources):
        return sum(a.values.nbytes for a in sources.context.arrays if a.is_weight)
    assert weights(src_off) > weights(src_auto)
    assert plan_off.scratch and len(plan_off.scratch) > len(plan_auto.scratch)


def test_bad_mode_is_refused(pruned_int8, tmp_path):
    with pytest.raises(McuforgeError, match="sparse must be one of auto, off, got 'dense'"):
        compile_model(pruned_int8, tmp_path / "x", sparse="dense")


def test_cli_flag(pruned_int8, tmp_path, capsys):
    from mcuforge.frontends.tflite_export import save_tflite

    model = save_tflite(pruned_int8, tmp_path / "pruned.tflite")
    for mode in ("auto", "off"):
        assert main(["compile", str(model), "-o", str(tmp_path / mode), "--sparse", mode]) == 0
    assert list((tmp_path / "auto").glob("*_sparse_s8.c")) and not list((tmp_path / "off").glob("*_sparse_s8.c"))
    with pytest.raises(SystemExit):
        main(["compile", str(model), "-o", str(tmp_path / "bad"), "--sparse", "dense"])
    assert "--sparse: invalid choice: 'dense'" in capsys.readouterr().err


def test_firmware_build_threads_the_mode(pruned_int8, tmp_path):
    from mcuforge.targets.build import build_firmware

    kernels = {}
    for mode in ("auto", "off"):
        build = build_firmware(pruned_int8, tmp_path / mode, target="cortex-m4", name="kws", sparse=mode)
        kernels[mode] = {p.stem for p in build.kernel_objects}
    assert "conv_2d_sparse_s8" in kernels["auto"]
    assert not any(k.endswith("_sparse_s8") for k in kernels["off"]) and "conv_2d_s8" in kernels["off"]

"""Sparse storage off (compile_model / build_firmware sparse="off", `--sparse off`): a pruned model whose layers
would go sparse compiles to the dense kernels only, with the same outputs; "speed" keeps sparse only the 1x1 convs
pruned far enough for the pointwise sparse kernel to beat the dense SIMD one."""

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
from mcuforge.quant.sparse import SPARSE_MODES, SPARSE_OPS, sparse_op_weights, sparse_storage, use_sparse
from mcuforge.runtime.reference import run_reference


@pytest.fixture(scope="module")
def pruned_int8():
    """A DS-CNN (conv, depthwise and FC layers) magnitude-pruned to 90% zeros in each layer, quantized with PTQ."""
    torch.manual_seed(0)
    model = DSCNN(width=32, blocks=1, frames=12, coefficients=8).eval()
    prune_magnitude(model, 0.9, scope="layer").remove()
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
    assert sparse_kernels(graph, sparse="speed") == {"conv_2d_sparse_s8"}
    x = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(1)
    batch = [[rng.integers(-128, 128, size=x.shape).astype(np.int8)] for _ in range(6)]
    outputs = {}
    for mode in SPARSE_MODES:
        compiled = compile_model(graph, tmp_path / mode, name="kws", sparse=mode)
        outputs[mode] = run_host(build_host(compiled.outdir, "kws"), graph, batch)
    for k, record in enumerate(batch):
        expected = run_reference(graph, [record[0]])
        for mode in SPARSE_MODES:
            for got, e in zip(outputs[mode][k], expected):
                np.testing.assert_array_equal(got, e, err_msg=f"{mode} record {k}")


def test_speed_keeps_sparse_only_pruned_pointwise_convs(pruned_int8):
    """At 90% zeros every layer would save flash; "speed" takes only the 1x1 convs, and none of them once fewer
    than 87% of their weights are zero."""
    graph = pruned_int8
    with sparse_storage("speed"):
        chosen = {op.outputs[0]: sparse_op_weights(op, graph) is not None for op in graph.ops if op.type in SPARSE_OPS}
    pointwise = {op.outputs[0] for op in graph.ops
                 if op.type == "CONV_2D" and graph.tensors[op.inputs[1]].shape[1:3] == (1, 1)}
    assert pointwise and {name for name, sparse in chosen.items() if sparse} == pointwise
    denser = graph.tensors[next(op for op in graph.ops if op.outputs[0] in pointwise).inputs[1]]
    data = denser.data
    nonzero = np.flatnonzero(data == 0)[: int(0.05 * data.size)]  # 85% zeros: still smaller, no longer faster
    try:
        denser.data = data.copy()
        denser.data.reshape(-1)[nonzero] = 1
        with sparse_storage("speed"):
            assert not use_sparse(denser)
        assert use_sparse(denser)
    finally:
        denser.data = data


def test_off_costs_flash_and_reserves_the_simd_scratch(pruned_int8):
    _, plan_auto, src_auto = render_project(pruned_int8, io_in_arena=True)
    _, plan_off, src_off = render_project(pruned_int8, io_in_arena=True, sparse="off")
    assert src_off.context.sparse == "off" and src_auto.context.sparse == "auto"

    def weights(sources):
        return sum(a.values.nbytes for a in sources.context.arrays if a.is_weight)
    assert weights(src_off) > weights(src_auto)
    assert plan_off.scratch and len(plan_off.scratch) > len(plan_auto.scratch)


def test_bad_mode_is_refused(pruned_int8, tmp_path):
    with pytest.raises(McuforgeError, match="sparse must be one of auto, speed, off, got 'dense'"):
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


def test_speed_leaves_grouped_pointwise_convs_dense():
    """A grouped 1x1 conv would run the general sparse kernel, not the pointwise one: "speed" keeps it dense."""
    from tests.builders import GraphBuilder

    b = GraphBuilder(seed=3)
    x = b.input("x", (1, 4, 4, 8), scale=0.05, zero_point=0)
    weights = b.rng.integers(-127, 128, size=(8, 1, 1, 4))
    weights[b.rng.random(weights.shape) < 0.9] = 0
    w = b.const("w", weights, "int8", np.full(8, 0.01, np.float32), np.zeros(8, np.int64), 0)
    bias = b.int32_bias("bias", 8, 0.05 * 0.01)
    graph = b.build(b.op("CONV_2D", [x, w, bias], "y", scale=0.1, zero_point=0))
    op = graph.ops[0]
    with sparse_storage("auto"):
        assert sparse_op_weights(op, graph) is not None
    with sparse_storage("speed"):
        assert sparse_op_weights(op, graph) is None
        assert sparse_kernels(graph, sparse="speed") == set()

"""Bare-metal builds run on QEMU (Cortex-M4: mps2-an386, Cortex-M7: mps2-an500) give the reference interpreter's
outputs: 10 seeded random inputs per model and core, all in one boot. Shared models whose ops have no C kernel
yet are skipped (they start running as kernels land); ad01 compiles today and must pass."""

import shutil

import pytest

from mcuforge.errors import ToolchainError, UnsupportedOpError
from mcuforge.frontends import load_model
from mcuforge.runtime.reference import run_reference
from mcuforge.targets import qemu as qemu_module
from mcuforge.targets.build import build_firmware
from mcuforge.targets.qemu import run_qemu
from tests.builders import GraphBuilder
from tests.conftest import SHARED_MODELS, shared_model
from tests.targets.conftest import assert_outputs_equal, random_batch, require_qemu

QEMU_CORES = ("cortex-m4", "cortex-m7")
RECORDS = 10
MUST_COMPILE = {"ad"}  # shared models whose every op has a C kernel today


def two_layer_int8():
    b = GraphBuilder(seed=11)
    x = b.input("x", (3, 40), scale=0.05, zero_point=-3)
    w1 = b.int8_weights("w1", (16, 40), axis=0)
    h = b.op("FULLY_CONNECTED", [x, w1, b.int32_bias("b1", 16, 0.05 * b.graph.tensors[w1].quant.scale)], "h",
             scale=0.3, zero_point=-10, fused_activation_function="RELU")
    w2 = b.int8_weights("w2", (8, 16), axis=None)
    y = b.op("FULLY_CONNECTED", [h, w2, ""], "y", scale=0.2, zero_point=4)
    return b.build(y)


def float_fc():
    """float32: the FPU must be enabled by the startup code (CPACR), else the first VFP instruction faults."""
    b = GraphBuilder(seed=12)
    x = b.input("x", (2, 24), dtype="float32")
    w = b.const("w", b.rng.standard_normal((10, 24)), "float32")
    bias = b.const("b", b.rng.standard_normal(10), "float32")
    y = b.op("FULLY_CONNECTED", [x, w, bias], "y", out_dtype="float32", fused_activation_function="RELU")
    return b.build(y)


def check_on_qemu(graph, target, tmp_path, seed):
    batch = random_batch(graph, RECORDS, seed)
    build = build_firmware(graph, tmp_path / target, target=target, name="net")
    run = run_qemu(build, batch)
    assert run.records == RECORDS
    assert 0 < run.stack_max < build.stack_bytes
    for k, record in enumerate(batch):
        assert_outputs_equal(graph, run.outputs[k], run_reference(graph, record), f"{target} record {k}")
    return run


@pytest.mark.parametrize("target", [*QEMU_CORES, "cortex-m33"])
@pytest.mark.parametrize("make_graph", [two_layer_int8, float_fc])
def test_small_graph_matches_reference(make_graph, target, tmp_path):
    require_qemu()
    check_on_qemu(make_graph(), target, tmp_path, seed=5)


@pytest.mark.parametrize("target", QEMU_CORES)
@pytest.mark.parametrize("key", sorted(SHARED_MODELS))
def test_shared_model_matches_reference(key, target, tmp_path):
    graph = load_model(shared_model(key))
    require_qemu()
    try:
        check_on_qemu(graph, target, tmp_path, seed=7)
    except UnsupportedOpError as exc:
        if key in MUST_COMPILE:
            raise
        pytest.skip(f"waiting for C kernels: {exc}")


def test_cortex_m33_runs_a_shared_model(tmp_path):
    """The Cortex-M33 (mps2-an505, booting in the secure state at 0x10000000): the DSP kernels of an ARMv8-M core."""
    graph = load_model(shared_model("kws"))
    require_qemu()
    check_on_qemu(graph, "cortex-m33", tmp_path, seed=8)


def test_failing_boot_is_reported(tmp_path, monkeypatch):
    """A runner that cannot open its input exits non-zero; run_qemu says so instead of returning garbage."""
    require_qemu()
    graph = two_layer_int8()
    build = build_firmware(graph, tmp_path / "b", target="cortex-m4", name="net")
    monkeypatch.setattr(qemu_module, "_write_records", lambda path, graph, batch: None)  # main returns 2
    with pytest.raises(ToolchainError, match="exited with status 2: cannot open mcuforge_in.bin"):
        run_qemu(build, random_batch(graph, 1, 0))


def test_missing_tools_fail_in_ci_and_skip_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="arm-none-eabi-gcc not found"):
        require_qemu()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_qemu()

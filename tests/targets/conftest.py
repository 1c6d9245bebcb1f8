"""Fixtures of the target tests: the cross toolchain and QEMU (missing ones fail in CI and skip elsewhere),
seeded random input batches, and the three-way check of the DSP kernel tests (tests/targets/test_dsp_*.py)."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcuforge.codegen.host import SANITIZE_CFLAGS, STRICT_CFLAGS, host_compiler, run_host
from mcuforge.codegen.project import compile_model
from mcuforge.ir import Graph
from mcuforge.runtime.reference import run_reference
from mcuforge.targets.build import FirmwareBuild, build_firmware
from mcuforge.targets.qemu import run_qemu

NO_DSP = ("-DMCUFORGE_NO_DSP",)
# The builds a DSP kernel test runs: the DSP variants on the M4 and the M7, the portable kernels on the M4, and the
# DSP variants' C loops instead of their assembly on the M4 (MCUFORGE_NO_DSP_ASM, as builds keeping a frame pointer
# take them: kernels/dsp_s8.h).
DSP_BUILDS = {"m4-dsp": ("cortex-m4", ()), "m4-portable": ("cortex-m4", NO_DSP), "m7-dsp": ("cortex-m7", ()),
              "m4-dsp-c": ("cortex-m4", ("-fno-omit-frame-pointer", "-DMCUFORGE_NO_DSP_ASM"))}


def require_tool(binary: str, apt_packages: str) -> None:
    if shutil.which(binary) is None:
        message = f"{binary} not found (apt-get install {apt_packages})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def require_cross_toolchain() -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    found = subprocess.run(["arm-none-eabi-gcc", "-print-file-name=rdimon.specs"], capture_output=True, text=True,
                           check=False)
    if not os.path.isfile(found.stdout.strip()):
        require_tool("(newlib's rdimon.specs)", "libnewlib-arm-none-eabi")


def require_qemu() -> None:
    require_cross_toolchain()
    require_tool("qemu-system-arm", "qemu-system-arm")


def random_batch(graph: Graph, count: int, seed: int) -> list[list[np.ndarray]]:
    """`count` records of seeded random inputs: full-range int8, standard normal floats."""
    rng = np.random.default_rng(seed)
    batch = []
    for _ in range(count):
        record = []
        for name in graph.inputs:
            t = graph.tensors[name]
            if t.dtype == "int8":
                record.append(rng.integers(-128, 128, size=t.shape, dtype=np.int8))
            else:
                record.append(rng.standard_normal(t.shape).astype(t.dtype))
        batch.append(record)
    return batch


def int8_conv(b, x, name, weights, w_scales, bias, **attrs) -> str:
    """A CONV_2D of int8 `weights` (OHWI, symmetric per-channel `w_scales`) and int32 `bias` on `x`, added to the
    tests.builders.GraphBuilder `b`: the DSP conv tests' layers with chosen multipliers and accumulator starts."""
    filters = weights.shape[0]
    w = b.const(f"{name}_w", weights, "int8", np.asarray(w_scales, np.float32), np.zeros(filters, np.int64), 0)
    bias_t = b.int32_bias(f"{name}_b", filters, b.graph.tensors[x].quant.scale[0] * b.graph.tensors[w].quant.scale)
    b.graph.tensors[bias_t].data = np.asarray(bias, np.int32)
    return b.op("CONV_2D", [x, w, bias_t], name, **attrs)


def assert_outputs_equal(graph: Graph, got: list[np.ndarray], expected: list[np.ndarray], where: str) -> None:
    """Bit-exact for integer outputs; float outputs within 1e-5 (the C code may sum in another order)."""
    for name, g, e in zip(graph.outputs, got, expected):
        e = np.asarray(e).reshape(g.shape)
        if np.issubdtype(g.dtype, np.floating):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5, err_msg=f"{where}: output {name}")
        else:
            assert np.array_equal(g, e), f"{where}: output {name} differs in {np.count_nonzero(g != e)} values"


def build_dsp_variants(graph: Graph, root: Path, keys=tuple(DSP_BUILDS)) -> dict[str, FirmwareBuild]:
    """The firmware of `graph` for each of DSP_BUILDS' `keys`, under root/<key>."""
    require_qemu()
    return {key: build_firmware(graph, root / key, target=DSP_BUILDS[key][0], name="net", cflags=DSP_BUILDS[key][1])
            for key in keys}


def assert_builds_match_reference(graph: Graph, builds: dict[str, FirmwareBuild], batch) -> None:
    """Every build's outputs on QEMU equal the reference interpreter's, record by record."""
    expected = [run_reference(graph, record) for record in batch]
    for key, build in builds.items():
        run = run_qemu(build, batch)
        for k, record in enumerate(run.outputs):
            assert_outputs_equal(graph, record, expected[k], f"{key} record {k}")


def assert_emulated_matches_reference(graph: Graph, tmp_path: Path, batch) -> None:
    """The DSP variants in plain C on the host (MCUFORGE_DSP_EMULATE), with ASan and UBSan: the sanitizers check
    their index arithmetic, the reference interpreter their outputs."""
    compiled = compile_model(graph, tmp_path / "lib", name="net")
    exe = tmp_path / "net_emulated"
    sources = sorted(str(p) for p in compiled.outdir.glob("*.c"))
    result = subprocess.run([host_compiler(), *STRICT_CFLAGS, *SANITIZE_CFLAGS, "-DMCUFORGE_DSP_EMULATE", *sources,
                             "-o", str(exe), "-lm"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[:2000]
    for k, (got, record) in enumerate(zip(run_host(exe, graph, batch), batch)):
        assert_outputs_equal(graph, got, run_reference(graph, record), f"emulated record {k}")

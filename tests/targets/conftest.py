"""Fixtures of the target tests: the cross toolchain and QEMU (missing ones fail in CI and skip elsewhere), and
seeded random input batches."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from mcuforge.ir import Graph


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


def assert_outputs_equal(graph: Graph, got: list[np.ndarray], expected: list[np.ndarray], where: str) -> None:
    """Bit-exact for integer outputs; float outputs within 1e-5 (the C code may sum in another order)."""
    for name, g, e in zip(graph.outputs, got, expected):
        e = np.asarray(e).reshape(g.shape)
        if np.issubdtype(g.dtype, np.floating):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5, err_msg=f"{where}: output {name}")
        else:
            assert np.array_equal(g, e), f"{where}: output {name} differs in {np.count_nonzero(g != e)} values"

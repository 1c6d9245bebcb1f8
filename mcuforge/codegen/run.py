"""The `host-c` engine: compile the model's C library with the host gcc and run inputs through it."""

from __future__ import annotations

import tempfile

import numpy as np

from mcuforge.codegen.host import build_host, run_host
from mcuforge.codegen.project import compile_model
from mcuforge.ir import Graph
from mcuforge.runtime.reference import check_inputs


def run_host_c(graph: Graph, inputs, compat: str = "tflm") -> list[np.ndarray]:
    inputs = check_inputs(graph, inputs)
    with tempfile.TemporaryDirectory(prefix="mcuforge-host-c-") as tmp:
        compiled = compile_model(graph, f"{tmp}/model", name="model", compat=compat)
        return run_host(build_host(compiled.outdir, compiled.name), graph, [inputs])[0]

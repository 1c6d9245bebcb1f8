"""Golden comparison: our reference interpreter against LiteRT and TFLite Micro on seeded random inputs.

Integer outputs must be identical: to TFLite Micro with compat="tflm" and to LiteRT's reference kernels with
compat="litert" (the two round differently in some kernels, see quant/fixed_point.py).
Float outputs must agree within 1e-5 relative."""

from __future__ import annotations

import hashlib
import tempfile

import numpy as np

from mcuforge.codegen.host import build_host, run_host
from mcuforge.codegen.project import render_project, write_atomically
from mcuforge.frontends.tflite_export import export_tflite
from mcuforge.frontends.tflite_import import parse_tflite
from mcuforge.ir import Graph
from mcuforge.ir.validate import validate_graph
from mcuforge.ops.registry import get_op
from mcuforge.passes import simplify
from mcuforge.runtime.reference import run_reference
from tests.oracles import TFLM, LiteRT, random_inputs

N_INPUTS = 50


def assert_outputs_match(ours: list[np.ndarray], theirs: list[np.ndarray], what: str) -> None:
    assert len(ours) == len(theirs), f"{what}: {len(ours)} outputs vs {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what} output {i}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        if a.dtype == np.float32:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"{what} output {i}")
        else:
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, (f"{what} output {i}: {diff.size}/{a.size} values differ, first at flat index "
                                    f"{diff[0]}: ours {a.reshape(-1)[diff[0]]} vs {b.reshape(-1)[diff[0]]}")


def has_c_kernels(graph: Graph) -> bool:
    return all(get_op(op.type).emit_c is not None or get_op(op.type).view_of_input for op in graph.ops)


def run_generated_c(graph: Graph, batch: list[list[np.ndarray]], compat: str, workdir, sanitize: bool = False,
                    _builds: dict | None = None):
    """Compile the graph to C (strict warnings; optionally ASan/UBSan), run every record of `batch`. Builds whose
    sources are byte-identical to one already made (most ops generate the same C in both compat modes) are
    reused through `_builds`."""
    files, _, _ = render_project(graph, name="model", compat=compat)
    key = (hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest(), sanitize)
    if _builds is not None and key in _builds:
        exe = _builds[key]
    else:
        outdir = write_atomically(files, f"{workdir}/{compat}{'_asan' if sanitize else ''}")
        exe = build_host(outdir, "model", sanitize=sanitize)
        if _builds is not None:
            _builds[key] = exe
    return run_host(exe, graph, batch)


def check_model_golden(model: bytes, n: int = N_INPUTS, seed: int = 0, oracles=("tflm", "litert"),
                       input_fn=None, c_code: bool | None = None, sanitize: bool = False) -> Graph:
    """Import `model`, run `n` seeded random inputs through our interpreter and each oracle; when every op has
    a C kernel (or `c_code` is set), also through the generated C library in each compatibility mode."""
    graph = simplify(parse_tflite(model, "<golden>"))
    validate_graph(graph)
    tflm = TFLM(model, num_outputs=len(graph.outputs)) if "tflm" in oracles else None
    litert = LiteRT(model) if "litert" in oracles else None
    rng = np.random.default_rng(seed)
    batch = [input_fn(graph, rng) if input_fn else random_inputs(graph, rng) for _ in range(n)]
    ours = {mode: [run_reference(graph, inputs, compat=mode) for inputs in batch] for mode in ("tflm", "litert")}
    for k, inputs in enumerate(batch):
        if tflm is not None:
            assert_outputs_match(ours["tflm"][k], tflm(inputs), f"TFLM, input {k}")
        if litert is not None:
            assert_outputs_match(ours["litert"][k], litert(inputs), f"LiteRT, input {k}")
    if c_code or (c_code is None and has_c_kernels(graph)):
        with tempfile.TemporaryDirectory(prefix="mcuforge-golden-") as workdir:
            builds: dict = {}
            for mode in ("tflm", "litert"):
                generated = run_generated_c(graph, batch, mode, workdir, _builds=builds)
                for k in range(n):
                    assert_outputs_match(generated[k], ours[mode][k], f"generated C ({mode} compat), input {k}")
            if sanitize:
                generated = run_generated_c(graph, batch[:3], "tflm", workdir, sanitize=True)
                for k in range(len(generated)):
                    assert_outputs_match(generated[k], ours["tflm"][k], f"generated C under ASan/UBSan, input {k}")
    return graph


def check_graph_golden(graph: Graph, **kwargs) -> Graph:
    """Export a graph built in a test to .tflite, then compare as check_model_golden."""
    validate_graph(graph)
    return check_model_golden(export_tflite(graph), **kwargs)

"""The built-in default job (`mcuforge demo`, `make demo`): the keyword-spotting pipeline of examples/kws.yaml
(synthesized speech -> DS-CNN -> pruning -> int8 -> C -> Cortex-M4 firmware verified on QEMU -> report).
`mcuforge demo --bit-exact [--model M]` is the earlier job: an MLPerf Tiny model -> C library -> host build ->
bit-exact check against the reference interpreter."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "kws_ref_model.tflite"
DEMO_INPUTS = 50
KWS_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kws.yaml"


def run_pipeline_demo(config_path: Path = KWS_EXAMPLE, outdir: str | None = None) -> int:
    """The kws example pipeline, replacing its previous output directory."""
    from mcuforge.errors import InputError
    from mcuforge.pipeline import load_config
    from mcuforge.pipeline.report import format_table
    from mcuforge.pipeline.run import run_pipeline

    if not config_path.exists():
        raise InputError(f"{config_path}: no such file (the demo runs the repository's examples/kws.yaml; "
                         "`mcuforge demo --bit-exact` needs no example)")
    summary = run_pipeline(load_config(config_path), outdir, force=True)
    print(format_table(summary))
    return 0


def run_demo(model: str | None = None, outdir: str = "out/demo") -> int:
    from mcuforge.codegen.host import build_host, run_host
    from mcuforge.codegen.project import compile_model
    from mcuforge.frontends import load_model
    from mcuforge.report.layers import format_table, summary
    from mcuforge.runtime.reference import run_reference

    path = Path(model) if model else DEFAULT_MODEL
    graph = load_model(path)
    print(format_table(summary(graph)))

    start = time.perf_counter()
    compiled = compile_model(graph, outdir, name=path.stem.split("_")[0], force=True)
    compile_s = time.perf_counter() - start
    exe = build_host(compiled.outdir, compiled.name)

    rng = np.random.default_rng(0)
    batch = [[rng.integers(-128, 128, size=graph.tensors[n].shape).astype(graph.tensors[n].dtype)
              if graph.tensors[n].dtype != "float32" else rng.standard_normal(graph.tensors[n].shape).astype(np.float32)
              for n in graph.inputs] for _ in range(DEMO_INPUTS)]
    start = time.perf_counter()
    expected = [run_reference(graph, record) for record in batch]
    reference_ms = (time.perf_counter() - start) * 1e3 / len(batch)
    generated = run_host(exe, graph, batch)
    same = sum(all(np.array_equal(a, b) for a, b in zip(g, e)) for g, e in zip(generated, expected))

    weights = sum(a.values.nbytes for a in compiled.sources.context.arrays if a.is_weight)
    print(f"\ncompiled {path.name} -> {compiled.outdir}/ in {compile_s:.2f} s "
          f"({len(compiled.sources.kernels)} kernels: {', '.join(compiled.sources.kernels)})")
    print(f"arena {compiled.plan.arena_size} B, weights {weights} B")
    print(f"reference interpreter: {reference_ms:.1f} ms per inference")
    print(f"generated C (host gcc) vs reference interpreter: {same}/{len(batch)} random inputs bit-exact")
    return 0 if same == len(batch) else 1

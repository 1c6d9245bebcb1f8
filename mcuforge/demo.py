"""The built-in default job: load the MLPerf Tiny KWS model, inspect it and run it bit-exactly."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "kws_ref_model.tflite"


def run_demo(model: str | None = None) -> int:
    from mcuforge.frontends import load_model
    from mcuforge.report.layers import format_table, summary
    from mcuforge.runtime.reference import run_reference

    path = Path(model) if model else DEFAULT_MODEL
    graph = load_model(path)
    print(format_table(summary(graph)))
    rng = np.random.default_rng(0)
    x = [rng.integers(-128, 128, size=graph.tensors[n].shape).astype(graph.tensors[n].dtype) for n in graph.inputs]
    start = time.perf_counter()
    y = run_reference(graph, x)[0]
    ms = (time.perf_counter() - start) * 1e3
    print(f"\nreference interpreter: one inference in {ms:.1f} ms; output {y.dtype}{list(y.shape)} = "
          f"{np.array2string(y.reshape(-1)[:16], separator=' ')}")
    return 0

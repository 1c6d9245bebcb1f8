"""Speed of the NumPy reference interpreter vs LiteRT's reference kernels (the bit-exact anchor), per shared model.

    python benchmarks/reference_speed.py [--models DIR] [--runs 20]
Single-threaded (OMP/OpenBLAS threads pinned to 1) so the numbers mean "one core"."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from mcuforge.frontends import load_model  # noqa: E402
from mcuforge.runtime.reference import run_reference  # noqa: E402

MODELS = {"kws": "kws_ref_model.tflite", "vww": "vww_96_int8.tflite", "ic": "pretrainedResnet_quant.tflite",
          "ad": "ad01_int8.tflite", "kws_float": "kws_ref_model_float32.tflite"}


def best_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=os.environ.get("MCUFORGE_MODELS", "../shared/models"))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    print("| model | MACs | ours ms | LiteRT BUILTIN_REF ms | ours / LiteRT |")
    print("|---|---|---|---|---|")
    for key, fname in MODELS.items():
        path = Path(args.models) / fname
        graph = load_model(path)
        t = graph.tensors[graph.inputs[0]]
        rng = np.random.default_rng(0)
        x = (rng.standard_normal(t.shape).astype(np.float32) if t.dtype == "float32"
             else rng.integers(-128, 128, size=t.shape).astype(t.dtype))
        ours = best_ms(lambda: run_reference(graph, [x]), args.runs)
        interp = Interpreter(model_path=str(path), num_threads=1,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        theirs = best_ms(interp.invoke, args.runs)
        from mcuforge.report.layers import summary

        macs = summary(graph)["total"]["macs"]
        print(f"| {key} | {macs / 1e6:.2f} M | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

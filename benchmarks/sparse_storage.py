"""Bitmap-sparse weight storage vs dense: flash and Cortex-M4 cycles of magnitude-pruned zoo models.

For ResNet-8 (32x32x3) and DS-CNN (49x10), pruned per layer to 0/50/75/90% and quantized with PTQ, the firmware
is built twice (`sparse="auto"`: pruned layers stored as bitmaps; `"off"`: dense) and measured: ELF flash and the
unicorn instruction count of one inference costed with the Cortex-M4 cycle table, with the SIMD kernels
(MCUFORGE_DSP) and, with --portable, the portable C a core without the DSP extension runs. Prints one table with
the sparse/dense ratios. About 1-2 min on one core.

    PYTHONPATH=. .venv/bin/python benchmarks/sparse_storage.py [--portable]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mcuforge  # noqa: E402
from mcuforge.compress.prune import prune_magnitude  # noqa: E402
from mcuforge.models.blocks import randomize_batchnorm  # noqa: E402
from mcuforge.models.kws import DSCNN  # noqa: E402
from mcuforge.models.vision import ResNet8  # noqa: E402
from mcuforge.targets.build import build_firmware  # noqa: E402
from mcuforge.targets.instruction_count import count_instructions, estimate_latency  # noqa: E402
from mcuforge.targets.profiles import get_profile  # noqa: E402
from mcuforge.targets.size_report import measure_size  # noqa: E402

MODELS = {"resnet8": (ResNet8, (1, 3, 32, 32)), "ds_cnn": (DSCNN, (1, 1, 49, 10))}
SPARSITIES = (0.0, 0.5, 0.75, 0.9)


def pruned_int8(make, shape, sparsity: float):
    torch.manual_seed(0)
    net = make()
    randomize_batchnorm(net)
    if sparsity:
        prune_magnitude(net, sparsity, scope="layer").remove()
    graph = mcuforge.from_torch(net.eval(), torch.randn(*shape))
    rng = np.random.default_rng(0)
    calibration = [rng.standard_normal(graph.tensors[graph.inputs[0]].shape).astype(np.float32) for _ in range(8)]
    return mcuforge.quantize(graph, calibration)


def measure(graph, sparse: str, portable: bool) -> tuple[int, float]:
    """(flash bytes, estimated Cortex-M4 cycles) of the firmware built with sparse storage `sparse`."""
    with tempfile.TemporaryDirectory() as tmp:
        build = build_firmware(graph, Path(tmp) / "fw", target="cortex-m4", sparse=sparse,
                               cflags=("-DMCUFORGE_NO_DSP",) if portable else ())
        cycles = estimate_latency(count_instructions(build), get_profile("cortex-m4")).cycles
        return measure_size(build).flash_total, cycles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portable", action="store_true", help="also measure the portable (no SIMD) kernels")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| model | zeros | kernels | flash dense B | flash sparse B | ratio | M cycles dense | M cycles sparse | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (make, shape) in MODELS.items():
        for sparsity in SPARSITIES:
            graph = pruned_int8(make, shape, sparsity)
            for portable in (False, True) if args.portable else (False,):
                dense_flash, dense_cycles = measure(graph, "off", portable)
                sparse_flash, sparse_cycles = measure(graph, "auto", portable)
                print(f"| {name} | {sparsity:.0%} | {'portable' if portable else 'SIMD'} | {dense_flash:,} | "
                      f"{sparse_flash:,} | {sparse_flash / dense_flash:.2f} | {dense_cycles / 1e6:.2f} | "
                      f"{sparse_cycles / 1e6:.2f} | {sparse_cycles / dense_cycles:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

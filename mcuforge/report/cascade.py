"""Cascaded inference: a small model runs on every input, the big one only when the small one's score for the
positive class reaches a threshold. This module holds the decision rule, the Python reference of the cascade, the
small model's recall / false positive rate on a labelled data set (for `mcuforge power --cascade-big`) and the
host build of the generated C runtime (report/cascade_c.py) used by the tests.

The threshold compare is done on the quantized score, as the C code does it: an int8 output q stands for
scale * (q - zero_point), so "score >= threshold" becomes q >= q_threshold, the smallest int8 whose real value
(computed in float64) reaches the threshold; q_threshold = 128 means never. A float32 output is compared as is."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.errors import InputError, McuforgeError, ToolchainError
from mcuforge.ir import Graph
from mcuforge.report.power import CascadeRates
from mcuforge.runtime.reference import check_inputs, run_reference

NEVER = 128  # a q_threshold no int8 reaches


@dataclass(frozen=True)
class ScoreRule:
    """Output 0, flattened element `index`, is positive when its real value is >= `threshold`."""

    index: int
    threshold: float
    dtype: str
    scale: float = 1.0
    zero_point: int = 0

    @property
    def q_threshold(self) -> int | None:
        """The int8 compare's bound (None for a float output)."""
        if self.dtype != "int8":
            return None
        q = np.arange(-128, 128)
        reaches = (q - self.zero_point).astype(np.float64) * np.float64(self.scale) >= np.float64(self.threshold)
        return int(q[reaches][0]) if reaches.any() else NEVER

    def fires(self, output: np.ndarray) -> bool:
        value = np.asarray(output).reshape(-1)[self.index]
        if self.dtype == "int8":
            return int(value) >= self.q_threshold
        return bool(np.float32(value) >= np.float32(self.threshold))

    def describe(self) -> str:
        if self.dtype == "int8":
            return (f"output[{self.index}] >= {self.threshold:g}, i.e. q >= {self.q_threshold} "
                    f"(scale {self.scale:g}, zero point {self.zero_point})")
        return f"output[{self.index}] >= {self.threshold:g}"


def score_rule(graph: Graph, positive_class: int, threshold: float) -> ScoreRule:
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise McuforgeError(f"{graph.where()}: a cascade needs models with one input and one output, this one has "
                            f"{len(graph.inputs)} and {len(graph.outputs)}")
    out = graph.tensors[graph.outputs[0]]
    if not 0 <= positive_class < out.size:
        raise McuforgeError(f"{graph.where()}: positive class {positive_class} is outside its {out.size} outputs")
    if out.dtype == "int8":
        if out.quant is None or out.quant.per_channel:
            raise McuforgeError(f"{graph.where()}: int8 output without one scale and zero point")
        return ScoreRule(positive_class, float(threshold), "int8", float(out.quant.scalar_scale),
                         int(out.quant.scalar_zero_point))
    if out.dtype != "float32":
        raise McuforgeError(f"{graph.where()}: cascade scores must be int8 or float32, got {out.dtype}")
    return ScoreRule(positive_class, float(threshold), "float32")


@dataclass(frozen=True)
class CascadeResult:
    decision: bool
    ran_big: bool
    small_score: float
    big_score: float | None


def cascade_reference(small: Graph, big: Graph, small_rule: ScoreRule, big_rule: ScoreRule, small_input,
                      big_input=None) -> CascadeResult:
    """What the generated cascade computes, with the reference interpreter (`big_input` defaults to `small_input`)."""
    small_out = run_reference(small, [small_input])[0]
    small_score = np.asarray(small_out).reshape(-1)[small_rule.index].item()
    if not small_rule.fires(small_out):
        return CascadeResult(False, False, small_score, None)
    big_out = run_reference(big, [small_input if big_input is None else big_input])[0]
    return CascadeResult(big_rule.fires(big_out), True, small_score,
                         np.asarray(big_out).reshape(-1)[big_rule.index].item())


def load_dataset(inputs_path: str | Path, labels_path: str | Path, graph: Graph) -> tuple[list[np.ndarray], np.ndarray]:
    """Inputs (N, *input shape, or N of the shape without its batch of 1) and labels (N,) from .npy files. Float
    inputs to an int8 model are quantized with the input's scale and zero point."""
    x = np.load(inputs_path, allow_pickle=False)
    y = np.load(labels_path, allow_pickle=False).reshape(-1)
    t = graph.tensors[graph.inputs[0]]
    if x.shape[1:] != t.shape:
        if t.shape[0] == 1 and x.shape[1:] == t.shape[1:]:
            x = x.reshape((x.shape[0], *t.shape))
        else:
            raise InputError(f"{inputs_path}: samples of shape {list(x.shape[1:])}, the model takes {list(t.shape)}")
    if len(x) != len(y):
        raise InputError(f"{inputs_path} holds {len(x)} samples but {labels_path} {len(y)} labels")
    if t.dtype == "int8" and x.dtype != np.int8:
        if not np.issubdtype(x.dtype, np.floating):
            raise InputError(f"{inputs_path}: {x.dtype} samples for an int8 model (give int8 or float)")
        scale, zp = float(t.quant.scalar_scale), int(t.quant.scalar_zero_point)
        x = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
    return [check_inputs(graph, [sample])[0] for sample in x.astype(t.dtype, copy=False)], y


def cascade_rates(graph: Graph, rule: ScoreRule, inputs: list[np.ndarray], labels: np.ndarray,
                  positive_label: int) -> CascadeRates:
    """The small model's recall and false positive rate (the share of negatives it passes on)."""
    fired = np.array([rule.fires(run_reference(graph, [x])[0]) for x in inputs])
    positive = np.asarray(labels) == positive_label
    if positive.all() or not positive.any():
        raise InputError(f"the labels need both positives (== {positive_label}) and negatives")
    return CascadeRates(recall=float(fired[positive].mean()), false_positive_rate=float(fired[~positive].mean()),
                        samples=len(inputs), positives=int(positive.sum()))


def run_cascade_host(outdir: str | Path, small: Graph, big: Graph, records) -> list[CascadeResult]:
    """Build the generated cascade with the host gcc and run it on (small_input, big_input) records."""
    from mcuforge.codegen.host import build_host

    exe = build_host(outdir, "cascade")
    with tempfile.TemporaryDirectory(prefix="mcuforge-cascade-") as tmp:
        in_path, out_path = Path(tmp) / "in.bin", Path(tmp) / "out.txt"
        with open(in_path, "wb") as f:
            for small_input, big_input in records:
                f.write(np.ascontiguousarray(small_input, dtype=small.tensors[small.inputs[0]].dtype).tobytes())
                f.write(np.ascontiguousarray(big_input, dtype=big.tensors[big.inputs[0]].dtype).tobytes())
        result = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ToolchainError(f"{exe} failed (exit {result.returncode}): {result.stderr.strip()[:500]}")
        lines = out_path.read_text().split("\n")[:-1]
    results = []
    for line in lines:
        decision, ran, small_score, big_score = line.split()
        ran_big = bool(int(ran) & 2)
        results.append(CascadeResult(bool(int(decision)), ran_big, float(small_score),
                                     float(big_score) if ran_big else None))
    if len(results) != len(records):
        raise ToolchainError(f"{exe} answered {len(results)} of {len(records)} records")
    return results

"""The per-op cost model of the static estimator: a layer's cycles from counts that need no build.

    cycles = a * MACs + b * output elements + c * calls + d * runs

per op key and per target. The key names the op, its variant and the C kernel files its emitter picks
("CONV_2D/int8[conv_2d_s8+conv_window+dsp_s8]", "FULLY_CONNECTED/int8[fully_connected_sparse_s8]", ...): one op
may be implemented by kernels of very different speed. For a sparse kernel, MACs count the non-zero weights.
`runs` counts the inner loops a kernel starts, where that is not a fixed multiple of the outputs: a convolution's
dot products over one filter row (kernel_w * in_c values each), a depthwise convolution's and a pooling window's
taps per output pixel. It is the term that tells a 1-channel 10x4 filter (many short dot products) from a 1x1
filter over 128 channels (one long one); without it, whole-model totals of the shared models were off by up to
14% in leave-one-model-out fits (see benchmarks/calibrate_estimator.py).

The coefficients come from the target's cycle table: the calibration script builds layers for each core, counts
the instructions each executes in the emulator (targets/instruction_count.py), costs them with the profile's cycle
table and fits (a, b, c, d) >= 0 per key. They live in report/calibration_data.py."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.registry import get_op

FEATURES = ("macs", "outputs", "calls", "runs")
GENERIC_KEY = "*"  # fallback for keys the calibration never saw: a per-element cost pooled over cheap ops


def cost_key(op: Op, graph: Graph, kernels=()) -> str | None:
    """"OP/variant[kernel+kernel]" (variant: int8, float32, or hybrid for float activations with int8 weights;
    the kernel files the emitter uses, when known); None for a view (RESHAPE, SQUEEZE, ...), which costs no code."""
    opdef = get_op(op.type)
    if opdef.view_of_input:
        return None
    x = graph.tensors[op.inputs[0]] if op.inputs and op.inputs[0] else graph.tensors[op.outputs[0]]
    variant = x.dtype
    if x.dtype == "float32" and any(n and graph.tensors[n].is_constant and graph.tensors[n].dtype == "int8"
                                    for n in op.inputs[1:]):
        variant = "hybrid"
    return f"{op.type}/{variant}" + (f"[{'+'.join(sorted(kernels))}]" if kernels else "")


def _runs(op: Op, graph: Graph) -> int:
    out = graph.tensors[op.outputs[0]]
    if len(out.shape) != 4:
        return 0
    pixels = out.size // out.shape[-1]
    if op.type == "CONV_2D":
        _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
        per_row = 1 if op.attrs.get("dilation_w_factor", 1) == 1 else kw
        return out.size * kh * per_row
    if op.type == "DEPTHWISE_CONV_2D":
        _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
        return pixels * kh * kw
    if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return pixels * op.attrs.get("filter_height", 1)
    return 0


def layer_features(op: Op, graph: Graph, kernels=()) -> tuple[int, int, int, int]:
    """(MACs, output elements, calls, runs) of one op; all zero for a view. With a sparse kernel, the MACs of
    the non-zero weights only."""
    opdef = get_op(op.type)
    if opdef.view_of_input:
        return (0, 0, 0, 0)
    outputs = sum(graph.tensors[n].size for n in op.outputs)
    macs = int(opdef.macs(op, graph))
    if any("sparse" in k for k in kernels) and len(op.inputs) > 1 and graph.tensors[op.inputs[1]].is_constant:
        w = graph.tensors[op.inputs[1]].data
        macs = round(macs * np.count_nonzero(w) / max(w.size, 1))
    return (macs, int(outputs), 1, _runs(op, graph))


C_SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4, "float": 4,
           "int64_t": 8, "double": 8}


def param_array_bytes(arrays) -> int:
    """Flash bytes of an emitter's non-weight constant arrays (their values may be held wider than their C type)."""
    return sum(a.values.size * C_SIZES.get(a.ctype, a.values.itemsize) for a in arrays if not a.is_weight)


def fit_nonnegative(features, cycles, weights=None, max_terms: int | None = None) -> tuple[float, ...]:
    """Least squares with every coefficient >= 0 (a negative cost per call or per MAC means the fit is
    extrapolating) and at most `max_terms` of them non-zero. Few features: the best of the unconstrained fits on
    every subset that comes out non-negative."""
    a = np.asarray(features, dtype=float)
    y = np.asarray(cycles, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    a, y = a * w[:, None], y * w
    used = [j for j in range(a.shape[1]) if a[:, j].any()]
    best, best_residual = np.zeros(a.shape[1]), float(np.sum(y ** 2))
    for k in range(1, min(len(used), max_terms or len(used)) + 1):
        for cols in itertools.combinations(used, k):
            sol, *_ = np.linalg.lstsq(a[:, cols], y, rcond=None)
            if (sol < 0).any():
                continue
            residual = float(np.sum((a[:, cols] @ sol - y) ** 2))
            if residual < best_residual - 1e-9 * max(best_residual, 1.0):
                best_residual = residual
                best = np.zeros(a.shape[1])
                best[list(cols)] = sol
    return tuple(float(v) for v in best)


@dataclass(frozen=True)
class LayerCost:
    key: str | None
    features: tuple[int, int, int, int]
    coefficients: tuple[float, ...]
    calibrated: bool  # False: the key fell back to the generic per-element cost

    @property
    def cycles(self) -> float:
        return float(np.dot(self.features, self.coefficients))


def calibrated_target(target: str) -> str:
    from mcuforge.errors import McuforgeError
    from mcuforge.report import calibration_data

    if target not in calibration_data.CYCLES:
        raise McuforgeError(f"no calibrated cost model for target {target!r} (calibrated: "
                            f"{', '.join(calibration_data.CYCLES)}); run {calibration_data.COMMAND}")
    return target


def layer_cost(op: Op, graph: Graph, target: str, kernels=()) -> LayerCost:
    """The op's cost; an uncalibrated kernel combination falls back to the op variant's first calibrated one
    (marked uncalibrated), an uncalibrated op to the generic per-element cost."""
    from mcuforge.report import calibration_data

    key = cost_key(op, graph, kernels)
    features = layer_features(op, graph, kernels)
    if key is None:
        return LayerCost(None, features, (0.0,) * len(FEATURES), True)
    table = calibration_data.CYCLES[calibrated_target(target)]
    if key in table:
        return LayerCost(key, features, tuple(table[key]), True)
    base = cost_key(op, graph)
    similar = next((k for k in table if k.split("[")[0] == base), GENERIC_KEY)
    return LayerCost(key, features, tuple(table[similar]), False)

"""Calibration: run the float graph on representative inputs and estimate each activation's range.

Three estimators: "minmax" (the observed extremes, as TFLite's converter), "percentile" (the p-th and
(100 - p)-th percentiles, ignoring rare outliers) and "mse" (the clipping range whose int8 quantization has
the smallest mean squared error over the observed values)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from mcuforge.errors import InputError
from mcuforge.ir import Graph
from mcuforge.quant.qparams import asymmetric_qparams, fake_quantize
from mcuforge.runtime.reference import run_reference

METHODS = ("minmax", "percentile", "mse")
DEFAULT_PERCENTILE = 99.99
MAX_KEPT_VALUES = 1 << 15  # values kept per tensor for the percentile and MSE estimators
TAIL_SHARE = 8  # of the values kept from one run, 1/TAIL_SHARE are its smallest and 1/TAIL_SHARE its largest
# Candidate clipping fractions of the observed range for the MSE search: 1 down to 1/64 in steps of 2^(1/8).
MSE_FRACTIONS = 2.0 ** (-np.arange(49) / 8.0)


@dataclass
class TensorStats:
    """What calibration saw of one tensor: its extremes and a weighted sample of its values (each kept value
    stands for `weight` observed ones), which keeps every run's extremes exactly and thins out the bulk."""

    lo: float
    hi: float
    values: np.ndarray
    weights: np.ndarray


def _sample(v: np.ndarray, quota: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """At most `quota` of the values v with their weights: the smallest and largest quota / TAIL_SHARE exactly
    (outliers decide the percentile and MSE estimates), a uniform sample of the others."""
    if v.size <= quota:
        return v, np.ones(v.size)
    tail = quota // TAIL_SHARE
    part = np.partition(v, (tail, v.size - tail - 1))
    middle = part[tail:v.size - tail]
    picked = middle[rng.choice(middle.size, quota - 2 * tail, replace=False)]
    weights = np.concatenate([np.ones(tail), np.full(picked.size, middle.size / picked.size), np.ones(tail)])
    return np.concatenate([part[:tail], picked, part[v.size - tail:]]), weights


def _expected_shapes(shape: tuple[int, ...]) -> str:
    dims = ", ".join(str(d) for d in shape)
    alternatives = [f"[N, {dims}]"]
    if shape and shape[0] == 1:
        alternatives.append(f"[N, {', '.join(str(d) for d in shape[1:])}]" if len(shape) > 1 else "[N]")
    return " or ".join(alternatives)


def _split(value, graph: Graph, name: str, where: str) -> list[np.ndarray]:
    """One calibration value for input `name` -> its samples, each of the input's exact shape and dtype:
    one sample (the input's shape, or that shape without its batch of 1) or a stack of N of them."""
    t = graph.tensors[name]
    try:
        value = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: calibration data for input {name!r} is not an array ({exc})") from None
    if value.dtype.kind not in "fiub":
        raise InputError(f"{where}: calibration data for input {name!r} has dtype {value.dtype}, expected numbers")
    shape, unbatched = t.shape, t.shape[1:] if t.shape and t.shape[0] == 1 else None
    if value.shape == shape:
        samples = [value]
    elif unbatched is not None and value.shape == unbatched:
        samples = [value.reshape(shape)]
    elif value.ndim >= 1 and value.shape[1:] == shape:
        samples = list(value)
    elif unbatched is not None and value.ndim >= 1 and value.shape[1:] == unbatched:
        samples = [v.reshape(shape) for v in value]
    else:
        raise InputError(f"{where}: calibration data of shape {list(value.shape)} does not fit input {name!r} of "
                         f"shape {list(shape)} (expected {_expected_shapes(shape)})")
    return [np.asarray(s, dtype=t.dtype) for s in samples]


def calibration_samples(graph: Graph, calibration, where: str = "calibration") -> list[list[np.ndarray]]:
    """Normalize a calibration set to a list of samples, each a list of arrays in graph-input order.

    Accepted: an array [N, ...] (or one sample) for a single-input graph; a dict {input name: array [N, ...]};
    an iterable of samples, each an array (single-input graph) or a list/tuple/dict of per-input arrays; for a
    multi-input graph, also a list of per-input arrays [N, ...]."""
    names = graph.inputs
    if isinstance(calibration, dict):
        per_input = [_split(v, graph, n, where) for v, n in zip(_by_name(calibration, names, where), names)]
    elif isinstance(calibration, np.ndarray):
        if len(names) != 1:
            raise InputError(f"{where}: one array cannot calibrate {len(names)} inputs; pass one array per input")
        per_input = [_split(calibration, graph, names[0], where)]
    else:
        try:
            items = list(calibration) if calibration is not None else []
        except TypeError:
            raise InputError(f"{where}: calibration data must be arrays, got {type(calibration).__name__}") from None
        if len(names) > 1 and len(items) == len(names) and all(isinstance(i, np.ndarray) for i in items):
            per_input = [_split(item, graph, n, where) for item, n in zip(items, names)]
        else:
            samples = []
            for item in items:
                if isinstance(item, dict):
                    item = _by_name(item, names, where)
                elif not isinstance(item, (list, tuple)):
                    item = [item]
                if len(item) != len(names):
                    raise InputError(f"{where}: a calibration sample has {len(item)} array(s) for {len(names)} "
                                     "input(s)")
                split = [_split(v, graph, n, where) for v, n in zip(item, names)]
                if len({len(s) for s in split}) > 1:
                    raise InputError(f"{where}: the inputs of a calibration sample have different batch sizes")
                samples.extend(zip(*split))
            per_input = [list(s) for s in zip(*samples)] if samples else [[] for _ in names]
    counts = {len(p) for p in per_input}
    if len(counts) != 1:
        raise InputError(f"{where}: the inputs have different numbers of calibration samples: {sorted(counts)}")
    if counts == {0}:
        raise InputError(f"{where}: the calibration set is empty")
    return [list(sample) for sample in zip(*per_input)]


def _by_name(values: dict, names: list[str], where: str) -> list:
    missing = [n for n in names if n not in values]
    if missing:
        raise InputError(f"{where}: no calibration data for input {missing[0]!r}")
    return [values[n] for n in names]


def collect_statistics(graph: Graph, samples: list[list[np.ndarray]], observers: Iterable[Callable] = (),
                       max_values: int = MAX_KEPT_VALUES, seed: int = 0) -> dict[str, TensorStats]:
    """Run the float graph on every sample; for each float32 activation (graph inputs included) record its
    extremes and a weighted sample of at most `max_values` values (see _sample). Each observer is called with
    the {tensor name: value} dict of every run (e.g. to accumulate bias-correction statistics)."""
    names = [n for n, t in graph.tensors.items() if t.dtype == "float32" and not t.is_constant]
    quota = max(1, max_values // len(samples))
    rng = np.random.default_rng(seed)
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    kept: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {n: [] for n in names}
    for k, sample in enumerate(samples):
        _, values = run_reference(graph, sample, keep_intermediates=True)
        for name in names:
            if name not in values:
                continue
            v = values[name].reshape(-1)
            if not np.isfinite(v).all():
                raise InputError(f"{graph.where()}: calibration sample {k} gives non-finite values in {name!r}")
            lo[name] = min(lo.get(name, np.inf), float(v.min()))
            hi[name] = max(hi.get(name, -np.inf), float(v.max()))
            kept[name].append(_sample(v, quota, rng))
        for observe in observers:
            observe(values)
    return {n: TensorStats(lo[n], hi[n], np.concatenate([v for v, _ in kept[n]]),
                           np.concatenate([w for _, w in kept[n]])) for n in lo}


def _mse(values: np.ndarray, weights: np.ndarray, lo: float, hi: float) -> float:
    scale, zero_point = asymmetric_qparams(lo, hi)
    return float(np.average((fake_quantize(values, scale, zero_point) - values) ** 2, weights=weights))


def mse_range(values: np.ndarray, lo: float, hi: float, weights: np.ndarray | None = None) -> tuple[float, float]:
    """The range [f_lo * lo, f_hi * hi] (fractions from MSE_FRACTIONS) minimizing the int8 quantization MSE
    over the (weighted) values: first one fraction for both ends, then each end on its own with the other fixed."""
    values = np.asarray(values, np.float64)
    weights = np.ones(values.size) if weights is None else weights

    def error(r):
        return _mse(values, weights, *r)

    lo, hi = min(lo, 0.0), max(hi, 0.0)
    best_lo, best_hi = min(((lo * f, hi * f) for f in MSE_FRACTIONS), key=error)
    if hi > 0:
        best_hi = min((hi * f for f in MSE_FRACTIONS), key=lambda h: error((best_lo, h)))
    if lo < 0:
        best_lo = min((lo * f for f in MSE_FRACTIONS), key=lambda low: error((low, best_hi)))
    return best_lo, best_hi


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, percents) -> list[float]:
    """The smallest values whose cumulative weight reaches each percent of the total."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    positions = np.searchsorted(cumulative, np.asarray(percents, np.float64) / 100.0 * cumulative[-1])
    return [float(values[order][min(p, values.size - 1)]) for p in positions]


def estimate_range(stats: TensorStats, method: str = "minmax",
                   percentile: float = DEFAULT_PERCENTILE) -> tuple[float, float]:
    """The float range [lo, hi] a tensor's int8 quantization should cover."""
    if method == "minmax":
        return stats.lo, stats.hi
    if method == "percentile":
        low, high = weighted_percentiles(stats.values, stats.weights, [100.0 - percentile, percentile])
        return max(low, stats.lo), min(high, stats.hi)
    if method == "mse":
        return mse_range(stats.values, stats.lo, stats.hi, stats.weights)
    raise ValueError(f"unknown calibration method {method!r} (expected one of {', '.join(METHODS)})")


def calibrate_ranges(graph: Graph, calibration, method: str = "minmax", percentile: float = DEFAULT_PERCENTILE,
                     where: str = "calibration") -> dict[str, tuple[float, float]]:
    """{activation name: (lo, hi)} of a float graph over a calibration set (see calibration_samples)."""
    check_method(method, percentile)
    stats = collect_statistics(graph, calibration_samples(graph, calibration, where))
    return {name: estimate_range(s, method, percentile) for name, s in stats.items()}


def check_method(method: str, percentile: float) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r} (expected one of {', '.join(METHODS)})")
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"percentile must be in (50, 100], got {percentile}")

"""Calibrate the static estimator (`mcuforge estimate`) against the emulator.

For every core that builds and runs in the emulator, the shared MLPerf Tiny models and the synthetic layers of
benchmarks/estimator_layers.py are cross-compiled and one inference of each is counted per layer
(mcuforge/targets/instruction_count.py). Each layer's counts are costed with the cycle table of every target
measured on that core (the core itself; the Cortex-M4 build also stands in for the ESP32s), and per target and op
key the cost model's coefficients (report/cost_model.py) are fitted with non-negative least squares. The flash
model takes each kernel's code size in the linked images, the schedule's bytes per call, the bytes per field of
the parameter structs and the runtime's size. Prints, per target, each shared model's estimate against its
measurement, in sample and leave-one-model-out (the model's own layers left out of the fit). A source the
emulator cannot run on a core (unicorn's Cortex-M7 rejects double-precision VFP instructions) is counted on the
Cortex-M4 build instead and costed with that core's cycle table; such stand-ins are listed in the data file.

    PYTHONPATH=. .venv/bin/python benchmarks/calibrate_estimator.py [--cores cortex-m4 ...] [--jobs 2] [--write]

--write replaces mcuforge/report/calibration_data.py (only with every core measured and every source compiled).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from pprint import pformat
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from estimator_layers import SYNTHETIC  # noqa: E402

from mcuforge.codegen.planner import plan_arena  # noqa: E402
from mcuforge.errors import McuforgeError, ToolchainError  # noqa: E402
from mcuforge.frontends import load_model  # noqa: E402
from mcuforge.report.cost_model import GENERIC_KEY, cost_key, fit_nonnegative, layer_features  # noqa: E402
from mcuforge.report.emitted import emit_layers, kernel_code_key, kernel_users  # noqa: E402
from mcuforge.report.measure import cost_counts, count_model  # noqa: E402
from mcuforge.report.progress import progress_enabled  # noqa: E402
from mcuforge.targets.profiles import PROFILES  # noqa: E402
from mcuforge.targets.report import CROSS_ESTIMATES  # noqa: E402

COMMAND = "PYTHONPATH=. .venv/bin/python benchmarks/calibrate_estimator.py --write"
OUTPUT = ROOT / "mcuforge" / "report" / "calibration_data.py"
CORES = tuple(name for name, p in PROFILES.items() if p.buildable and p.unicorn_cpu)
SHARED = {"ad": "ad01_int8.tflite", "kws": "kws_ref_model.tflite", "kws_float": "kws_ref_model_float32.tflite",
          "vww": "vww_96_int8.tflite", "ic": "pretrainedResnet_quant.tflite"}
ELEMENTWISE = ("ADD", "SUB", "MUL", "RELU", "RELU6", "PAD", "PADV2", "CONCATENATION", "QUANTIZE", "DEQUANTIZE",
               "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH", "TRANSPOSE", "STRIDED_SLICE")


def _graph(source: str, models_dir: Path):
    return load_model(models_dir / SHARED[source]) if source in SHARED else SYNTHETIC[source]()


STAND_IN = "cortex-m4"


def measure_source(core: str, source: str, models_dir: str, targets: tuple[str, ...] = ()) -> dict:
    """Worker: count one source on one core; per target costed from it (default: the core and the targets it
    stands in for), the layers' (key, features, cycles)."""
    graph = _graph(source, Path(models_dir))
    error = ""
    try:
        counted = count_model(graph, core)
    except ToolchainError as exc:  # built, but the emulator failed: keep the sizes, retry the count elsewhere
        counted, error = count_model(graph, core, count=False), str(exc)
    emitted = emit_layers(graph, plan_arena(graph))
    layers = {}
    for target in () if error else targets or (core, *CROSS_ESTIMATES.get(core, ())):
        measured = cost_counts(counted, target, len(graph.ops))
        layers[target] = [(cost_key(op, graph, em.kernels), layer_features(op, graph, em.kernels), cycles)
                          for op, em, cycles in zip(graph.ops, emitted, measured.layer_cycles)]
        layers[target].append((None, (0, 0, 0, 0), measured.prologue_cycles))
    size = counted.size
    users = kernel_users(graph, emitted)
    code = {kernel_code_key(stem, users.get(stem, [])): n for stem, n in counted.kernel_code.items()}
    return {"core": core, "source": source, "layers": layers, "stand_in": bool(targets), "error": error,
            "kernel_code": code,
            "schedule": size.schedule, "params": size.weights_params, "arrays": counted.param_array_bytes,
            "fields": counted.param_fields, "calls": counted.calls, "runtime": size.runtime}


def fit_cycles(samples: list[tuple], exclude: str | None = None) -> dict[str, tuple[float, ...]]:
    """Per op key, non-negative (a, b, c, d); GENERIC_KEY pools the element-wise ops (outputs and calls only).
    Each layer is weighted by 1/sqrt(cycles): between absolute (large layers dominate the totals) and relative
    (small layers keep their shape). A key with n layers gets at most n // 3 non-zero terms, so that few samples
    cannot be matched exactly with an absurd per-call constant."""
    by_key: dict[str, list] = defaultdict(list)
    for source, key, features, cycles in samples:
        if key is None or source == exclude:
            continue
        by_key[key].append((features, cycles))
        if key.split("/")[0] in ELEMENTWISE:
            by_key[GENERIC_KEY].append(((0, features[1], 1, 0), cycles))
    coefficients = {}
    for key, rows in sorted(by_key.items()):
        features, cycles = zip(*rows)
        coefficients[key] = fit_nonnegative(features, cycles, [1 / max(c, 1.0) ** 0.5 for c in cycles],
                                            max_terms=max(1, len(rows) // 3))
    return coefficients


def predict(coefficients: dict, samples: list[tuple], source: str) -> tuple[float, float]:
    estimate = measured = 0.0
    for src, key, features, cycles in samples:
        if src != source:
            continue
        measured += cycles
        if key is not None:
            similar = next((k for k in coefficients if k.split("[")[0] == key.split("[")[0]), GENERIC_KEY)
            coef = coefficients.get(key, coefficients[similar])  # as report/cost_model.py layer_cost falls back
            estimate += sum(f * c for f, c in zip(features, coef))
    return estimate, measured


def fit_flash(results: list[dict]) -> tuple[dict, dict]:
    code: dict[str, int] = {}
    for r in results:
        for key, size in r["kernel_code"].items():
            for k in (key, key.split(":")[0]):  # per entry points used, and per file (the largest seen)
                code[k] = max(code.get(k, 0), size)
    fields = sum(r["fields"] for r in results)
    base, per_call = fit_nonnegative([(1, r["calls"]) for r in results], [r["schedule"] for r in results])[:2]
    flash = {"runtime": float(median(r["runtime"] for r in results)), "schedule_base": round(base, 1),
             "schedule_per_call": round(per_call, 2),
             "bytes_per_field": round(sum(r["params"] - r["arrays"] for r in results) / max(fields, 1), 3)}
    return flash, dict(sorted(code.items()))


def _run_tasks(tasks: list[tuple], models_dir: Path, jobs: int, quiet: bool, desc: str):
    """(results, failures): failures map (core, source) to the error."""
    from tqdm import tqdm

    results, failures = [], {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(measure_source, core, source, str(models_dir), targets): (core, source, targets)
                   for core, source, targets in tasks}
        bar = tqdm(as_completed(futures), total=len(futures), desc=desc, unit="build", file=sys.stderr,
                   disable=not progress_enabled(quiet))
        for future in bar:
            core, source, _ = futures[future]
            bar.set_postfix_str(f"{core} {source}")
            try:
                results.append(future.result())
            except Exception as exc:  # noqa: BLE001 (a source that fails is reported; the others go on)
                kind = "" if isinstance(exc, McuforgeError) else f"{type(exc).__name__}: "
                failures[(core, source)] = f"{kind}{exc}"
    return results, failures


def run(cores, models_dir: Path, jobs: int, quiet: bool) -> tuple[list[dict], list[str], list[str]]:
    """(results, notes that block --write, stand-ins)."""
    sources = [s for s in SHARED if (models_dir / SHARED[s]).exists()] + list(SYNTHETIC)
    notes = [f"{s}: {models_dir / SHARED[s]} not found" for s in SHARED if s not in sources]
    results, failures = _run_tasks([(core, source, ()) for core in cores for source in sources], models_dir, jobs,
                                   quiet, "calibrating")
    emulator_failed = {(r["core"], r["source"]): r["error"] for r in results if r["error"]}
    failures.update(emulator_failed)
    retry = [(STAND_IN, source, (core,)) for core, source in emulator_failed if core != STAND_IN]
    stand_ins = [f"{core} {source}: counted on the {STAND_IN} build ({failures[(core, source)]})"
                 for _, source, (core,) in retry]
    more, failed_again = _run_tasks(retry, models_dir, jobs, quiet, "stand-ins")
    failed_again.update({(r["core"], r["source"]): r["error"] for r in more if r["error"]})
    results += more
    notes += [f"{core} {source}: {error}" for (core, source), error in failures.items()
              if core == STAND_IN or (core, source) not in emulator_failed]
    notes += [f"{core} {source} (stand-in): {error}" for (core, source), error in failed_again.items()]
    return results, notes, stand_ins


def report(results: list[dict]) -> tuple[dict, dict, dict, dict]:
    cycles, flash, code, checks = {}, {}, {}, {}
    targets = sorted({t for r in results for t in r["layers"]}, key=list(PROFILES).index)
    for target in targets:
        samples = [(r["source"], key, f, c) for r in results if target in r["layers"]
                   for key, f, c in r["layers"][target]]
        cycles[target] = fit_cycles(samples)
        print(f"\n{target}: {len(cycles[target])} op keys from {len(samples)} layers")
        print(f"  {'model':<10} {'measured':>12} {'estimate':>12} {'error':>7} {'leave-one-out':>14}")
        checks[target] = {}
        for source in SHARED:
            if not any(s[0] == source for s in samples):
                continue
            estimate, measured = predict(cycles[target], samples, source)
            loo, _ = predict(fit_cycles(samples, exclude=source), samples, source)
            checks[target][source] = {"measured": round(measured), "estimate": round(estimate),
                                      "leave_one_out": round(loo)}
            print(f"  {source:<10} {measured:>12,.0f} {estimate:>12,.0f} {estimate / measured - 1:>+7.1%} "
                  f"{loo / measured - 1:>+14.1%}")
    for core in sorted({r["core"] for r in results}, key=list(PROFILES).index):
        core_results = [r for r in results if r["core"] == core and not r["stand_in"]]
        flash[core], code[core] = fit_flash(core_results)
        for crossed in CROSS_ESTIMATES.get(core, ()):
            flash[crossed], code[crossed] = flash[core], code[core]  # no build: the stand-in core's image
        print(f"\n{core} flash model: {flash[core]}; {len(code[core])} kernels")
    return cycles, flash, code, checks


def _assignments(name: str, per_target: dict, render) -> list[str]:
    """`NAME = {...}` with one entry per target; a target whose value equals an earlier one's is an alias."""
    lines, seen = [f"{name} = {{"], {}
    aliases = []
    for target, value in per_target.items():
        same = next((t for t, v in seen.items() if v == value), None)
        if same is None:
            lines.append(f"    {target!r}: {render(value)},")
            seen[target] = value
        else:
            aliases.append(f"{name}[{target!r}] = {name}[{same!r}]")
    return [*lines, "}", *aliases]


def write(cycles: dict, flash: dict, code: dict, checks: dict, stand_ins: list[str]) -> None:
    def coefficients(table: dict) -> str:
        body = ",\n".join(f"        {key!r}: {tuple(round(v, 4) for v in c)}" for key, c in table.items())
        return "{\n" + body + "}"

    def sizes(table: dict) -> str:  # the per-file entries (no ":") are the largest of their keyed ones
        return pformat({k: v for k, v in table.items() if ":" in k}, width=114, compact=True).replace("\n", "\n    ")

    today = datetime.date.today().isoformat()
    text = "\n".join([
        '"""Calibrated coefficients of the static estimator (report/cost_model.py, report/estimate.py).',
        "",
        f"Generated on {today} by `{COMMAND}`",
        "(see that script for the method); do not edit by hand: re-run it after changing a kernel, a compiler flag",
        'or a cycle table."""',
        "",
        "# ruff: noqa: E501",
        f"COMMAND = {COMMAND!r}",
        "",
        "# cycles = a * MACs + b * output elements + c * calls + d * runs, per target and op key: (a, b, c, d)",
        *_assignments("CYCLES", cycles, coefficients),
        "",
        "# flash model per target: runtime bytes, schedule bytes = base + per_call * calls, bytes per struct field",
        *_assignments("FLASH", flash, repr),
        "",
        "# code and constants of each kernel file in the linked image, in bytes, per file and the op types calling it",
        "# (report/emitted.py kernel_code_key: what --gc-sections keeps depends on the entry points used)",
        *_assignments("KERNEL_CODE", code, sizes),
        "",
        "# the calibration's own check, cycles per shared model: (measured, estimated, estimated leaving it out)",
        "CHECKS = {",
        *[f"    {t!r}: {{{', '.join(f'{m!r}: {tuple(v.values())}' for m, v in c.items())}}},"
          for t, c in checks.items()],
        "}",
        "",
        "# sources the emulator could not run on a core, counted on another core's build instead",
        f"STAND_INS = {pformat(stand_ins, width=118)}",
        ""])
    OUTPUT.write_text(text)
    print(f"\nwrote {OUTPUT.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", nargs="+", default=list(CORES), choices=CORES)
    parser.add_argument("--models", type=Path, default=Path(os.environ.get("MCUFORGE_MODELS",
                                                                           ROOT.parent / "shared" / "models")))
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--write", action="store_true", help=f"replace {OUTPUT.relative_to(ROOT)}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results, notes, stand_ins = run(args.cores, args.models, args.jobs, args.quiet)
    for note in notes:
        print(f"note: {note}")
    for note in stand_ins:
        print(f"stand-in: {note}")
    if not results:
        return 1
    cycles, flash, code, checks = report(results)
    print(f"\n{len(results)} builds measured in {time.perf_counter() - start:.0f} s")
    if args.write:
        if notes or set(args.cores) != set(CORES):
            print("not writing: every core and every source must be measured (see the notes)", file=sys.stderr)
            return 1
        write(cycles, flash, code, checks, stand_ins)
    return 0


if __name__ == "__main__":
    sys.exit(main())

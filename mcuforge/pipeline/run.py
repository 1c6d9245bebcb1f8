"""`mcuforge pipeline CONFIG.yaml`: data -> architecture -> fit check -> train -> prune -> (QAT) -> quantize ->
compile -> build -> verify on the emulated board -> measure -> report, one small function per stage, each timed.

Everything lands in a temporary sibling of the output directory, renamed into place at the end (like `mcuforge
compile`): a failed or interrupted run leaves the previous output as it was. The checks that need no work (the
configuration, the output directory, the target, the data's shape against the model, the fit on the target) run
before the slow stages."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import yaml

from mcuforge.errors import McuforgeError
from mcuforge.pipeline.config import PipelineConfig
from mcuforge.pipeline.tasks import float_outputs, headline, metrics, scores

DEFAULT_ROOT = Path("out") / "pipeline"


class StageClock:
    """Per-stage progress lines with elapsed times, and the times for summary.json."""

    def __init__(self, log: Callable[[str], None], total: int):
        self.log, self.total, self.index = log, total, 0
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextmanager
    def stage(self, name: str, what: str = ""):
        self.index += 1
        started = time.perf_counter()
        detail = {"text": ""}
        yield detail
        took = time.perf_counter() - started
        self.seconds[name] = took
        self.log(f"[{self.index:>2}/{self.total}] {name:<9} {took:6.1f} s  (total {self.elapsed():6.1f} s)  "
                 f"{detail['text'] or what}")

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def check_outdir(outdir: Path, force: bool) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise McuforgeError(f"{outdir}: exists and is not a directory")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise McuforgeError(f"{outdir}: directory is not empty (use --force to replace it)")


def evaluated_splits(dataset) -> list[str]:
    """Classification: val and every test split; anomaly: the test splits (val holds normal samples only)."""
    return (["val"] if dataset.task == "classification" else []) + dataset.test_splits


def float_metrics(dataset, model, split: str) -> dict:
    x, y = dataset.splits[split]
    return metrics(dataset.task, dataset.classes, scores(dataset.task, x, float_outputs(model, x)), y)


def _fmt(task: str, result: dict) -> str:
    label, value = headline(task, result)
    if value is None:
        return f"{label} -"
    return f"{label} {value:.1%}" if task == "classification" else f"{label} {value:.4f}"


def run_pipeline(config: PipelineConfig, outdir: str | Path | None = None, force: bool = False,
                 log: Callable[[str], None] = print) -> dict:
    """Run every stage of `config`; returns the summary (also written to OUTDIR/summary.json)."""
    from mcuforge.pipeline.deploy import check_target

    outdir = Path(outdir) if outdir else DEFAULT_ROOT / config.name
    check_outdir(outdir, force)
    check_target(config)
    tmp = make_staging_dir(outdir)
    try:
        return _run_stages(config, outdir, tmp, log)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def make_staging_dir(outdir: Path) -> Path:
    """The temporary sibling of `outdir` the run writes into, made before any slow stage so that an unwritable
    output location fails at once. Absolute: the emulator runs in a directory of its own and is given paths."""
    try:
        outdir.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent.resolve()))
    except OSError as exc:
        where = f" at {exc.filename}" if exc.filename else ""  # the parent, or mkdtemp's random name
        raise McuforgeError(f"{outdir}: cannot create the output directory ({exc.strerror or exc}{where})") from None


def _run_stages(config: PipelineConfig, outdir: Path, tmp: Path, log: Callable[[str], None]) -> dict:
    import torch

    from mcuforge.pipeline.data import load_dataset
    from mcuforge.pipeline.model import build_model, check_fit
    from mcuforge.pipeline.report import write_summary

    stages = 9 + (config.prune.method != "none") + config.qat
    clock = StageClock(log, stages)
    log(f"pipeline {config.name} ({config.path}) -> {outdir}/")

    with clock.stage("data") as s:
        dataset = load_dataset(config.data, config.path)
        if config.verify.split not in dataset.splits:
            raise config.error("verify.split", f"{config.verify.split!r} is not a split of the data (splits: "
                                               f"{', '.join(dataset.splits)})")
        s["text"] = (f"{config.data['provider']}: {dataset.task}, samples {list(dataset.sample_shape)}; "
                     f"{dataset.counts()}")
    with clock.stage("model") as s:
        model = build_model(config, dataset)
        fit = check_fit(config, model)
        s["text"] = (f"{config.model['arch']} {model.arch_params}: {sum(p.numel() for p in model.parameters()):,} "
                     f"parameters; int8 estimate flash {fit.flash_bytes:,} B of {fit.flash_limit:,}, RAM "
                     f"{fit.ram_bytes:,} B of {fit.ram_limit:,}: fits")

    threads = torch.get_num_threads()
    torch.set_num_threads(config.train.threads)  # small models: more threads mostly add synchronization
    try:
        summary = _train_and_deploy(config, dataset, model, fit, clock, tmp, log, torch)
        summary["outdir"] = str(outdir)
        with clock.stage("report") as s:
            summary["wall_seconds"] = dict(clock.seconds)  # the report page lists the stages before it
            _write_report(config, summary, tmp)
            # the configuration as run (overrides applied): `mcuforge pipeline OUTDIR/config.yaml` repeats it
            (tmp / "config.yaml").write_text(yaml.safe_dump(config.raw, sort_keys=False), encoding="utf-8")
            s["text"] = "report.html, summary.json, config.yaml"
        summary["wall_seconds"] = dict(clock.seconds)
        summary["total_seconds"] = clock.elapsed()
        write_summary(tmp / "summary.json", summary)
        from mcuforge.codegen.project import publish_permissions, replace_directory

        publish_permissions(tmp)
        replace_directory(tmp, outdir)
    finally:
        torch.set_num_threads(threads)
    return summary


def _train_and_deploy(config: PipelineConfig, dataset, model, fit, clock: StageClock, tmp: Path, log, torch) -> dict:
    from mcuforge.frontends.tflite_export import save_tflite
    from mcuforge.pipeline import deploy
    from mcuforge.pipeline.quantize import evaluate_int8, quantize_inputs
    from mcuforge.pipeline.train import prune, train_float, train_qat

    task, splits = dataset.task, evaluated_splits(dataset)
    results = {split: {} for split in splits}
    for split in splits:
        if split in dataset.notes:
            results[split]["note"] = dataset.notes[split]
    with clock.stage("train") as s:
        def epoch_done(epoch: int, score: float | None) -> None:
            shown = "" if score is None else (f", val accuracy {score:.1%}" if task == "classification"
                                              else f", val reconstruction error {-score:.4f}")
            log(f"{'':>8}epoch {epoch:>3}/{config.train.epochs}{shown}  (total {clock.elapsed():6.1f} s)")

        model = train_float(config, dataset, model, epoch_done)
        for split in splits:
            results[split]["float"] = float_metrics(dataset, model, split)
        s["text"] = f"{config.train.epochs} epochs; float " + ", ".join(
            f"{split} {_fmt(task, results[split]['float'])}" for split in splits)
    trained, pruning = model, None
    if config.prune.method != "none":
        with clock.stage("prune") as s:
            model, pruning = prune(config, dataset, trained)
            for split in splits:
                results[split]["pruned_float"] = float_metrics(dataset, model, split)
            s["text"] = (f"{pruning.method} {pruning.sparsity:.1%}, {config.prune.fine_tune_epochs} fine-tuning "
                         f"epochs; float {_fmt(task, results[splits[0]]['pruned_float'])} on {splits[0]}")
    qat_model = None
    if config.qat:
        with clock.stage("qat") as s:
            qat_model = train_qat(config, dataset, model, pruning.masks if pruning else None)
            s["text"] = f"{config.train.qat_epochs} QAT epochs at lr {config.train.qat_lr:g}"
    with clock.stage("quantize") as s:
        from mcuforge.pipeline.quantize import quantize_model

        float_graph, graph = quantize_model(config, dataset, model, qat_model)
        name = config.name.replace("-", "_")
        torch.save(model, tmp / "model_float.pt")
        save_tflite(float_graph, tmp / "model_float.tflite")
        save_tflite(graph, tmp / "model_int8.tflite")
        for split in splits:
            results[split]["int8"] = evaluate_int8(graph, dataset, split)
        s["text"] = ("QAT convert" if qat_model is not None else f"PTQ {config.quantize.method}") + "; int8 " + \
            ", ".join(f"{split} {_fmt(task, results[split]['int8'])}" for split in splits)
    with clock.stage("compile") as s:
        compiled = deploy.compile_library(graph, tmp / "c", name, sparse=config.compile.sparse)
        s["text"] = f"c/: {len(compiled.files)} files, arena {compiled.plan.arena_size:,} B"
    with clock.stage("build") as s:
        firmware = deploy.build(config, graph, tmp / "firmware", name)
        s["text"] = f"{firmware.elf.name} for {config.target.name}"
    with clock.stage("verify") as s:
        verified = deploy.verify(config, dataset, graph, firmware)
        s["text"] = (f"{verified.bit_exact}/{verified.samples} {verified.split} inputs bit-exact on "
                     f"{verified.machine}; {_fmt(task, verified.metrics)} on them")
    with clock.stage("measure") as s:
        x = dataset.splits[config.verify.split][0]
        measured = deploy.measure(config, graph, firmware, quantize_inputs(graph, x[:1])[0], verified.stack_bytes)
        s["text"] = (f"{measured.latency_ms:.2f} ms, {measured.energy_uj:.1f} uJ per inference, flash "
                     f"{measured.size['flash_total']:,} B, RAM {measured.size['ram_total']:,} B")
    t_in, t_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    files = sorted([str(p.relative_to(tmp)) for p in tmp.iterdir()] + ["config.yaml", "report.html", "summary.json"])
    return {
        "name": config.name, "config_file": config.path, "config": config.resolved(),
        "data": {"provider": config.data["provider"], "task": task, "description": dataset.description,
                 "classes": list(dataset.classes), "sample_shape": list(dataset.sample_shape),
                 "splits": {k: len(v[0]) for k, v in dataset.splits.items()}, "notes": dataset.notes,
                 "meta": dataset.meta},
        "model": {"arch": config.model["arch"], "params": trained.arch_params,
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "fit_estimate": {"flash_bytes": fit.flash_bytes, "flash_limit": fit.flash_limit,
                                   "ram_bytes": fit.ram_bytes, "ram_limit": fit.ram_limit,
                                   "peak_layer": fit.peak_layer}},
        "prune": pruning.to_dict() if pruning else None,
        "quantization": {"method": "QAT" if qat_model is not None else f"PTQ {config.quantize.method}",
                         "input": {"scale": t_in.quant.scalar_scale, "zero_point": t_in.quant.scalar_zero_point,
                                   "shape": list(t_in.shape)},
                         "output": {"scale": t_out.quant.scalar_scale, "zero_point": t_out.quant.scalar_zero_point,
                                    "shape": list(t_out.shape)}},
        "results": results, "verify": verified.to_dict(), "deploy": measured.to_dict(),
        "target": config.target.name, "files": files,
    }


def _write_report(config: PipelineConfig, summary: dict, tmp: Path) -> None:
    from mcuforge.frontends import load_model
    from mcuforge.pipeline.model import target_board
    from mcuforge.pipeline.report import html_section
    from mcuforge.report.html import ReportSettings, render_report, write_report
    from mcuforge.report.power import Battery

    r = config.report
    settings = ReportSettings(target=config.target.name, board=target_board(config).mcu, rate_hz=r.rate_hz,
                              battery=Battery(r.battery_mah, r.battery_v), quiet=True)
    graph = load_model(tmp / "model_int8.tflite")
    try:
        page = render_report(graph, settings, sections=html_section(summary))
    except McuforgeError as exc:  # e.g. the rate is faster than one inference: the page without the estimate
        page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{config.name}</title></head><body>"
                f"<h1>{config.name}</h1><p>static estimate unavailable: {exc}</p>{html_section(summary)}</body></html>")
    write_report(tmp / "report.html", page)

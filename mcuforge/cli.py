"""The `mcuforge` command line. Thin: parses arguments, calls the library, prints."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

import numpy as np

from mcuforge.errors import InputError, McuforgeError
from mcuforge.quant.sparse import SPARSE_MODES
from mcuforge.report.commands import add_report_commands

ENGINES = ("reference", "host-c", "qemu")


def npy_path(path: str) -> str:
    """The file np.save really writes: it appends .npy to a name without it."""
    return path if path.endswith(".npy") else path + ".npy"


def _load(path: str):
    from mcuforge.frontends import load_model

    return load_model(path)


def cmd_inspect(args) -> int:
    from mcuforge.ir.dump import dump_graph
    from mcuforge.report.layers import format_table, summary

    graph = _load(args.model)
    if args.memory:
        from mcuforge.codegen.planner import plan_arena
        from mcuforge.report.memory import format_memory_timeline, memory_timeline

        timeline = memory_timeline(graph, plan_arena(graph, alignment=args.alignment))
        print(json.dumps(timeline, indent=2) if args.json else format_memory_timeline(timeline))
        return 0
    info = summary(graph)
    if args.json:
        print(json.dumps(info, indent=2))
    elif args.graph:
        print(dump_graph(graph))
    else:
        print(format_table(info))
    return 0


def _read_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from None


def cmd_run(args) -> int:
    from mcuforge.runtime.reference import run_reference

    graph = _load(args.model)
    x = _read_npy(args.input)
    try:
        if args.engine == "host-c":
            from mcuforge.codegen.run import run_host_c

            outputs = run_host_c(graph, [x], compat=args.compat)
        elif args.engine == "qemu":
            from mcuforge.targets.qemu import run_on_qemu

            outputs = run_on_qemu(graph, [x], target=args.target, compat=args.compat)
        else:
            outputs = run_reference(graph, [x], compat=args.compat)
    except InputError as exc:
        raise InputError(f"{args.input}: {exc}") from None
    if args.output:
        np.save(args.output, outputs[0])
    else:
        print(np.array2string(outputs[0], threshold=64))
    return 0


def cmd_compile(args) -> int:
    from mcuforge.codegen.project import compile_model

    graph = _load(args.model)
    name = args.name or Path(args.model).stem
    compiled = compile_model(graph, args.output, name=name, force=args.force, compat=args.compat,
                             alignment=args.alignment, ram_limit=args.ram_limit, weights_blob=args.weights_blob,
                             io_in_arena=args.io_in_arena, sparse=args.sparse)
    weights = sum(a.values.nbytes for a in compiled.sources.context.arrays if a.is_weight)
    print(f"wrote {compiled.outdir}/ ({len(compiled.files)} files): {compiled.name}.h, {compiled.name}.c, "
          f"{len(compiled.sources.kernels)} kernel(s)")
    print(f"arena {compiled.plan.arena_size} B, weights {weights} B, {len(graph.ops)} ops")
    return 0


def _read_calibration(path: str):
    """A calibration set: .npy (one array [N, ...] for a single-input model) or .npz (one array per input,
    by input name or in input order)."""
    if not path.lower().endswith(".npz"):
        return _read_npy(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .npz file ({exc})") from None


def cmd_quantize(args) -> int:
    from mcuforge.frontends.tflite_export import save_tflite
    from mcuforge.quant.calibrate import check_method
    from mcuforge.quant.ptq import quantize

    try:
        check_method(args.method, args.percentile)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    graph = _load(args.model)
    calibration = _read_calibration(args.calibration)
    if isinstance(calibration, dict) and not set(graph.inputs) <= set(calibration):
        calibration = list(calibration.values()) if len(calibration) > 1 else next(iter(calibration.values()), None)
    quantized = quantize(graph, calibration, method=args.method, weights=args.weights, percentile=args.percentile,
                         bias_correction=args.bias_correction, float_io=args.float_io, where=args.calibration)
    save_tflite(quantized, args.output)
    weights = [t for t in quantized.tensors.values() if t.is_constant and t.quant is not None and t.dtype == "int8"]
    int4 = sum(t.size for t in weights if t.meta.get("bits") == 4)
    print(f"wrote {args.output}: {len(quantized.ops)} ops, {args.method} calibration, "
          f"{sum(t.size for t in weights) - int4} int8 + {int4} int4 weights")
    return 0


def cmd_build(args) -> int:
    from mcuforge.targets.build import build_firmware
    from mcuforge.targets.report import format_measurement, measure_build

    graph = _load(args.model)
    name = args.name or Path(args.model).stem
    build = build_firmware(graph, args.output, target=args.target, name=name, force=args.force,
                           opt=f"-{args.opt}", compat=args.compat, alignment=args.alignment, sparse=args.sparse)
    measurement = measure_build(build, profile=args.profile)
    print(json.dumps(measurement.to_dict(), indent=2) if args.json else format_measurement(measurement))
    return 0


def cmd_features(args) -> int:
    from mcuforge.apps.kws.audio import load_audio
    from mcuforge.apps.kws.mfcc import get_preset, mfcc

    config = get_preset(args.preset, frame_length=args.frame_length, frame_step=args.frame_step,
                        num_mel_bins=args.mel_bins, num_coefficients=0 if args.log_mel else args.coefficients)
    audio = load_audio(args.input, config.sample_rate, config.clip_samples)
    features = mfcc(audio, config)
    output = npy_path(args.output)
    np.save(output, features)
    print(f"wrote {output}: float32 {list(features.shape)} ({config.name}, {len(audio)} clip(s))")
    return 0


def cmd_ops(args) -> int:
    from mcuforge.ops.registry import get_op, supported_ops

    if args.markdown:
        print("# Supported ops\n\nGenerated by `mcuforge ops --markdown > docs/ops.md`.\n")
        print("| op | dtypes | C kernel | description |\n|---|---|---|---|")
    for name in supported_ops():
        opdef = get_op(name)
        if args.markdown:
            kernel = "view (no code)" if opdef.view_of_input else ("yes" if opdef.emit_c else "reference only")
            print(f"| {name} | {', '.join(opdef.dtypes)} | {kernel} | {opdef.doc} |")
        else:
            print(f"{name:<20} {', '.join(opdef.dtypes):<28} {opdef.doc}")
    return 0


def cmd_pipeline(args) -> int:
    from mcuforge.pipeline import load_config
    from mcuforge.pipeline.report import format_table
    from mcuforge.pipeline.run import run_pipeline

    config = load_config(args.config, args.set or [])
    summary = run_pipeline(config, args.output, force=args.force)
    print(format_table(summary))
    return 0


def cmd_demo(args) -> int:
    from mcuforge.demo import run_demo, run_pipeline_demo

    if args.bit_exact or args.model:
        return run_demo(args.model)
    return run_pipeline_demo()


def _add_compat(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compat", choices=("tflm", "litert"), default="tflm",
                   help="integer arithmetic bit-exact with TFLite Micro/CMSIS-NN (default) or LiteRT")


def _add_sparse(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sparse", choices=SPARSE_MODES, default="auto",
                   help="pruned weights stored sparse where that saves flash (auto, default), only where that also "
                        "saves Cortex-M4 cycles (speed: 1x1 convs with >= 87%% zeros) or never (off)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcuforge", description="Neural networks to verified C for microcontrollers")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="per-layer table: op, output shape, params, MACs, activation bytes")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--graph", action="store_true", help="dump the whole graph as text")
    p.add_argument("--memory", action="store_true", help="arena plan: per-op memory timeline and peak")
    p.add_argument("--alignment", type=int, default=8, choices=(4, 8, 16, 32), help="arena alignment in bytes")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("compile", help="generate a self-contained C99 library for the model")
    p.add_argument("model")
    p.add_argument("-o", "--output", required=True, help="output directory (written atomically)")
    p.add_argument("--name", help="C prefix of the library (default: the model file name)")
    p.add_argument("--target", default="host", help="target profile (host)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    _add_compat(p)
    p.add_argument("--alignment", type=int, default=8, choices=(4, 8, 16, 32), help="arena alignment in bytes")
    p.add_argument("--ram-limit", type=int, default=None, help="fail if the arena needs more bytes than this")
    p.add_argument("--weights-blob", action="store_true",
                   help="put weights in NAME_weights.bin (checked at init) for field updates")
    p.add_argument("--io-in-arena", action="store_true",
                   help="plan the inputs and outputs inside the arena, as TFLite Micro does (NAME.h: NAME_INPUT_PTR)")
    _add_sparse(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("quantize", help="post-training int8 quantization of a float model with calibration data")
    p.add_argument("model", help="float32 model (.tflite or .onnx)")
    p.add_argument("--calibration", required=True,
                   help=".npy [N, ...input shape] (or .npz, one array per input) of representative inputs")
    p.add_argument("-o", "--output", required=True, help="quantized .tflite to write")
    p.add_argument("--method", choices=("minmax", "percentile", "mse"), default="minmax",
                   help="activation range estimator (default minmax)")
    p.add_argument("--percentile", type=float, default=99.99, help="percentile for --method percentile")
    p.add_argument("--weights", choices=("int8", "int4"), default="int8",
                   help="weight precision (int4: per-channel [-7, 7], written as TFLite INT4 tensors, packed "
                        "two per byte in the generated C)")
    p.add_argument("--bias-correction", action="store_true",
                   help="correct each layer's bias for the mean shift its weight quantization causes")
    p.add_argument("--float-io", action="store_true", help="keep float32 inputs/outputs (QUANTIZE/DEQUANTIZE ops)")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("build", help="cross-compile the model with a bare-metal runner for a microcontroller; "
                                     "print measured flash/RAM (and, with --profile, instructions and cycles)")
    p.add_argument("model")
    p.add_argument("-o", "--output", required=True, help="output directory (written atomically)")
    p.add_argument("--target", default="cortex-m4", help="target profile (cortex-m0plus, cortex-m3, cortex-m4, "
                                                          "cortex-m7, cortex-m33)")
    p.add_argument("--name", help="C prefix of the library (default: the model file name)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    _add_compat(p)
    p.add_argument("--alignment", type=int, default=8, choices=(4, 8, 16, 32), help="arena alignment in bytes")
    p.add_argument("--opt", choices=("O2", "Os"), default="O2", help="optimization level of the cross build")
    _add_sparse(p)
    p.add_argument("--profile", action="store_true",
                   help="count instructions per layer in an emulator and estimate cycles and latency")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("run", help="run one input through a model")
    p.add_argument("model")
    p.add_argument("--input", required=True, help=".npy file with the model's input shape and dtype")
    p.add_argument("--output", help=".npy file to write (default: print)")
    p.add_argument("--engine", choices=ENGINES, default="reference")
    p.add_argument("--target", default="cortex-m4", help="target profile for --engine qemu (cortex-m3, cortex-m4, "
                                                          "cortex-m7)")
    _add_compat(p)
    p.set_defaults(func=cmd_run)

    add_report_commands(sub)  # estimate, power, cascade, report (mcuforge/report/commands.py)

    p = sub.add_parser("features", help="audio front end: MFCC / log-mel features of 1 s clips")
    p.add_argument("kind", choices=("mfcc",))
    p.add_argument("--preset", default="mlperf-kws", help="feature preset (mlperf-kws, mlperf-kws-logmel)")
    p.add_argument("--input", required=True, help=".npy float32 [N, 16000] in [-1, 1], or a .wav file")
    p.add_argument("--output", required=True, help=".npy to write: float32 [N, frames, features]")
    p.add_argument("--frame-length", type=int, help="window length in samples (preset: 480)")
    p.add_argument("--frame-step", type=int, help="hop in samples (preset: 320)")
    p.add_argument("--mel-bins", type=int, help="mel bands (preset: 40)")
    p.add_argument("--coefficients", type=int, help="MFCCs kept (preset: 10)")
    p.add_argument("--log-mel", action="store_true", help="stop at the log-mel spectrogram")
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("ops", help="list the supported ops")
    p.add_argument("--markdown", action="store_true", help="as the table of docs/ops.md")
    p.set_defaults(func=cmd_ops)

    p = sub.add_parser("pipeline", help="data -> train -> prune -> quantize -> compile -> verify on the emulated "
                                        "target -> report, from one YAML file (see examples/)")
    p.add_argument("config", help="pipeline configuration (YAML), e.g. examples/kws.yaml")
    p.add_argument("-o", "--output", help="output directory, written atomically (default: out/pipeline/NAME)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE",
                   help="override a configuration field (repeatable), e.g. --set train.epochs=2")
    p.set_defaults(func=cmd_pipeline)

    p = sub.add_parser("demo", help="the built-in default job: the keyword-spotting pipeline of examples/kws.yaml")
    p.add_argument("--bit-exact", action="store_true", help="instead: the MLPerf Tiny KWS model -> C library -> "
                                                            "host build -> bit-exact check")
    p.add_argument("--model", default=None, help="the bit-exact job on this model instead of the MLPerf Tiny KWS model")
    p.set_defaults(func=cmd_demo)
    return parser


def _terminated(signum, frame):
    # SystemExit unwinds the stack, so the temporary output directories are removed (`except BaseException`
    # in pipeline/run.py and codegen/project.py) when CI or `timeout` stops a run; 143 = 128 + SIGTERM
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may install handlers
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        return args.func(args)
    except McuforgeError as exc:
        print(f"mcuforge: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        print(f"mcuforge: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mcuforge: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


if __name__ == "__main__":
    sys.exit(main())

"""The `mcuforge` command line. Thin: parses arguments, calls the library, prints."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mcuforge.errors import InputError, McuforgeError

ENGINES = ("reference",)


def _load(path: str):
    from mcuforge.frontends import load_model

    return load_model(path)


def cmd_inspect(args) -> int:
    from mcuforge.ir.dump import dump_graph
    from mcuforge.report.layers import format_table, summary

    graph = _load(args.model)
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
        outputs = run_reference(graph, [x], rounding=args.rounding)
    except InputError as exc:
        raise InputError(f"{args.input}: {exc}") from None
    if args.output:
        np.save(args.output, outputs[0])
    else:
        print(np.array2string(outputs[0], threshold=64))
    return 0


def cmd_ops(args) -> int:
    from mcuforge.ops.registry import get_op, supported_ops

    for name in supported_ops():
        opdef = get_op(name)
        print(f"{name:<20} {', '.join(opdef.dtypes):<28} {opdef.doc}")
    return 0


def cmd_demo(args) -> int:
    from mcuforge.demo import run_demo

    return run_demo(args.model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcuforge", description="Neural networks to verified C for microcontrollers")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="per-layer table: op, output shape, params, MACs, activation bytes")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--graph", action="store_true", help="dump the whole graph as text")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("run", help="run one input through a model")
    p.add_argument("model")
    p.add_argument("--input", required=True, help=".npy file with the model's input shape and dtype")
    p.add_argument("--output", help=".npy file to write (default: print)")
    p.add_argument("--engine", choices=ENGINES, default="reference")
    p.add_argument("--rounding", choices=("double", "single"), default="double",
                   help="requantization rounding: double (TFLite Micro, CMSIS-NN) or single (LiteRT)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ops", help="list the supported ops")
    p.set_defaults(func=cmd_ops)

    p = sub.add_parser("demo", help="the built-in default job on the MLPerf Tiny KWS model")
    p.add_argument("--model", default=None, help="model to use instead of the built-in default")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except McuforgeError as exc:
        print(f"mcuforge: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mcuforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

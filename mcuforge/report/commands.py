"""The `estimate`, `power`, `cascade` and `report` subcommands, registered by cli.py. Thin like cli.py: parse,
call the library, print. Imports are deferred so that building the parser loads nothing heavy."""

from __future__ import annotations

import json

from mcuforge.errors import InputError


def load_model(path: str):
    from mcuforge.frontends import load_model as load

    return load(path)


def cmd_estimate(args) -> int:
    from mcuforge.report.estimate import estimate_model, format_estimate

    est = estimate_model(load_model(args.model), target=args.target, alignment=args.alignment)
    print(json.dumps(est.to_dict(), indent=2) if args.json else format_estimate(est))
    return 0


def _battery(args):
    from mcuforge.report.power import Battery

    return Battery(args.battery_mah, args.battery_v, args.efficiency)


def cmd_power(args) -> int:
    from mcuforge.report.power_report import CascadeOptions, HubOptions, format_power_report, power_report

    hub = cascade = None
    if args.hub:
        hub = HubOptions(args.frontend_cycles, args.hub, args.hub_cycle_factor)
    if args.cascade_big:
        if not (args.data and args.labels and args.threshold is not None):
            raise InputError("--cascade-big needs --threshold, --data and --labels")
        cascade = CascadeOptions(load_model(args.cascade_big), args.threshold, args.event_rate, args.data, args.labels,
                                 args.positive_class)
    report = power_report(load_model(args.model), args.target, args.rate, _battery(args), board=args.board,
                          sensor_mw=args.sensor_mw, sensor_ms=args.sensor_ms, wakeup_us=args.wakeup_us,
                          measure=args.measure, quiet=args.quiet, hub=hub, cascade=cascade)
    print(json.dumps(report, indent=2) if args.json else format_power_report(report))
    return 0


def cmd_cascade(args) -> int:
    from mcuforge.report.cascade_c import write_cascade

    names = tuple(args.names.split(","))
    if len(names) != 2:
        raise InputError(f"--names takes two C prefixes separated by a comma, got {args.names!r}")
    out = write_cascade(load_model(args.small), load_model(args.big), args.output, force=args.force,
                        threshold=args.threshold, big_threshold=args.big_threshold,
                        positive_class=args.positive_class, names=names, compat=args.compat)
    print(f"wrote {out}/: cascade.h, cascade.c, cascade_example.c, Makefile and the {names[0]} and {names[1]} "
          "libraries (make builds libcascade.a and cascade_example)")
    return 0


def cmd_report(args) -> int:
    from mcuforge.report.html import ReportSettings, render_report, write_report

    settings = ReportSettings(target=args.target, board=args.board, rate_hz=args.rate, battery=_battery(args),
                              sensor_w=args.sensor_mw * 1e-3, wakeup_us=args.wakeup_us, measure=args.measure,
                              quiet=args.quiet)
    if bool(args.data) != bool(args.labels):
        raise InputError("--data and --labels go together")
    dataset = (args.data, args.labels) if args.data else None
    page = render_report(load_model(args.model), settings, [load_model(m) for m in args.compare or []], dataset)
    print(f"wrote {write_report(args.output, page)}")
    return 0


def _power_arguments(p) -> None:
    p.add_argument("--target", default="cortex-m4", help="target profile (see `mcuforge build --help`)")
    p.add_argument("--board", help="board of the target by MCU name (default: the profile's first)")
    p.add_argument("--rate", type=float, default=1.0, help="inferences per second, Hz (default 1)")
    p.add_argument("--battery-mah", type=float, default=220.0, help="battery capacity, mAh (default 220: a CR2032)")
    p.add_argument("--battery-v", type=float, default=3.0, help="battery voltage, V (default 3.0)")
    p.add_argument("--efficiency", type=float, default=1.0, help="regulator efficiency, 0-1 (default 1: ideal)")
    p.add_argument("--sensor-mw", type=float, default=0.0, help="sensor power, mW (default 0: no sensor)")
    p.add_argument("--wakeup-us", type=float, default=None, help="wake-up time, us (default: the board's figure)")
    p.add_argument("--measure", action="store_true", help="measure the cycles in the emulator instead of estimating")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_report_commands(sub) -> None:
    p = sub.add_parser("estimate", help="static estimate on a target: MACs, params, flash, RAM and cycles per layer")
    p.add_argument("model")
    p.add_argument("--target", default="cortex-m4",
                   help="target profile (those of `mcuforge build --help`, esp32, esp32-s3)")
    p.add_argument("--alignment", type=int, default=8, choices=(4, 8, 16, 32), help="arena alignment in bytes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("power", help="energy per inference, average current and battery life at an inference rate")
    p.add_argument("model")
    _power_arguments(p)
    p.add_argument("--sensor-ms", type=float, default=None, help="sensor on-time per inference, ms (default: always)")
    p.add_argument("--frontend-cycles", type=float, default=0.0, help="signal frontend work per inference, in "
                                                                        "main-core cycles (for --hub)")
    p.add_argument("--hub", help="sensor-hub split: target profile of a low-power core that runs the frontend")
    p.add_argument("--hub-cycle-factor", type=float, default=1.0, help="hub cycles per main-core cycle (default 1)")
    p.add_argument("--cascade-big", help="cascade: the big model run when MODEL (the small one) fires")
    p.add_argument("--threshold", type=float, help="cascade: small model's positive-class score threshold")
    p.add_argument("--event-rate", type=float, default=0.01, help="cascade: share of periods holding an event, 0-1")
    p.add_argument("--data", help="cascade: .npy inputs of a labelled data set (small model's input shape)")
    p.add_argument("--labels", help="cascade: .npy labels (positive: --positive-class)")
    p.add_argument("--positive-class", type=int, default=1, help="index of the positive class (default 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_power)

    p = sub.add_parser("cascade", help="C runtime running SMALL on every input and BIG when SMALL fires")
    p.add_argument("small")
    p.add_argument("big")
    p.add_argument("--threshold", type=float, required=True, help="small model's positive-class score threshold "
                                                                  "(real units, e.g. a probability)")
    p.add_argument("--big-threshold", type=float, default=0.5, help="big model's threshold for the decision")
    p.add_argument("--positive-class", type=int, default=1, help="index of the positive class in both outputs")
    p.add_argument("--names", default="small,big", help="C prefixes of the two libraries (default small,big)")
    p.add_argument("-o", "--output", required=True, help="output directory (written atomically)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--compat", choices=("tflm", "litert"), default="tflm",
                   help="integer arithmetic bit-exact with TFLite Micro/CMSIS-NN (default) or LiteRT")
    p.set_defaults(func=cmd_cascade)

    p = sub.add_parser("report", help="self-contained HTML report: memory, cycles, flash, energy, comparison")
    p.add_argument("model")
    p.add_argument("-o", "--output", required=True, help="HTML file to write")
    _power_arguments(p)
    p.add_argument("--compare", nargs="+", help="other models for the comparison table")
    p.add_argument("--data", help=".npy inputs of a labelled data set, for accuracy in the comparison")
    p.add_argument("--labels", help=".npy labels (class indices)")
    p.set_defaults(func=cmd_report)

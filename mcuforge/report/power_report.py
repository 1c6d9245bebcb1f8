"""What `mcuforge power` computes and prints: the model's time per inference (static estimate, or the emulator's
measurement), the device and battery, the duty-cycled budget, and optionally the sensor-hub split and the cascade
with a big model (report/power.py has the formulas)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mcuforge.ir import Graph
from mcuforge.report.power import (
    Battery,
    CascadeRates,
    Device,
    board_device,
    cascade_budgets,
    duty_cycle,
    format_budget,
    format_device,
    hub_split,
)
from mcuforge.targets.profiles import get_profile


@dataclass
class HubOptions:
    frontend_cycles: float
    hub_target: str
    hub_cycle_factor: float = 1.0
    hub_board: str | None = None


@dataclass
class CascadeOptions:
    big: Graph
    threshold: float
    event_rate: float
    inputs_path: str
    labels_path: str
    positive_class: int = 1


def inference_cycles(graph: Graph, target: str, measure: bool, quiet: bool) -> tuple[float, str]:
    if measure:
        from mcuforge.report.measure import measure_model

        return measure_model(graph, target, quiet=quiet).cycles, "measured (emulator, seeded random input)"
    from mcuforge.report.estimate import estimate_model

    return estimate_model(graph, target).cycles, "static estimate"


def power_report(graph: Graph, target: str, rate_hz: float, battery: Battery, board: str | None = None,
                 sensor_mw: float = 0.0, sensor_ms: float | None = None, wakeup_us: float | None = None,
                 measure: bool = False, quiet: bool = True, hub: HubOptions | None = None,
                 cascade: CascadeOptions | None = None) -> dict:
    device = board_device(get_profile(target), board, wakeup_us)
    cycles, how = inference_cycles(graph, target, measure, quiet)
    seconds = cycles / device.clock_hz
    sensor_w, sensor_s = sensor_mw * 1e-3, None if sensor_ms is None else sensor_ms * 1e-3
    report = {"model": graph.where(), "target": target, "device": asdict(device), "battery": asdict(battery),
              "battery_energy_j": battery.energy_j, "sensor_w": sensor_w, "sensor_on_s": sensor_s,
              "inference": {"cycles": round(cycles), "seconds": seconds, "how": how,
                            "energy_j": device.active_w * seconds},
              "budget": duty_cycle(device, seconds, rate_hz, battery, sensor_w, sensor_s).to_dict()}
    if hub is not None:
        hub_device = board_device(get_profile(hub.hub_target), hub.hub_board)
        split = hub_split(device, hub_device, seconds, hub.frontend_cycles, rate_hz, battery, sensor_w, sensor_s,
                          hub.hub_cycle_factor)
        report["hub_split"] = {"hub": asdict(hub_device), "frontend_cycles": hub.frontend_cycles,
                               "hub_cycle_factor": hub.hub_cycle_factor,
                               "budgets": {k: b.to_dict() for k, b in split.items()}}
    if cascade is not None:
        report["cascade"] = _cascade(graph, device, seconds, cascade, target, rate_hz, battery, sensor_w, sensor_s,
                                     measure, quiet)
    return report


def _cascade(small: Graph, device: Device, small_s: float, options: CascadeOptions, target: str, rate_hz: float,
             battery: Battery, sensor_w: float, sensor_s: float | None, measure: bool, quiet: bool) -> dict:
    from mcuforge.report.cascade import cascade_rates, load_dataset, score_rule

    rule = score_rule(small, options.positive_class, options.threshold)
    inputs, labels = load_dataset(options.inputs_path, options.labels_path, small)
    rates: CascadeRates = cascade_rates(small, rule, inputs, labels, options.positive_class)
    big_cycles, _ = inference_cycles(options.big, target, measure, quiet)
    big_s = big_cycles / device.clock_hz
    budgets = cascade_budgets(device, small_s, big_s, rates, options.event_rate, rate_hz, battery, sensor_w, sensor_s)
    return {"big_model": options.big.where(), "big_seconds": big_s, "rule": rule.describe(),
            "rates": asdict(rates), "event_rate": options.event_rate,
            "big_share": rates.big_share(options.event_rate),
            "budgets": {k: b.to_dict() for k, b in budgets.items()}}


def _budget(d: dict):
    from mcuforge.report.power import PowerBudget

    fields = PowerBudget.__dataclass_fields__
    return PowerBudget(**{k: v for k, v in d.items() if k in fields})


def format_power_report(report: dict) -> str:
    device = Device(**{**report["device"], "sources": tuple(report["device"]["sources"])})
    battery = Battery(**report["battery"])
    inf = report["inference"]
    lines = [f"model: {report['model']} on {report['target']}", format_device(device, battery),
             f"inference: {inf['cycles']:,} cycles ({inf['how']}) = {inf['seconds'] * 1e3:.4g} ms at "
             f"{device.clock_hz / 1e6:g} MHz, {inf['energy_j'] * 1e6:.4g} uJ",
             f"sensor: {report['sensor_w'] * 1e3:g} mW, "
             + ("always on" if report["sensor_on_s"] is None else f"on {report['sensor_on_s'] * 1e3:g} ms per period"),
             format_budget("duty cycle", _budget(report["budget"]))]
    if "hub_split" in report:
        split = report["hub_split"]
        lines.append(f"sensor-hub split: frontend {split['frontend_cycles']:,.0f} main-core cycles per inference "
                     f"(x{split['hub_cycle_factor']:g} on the hub {split['hub']['name']})")
        lines += [format_budget(f"  {name}", _budget(b)) for name, b in split["budgets"].items()]
    if "cascade" in report:
        c = report["cascade"]
        r = c["rates"]
        lines.append(f"cascade with {c['big_model']} ({c['big_seconds'] * 1e3:.4g} ms): small model fires on "
                     f"{c['rule']}; on {r['samples']} samples ({r['positives']} positive): recall {r['recall']:.1%}, "
                     f"false positive rate {r['false_positive_rate']:.1%}; event rate {c['event_rate']:g} -> big "
                     f"model runs in {c['big_share']:.2%} of periods")
        lines += [format_budget(f"  {name}", _budget(b)) for name, b in c["budgets"].items()]
    return "\n".join(lines)

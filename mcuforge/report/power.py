"""`mcuforge power`: energy per inference, duty-cycled average current and battery life at an inference rate.

The model, per inference period T = 1 / rate (all powers at the board's supply, SI units inside):
    E_inference = P_active * t_inference                 P_active = I_active(clock) * V_supply
    E_wakeup    = P_active * t_wakeup                    (wake-up charged at active power: an upper bound)
    E_sensor    = P_sensor * t_sensor                    (t_sensor = T unless the sensor is duty-cycled)
    E_sleep     = P_sleep * (T - t_wakeup - t_inference)
    P_average   = (E_inference + E_wakeup + E_sensor + E_sleep) / T
    I_battery   = P_average / (V_battery * efficiency)    (the regulator conserves power, less its losses)
    battery life = capacity_mAh / I_battery_mA
Active and sleep currents, supply voltage and wake-up time come from the target's board (targets/profiles.py,
each figure with its source); flags override them. The sensor draws nothing unless given (--sensor-mw).

Sensor-hub split: the signal frontend (e.g. MFCC for keyword spotting) runs either on the main core before each
inference or on a low-power hub core (another profile's board), so the main core wakes for the network only.
Cascade: a small model runs every period and the big one only when the small one fires; the expected big-model
share is event_rate * recall + (1 - event_rate) * false_positive_rate, with the small model's recall and false
positive rate measured on a labelled data set (report/cascade.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mcuforge.errors import McuforgeError
from mcuforge.targets.profiles import Board, TargetProfile


@dataclass(frozen=True)
class Device:
    """What the power model needs of a board; `sources` cites where each default came from."""

    name: str
    clock_hz: float
    supply_v: float
    active_w: float
    sleep_w: float
    wakeup_s: float
    sources: tuple[str, ...] = ()


def board_device(profile: TargetProfile, board: str | None = None, wakeup_us: float | None = None) -> Device:
    """The device of `profile`'s board named `board` (its MCU or board name; default: the first board)."""
    chosen = _pick_board(profile, board)
    if wakeup_us is None and chosen.wakeup is None:
        raise McuforgeError(f"{chosen.mcu}: no wake-up time in its profile; pass --wakeup-us")
    wake_s = (chosen.wakeup.microseconds if wakeup_us is None else wakeup_us) * 1e-6
    sources = (f"active {chosen.active.value:g} {chosen.active.unit} ({chosen.active.condition}): "
               f"{chosen.active.source} [{chosen.active.confidence}]",
               f"sleep {chosen.sleep.value:g} {chosen.sleep.unit} ({chosen.sleep.condition}): "
               f"{chosen.sleep.source} [{chosen.sleep.confidence}]")
    if wakeup_us is None:
        sources += (f"wake-up {chosen.wakeup.microseconds:g} us ({chosen.wakeup.condition}): "
                    f"{chosen.wakeup.source} [{chosen.wakeup.confidence}]",)
    return Device(name=f"{chosen.mcu} ({chosen.name})", clock_hz=chosen.clock_hz, supply_v=chosen.supply_v,
                  active_w=chosen.active.current_ma(chosen.clock_hz) * 1e-3 * chosen.supply_v,
                  sleep_w=chosen.sleep.current_ma(chosen.clock_hz) * 1e-3 * chosen.supply_v, wakeup_s=wake_s,
                  sources=sources)


def _pick_board(profile: TargetProfile, board: str | None) -> Board:
    if board is None:
        return profile.board
    for b in profile.boards:
        if board.lower() in (b.mcu.lower(), b.name.lower()):
            return b
    raise McuforgeError(f"target {profile.name!r} has no board {board!r}; its boards: "
                        f"{', '.join(b.mcu for b in profile.boards)}")


@dataclass(frozen=True)
class Battery:
    capacity_mah: float
    voltage_v: float
    efficiency: float = 1.0  # regulator efficiency from battery to the MCU supply

    @property
    def energy_j(self) -> float:
        return self.capacity_mah * 1e-3 * 3600 * self.voltage_v


@dataclass
class PowerBudget:
    """One period of a duty-cycled device; every field carries its unit in its name."""

    rate_hz: float
    period_s: float
    active_s: float  # inference (and frontend) time per period
    wakeup_s: float
    inference_j: float
    wakeup_j: float
    sensor_j: float
    sleep_j: float
    average_w: float
    battery_current_ma: float
    battery_life_h: float
    duty_cycle: float  # share of the period awake
    hub_j: float = 0.0  # a second device's energy per period (the sensor hub), on the same battery

    @property
    def per_period_j(self) -> float:
        return self.inference_j + self.wakeup_j + self.sensor_j + self.sleep_j + self.hub_j

    def to_dict(self) -> dict:
        return {**asdict(self), "per_period_j": self.per_period_j, "battery_life_days": self.battery_life_h / 24}


def duty_cycle(device: Device, active_s: float, rate_hz: float, battery: Battery, sensor_w: float = 0.0,
               sensor_s: float | None = None, hub_j: float = 0.0) -> PowerBudget:
    """The budget of `device` waking `rate_hz` times a second for `active_s` of work. `hub_j`: a second
    device's energy per period (a sensor hub), added to the battery's load."""
    if rate_hz <= 0:
        raise McuforgeError(f"inference rate must be positive, got {rate_hz:g} Hz")
    period = 1.0 / rate_hz
    awake = device.wakeup_s + active_s
    if awake > period:
        raise McuforgeError(f"at {rate_hz:g} Hz the period is {period * 1e3:.3g} ms but one wake-up and inference "
                            f"take {awake * 1e3:.3g} ms: at most {1 / awake:.3g} Hz")
    sensor_time = period if sensor_s is None else min(sensor_s, period)
    inference_j = device.active_w * active_s
    wakeup_j = device.active_w * device.wakeup_s
    sensor_j = sensor_w * sensor_time
    sleep_j = device.sleep_w * (period - awake)
    average_w = (inference_j + wakeup_j + sensor_j + sleep_j + hub_j) / period
    current_ma = average_w / (battery.voltage_v * battery.efficiency) * 1e3
    return PowerBudget(rate_hz=rate_hz, period_s=period, active_s=active_s, wakeup_s=device.wakeup_s,
                       inference_j=inference_j, wakeup_j=wakeup_j, sensor_j=sensor_j, sleep_j=sleep_j,
                       average_w=average_w, battery_current_ma=current_ma,
                       battery_life_h=battery.capacity_mah / current_ma, duty_cycle=awake / period, hub_j=hub_j)


def max_rate_hz(device: Device, active_s: float) -> float:
    return 1.0 / (device.wakeup_s + active_s)


def hub_split(main: Device, hub: Device, inference_s: float, frontend_cycles: float, rate_hz: float,
              battery: Battery, sensor_w: float = 0.0, sensor_s: float | None = None,
              hub_cycle_factor: float = 1.0) -> dict[str, PowerBudget]:
    """The frontend on the main core before each inference ("single core") against the frontend on `hub` while
    the main core sleeps until the network runs ("sensor hub"). `frontend_cycles` are main-core cycles; the hub
    needs `hub_cycle_factor` times as many. The sensor is charged once, in both."""
    single = duty_cycle(main, inference_s + frontend_cycles / main.clock_hz, rate_hz, battery, sensor_w, sensor_s)
    hub_budget = duty_cycle(hub, frontend_cycles * hub_cycle_factor / hub.clock_hz, rate_hz, battery)
    hub_j = hub_budget.average_w * hub_budget.period_s
    split = duty_cycle(main, inference_s, rate_hz, battery, sensor_w, sensor_s, hub_j=hub_j)
    return {"single core": single, "sensor hub": split, "hub alone": hub_budget}


@dataclass(frozen=True)
class CascadeRates:
    """The small model's behaviour on a labelled data set (report/cascade.py measures it)."""

    recall: float  # positives the small model passes on to the big one
    false_positive_rate: float  # negatives it passes on anyway
    samples: int = 0
    positives: int = 0

    def big_share(self, event_rate: float) -> float:
        if not 0.0 <= event_rate <= 1.0:
            raise McuforgeError(f"event rate is the share of periods holding an event, in [0, 1]; got {event_rate:g}")
        return event_rate * self.recall + (1.0 - event_rate) * self.false_positive_rate


def cascade_budgets(device: Device, small_s: float, big_s: float, rates: CascadeRates, event_rate: float,
                    rate_hz: float, battery: Battery, sensor_w: float = 0.0,
                    sensor_s: float | None = None) -> dict[str, PowerBudget]:
    """Expected budget of the cascade (small every period, big on the share it fires) against the big model
    alone; the active time of the cascade is the expectation t_small + share * t_big."""
    share = rates.big_share(event_rate)
    return {"cascade": duty_cycle(device, small_s + share * big_s, rate_hz, battery, sensor_w, sensor_s),
            "big model alone": duty_cycle(device, big_s, rate_hz, battery, sensor_w, sensor_s)}


def _energy(j: float) -> str:
    if j >= 1:
        return f"{j:.4g} J"
    if j >= 1e-3:
        return f"{j * 1e3:.3g} mJ"
    return f"{j * 1e6:.3g} uJ"


def _current(ma: float) -> str:
    return f"{ma:.3g} mA" if ma >= 1 else f"{ma * 1e3:.3g} uA"


def _life(hours: float) -> str:
    if hours >= 24 * 365:
        return f"{hours / 24 / 365:.3g} years"
    return f"{hours / 24:.3g} days" if hours >= 48 else f"{hours:.3g} h"


def format_budget(label: str, b: PowerBudget) -> str:
    return (f"{label}: {b.rate_hz:g} Hz (period {b.period_s * 1e3:.4g} ms, awake {b.duty_cycle:.3%}): per period "
            f"inference {_energy(b.inference_j)}, wake-up {_energy(b.wakeup_j)}, sensor {_energy(b.sensor_j)}, "
            f"sleep {_energy(b.sleep_j)}{f', hub {_energy(b.hub_j)}' if b.hub_j else ''} = "
            f"{_energy(b.per_period_j)}; average {b.average_w * 1e3:.4g} mW = "
            f"{_current(b.battery_current_ma)} from the battery -> {_life(b.battery_life_h)}")


def format_device(device: Device, battery: Battery) -> str:
    lines = [f"device: {device.name} @ {device.clock_hz / 1e6:g} MHz, {device.supply_v:g} V: active "
             f"{device.active_w * 1e3:.4g} mW, sleep {device.sleep_w * 1e6:.4g} uW, wake-up "
             f"{device.wakeup_s * 1e6:g} us",
             f"battery: {battery.capacity_mah:g} mAh at {battery.voltage_v:g} V = {_energy(battery.energy_j)}"
             + (f", regulator efficiency {battery.efficiency:.0%}" if battery.efficiency != 1 else "")]
    lines += [f"  source: {s}" for s in device.sources]
    return "\n".join(lines)

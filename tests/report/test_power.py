"""Energy, average current and battery life against a hand calculation; sensor hub and cascade arithmetic."""

import json

import pytest

from mcuforge.cli import main
from mcuforge.errors import McuforgeError
from mcuforge.frontends import load_model
from mcuforge.report.estimate import estimate_model
from mcuforge.report.power import Battery, CascadeRates, Device, board_device, cascade_budgets, duty_cycle, hub_split
from mcuforge.targets.profiles import get_profile
from tests.conftest import shared_model


def test_cortex_m4_board_figures():
    device = board_device(get_profile("cortex-m4"))
    # STM32L4R5 (profiles.py): 110 uA/MHz at 120 MHz = 13.2 mA, 2.8 uA in Stop 2, 3.3 V, 6 us wake-up
    assert device.active_w == pytest.approx(13.2e-3 * 3.3)
    assert device.sleep_w == pytest.approx(2.8e-6 * 3.3)
    assert device.wakeup_s == pytest.approx(6e-6)
    assert any("DS12023" in s for s in device.sources)
    nrf = board_device(get_profile("cortex-m4"), board="nRF52840", wakeup_us=12)
    assert nrf.clock_hz == 64e6 and nrf.wakeup_s == pytest.approx(12e-6)
    with pytest.raises(McuforgeError, match="no board"):
        board_device(get_profile("cortex-m4"), board="STM32F4")


def test_budget_matches_a_hand_calculation():
    device = board_device(get_profile("cortex-m4"))
    budget = duty_cycle(device, active_s=0.010, rate_hz=1.0, battery=Battery(220, 3.0), sensor_w=1e-3)
    # by hand: active 13.2 mA * 3.3 V = 43.56 mW
    #   inference 43.56 mW * 10 ms        = 435.6 uJ
    #   wake-up   43.56 mW * 6 us         = 0.26136 uJ
    #   sensor    1 mW * 1 s (always on)  = 1000 uJ
    #   sleep     9.24 uW * (1 s - 10.006 ms) = 9.24 * 0.989994 = 9.14754456 uJ
    #   average   1444.99 + ... = 1445.00890456 uW over 1 s; / 3.0 V = 481.66963485 uA
    #   life      220 mAh / 0.48166963485 mA = 456.7446... h = 19.031 days
    assert budget.inference_j == pytest.approx(435.6e-6, rel=1e-12)
    assert budget.wakeup_j == pytest.approx(0.26136e-6, rel=1e-12)
    assert budget.sensor_j == pytest.approx(1000e-6, rel=1e-12)
    assert budget.sleep_j == pytest.approx(9.14754456e-6, rel=1e-9)
    assert budget.average_w == pytest.approx(1445.00890456e-6, rel=1e-9)
    assert budget.battery_current_ma == pytest.approx(0.48166963485, rel=1e-9)
    assert budget.battery_life_h == pytest.approx(220 / 0.48166963485, rel=1e-9)
    assert budget.to_dict()["battery_life_days"] == pytest.approx(19.0310, rel=1e-4)
    assert budget.duty_cycle == pytest.approx(0.010006)


def test_duty_cycled_sensor_efficiency_and_limits():
    device = Device("test", 1e6, 3.0, active_w=0.01, sleep_w=1e-6, wakeup_s=0.0)
    b = duty_cycle(device, 0.1, 2.0, Battery(100, 2.0, efficiency=0.8), sensor_w=0.002, sensor_s=0.05)
    # period 0.5 s: 1 mJ inference + 0.1 mJ sensor + 0.4 uJ sleep = 1.1004 mJ -> 2.2008 mW; / (2 V * 0.8)
    assert b.average_w == pytest.approx(2.2008e-3)
    assert b.battery_current_ma == pytest.approx(2.2008 / 1.6)
    assert Battery(100, 2.0).energy_j == pytest.approx(720.0)
    with pytest.raises(McuforgeError, match="at most 10 Hz"):
        duty_cycle(device, 0.1, 20.0, Battery(100, 2.0))


def test_sensor_hub_split_moves_the_frontend():
    main_core = Device("main", 100e6, 3.0, active_w=0.030, sleep_w=3e-6, wakeup_s=10e-6)
    hub = Device("hub", 10e6, 3.0, active_w=0.001, sleep_w=1e-6, wakeup_s=5e-6)
    split = hub_split(main_core, hub, inference_s=0.002, frontend_cycles=500_000, rate_hz=1.0,
                      battery=Battery(220, 3.0), hub_cycle_factor=2.0)
    single, shared = split["single core"], split["sensor hub"]
    assert single.active_s == pytest.approx(0.002 + 0.005)  # 500 k cycles at 100 MHz
    assert shared.active_s == pytest.approx(0.002)
    assert split["hub alone"].active_s == pytest.approx(0.1)  # 1 M hub cycles at 10 MHz
    # the hub's energy: 1 mW * (0.1 s + 5 us) + 1 uW * (1 - 0.100005) s
    hub_j = 1e-3 * 0.100005 + 1e-6 * 0.899995
    assert shared.average_w == pytest.approx(single.average_w - 0.030 * 0.005 - 3e-6 * -0.005 + hub_j)
    assert shared.hub_j == pytest.approx(hub_j) and shared.per_period_j == pytest.approx(shared.average_w * 1.0)
    assert shared.average_w < single.average_w


def test_cascade_expected_energy():
    device = Device("d", 1e6, 3.0, active_w=0.01, sleep_w=0.0, wakeup_s=0.0)
    rates = CascadeRates(recall=0.9, false_positive_rate=0.05)
    assert rates.big_share(0.01) == pytest.approx(0.01 * 0.9 + 0.99 * 0.05)
    budgets = cascade_budgets(device, small_s=0.001, big_s=0.020, rates=rates, event_rate=0.01, rate_hz=1.0,
                              battery=Battery(220, 3.0))
    assert budgets["cascade"].inference_j == pytest.approx(0.01 * (0.001 + 0.0585 * 0.020))
    assert budgets["big model alone"].inference_j == pytest.approx(0.01 * 0.020)
    with pytest.raises(McuforgeError, match="event rate"):
        rates.big_share(2.0)


def test_cli_power_uses_the_estimate(capsys):
    model = shared_model("ad")
    assert main(["power", str(model), "--rate", "10", "--battery-mah", "220", "--battery-v", "3.0",
                 "--sensor-mw", "0.5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    cycles = estimate_model(load_model(model), "cortex-m4").cycles
    assert report["inference"]["cycles"] == round(cycles)
    device = board_device(get_profile("cortex-m4"))
    expected = duty_cycle(device, cycles / 120e6, 10.0, Battery(220, 3.0), sensor_w=0.5e-3)
    assert report["budget"]["battery_life_h"] == pytest.approx(expected.battery_life_h)
    assert main(["power", str(model), "--hub", "cortex-m0plus", "--frontend-cycles", "2e6"]) == 0
    out = capsys.readouterr().out
    assert "uJ" in out and "sensor hub" in out and "single core" in out and "days" in out
    assert main(["power", str(model), "--rate", "1e6"]) == 2
    assert "at most" in capsys.readouterr().err

"""The static estimator: its counts, its cost model, and its agreement with the emulator on the shared models."""

import json

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.codegen.planner import plan_arena
from mcuforge.frontends import load_model
from mcuforge.ops.registry import get_op
from mcuforge.report import calibration_data
from mcuforge.report.cost_model import cost_key, fit_nonnegative, layer_features
from mcuforge.report.estimate import estimate_model
from mcuforge.report.progress import progress_enabled
from mcuforge.targets.profiles import PROFILES
from tests.builders import GraphBuilder
from tests.conftest import SHARED_MODELS, shared_model
from tests.report.conftest import measured_shared_model

TOLERANCE = 0.25  # the bound on |estimate / measurement - 1| per model


@pytest.mark.parametrize("key", sorted(SHARED_MODELS))
def test_estimate_within_25_percent_of_the_emulator(key):
    graph, measured = measured_shared_model(key)
    est = estimate_model(graph, "cortex-m4")
    assert abs(est.cycles / measured.cycles - 1) <= TOLERANCE, (
        f"{key}: estimate {est.cycles:,.0f} vs measured {measured.cycles:,.0f} cycles; recalibrate with "
        f"{calibration_data.COMMAND}")
    size = measured.counted.size
    assert est.flash["weights"] == size.weights_tensors  # exact: every constant tensor is one array
    assert abs(est.flash["op_params"] - size.weights_params) <= 0.25 * size.weights_params + 256
    assert abs(est.flash["kernels"] - size.kernels) <= 0.25 * size.kernels  # the estimator promises ±25%
    assert abs(est.flash["total"] / size.flash_total - 1) <= 0.1
    assert est.ram["arena"] == size.arena


def test_counts_and_ram_from_the_planner():
    graph = load_model(shared_model("kws"))
    est = estimate_model(graph, "cortex-m4")
    assert est.macs == sum(layer.macs for layer in est.layers) == 2_664_768  # kws: 2.66 M MACs (models/README)
    stored = {n for op in graph.ops if not get_op(op.type).view_of_input for n in op.inputs
              if n and graph.tensors[n].is_constant}  # a view's shape operand is not stored
    assert est.params == sum(graph.tensors[n].size for n in stored)
    plan = plan_arena(graph)
    assert est.ram["arena"] == plan.arena_size
    assert est.live_bytes == plan.live_bytes(len(graph.ops))
    assert est.arena_tops[est.peak_op] == max(est.arena_tops) == plan.arena_size  # the peak reaches the top
    assert est.flash["total"] == sum(v for k, v in est.flash.items() if k != "total")
    assert set(est.kernel_code) >= {"conv_2d_s8", "depthwise_conv_2d_s8", "fully_connected_s8", "softmax_s8"}
    assert est.milliseconds == pytest.approx(est.cycles / 120e6 * 1e3)
    reshape = next(layer for layer in est.layers if layer.op == "RESHAPE")
    assert reshape.cycles == 0 and reshape.kernels == [] and reshape.cost_key is None


def test_every_target_is_calibrated():
    graph = load_model(shared_model("ad"))
    by_target = {t: estimate_model(graph, t) for t in PROFILES}
    assert all(e.cycles > 0 and e.notes == [] for e in by_target.values())
    assert by_target["cortex-m7"].cycles < by_target["cortex-m4"].cycles < by_target["cortex-m0plus"].cycles
    assert "calibrate_estimator.py" in calibration_data.COMMAND


def test_features_of_a_convolution():
    b = GraphBuilder(seed=1)
    x = b.input("x", (1, 10, 8, 3), scale=0.1)
    w = b.int8_weights("w", (4, 3, 2, 3), axis=0)
    y = b.op("CONV_2D", [x, w, b.int32_bias("b", 4, 0.1 * b.graph.tensors[w].quant.scale)], "y", scale=0.2,
             stride_h=2)
    graph = b.build(y)
    op = graph.ops[0]
    assert cost_key(op, graph) == "CONV_2D/int8"
    # output 5x8x4 = 160 values, each 3*2*3 = 18 MACs in 3 filter rows
    assert layer_features(op, graph) == (160 * 18, 160, 1, 160 * 3)


def test_fit_is_non_negative_and_exact_on_a_linear_cost():
    rng = np.random.default_rng(0)
    features = rng.integers(1, 1000, size=(12, 4)).astype(float)
    features[:, 2] = 1
    truth = np.array([3.5, 20.0, 400.0, 0.0])
    assert fit_nonnegative(features, features @ truth) == pytest.approx(tuple(truth), rel=1e-6, abs=1e-6)
    # a cost that wants a negative per-call term gets none
    cycles = features @ np.array([4.0, 0.0, -5000.0, 0.0])
    assert min(fit_nonnegative(features, np.maximum(cycles, 0))) >= 0


def test_cli_estimate_text_and_json(capsys):
    model = str(shared_model("ad"))
    assert main(["estimate", model, "--target", "cortex-m33"]) == 0
    out = capsys.readouterr().out
    assert "FULLY_CONNECTED" in out and "flash" in out and "arena" in out and "STM32U585" in out
    assert main(["estimate", model, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["macs"] == 264_192 and len(info["layers"]) == 10
    assert 0 < info["flash_bytes"]["weights"] <= 270_880  # dense int8, or sparse when smaller
    assert main(["estimate", model, "--target", "avr"]) == 2
    assert "unknown target 'avr'" in capsys.readouterr().err


def test_progress_bars_are_quiet_off_a_terminal():
    assert not progress_enabled(quiet=True)
    assert not progress_enabled(quiet=False)  # pytest captures stderr: not a TTY

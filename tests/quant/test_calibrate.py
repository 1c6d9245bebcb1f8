"""Calibration: quantization parameters from ranges, the three range estimators, calibration-set forms and
their errors (library and command line)."""

import subprocess
import sys

import numpy as np
import pytest

from mcuforge.errors import InputError
from mcuforge.frontends.tflite_export import save_tflite
from mcuforge.frontends.tflite_import import load_tflite
from mcuforge.quant.calibrate import calibrate_ranges, calibration_samples, mse_range
from mcuforge.quant.qparams import asymmetric_qparams, fake_quantize
from tests.builders import GraphBuilder
from tests.quant.float_graphs import conv_stack, dense, inputs_like


@pytest.mark.parametrize("lo, hi, scale, zero_point", [
    (-1.0, 1.0, 2 / 255, -1),     # TFLite rounds the zero point -0.5 away from zero
    (0.0, 6.0, 6 / 255, -128),    # a ReLU6 range: 0 is the lowest integer
    (-3.0, 0.0, 3 / 255, 127),
    (0.5, 2.0, 2 / 255, -128),    # the range is widened to hold 0
    (0.0, 0.0, 1e-6 / 255, -128),  # a constant tensor still gets a positive scale
])
def test_asymmetric_qparams(lo, hi, scale, zero_point):
    s, z = asymmetric_qparams(lo, hi)
    assert s == np.float32(scale) and z == zero_point
    assert fake_quantize(np.array([0.0]), s, z)[0] == 0.0


def test_percentile_and_mse_clip_heavy_tails():
    """On Laplace data (a typical heavy-tailed activation), both estimators clip the rare extremes that
    min-max keeps, and the MSE range has the smallest quantization error over the data."""
    b = GraphBuilder(seed=0)
    x = b.input("x", (1, 4096), dtype="float32")
    g = b.build(b.op("FULLY_CONNECTED", [x, b.const("w", np.eye(4096)[:4], "float32"), ""], "y", out_dtype="float32"))
    data = np.random.default_rng(0).laplace(size=(32, 1, 4096)).astype(np.float32)
    ranges = {m: calibrate_ranges(g, data, method=m)["x"] for m in ("minmax", "percentile", "mse")}
    assert ranges["minmax"] == (data.min(), data.max())
    for method in ("percentile", "mse"):
        lo, hi = ranges[method]
        assert data.min() < lo < 0 < hi < data.max() and hi - lo < 0.9 * (data.max() - data.min()), method
    values = data.reshape(-1).astype(np.float64)
    errors = {m: np.mean((fake_quantize(values, *asymmetric_qparams(*r)) - values) ** 2) for m, r in ranges.items()}
    assert errors["mse"] < errors["minmax"] and errors["mse"] <= errors["percentile"]


def test_mse_keeps_a_uniform_range():
    values = np.random.default_rng(1).uniform(-2, 3, 20000)
    lo, hi = mse_range(values, values.min(), values.max())
    assert lo == pytest.approx(values.min(), rel=0.1) and hi == pytest.approx(values.max(), rel=0.1)


def test_fused_activation_ranges():
    g = conv_stack()
    ranges = calibrate_ranges(g, inputs_like(g, 8, seed=0))
    assert ranges["conv"][0] == 0.0 and ranges["dw"][0] == 0.0 and ranges["dw"][1] <= 6.0


def test_calibration_forms():
    g = dense(batch=1, depth=6)
    stack = np.random.default_rng(0).standard_normal((5, 1, 6)).astype(np.float32)
    for form in (stack, stack[:, 0], list(stack), [s[0] for s in stack], [(s,) for s in stack], {"x": stack},
                 (s for s in stack)):
        samples = calibration_samples(g, form)
        assert len(samples) == 5 and all(s[0].shape == (1, 6) and s[0].dtype == np.float32 for s in samples)
        np.testing.assert_array_equal(samples[3][0], stack[3])
    assert len(calibration_samples(g, stack[0])) == 1


def test_calibration_of_two_inputs():
    b = GraphBuilder()
    x1, x2 = b.input("a", (1, 4), dtype="float32"), b.input("b", (1, 4), dtype="float32")
    g = b.build(b.op("ADD", [x1, x2], "y", out_dtype="float32"))
    a, c = np.zeros((3, 1, 4), np.float32), np.ones((3, 4), np.float32)
    for form in ([a, c], {"a": a, "b": c}, list(zip(a, c))):
        samples = calibration_samples(g, form)
        assert len(samples) == 3 and samples[0][1].shape == (1, 4) and samples[0][1][0, 0] == 1
    with pytest.raises(InputError, match="different numbers"):
        calibration_samples(g, [a, c[:2]])
    with pytest.raises(InputError, match="no calibration data for input 'b'"):
        calibration_samples(g, {"a": a})


def test_calibration_shape_errors():
    g = dense(batch=1, depth=6)
    with pytest.raises(InputError, match=r"calib.npy: calibration data of shape \[5, 7\] does not fit input 'x' "
                                         r"of shape \[1, 6\] \(expected \[N, 1, 6\] or \[N, 6\]\)"):
        calibration_samples(g, np.zeros((5, 7), np.float32), where="calib.npy")
    with pytest.raises(InputError, match="empty"):
        calibration_samples(g, [])


def test_cli_quantize(tmp_path):
    g = conv_stack()
    model, calib, out = tmp_path / "float.tflite", tmp_path / "calib.npy", tmp_path / "int8.tflite"
    save_tflite(g, model)
    np.save(calib, inputs_like(g, 8, seed=0)[:, 0])  # [N, H, W, C]: the batch of 1 left out
    cli = [sys.executable, "-m", "mcuforge.cli", "quantize", str(model), "--calibration", str(calib)]
    result = subprocess.run(cli + ["--method", "mse", "-o", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    q = load_tflite(out)
    assert q.tensors[q.inputs[0]].dtype == "int8" and q.tensors["conv_w"].quant.per_channel
    np.save(calib, np.zeros((4, 10, 10), np.float32))
    result = subprocess.run(cli + ["-o", str(out)], capture_output=True, text=True, check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"mcuforge: error: {calib}: calibration data of shape [4, 10, 10]")
    assert "[N, 1, 10, 10, 3] or [N, 10, 10, 3]" in lines[0]

"""INT4 weights: packing, mixed precision, bit-exactness of the int8-valued graph with LiteRT / TFLite Micro and
of the packed C kernel (fully_connected_s4) with the reference; bias correction."""

import tempfile

import numpy as np
import pytest

import mcuforge
from mcuforge.codegen.project import compile_model
from mcuforge.frontends.tflite_export import export_tflite
from mcuforge.quant.int4 import is_int4, pack_int4, unpack_int4
from mcuforge.runtime.reference import run_reference
from tests.golden import assert_outputs_match, check_model_golden, run_generated_c
from tests.oracles import random_inputs
from tests.quant.float_graphs import conv_stack, dense, inputs_like, output_pairs


@pytest.mark.parametrize("count", [0, 1, 7, 16])
def test_pack_roundtrip(count):
    values = np.random.default_rng(count).integers(-8, 8, count).astype(np.int8)
    packed = pack_int4(values)
    assert packed.dtype == np.uint8 and packed.size == (count + 1) // 2
    np.testing.assert_array_equal(unpack_int4(packed, count), values)


def test_pack_layout():
    """Element 2k in the low nibble of byte k, two's complement (TFLite's and CMSIS-NN's layout)."""
    np.testing.assert_array_equal(pack_int4(np.array([1, -1, -8, 7, 3])), [0xF1, 0x78, 0x03])
    with pytest.raises(ValueError):
        pack_int4(np.array([8]))


def test_int4_dense_golden_and_packed_c():
    g = dense()
    q = mcuforge.quantize(g, inputs_like(g, 32, seed=1), weights="int4")
    for name in ("h_w", "y_w"):
        w = q.tensors[name]
        assert is_int4(w) and w.dtype == "int8" and np.abs(w.data.astype(int)).max() == 7
        assert w.quant.per_channel and not w.quant.zero_point.any()
    # The int8-valued weights exported as int8: LiteRT and TFLite Micro compute what the reference does.
    check_model_golden(export_tflite(q, int4_tensors=False), n=16, c_code=False)
    # The generated C stores them packed and unpacks them in its kernel: equal to the reference.
    rng = np.random.default_rng(0)
    batch = [random_inputs(q, rng) for _ in range(16)]
    with tempfile.TemporaryDirectory(prefix="mcuforge-int4-") as workdir:
        for mode in ("tflm", "litert"):
            generated = run_generated_c(q, batch, mode, workdir, sanitize=(mode == "tflm"))
            for k, inputs in enumerate(batch):
                assert_outputs_match(generated[k], run_reference(q, inputs, compat=mode), f"C int4 ({mode}), {k}")
        compiled = compile_model(q, f"{workdir}/inspect", name="model")
    ctx = compiled.sources.context
    assert ctx.kernels >= {"fully_connected_s4"} and "fully_connected_s8" not in ctx.kernels
    packed = [a for a in ctx.arrays if a.is_weight and a.ctype == "uint8_t"]
    assert sorted(a.values.size for a in packed) == [(5 * 19 + 1) // 2, (19 * 37 + 1) // 2]


def test_mixed_precision_layers():
    g = dense()
    q = mcuforge.quantize(g, inputs_like(g, 8, seed=1), int4_layers=["y"])
    assert is_int4(q.tensors["y_w"]) and not is_int4(q.tensors["h_w"])
    assert np.abs(q.tensors["h_w"].data.astype(int)).max() == 127
    q = mcuforge.quantize(g, inputs_like(g, 8, seed=1), weights="int4", int4_layers=[0])
    assert is_int4(q.tensors["h_w"]) and not is_int4(q.tensors["y_w"])
    with pytest.raises(ValueError, match="not a layer with weights"):
        mcuforge.quantize(g, inputs_like(g, 8, seed=1), int4_layers=["nope"])


def test_int4_convolutions_golden():
    """INT4 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weights, exported as int8 tensors, run unchanged in
    LiteRT and TFLite Micro."""
    g = conv_stack()
    q = mcuforge.quantize(g, inputs_like(g, 32, seed=1), weights="int4", bias_correction=True)
    assert all(is_int4(q.tensors[n]) for n in ("conv_w", "dw_w", "fc_w"))
    check_model_golden(export_tflite(q, int4_tensors=False), n=12, c_code=False)


def test_bias_correction_reduces_mean_error():
    """With 4-bit weights and inputs of non-zero mean, weight rounding shifts each output channel's mean;
    bias correction removes most of that shift on held-out data."""
    g = dense(seed=7, depth=64, hidden=32, units=16, batch=1)
    calibration, held_out = inputs_like(g, 64, seed=1, offset=1.0), inputs_like(g, 64, seed=2, offset=1.0)
    mean_error = {}
    for corrected in (False, True):
        q = mcuforge.quantize(g, calibration, weights="int4", bias_correction=corrected)
        f, d = output_pairs(g, q, held_out)
        mean_error[corrected] = float(np.abs((d - f).mean(axis=0)).mean())
    assert mean_error[True] < 0.7 * mean_error[False], mean_error

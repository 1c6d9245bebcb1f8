"""INT4 CONV_2D and DEPTHWISE_CONV_2D in the generated C: filters packed two per byte in flash, decoded by the
portable kernels (conv_2d_s4, depthwise_conv_2d_s4), bit-exact with the reference interpreter and with the
same graph's int8 C (the int4 values are exact in int8), under ASan/UBSan, in both rounding conventions."""

import tempfile

import numpy as np
import pytest

import mcuforge
from mcuforge.codegen.project import compile_model
from mcuforge.frontends import load_model
from mcuforge.frontends.tflite_export import export_tflite
from mcuforge.ops import conv_2d
from mcuforge.quant.int4 import BITS_KEY, is_int4, unpack_int4
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.conftest import shared_model
from tests.golden import assert_outputs_match, check_model_golden, run_generated_c
from tests.oracles import random_inputs
from tests.quant.float_graphs import F32, _bias, _weights, inputs_like

S4_KERNELS = {"conv_2d_s4", "depthwise_conv_2d_s4", "fully_connected_s4"}


def conv_variants(seed: int = 11, dense_head: bool = True):
    """Every path of the int4 conv kernels: padded borders, stride, dilation, groups, a 1x1 filter, depthwise
    with a depth multiplier, and filters of odd sizes (channel c starts mid-byte); then a FULLY_CONNECTED head
    unless dense_head is False (TFLite Micro's reference FULLY_CONNECTED refuses INT4 filters)."""
    b = GraphBuilder(seed=seed, name="int4_convs")
    x = b.input("x", (1, 9, 8, 3), dtype=F32)
    c1 = b.op("CONV_2D", [x, _weights(b, "c1_w", (6, 3, 3, 3)), _bias(b, "c1_b", 6)], "c1", out_dtype=F32,
              stride_h=2, stride_w=1, padding="SAME", fused_activation_function="RELU")
    c2 = b.op("CONV_2D", [c1, _weights(b, "c2_w", (4, 3, 2, 3)), _bias(b, "c2_b", 4)], "c2", out_dtype=F32,
              stride_h=1, stride_w=1, padding="SAME", dilation_h_factor=2, dilation_w_factor=2)
    c3 = b.op("CONV_2D", [c2, _weights(b, "c3_w", (6, 1, 1, 4)), _bias(b, "c3_b", 6)], "c3", out_dtype=F32,
              stride_h=1, stride_w=1)
    c4 = b.op("CONV_2D", [c3, _weights(b, "c4_w", (5, 2, 2, 6)), _bias(b, "c4_b", 5)], "c4", out_dtype=F32,
              stride_h=1, stride_w=1, padding="SAME", dilation_w_factor=2)  # byte-aligned segments, 5 filters
    d0 = b.op("DEPTHWISE_CONV_2D", [c4, _weights(b, "d0_w", (1, 3, 3, 5), out_axis=3), _bias(b, "d0_b", 5)],
              "d0", out_dtype=F32, stride_h=1, stride_w=1, padding="SAME")  # odd channels: taps start mid-byte
    d1 = b.op("DEPTHWISE_CONV_2D", [d0, _weights(b, "d1_w", (1, 3, 3, 10), out_axis=3), _bias(b, "d1_b", 10)],
              "d1", out_dtype=F32, stride_h=1, stride_w=2, padding="SAME", depth_multiplier=2,
              fused_activation_function="RELU6")
    d2 = b.op("DEPTHWISE_CONV_2D", [d1, _weights(b, "d2_w", (1, 2, 3, 10), out_axis=3), _bias(b, "d2_b", 10)],
              "d2", out_dtype=F32, stride_h=1, stride_w=1, padding="SAME", dilation_h_factor=2)
    g1 = b.op("CONV_2D", [d2, _weights(b, "g1_w", (6, 3, 3, 5)), _bias(b, "g1_b", 6)], "g1", out_dtype=F32,
              stride_h=1, stride_w=1, padding="VALID")  # 10 input channels, filter depth 5: two groups
    if not dense_head:
        return b.build(g1)
    flat = b.op("RESHAPE", [g1, b.const("flat_shape", np.array([1, -1]), "int32")], "flat", out_dtype=F32)
    depth = b.graph.tensors[flat].shape[1]
    y = b.op("FULLY_CONNECTED", [flat, _weights(b, "fc_w", (5, depth)), _bias(b, "fc_b", 5)], "y", out_dtype=F32)
    return b.build(y)


def as_int8(q):
    """The same graph with the int4 marks removed: its weights (already in [-7, 7]) take the int8 kernels."""
    g = q.copy()
    for t in g.tensors.values():
        t.meta.pop(BITS_KEY, None)
    return g


@pytest.fixture(scope="module")
def quantized():
    g = conv_variants()
    return mcuforge.quantize(g, inputs_like(g, 24, seed=3), weights="int4")


def test_int4_conv_c_matches_reference_and_int8(quantized):
    q = quantized
    assert all(is_int4(q.tensors[n]) for n in ("c1_w", "c2_w", "c3_w", "c4_w", "d0_w", "d1_w", "d2_w", "g1_w", "fc_w"))
    rng = np.random.default_rng(5)
    batch = [random_inputs(q, rng) for _ in range(12)]
    with tempfile.TemporaryDirectory(prefix="mcuforge-int4-conv-") as workdir:
        for mode in ("tflm", "litert"):
            packed = run_generated_c(q, batch, mode, f"{workdir}/s4", sanitize=(mode == "tflm"))
            unpacked = run_generated_c(as_int8(q), batch, mode, f"{workdir}/s8")
            for k, inputs in enumerate(batch):
                expected = run_reference(q, inputs, compat=mode)
                assert_outputs_match(packed[k], expected, f"C int4 ({mode}), input {k}")
                assert_outputs_match(unpacked[k], expected, f"C int8 equivalent ({mode}), input {k}")


def test_int4_conv_flash_holds_packed_filters(quantized):
    q = quantized
    with tempfile.TemporaryDirectory(prefix="mcuforge-int4-conv-") as workdir:
        ctx4 = compile_model(q, f"{workdir}/s4", name="model").sources.context
        ctx8 = compile_model(as_int8(q), f"{workdir}/s8", name="model").sources.context
    assert ctx4.kernels >= S4_KERNELS
    assert not ctx4.kernels & {"conv_2d_s8", "depthwise_conv_2d_s8", "fully_connected_s8"}
    packed = {a.comment.split()[0]: a for a in ctx4.arrays if a.is_weight and a.ctype == "uint8_t"}
    assert set(packed) == {"c1_w", "c2_w", "c3_w", "c4_w", "d0_w", "d1_w", "d2_w", "g1_w", "fc_w"}
    for name, array in packed.items():
        w = q.tensors[name]
        assert array.values.size == (w.size + 1) // 2
        np.testing.assert_array_equal(unpack_int4(array.values, w.size), w.data.reshape(-1))
    weight_bytes = {k: sum(a.values.nbytes for a in c.arrays if a.is_weight and a.values.dtype.itemsize == 1)
                    for k, c in (("int4", ctx4), ("int8", ctx8))}
    filters = sum(q.tensors[n].size for n in packed)
    # int8 conv filters whose rows end in a partial group of four carry 3 zero bytes (ops/conv_2d.py)
    padding = sum(conv_2d.FILTER_PADDING for a in ctx8.arrays
                  if a.is_weight and conv_2d.FILTER_PADDING_NOTE in a.comment)
    assert weight_bytes["int8"] == filters + padding and weight_bytes["int4"] == sum((q.tensors[n].size + 1) // 2 for n in packed)


def test_int4_conv_oracles_on_int8_values(quantized):
    """LiteRT and TFLite Micro run the int4-valued filters as int8 tensors and agree with the reference."""
    check_model_golden(export_tflite(quantized, int4_tensors=False), n=8, c_code=False)


def test_int4_weights_blob(quantized):
    """In weights-blob mode the packed filters go to the blob like every other weight."""
    with tempfile.TemporaryDirectory(prefix="mcuforge-int4-conv-") as workdir:
        ctx = compile_model(quantized, f"{workdir}/blob", name="model", weights_blob=True).sources.context
    packed = [a for a in ctx.arrays if a.is_weight and a.ctype == "uint8_t"]
    assert packed and all(a.blob_offset is not None for a in packed)


def test_kws_int4_packed_and_bit_exact():
    """The MLPerf Tiny DS-CNN (KWS) quantized with INT4 weights: exported as INT4 tensors, LiteRT and the
    generated C of the re-imported model agree with the reference; flash holds half the int8 weight bytes."""
    g = load_model(shared_model("kws_float"))
    calibration = (np.random.default_rng(0).standard_normal((8, *g.tensors[g.inputs[0]].shape)) * 8).astype(np.float32)
    q4 = mcuforge.quantize(g, calibration, weights="int4")
    check_model_golden(export_tflite(q4), n=4, oracles=("litert",), c_code=True)
    with tempfile.TemporaryDirectory(prefix="mcuforge-int4-kws-") as workdir:
        ctx4 = compile_model(q4, f"{workdir}/s4", name="model").sources.context
        ctx8 = compile_model(as_int8(q4), f"{workdir}/s8", name="model").sources.context
    weights4 = sum(a.values.nbytes for a in ctx4.arrays if a.is_weight and a.ctype == "uint8_t")
    weights8 = sum(a.values.nbytes for a in ctx8.arrays if a.is_weight and a.ctype == "int8_t")
    layers = [t for t in q4.tensors.values() if is_int4(t)]
    assert {t.name for t in layers} == {q4.ops[i].inputs[1] for i, op in enumerate(q4.ops)
                                       if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")}
    assert weights8 == sum(t.size for t in layers) and weights4 == sum((t.size + 1) // 2 for t in layers)


def test_estimates_count_int4_weights_packed(quantized):
    """The fit estimate and the layer table count INT4 weights at two per byte, as the generated C stores them."""
    from mcuforge.models.fit import estimate_fit
    from mcuforge.report.layers import layer_stats

    q = quantized
    saved = sum(t.size - (t.size + 1) // 2 for t in q.tensors.values() if is_int4(t))
    assert saved > 0
    assert estimate_fit(as_int8(q)).flash_bytes - estimate_fit(q).flash_bytes == saved
    param_bytes = {k: sum(r.param_bytes for r in layer_stats(g)) for k, g in (("int4", q), ("int8", as_int8(q)))}
    assert param_bytes["int8"] - param_bytes["int4"] == saved

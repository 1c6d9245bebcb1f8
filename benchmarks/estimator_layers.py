"""Small synthetic layers for calibrating the static estimator (benchmarks/calibrate_estimator.py): per op and
dtype, a chain of layers whose shapes vary the cost model's features (MACs, outputs, runs) independently, so the
fitted coefficients hold beyond the shapes of the shared models. Each graph is built once per core and counted in
the emulator; all stay well under a million MACs so the whole set counts in seconds."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph
from tests.builders import GraphBuilder

X_SCALE, X_ZP = 0.05, -3


def _int8_conv(b: GraphBuilder, x: str, name: str, out_c: int, k: tuple[int, int], **attrs) -> str:
    in_c = b.graph.tensors[x].shape[-1]
    w = b.int8_weights(f"{name}_w", (out_c, k[0], k[1], in_c), axis=0)
    bias = b.int32_bias(f"{name}_b", out_c, X_SCALE * b.graph.tensors[w].quant.scale)
    return b.op("CONV_2D", [x, w, bias], name, scale=X_SCALE, zero_point=X_ZP, **attrs)


def _int8_depthwise(b: GraphBuilder, x: str, name: str, k: tuple[int, int], **attrs) -> str:
    c = b.graph.tensors[x].shape[-1]
    w = b.int8_weights(f"{name}_w", (1, k[0], k[1], c), axis=3)
    bias = b.int32_bias(f"{name}_b", c, X_SCALE * b.graph.tensors[w].quant.scale)
    return b.op("DEPTHWISE_CONV_2D", [x, w, bias], name, scale=X_SCALE, zero_point=X_ZP, **attrs)


def _int8_fc(b: GraphBuilder, x: str, name: str, units: int) -> str:
    w = b.int8_weights(f"{name}_w", (units, b.graph.tensors[x].shape[-1]), axis=None)
    bias = b.int32_bias(f"{name}_b", units, X_SCALE * b.graph.tensors[w].quant.scale)
    return b.op("FULLY_CONNECTED", [x, w, bias], name, scale=X_SCALE, zero_point=X_ZP)


def _f32_weights(b: GraphBuilder, name: str, shape) -> str:
    return b.const(name, b.rng.uniform(-0.3, 0.3, shape), "float32")


def int8_convolutions() -> Graph:
    b = GraphBuilder(seed=1, name="synthetic_conv_s8")
    x = b.input("x", (1, 20, 20, 3), scale=X_SCALE, zero_point=X_ZP)
    y = _int8_conv(b, x, "c3x3_in3", 8, (3, 3))
    y = _int8_conv(b, y, "c1x1_in8", 24, (1, 1))
    y = _int8_conv(b, y, "c3x3_s2_in24", 16, (3, 3), stride_h=2, stride_w=2)
    y = _int8_conv(b, y, "c5x5_valid_in16", 12, (5, 5), padding="VALID")
    y = _int8_conv(b, y, "c1x1_in12", 64, (1, 1))
    y = _int8_conv(b, y, "c3x1_in64", 6, (3, 1), fused_activation_function="RELU")
    return b.build(y)


def int8_conv_tall() -> Graph:
    """Few channels, tall filters and heavy padding: short dot products and many border pixels (KWS's first
    layer is of this kind)."""
    b = GraphBuilder(seed=2, name="synthetic_conv_tall_s8")
    x = b.input("x", (1, 30, 8, 1), scale=X_SCALE, zero_point=X_ZP)
    y = _int8_conv(b, x, "c8x4_s2_in1", 16, (8, 4), stride_h=2, stride_w=2)
    y = _int8_conv(b, y, "c4x2_in16", 4, (4, 2))
    y = _int8_conv(b, y, "c3x3_dil2_in4", 8, (3, 3), dilation_h_factor=2, dilation_w_factor=2)
    return b.build(y)


def int8_depthwise() -> Graph:
    b = GraphBuilder(seed=3, name="synthetic_depthwise_s8")
    x = b.input("x", (1, 24, 24, 4), scale=X_SCALE, zero_point=X_ZP)
    y = _int8_depthwise(b, x, "d3x3_c4", (3, 3))
    y = _int8_conv(b, y, "expand_to_48", 48, (1, 1))
    y = _int8_depthwise(b, y, "d3x3_s2_c48", (3, 3), stride_h=2, stride_w=2)
    y = _int8_depthwise(b, y, "d5x5_c48", (5, 5))
    y = _int8_conv(b, y, "expand_to_160", 160, (1, 1), stride_h=2, stride_w=2)
    y = _int8_depthwise(b, y, "d3x3_c160", (3, 3))
    return b.build(y)


def int8_fully_connected() -> Graph:
    b = GraphBuilder(seed=4, name="synthetic_fc_s8")
    x = b.input("x", (1, 300), scale=X_SCALE, zero_point=X_ZP)
    y = _int8_fc(b, x, "fc300_64", 64)
    y = _int8_fc(b, y, "fc64_500", 500)
    y = _int8_fc(b, y, "fc500_3", 3)
    y = _int8_fc(b, y, "fc3_40", 40)
    return b.build(y)


def int8_sparse_fully_connected() -> Graph:
    """Pruned weights: the FC emitter stores them compressed (fully_connected_sparse_s8) when that is smaller."""
    b = GraphBuilder(seed=9, name="synthetic_sparse_fc_s8")
    y = b.input("x", (1, 256), scale=X_SCALE, zero_point=X_ZP)
    for name, units, density in (("s256_128_d30", 128, 0.3), ("s128_300_d15", 300, 0.15), ("s300_64_d45", 64, 0.45),
                                 ("s64_200_d25", 200, 0.25)):
        shape = (units, b.graph.tensors[y].shape[-1])
        data = b.rng.integers(-127, 128, size=shape) * (b.rng.random(shape) < density)
        w = b.const(f"{name}_w", data, "int8", scale=0.01)
        bias = b.int32_bias(f"{name}_b", units, X_SCALE * 0.01)
        y = b.op("FULLY_CONNECTED", [y, w, bias], name, scale=X_SCALE, zero_point=X_ZP)
    return b.build(y)


def int8_sparse_convolutions() -> Graph:
    """Pruned conv and depthwise filters: stored compressed (conv_2d_sparse_s8, depthwise_conv_2d_sparse_s8) when
    that is smaller; densities from a 2/3-pruned 3x3 conv to MobileNet pointwise layers with 98% zeros."""
    b = GraphBuilder(seed=10, name="synthetic_sparse_conv_s8")
    y = b.input("x", (1, 16, 16, 16), scale=X_SCALE, zero_point=X_ZP)
    for name, out_c, k, density, attrs in (("sc3x3_32_d30", 32, 3, 0.3, {}),
                                           ("sdw3x3_d25", 0, 3, 0.25, {"stride_h": 2, "stride_w": 2}),
                                           ("sc1x1_64_d45", 64, 1, 0.45, {}), ("sc1x1_128_d05", 128, 1, 0.05, {}),
                                           ("sc1x1_96_d15", 96, 1, 0.15, {}), ("sc3x3_24_d10", 24, 3, 0.1, {})):
        if out_c:
            out = _int8_conv(b, y, name, out_c, (k, k), **attrs)
        else:  # depthwise
            out = _int8_depthwise(b, y, name, (k, k), **attrs)
        w = b.graph.tensors[f"{name}_w"].data
        w[b.rng.random(w.shape) >= density] = 0
        y = out
    return b.build(y)


def int8_pooling_and_elementwise() -> Graph:
    """Pooling, ADD, MUL, activations, MEAN, PAD, CONCATENATION and SOFTMAX on int8 tensors."""
    b = GraphBuilder(seed=5, name="synthetic_misc_s8")
    q = {"scale": X_SCALE, "zero_point": X_ZP}
    x = b.input("x", (1, 16, 16, 24), **q)
    a = b.op("AVERAGE_POOL_2D", [x], "avg3x3", filter_height=3, filter_width=3, **q)
    m = b.op("MAX_POOL_2D", [a], "max2x2_s2", filter_height=2, filter_width=2, stride_h=2, stride_w=2, **q)
    big = b.op("AVERAGE_POOL_2D", [m], "avg8x8_global", filter_height=8, filter_width=8, padding="VALID", **q)
    s = b.op("ADD", [x, a], "add", scale=0.08, zero_point=5)
    p = b.op("MUL", [s, x], "mul", scale=0.1, zero_point=-7)
    r = b.op("RELU", [p], "relu", scale=0.1, zero_point=-128)
    pads = b.const("pads", np.array([[0, 0], [1, 2], [2, 1], [0, 0]]), "int32")
    padded = b.op("PAD", [r, pads], "pad", scale=0.1, zero_point=-128)
    axes = b.const("axes", np.array([1, 2]), "int32")
    mean = b.op("MEAN", [padded, axes], "mean", keep_dims=True, **q)
    cat = b.op("CONCATENATION", [mean, big], "concat", axis=3, **q)
    flat = b.op("RESHAPE", [cat, b.const("shape", np.array([1, 48]), "int32")], "flat", **q)
    soft = b.op("SOFTMAX", [flat], "softmax", scale=1 / 256, zero_point=-128)
    soft_big = b.op("SOFTMAX", [b.op("RESHAPE", [s, b.const("shape2", np.array([64, 96]), "int32")], "rows",
                                     scale=0.08, zero_point=5)], "softmax_rows", scale=1 / 256, zero_point=-128)
    return b.build(soft, soft_big)


def float32_layers() -> Graph:
    b = GraphBuilder(seed=6, name="synthetic_f32")
    x = b.input("x", (1, 16, 16, 3), dtype="float32")

    def conv(y, name, out_c, k, **attrs):
        in_c = b.graph.tensors[y].shape[-1]
        w = _f32_weights(b, f"{name}_w", (out_c, k, k, in_c))
        return b.op("CONV_2D", [y, w, _f32_weights(b, f"{name}_b", (out_c,))], name, out_dtype="float32", **attrs)

    def depthwise(y, name, k, **attrs):
        c = b.graph.tensors[y].shape[-1]
        w = _f32_weights(b, f"{name}_w", (1, k, k, c))
        return b.op("DEPTHWISE_CONV_2D", [y, w, _f32_weights(b, f"{name}_b", (c,))], name, out_dtype="float32",
                    **attrs)

    y = conv(x, "c3x3_in3", 8, 3)
    y = conv(y, "c1x1_in8", 32, 1)
    y = depthwise(y, "d3x3_c32", 3)
    y = depthwise(y, "d5x5_c32", 5)
    y = depthwise(y, "d3x3_s2_c32", 3, stride_h=2, stride_w=2)
    y = conv(y, "c3x3_in32", 16, 3)
    y = conv(y, "c5x5_in16", 12, 5)
    y = conv(y, "c1x1_in12", 24, 1)
    y = depthwise(y, "d3x3_c24", 3)
    y = conv(y, "c3x3_s2_in24", 16, 3, stride_h=2, stride_w=2)
    y = depthwise(y, "d3x3_c16", 3)
    y = conv(y, "c1x1_in16", 16, 1)
    s = b.op("ADD", [y, y], "add", out_dtype="float32")
    m = b.op("MUL", [s, y], "mul", out_dtype="float32")
    a = b.op("AVERAGE_POOL_2D", [m], "avg2x2", out_dtype="float32", filter_height=2, filter_width=2, stride_h=2,
             stride_w=2)
    flat = b.op("RESHAPE", [a, b.const("shape", np.array([1, 64]), "int32")], "flat", out_dtype="float32")
    w = _f32_weights(b, "fc_w", (24, 64))
    fc = b.op("FULLY_CONNECTED", [flat, w, _f32_weights(b, "fc_b", (24,))], "fc", out_dtype="float32")
    return b.build(b.op("SOFTMAX", [fc], "softmax", out_dtype="float32"))


def hybrid_convolutions() -> Graph:
    """Float activations, int8 weights (dynamic-range quantized, like the float KWS model's convolutions)."""
    b = GraphBuilder(seed=7, name="synthetic_conv_hybrid")
    x = b.input("x", (1, 24, 10, 1), dtype="float32")
    y = x
    for name, out_c, k, stride in (("h10x4_s2_in1", 24, (10, 4), 2), ("h1x1_in24", 48, (1, 1), 1),
                                   ("h1x1_in48", 16, (1, 1), 1), ("h3x3_in16", 8, (3, 3), 1),
                                   ("h5x3_s2_in8", 32, (5, 3), 2), ("h1x1_in32", 64, (1, 1), 1)):
        w = b.int8_weights(f"{name}_w", (out_c, *k, b.graph.tensors[y].shape[-1]), axis=None)
        y = b.op("CONV_2D", [y, w, _f32_weights(b, f"{name}_b", (out_c,))], name, out_dtype="float32",
                 stride_h=stride, stride_w=stride)
    return b.build(y)


def activations() -> Graph:
    """QUANTIZE, DEQUANTIZE and the activation functions, int8 and float32."""
    b = GraphBuilder(seed=8, name="synthetic_activations")
    x = b.input("x", (1, 16, 128), dtype="float32")
    q = b.op("QUANTIZE", [x], "quantize", scale=X_SCALE, zero_point=X_ZP)
    outputs = [b.op("LOGISTIC", [q], "logistic_s8", scale=1 / 256, zero_point=-128),
               b.op("TANH", [q], "tanh_s8", scale=1 / 128, zero_point=0),
               b.op("HARD_SWISH", [q], "hard_swish_s8", scale=X_SCALE, zero_point=X_ZP),
               b.op("DEQUANTIZE", [b.op("LEAKY_RELU", [q], "leaky_relu_s8", scale=X_SCALE, zero_point=X_ZP, alpha=0.1)],
                    "dequantize", out_dtype="float32"),
               b.op("LOGISTIC", [x], "logistic_f32", out_dtype="float32"),
               b.op("TANH", [x], "tanh_f32", out_dtype="float32")]
    return b.build(*outputs)


SYNTHETIC = {f.__name__: f for f in (int8_convolutions, int8_conv_tall, int8_depthwise, int8_fully_connected,
                                      int8_sparse_fully_connected, int8_sparse_convolutions,
                                      int8_pooling_and_elementwise, float32_layers,
                                      hybrid_convolutions, activations)}

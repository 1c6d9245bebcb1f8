"""fold_batchnorm: a per-channel MUL/ADD/SUB by a constant after a float conv or dense layer goes into its
weights and bias; anything else is left alone."""

import numpy as np

from mcuforge.ir.validate import validate_graph
from mcuforge.passes.fold_batchnorm import fold_batchnorm
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder

F32 = "float32"


def _random(b: GraphBuilder, shape) -> np.ndarray:
    return b.rng.standard_normal(shape).astype(np.float32)


def _assert_same_outputs(before, after, seed=0):
    rng = np.random.default_rng(seed)
    x = [rng.standard_normal(before.tensors[n].shape).astype(np.float32) for n in before.inputs]
    for a, b in zip(run_reference(before, x), run_reference(after, x)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def conv_bn_graph(layer="CONV_2D"):
    b = GraphBuilder(seed=1)
    if layer == "FULLY_CONNECTED":
        x = b.input("x", (2, 6), F32)
        t = b.op(layer, [x, b.const("w", _random(b, (4, 6)), F32), ""], "t", F32)
    elif layer == "DEPTHWISE_CONV_2D":
        x = b.input("x", (1, 5, 5, 2), F32)
        t = b.op(layer, [x, b.const("w", _random(b, (1, 3, 3, 4)), F32), b.const("bias", _random(b, 4), F32)], "t",
                 F32, depth_multiplier=2)
    else:
        x = b.input("x", (1, 5, 5, 3), F32)
        t = b.op(layer, [x, b.const("w", _random(b, (4, 3, 3, 3)), F32), ""], "t", F32)
    scaled = b.op("MUL", [t, b.const("scale", _random(b, 4), F32)], "scaled", F32)
    y = b.op("ADD", [scaled, b.const("shift", _random(b, (1, 4)), F32)], "y", F32, fused_activation_function="RELU")
    return b.build(y)


def test_folds_into_conv_depthwise_and_dense():
    for layer in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        graph = conv_bn_graph(layer)
        folded = validate_graph(fold_batchnorm(graph))
        assert [op.type for op in folded.ops] == [layer]
        assert folded.ops[0].outputs == ["y"] and folded.ops[0].attrs["fused_activation_function"] == "RELU"
        _assert_same_outputs(graph, folded)
        assert [op.type for op in graph.ops] == [layer, "MUL", "ADD"]  # the input graph is untouched


def test_sub_and_scalar_constants_fold():
    b = GraphBuilder(seed=2)
    x = b.input("x", (3, 5), F32)
    t = b.op("FULLY_CONNECTED", [x, b.const("w", _random(b, (4, 5)), F32), b.const("bias", _random(b, 4), F32)], "t",
             F32)
    s = b.op("MUL", [b.const("half", np.float32(0.5), F32), t], "s", F32)
    y = b.op("SUB", [s, b.const("shift", _random(b, 4), F32)], "y", F32)
    graph = b.build(y)
    folded = fold_batchnorm(graph)
    assert [op.type for op in folded.ops] == ["FULLY_CONNECTED"]
    _assert_same_outputs(graph, folded)


def test_leaves_non_foldable_patterns():
    b = GraphBuilder(seed=3)
    x = b.input("x", (1, 4, 4, 2), F32)
    w = b.const("w", _random(b, (2, 1, 1, 2)), F32)
    t = b.op("CONV_2D", [x, w, ""], "t", F32)
    spatial = b.op("MUL", [t, b.const("map", _random(b, (1, 4, 4, 1)), F32)], "spatial", F32)  # not per channel
    u = b.op("CONV_2D", [x, w, ""], "u", F32, fused_activation_function="RELU")
    after_relu = b.op("ADD", [u, b.const("c", _random(b, 2), F32)], "after_relu", F32)  # a ReLU in between
    v = b.op("CONV_2D", [x, w, ""], "v", F32)
    reversed_sub = b.op("SUB", [b.const("d", _random(b, 2), F32), v], "reversed_sub", F32)  # d - v
    shared = b.op("CONV_2D", [x, w, ""], "shared", F32)
    twice = b.op("ADD", [shared, b.const("e", _random(b, 2), F32)], "twice", F32)  # shared has two readers
    graph = b.build(spatial, after_relu, reversed_sub, twice, shared)
    assert [op.type for op in fold_batchnorm(graph).ops] == [op.type for op in graph.ops]


def test_leaves_int8_graphs_unchanged():
    b = GraphBuilder(seed=4)
    x = b.input("x", (1, 4, 4, 2), scale=0.05, zero_point=1)
    t = b.op("CONV_2D", [x, b.int8_weights("w", (3, 1, 1, 2)), b.int32_bias("b", 3, 0.001)], "t", scale=0.1)
    y = b.op("MUL", [t, b.const("s", np.full(3, 50), "int8", scale=0.02)], "y", scale=0.1)
    graph = b.build(y)
    assert [op.type for op in fold_batchnorm(graph).ops] == ["CONV_2D", "MUL"]

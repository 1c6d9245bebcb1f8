"""fuse_activation: RELU/RELU6/RELU_N1_TO_1 after a single-reader producer becomes its fused activation; int8
pairs only with one quantization, and then bit-exact."""

import numpy as np
import pytest

from mcuforge.ir.validate import validate_graph
from mcuforge.passes.fuse_activation import fuse_activation
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder

F32 = "float32"


def _outputs(graph, seed=0, compat="tflm"):
    rng = np.random.default_rng(seed)
    inputs = []
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.dtype == "int8":
            inputs.append(rng.integers(-128, 128, t.shape).astype(np.int8))
        else:
            inputs.append((rng.standard_normal(t.shape) * 4).astype(np.float32))
    return run_reference(graph, inputs, compat=compat)


def test_fuses_float_activations_into_each_producer_kind():
    b = GraphBuilder(seed=1)
    x = b.input("x", (1, 6, 6, 3), F32)
    c = b.op("CONV_2D", [x, b.const("w", b.rng.standard_normal((4, 3, 3, 3)), F32), ""], "c", F32)
    r = b.op("RELU", [c], "r", F32)
    p = b.op("MAX_POOL_2D", [r], "p", F32, filter_height=2, filter_width=2, stride_h=2, stride_w=2)
    q = b.op("RELU_N1_TO_1", [p], "q", F32)
    s = b.op("ADD", [q, q], "s", F32)
    y = b.op("RELU6", [s], "y", F32)
    graph = b.build(y)
    fused = validate_graph(fuse_activation(graph))
    assert [(op.type, op.attrs["fused_activation_function"]) for op in fused.ops] == [
        ("CONV_2D", "RELU"), ("MAX_POOL_2D", "RELU_N1_TO_1"), ("ADD", "RELU6")]
    assert fused.ops[-1].outputs == ["y"]
    np.testing.assert_array_equal(_outputs(fused)[0], _outputs(graph)[0])


def test_leaves_shared_output_fused_producer_and_other_ops():
    b = GraphBuilder(seed=2)
    x = b.input("x", (2, 5), F32)
    w = b.const("w", b.rng.standard_normal((3, 5)), F32)
    shared = b.op("FULLY_CONNECTED", [x, w, ""], "shared", F32)
    r1 = b.op("RELU", [shared], "r1", F32)  # shared is also a graph output
    fused = b.op("FULLY_CONNECTED", [x, w, ""], "fused", F32, fused_activation_function="RELU6")
    r2 = b.op("RELU", [fused], "r2", F32)  # already has an activation
    cat = b.op("CONCATENATION", [x, x], "cat", F32, axis=1)
    r3 = b.op("RELU", [cat], "r3", F32)  # CONCATENATION has no fused activation in TFLite
    leaky = b.op("LEAKY_RELU", [b.op("FULLY_CONNECTED", [x, w, ""], "h", F32)], "leaky", F32, alpha=0.1)
    graph = b.build(r1, shared, r2, r3, leaky)
    assert [op.type for op in fuse_activation(graph).ops] == [op.type for op in graph.ops]


@pytest.mark.parametrize("compat", ["tflm", "litert"])
def test_int8_fuses_only_with_one_quantization_and_stays_bit_exact(compat):
    b = GraphBuilder(seed=3)
    x = b.input("x", (1, 5, 5, 2), scale=0.05, zero_point=-3)
    w = b.int8_weights("w", (4, 3, 3, 2))
    c1 = b.op("CONV_2D", [x, w, b.int32_bias("b1", 4, 0.001)], "c1", scale=0.04, zero_point=-20)
    y1 = b.op("RELU6", [c1], "y1", scale=0.04, zero_point=-20)
    c2 = b.op("CONV_2D", [x, w, b.int32_bias("b2", 4, 0.001)], "c2", scale=0.04, zero_point=-20)
    y2 = b.op("RELU", [c2], "y2", scale=0.03, zero_point=-128)  # requantizes: stays
    graph = b.build(y1, y2)
    fused = fuse_activation(graph)
    assert [op.type for op in fused.ops] == ["CONV_2D", "CONV_2D", "RELU"]
    for seed in range(3):
        for ours, theirs in zip(_outputs(fused, seed, compat), _outputs(graph, seed, compat)):
            np.testing.assert_array_equal(ours, theirs)

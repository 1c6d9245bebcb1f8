"""remove_identity: no-op views, transposes, pads and single concatenations go; view chains collapse; graph
outputs keep their names."""

import numpy as np

from mcuforge.ir.validate import validate_graph
from mcuforge.passes.remove_identity import remove_identity
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder

F32 = "float32"


def _run(graph, seed=0):
    rng = np.random.default_rng(seed)
    return run_reference(graph, [rng.standard_normal(graph.tensors[n].shape).astype(np.float32)
                                 for n in graph.inputs])


def _shape(b, values):
    return b.const(f"shape{len(b.graph.tensors)}", np.array(values), "int32")


def test_removes_no_op_ops_and_keeps_the_output_name():
    b = GraphBuilder(seed=1)
    x = b.input("x", (1, 3, 4, 2), F32)
    r = b.op("RESHAPE", [x, _shape(b, [1, 3, 4, 2])], "r", F32)
    t = b.op("TRANSPOSE", [r, b.const("perm", np.arange(4), "int32")], "t", F32)
    p = b.op("PAD", [t, b.const("pads", np.zeros((4, 2)), "int32")], "p", F32)
    c = b.op("CONCATENATION", [p], "c", F32, axis=3)
    h = b.op("RELU", [c], "h", F32)
    y = b.op("RESHAPE", [h, _shape(b, [1, 3, 4, 2])], "y", F32)
    graph = b.build(y)
    cleaned = validate_graph(remove_identity(graph))
    assert [(op.type, op.inputs[0], op.outputs[0]) for op in cleaned.ops] == [("RELU", "x", "y")]
    np.testing.assert_array_equal(_run(cleaned)[0], _run(graph)[0])


def test_collapses_view_chains_and_keeps_real_reshapes():
    b = GraphBuilder(seed=2)
    x = b.input("x", (1, 2, 2, 6), F32)
    a = b.op("RESHAPE", [x, _shape(b, [1, 6, 1, 4])], "a", F32)
    s = b.op("SQUEEZE", [a], "s", F32, squeeze_dims=[2])
    y = b.op("RESHAPE", [s, _shape(b, [4, 6])], "y", F32)
    graph = b.build(y)
    cleaned = validate_graph(remove_identity(graph))
    assert [(op.type, op.inputs[0]) for op in cleaned.ops] == [("RESHAPE", "x")]
    np.testing.assert_array_equal(_run(cleaned)[0], _run(graph)[0])


def test_keeps_an_identity_between_graph_input_and_output():
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 3), F32)
    y = b.op("RESHAPE", [x, _shape(b, [2, 3])], "y", F32)
    graph = b.build(y)
    assert [op.type for op in remove_identity(graph).ops] == ["RESHAPE"]


def test_int8_views_with_their_quantization():
    b = GraphBuilder(seed=4)
    x = b.input("x", (1, 8), scale=0.1, zero_point=2)
    r = b.op("RESHAPE", [x, _shape(b, [1, 8])], "r", scale=0.1, zero_point=2)
    y = b.op("RELU", [r], "y", scale=0.1, zero_point=2)
    graph = b.build(y)
    cleaned = validate_graph(remove_identity(graph))
    assert [op.type for op in cleaned.ops] == ["RELU"] and cleaned.ops[0].inputs == ["x"]

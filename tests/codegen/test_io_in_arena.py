"""Graph inputs and outputs planned inside the arena (`io_in_arena`, as TensorFlow Lite Micro's arena holds them):
sound plans, the header's API, and the generated C bit-exact with the reference interpreter (also under
ASan/UBSan and with a weights blob), over several records so an input overwritten by the inference is rewritten."""

import numpy as np
import pytest

from mcuforge.codegen.host import build_host, run_host
from mcuforge.codegen.planner import plan_arena
from mcuforge.codegen.project import compile_model
from mcuforge.frontends import load_model
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.codegen.test_planner import mlp_chain
from tests.conftest import SHARED_MODELS, shared_model


def conv_first(stride=2):
    """A 3x3 conv reading the image, then a pointwise conv and a reshape into a second output: the image may be
    streamed over by the first conv's output."""
    b = GraphBuilder(seed=3)
    x = b.input("x", (1, 12, 10, 3), scale=0.03, zero_point=-7)
    w = b.int8_weights("w", (8, 3, 3, 3))
    h = b.op("CONV_2D", [x, w, b.int32_bias("b", 8, 0.03 * b.graph.tensors[w].quant.scale)], "h", scale=0.2,
             zero_point=-128, stride_h=stride, stride_w=stride, fused_activation_function="RELU")
    w1 = b.int8_weights("w1", (4, 1, 1, 8))
    y = b.op("CONV_2D", [h, w1], "y", scale=0.3, zero_point=5)
    r = b.op("RESHAPE", [y, b.const("shape", [1, int(np.prod(b.graph.tensors[y].shape))], "int32")], "r",
             scale=0.3, zero_point=5)
    return b.build(r, h)


def two_inputs_and_a_passthrough():
    """ADD of two inputs, plus the first input reshaped straight into an output (a view that becomes a copy)."""
    b = GraphBuilder(seed=4)
    a = b.input("a", (1, 4, 4, 3), scale=0.05, zero_point=3)
    c = b.input("c", (1, 4, 4, 3), scale=0.04, zero_point=-2)
    s = b.op("ADD", [a, c], "s", scale=0.09, zero_point=1)
    v = b.op("RESHAPE", [a, b.const("shape", [1, 48], "int32")], "v", scale=0.05, zero_point=3)
    return b.build(s, v)


def _records(graph, n, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, size=graph.tensors[t].shape).astype(graph.tensors[t].dtype)
             for t in graph.inputs] for _ in range(n)]


@pytest.mark.parametrize("graph_fn", [lambda: mlp_chain([16, 64, 48, 64, 8]), conv_first,
                                      two_inputs_and_a_passthrough], ids=["mlp", "conv_first", "two_inputs"])
def test_plan_holds_io_and_is_sound(graph_fn):
    graph = graph_fn()
    plan = plan_arena(graph, io_in_arena=True)
    check_plan(graph, plan)
    assert all(plan.location(t)[0] == "arena" for t in graph.inputs + graph.outputs)
    caller = plan_arena(graph)
    io_bytes = sum(graph.tensors[t].nbytes for t in graph.inputs + graph.outputs)
    assert caller.arena_size <= plan.arena_size <= caller.arena_size + io_bytes + 8 * len(graph.inputs + graph.outputs)


def test_first_conv_streams_over_the_image():
    """The input is free once read: the first conv's output overlaps the image rows it has consumed."""
    graph = conv_first()
    plan = plan_arena(graph, io_in_arena=True)
    (x_at, h_at) = plan.location("x")[1], plan.location("h")[1]
    x_bytes, h_bytes = graph.tensors["x"].nbytes, graph.tensors["h"].nbytes
    assert x_at < h_at + h_bytes and h_at < x_at + x_bytes


@pytest.mark.parametrize("key", sorted(SHARED_MODELS))
def test_shared_model_plans_with_io_are_sound(key):
    graph = load_model(shared_model(key))
    plan = plan_arena(graph, io_in_arena=True)
    check_plan(graph, plan)
    io_bytes = sum(graph.tensors[t].nbytes for t in graph.inputs + graph.outputs)
    assert plan.arena_size < plan_arena(graph).arena_size + io_bytes


@pytest.mark.parametrize("graph_fn", [conv_first, two_inputs_and_a_passthrough], ids=["conv_first", "two_inputs"])
@pytest.mark.parametrize("mode", ["plain", "sanitize", "weights_blob"])
def test_generated_c_with_io_in_arena_is_bit_exact(graph_fn, mode, tmp_path, monkeypatch):
    graph = graph_fn()
    compiled = compile_model(graph, tmp_path / "lib", name="model", io_in_arena=True,
                             weights_blob=mode == "weights_blob")
    header = (tmp_path / "lib" / "model.h").read_text()
    assert "model_invoke(void);" in header and "model_invoke_with_arena(uint8_t *arena);" in header
    tag = "INPUT" if len(graph.inputs) == 1 else "INPUT0"
    offset = compiled.sources.arena_size - compiled.plan.arena_size + compiled.plan.location(graph.inputs[0])[1]
    assert f"#define MODEL_{tag}_OFFSET {offset} " in header
    exe = build_host(compiled.outdir, "model", sanitize=mode == "sanitize")
    batch = _records(graph, 3)
    monkeypatch.chdir(compiled.outdir)  # the example program reads a weights blob from its working directory
    ours = run_host(exe, graph, batch)
    for record, outputs in zip(batch, ours):
        for got, want in zip(outputs, run_reference(graph, record)):
            np.testing.assert_array_equal(got, want)


def test_cli_compile_io_in_arena(tmp_path, capsys):
    from mcuforge.cli import main
    path = shared_model("ad")
    assert main(["compile", str(path), "-o", str(tmp_path / "lib"), "--name", "ad", "--io-in-arena"]) == 0
    plan = plan_arena(load_model(path), io_in_arena=True)
    assert f"arena {plan.arena_size} B" in capsys.readouterr().out
    header = (tmp_path / "lib" / "ad.h").read_text()
    assert "int ad_invoke_with_arena(uint8_t *arena);" in header and "#define AD_INPUT_PTR(arena)" in header


def test_vww_image_costs_no_arena_bytes():
    """vww's 27 KB image: its buffer holds only the first conv's output (streamed over it), so the layers after
    keep their own buffers and the image fits the arena planned without it."""
    graph = load_model(shared_model("vww"))
    plan = plan_arena(graph, io_in_arena=True)
    check_plan(graph, plan)
    assert plan.arena_size == plan_arena(graph).arena_size

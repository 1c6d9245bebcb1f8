"""The arena planner: lifetimes, views, in-place and row-streaming overlap, alignment, RAM limit."""

import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.errors import DoesNotFitError
from mcuforge.frontends import load_model
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.conftest import SHARED_MODELS, shared_model


def mlp_chain(widths, seed=0):
    b = GraphBuilder(seed=seed)
    t = b.input("x", (1, widths[0]), scale=0.1)
    for k, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        t = b.op("FULLY_CONNECTED", [t, b.int8_weights(f"w{k}", (n_out, n_in)), ""], f"h{k}", scale=0.2)
    return b.build(t)


def test_chain_reuses_memory_and_keeps_io_outside():
    graph = mlp_chain([16, 64, 48, 64, 8])
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location("x")[0] == "input:0" and plan.location("h3")[0] == "output:0"
    # h0 (64) and h1 (48) are live together, then h1 and h2 (64): the peak pair is 64 + 48 bytes.
    assert plan.arena_size == 64 + 48


@pytest.mark.parametrize("alignment", [8, 16])
def test_alignment(alignment):
    graph = mlp_chain([16, 13, 7, 29, 5])
    plan = plan_arena(graph, alignment=alignment)
    check_plan(graph, plan)
    assert plan.arena_size % alignment == 0


def test_view_shares_its_input_bytes():
    b = GraphBuilder()
    x = b.input("x", (1, 16), scale=0.1)
    h = b.op("FULLY_CONNECTED", [x, b.int8_weights("w0", (12, 16)), ""], "h", scale=0.2)
    r = b.op("RESHAPE", [h, b.const("shape", [1, 3, 4], "int32")], "r", scale=0.2)
    r2 = b.op("RESHAPE", [r, b.const("shape2", [1, 12], "int32")], "r2", scale=0.2)
    y = b.op("FULLY_CONNECTED", [r2, b.int8_weights("w1", (4, 12)), ""], "y", scale=0.2)
    graph = b.build(y)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location("h") == plan.location("r") == plan.location("r2")
    assert plan.arena_size == 16  # 12 bytes, aligned


def test_ram_limit_names_the_peak():
    with pytest.raises(DoesNotFitError, match="RAM limit of 10 bytes; the peak is at FULLY_CONNECTED"):
        plan_arena(mlp_chain([16, 64, 48, 8]), ram_limit=10)


@pytest.mark.parametrize("key", sorted(SHARED_MODELS))
def test_shared_model_plans_are_sound(key):
    graph = load_model(shared_model(key))
    for alignment in (8, 16):
        check_plan(graph, plan_arena(graph, alignment=alignment))

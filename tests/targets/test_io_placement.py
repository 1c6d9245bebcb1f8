"""The runner keeps input and output records inside the arena: where the plan put them when the library plans its
I/O in the arena (io_in_arena, what `mcuforge build` does), else where the plan leaves room for their lifetimes
(targets/io_placement.py): checked against the plan's segments on the shared models, and end to end (bit-exact on
QEMU over several records) here and by the shared-model tests in test_qemu_run.py and test_dsp_kernels.py."""

import pytest

from mcuforge.codegen.planner import overlap_lead, plan_arena
from mcuforge.frontends import load_model
from mcuforge.ops.registry import get_op
from mcuforge.runtime.reference import run_reference
from mcuforge.targets.build import build_firmware
from mcuforge.targets.io_placement import place_io
from mcuforge.targets.qemu import run_qemu
from tests.codegen.test_io_in_arena import conv_first, two_inputs_and_a_passthrough
from tests.conftest import shared_model
from tests.targets.conftest import assert_outputs_equal, random_batch, require_qemu


def _overlaps(a0, a1, b0, b1):
    return a0 < b1 and b0 < a1


@pytest.mark.parametrize("key", ["kws", "vww", "ic", "ad"])
def test_records_avoid_every_live_segment(key):
    graph = load_model(shared_model(key))
    plan = plan_arena(graph)
    io = place_io(plan, graph)
    assert io.arena_size == plan.arena_size
    assert io.ram_size == max(plan.arena_size, *(s.offset + s.size for s in io.slots))
    for slot in io.slots:
        assert slot.size >= graph.tensors[slot.tensor].nbytes and slot.offset % 16 == 0
        for other in io.slots:
            if other is not slot and not (other.last < slot.first or other.first > slot.last):
                assert not _overlaps(slot.offset, slot.offset + slot.size, other.offset, other.offset + other.size)
        for buf in plan.buffers:
            if buf.location != "arena":
                continue
            for seg in buf.segments:
                start = buf.offset + seg.rel
                if seg.last < slot.first or seg.first > slot.last:
                    continue
                if not _overlaps(slot.offset, slot.offset + slot.size, start, start + seg.size):
                    continue
                # the only overlap allowed: the input under its last reader's streamed output, far enough ahead
                op = graph.ops[slot.last]
                assert slot.kind == "input" and get_op(op.type).row_window is not None
                out_loc, out_offset = plan.location(op.outputs[0])
                assert out_loc == "arena" and start == out_offset
                assert slot.offset >= out_offset + overlap_lead(graph, op, *get_op(op.type).row_window(op, graph))


def test_measured_models_keep_their_records_in_the_arena():
    """kws and ic: the input fits beside the first layer's output; vww's 27 KB image only partly (it may share
    bytes with the first conv's output, streamed over it, but the plan has no 27 KB gap)."""
    for key, within in (("kws", 0), ("ic", 0), ("vww", 6 * 1024)):
        graph = load_model(shared_model(key))
        io = place_io(plan_arena(graph), graph)
        image = graph.tensors[graph.inputs[0]].nbytes
        assert io.beyond_arena <= within < image + 16, key


@pytest.mark.parametrize("key", ["vww", "ad"])
def test_planned_io_is_where_the_plan_put_it(key):
    graph = load_model(shared_model(key))
    plan = plan_arena(graph, io_in_arena=True)
    io = place_io(plan, graph)
    assert io.ram_size == plan.arena_size and io.arena_size == plan_arena(graph).arena_size
    for slot in io.slots:
        assert plan.location(slot.tensor) == ("arena", slot.offset)
    # vww: the image no longer needs a tail past the arena, and the whole buffer is smaller than before
    assert io.ram_size <= place_io(plan_arena(graph), graph).ram_size


@pytest.mark.parametrize("io_in_arena", [True, False], ids=["io_in_arena", "caller_io"])
@pytest.mark.parametrize("make_graph", [conv_first, two_inputs_and_a_passthrough])
def test_firmware_io_bit_exact_on_qemu(make_graph, io_in_arena, tmp_path):
    """Several records in one boot: an inference overwrites its input in the arena, the runner reads the next
    record over it."""
    require_qemu()
    graph = make_graph()
    batch = random_batch(graph, 4, seed=2)
    build = build_firmware(graph, tmp_path / "fw", target="cortex-m4", name="net", io_in_arena=io_in_arena)
    assert build.compiled.plan.io_in_arena == io_in_arena
    run = run_qemu(build, batch)
    for k, record in enumerate(batch):
        assert_outputs_equal(graph, run.outputs[k], run_reference(graph, record), f"record {k}")

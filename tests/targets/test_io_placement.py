"""The runner keeps input and output records inside the arena where the plan leaves room for their lifetimes
(targets/io_placement.py): checked against the plan's segments on the shared models, and end to end (bit-exact on
QEMU over several records) by the shared-model tests in test_qemu_run.py and test_dsp_kernels.py."""

import pytest

from mcuforge.codegen.planner import overlap_lead, plan_arena
from mcuforge.frontends import load_model
from mcuforge.ops.registry import get_op
from mcuforge.targets.io_placement import place_io
from tests.conftest import shared_model


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

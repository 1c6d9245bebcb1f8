"""Measured size (from the ELF) and instruction counts (emulated) of the ad01 model on the Cortex-M4."""

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from mcuforge.codegen.planner import plan_arena
from mcuforge.frontends import load_model
from mcuforge.ops.registry import get_op
from mcuforge.runtime.reference import run_reference
from mcuforge.targets.build import build_firmware
from mcuforge.targets.instruction_count import count_instructions, estimate_latency
from mcuforge.targets.profiles import get_profile
from mcuforge.targets.report import measure_build
from tests.conftest import shared_model
from tests.targets.conftest import random_batch, require_cross_toolchain, require_qemu


@pytest.fixture(scope="module")
def ad_build(tmp_path_factory):
    require_cross_toolchain()
    graph = load_model(shared_model("ad"))
    return build_firmware(graph, tmp_path_factory.mktemp("ad") / "m4", target="cortex-m4", name="ad")


def test_size_splits_flash_and_ram(ad_build):
    require_qemu()
    graph = ad_build.graph
    size = measure_build(ad_build).size
    emitted = sum(a.values.nbytes for a in ad_build.compiled.sources.context.arrays if a.is_weight)
    constants = sum(t.nbytes for t in graph.tensors.values() if t.is_constant)
    assert size.weights_tensors == emitted == constants  # each constant tensor is one array in flash
    assert 0 < size.weights_params < 0.01 * constants
    assert size.flash_total == size.weights + size.kernels + size.schedule + size.runtime
    assert size.kernels > 0 and size.schedule > 0 and size.runtime > 0
    # the runtime: vector table, startup, the runner's main (compiled -Os, failures as exit statuses, stats in the
    # output file's trailer) and padding; 598 B measured, 1,126 B before the runner was trimmed
    assert size.runtime < 700
    # the library plans the 640-byte input and output in its arena (io_in_arena): the runner's buffer is that
    # arena, split into what the activations need with caller-owned I/O (ad01: two 128-byte activations) and
    # what the records add beyond it, less than their size since they share bytes with dead activations
    assert ad_build.compiled.plan.io_in_arena
    assert size.arena == plan_arena(graph).arena_size
    assert size.arena + size.io_buffers == ad_build.compiled.plan.arena_size
    io = sum(graph.tensors[n].nbytes for n in graph.inputs + graph.outputs)
    assert size.io_buffers == ad_build.io.beyond_arena < io
    assert size.library_static == 0  # generated code keeps no state but the arena
    assert 0 < size.stack < 1024  # a fully connected stack: a few frames
    assert size.ram_total == size.arena + size.stack + size.io_buffers
    assert size.fits_board


def test_instruction_count_is_deterministic_and_exact(ad_build):
    graph = ad_build.graph
    record = random_batch(graph, 1, seed=3)[0]
    first = count_instructions(ad_build, record)
    again = count_instructions(ad_build, record)
    assert first.instructions == again.instructions
    assert [layer.counts for layer in first.layers] == [layer.counts for layer in again.layers]
    assert np.array_equal(first.outputs[0], run_reference(graph, record)[0])  # the emulator ran the real thing
    assert first.macs == sum(get_op(op.type).macs(op, graph) for op in graph.ops) == 264_192


def test_instructions_are_charged_to_their_layer(ad_build):
    counts = count_instructions(ad_build)
    layers = {layer.index: layer for layer in counts.layers}
    assert layers[-1].instructions < 20  # invoke's own entry and exit
    for layer in counts.layers[1:]:
        # fully connected with the Cortex-M4's SMLAD: ~2.3 instructions per MAC (plain C: ~7), plus the per-output
        # requantization
        assert 1.5 < layer.instructions / layer.macs < 20, layer
    # same shape (128x128), same count, to within per-value branches of the requantization
    assert abs(layers[1].instructions - layers[2].instructions) < 0.01 * layers[1].instructions


def test_latency_estimate(ad_build):
    counts = count_instructions(ad_build)
    m4 = estimate_latency(counts, get_profile("cortex-m4"))
    m7 = estimate_latency(counts, get_profile("cortex-m7"))
    assert m4.instructions == counts.instructions and m4.macs == counts.macs
    assert m4.cycles > counts.instructions  # loads and taken branches cost more than one cycle on the M4
    assert m7.cycles < m4.cycles  # dual issue
    assert 0.5 < m4.cycles_per_mac < 30  # 0.5: two MACs per SMLAD, the hardware limit
    assert m4.milliseconds == pytest.approx(m4.cycles / 120e6 * 1e3)
    assert sum(row["cycles"] for row in m4.rows) == pytest.approx(m4.cycles, abs=len(m4.rows))


def test_kws_meets_the_flash_and_ram_targets(tmp_path):
    """Issue 4's Cortex-M4 targets for kws: flash within weights + 12 KB (only the kernel variants the layers use
    are linked, no stdio in the runner) and RAM within the arena + 2 KB (the input record lives in the arena)."""
    require_qemu()
    graph = load_model(shared_model("kws"))
    build = build_firmware(graph, tmp_path / "kws", target="cortex-m4", name="kws")
    size = measure_build(build).size
    assert size.flash_total - size.weights <= 12 * 1024, size
    assert size.io_buffers == 0 and size.ram_total <= size.arena + 2 * 1024, size
    source = (build.compiled.outdir / "kws.c").read_text()
    assert "mcuforge_conv_1x1_s8_tiles(" in source and "mcuforge_depthwise_conv_s8_fast_w5(" in source
    with open(build.elf, "rb") as f:
        names = {s.name for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}
    # the portable entry points and the other output stages are not linked into a DSP build of this model
    assert not names & {"mcuforge_conv_s8", "mcuforge_conv_1x1_s8", "mcuforge_depthwise_conv_s8",
                        "conv_dsp_block_wide", "conv_dsp_block_any", "fopen", "fread"}

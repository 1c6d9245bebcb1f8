"""Target profiles and the instruction-class cost model."""

import pytest

from mcuforge.errors import McuforgeError
from mcuforge.targets.instruction_classes import cycles_for, instruction_class, instruction_total
from mcuforge.targets.profiles import PROFILES, buildable_profile, get_profile

CLASSES = {"alu", "mul", "mac", "mul_long", "dsp", "div", "load", "store", "load_pipelined", "store_pipelined",
           "load_multiple", "store_multiple",
           "multiple_per_register", "branch_taken", "branch_not_taken", "call", "fpu", "fpu_load_store", "other"}


def test_known_targets():
    assert set(PROFILES) == {"cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "esp32", "esp32-s3"}
    assert {p.qemu.machine for p in PROFILES.values() if p.qemu} == {"mps2-an385", "mps2-an386", "mps2-an500",
                                                                      "mps2-an505"}
    m4 = get_profile("cortex-m4")
    assert "-mcpu=cortex-m4" in m4.gcc_flags and "-mfloat-abi=hard" in m4.gcc_flags and m4.has_dsp
    assert m4.board.mcu == "STM32L4R5ZI" and m4.board.clock_hz == 120_000_000
    assert (m4.board.flash_bytes, m4.board.ram_bytes) == (2 * 1024 * 1024, 640 * 1024)
    assert [b.mcu for b in m4.boards] == ["STM32L4R5ZI", "nRF52840"]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_is_complete(name):
    p = get_profile(name)
    assert set(p.cycles.costs) == CLASSES and p.cycles.source
    for board in p.boards:
        assert board.clock_hz > 0 and board.flash_bytes > 0 and board.ram_bytes > 0
        for figure in (board.active, board.sleep):
            assert figure.source and figure.confidence in ("datasheet", "approximate")
        assert board.active.current_ma(board.clock_hz) > board.sleep.current_ma(board.clock_hz)
    assert p.buildable == bool(p.gcc_flags)


def test_unknown_target_lists_known_ones():
    with pytest.raises(McuforgeError, match="unknown target 'cortex-m99'; known targets: cortex-m0plus, .*esp32-s3"):
        get_profile("cortex-m99")
    with pytest.raises(McuforgeError, match="estimate-only"):
        buildable_profile("esp32")


def test_power_units():
    nrf = get_profile("cortex-m4").boards[1]
    assert nrf.active.current_ma(64_000_000) == pytest.approx(52 * 64 / 1000)  # 52 uA/MHz at 64 MHz
    assert nrf.sleep.current_ma(64_000_000) == pytest.approx(0.0015)


@pytest.mark.parametrize("name, cls", [
    ("add", "alu"), ("it", "alu"), ("ldrsb", "load"), ("ldrd", "load"), ("strb", "store"), ("pop", "load_multiple"),
    ("push", "store_multiple"), ("mul", "mul"), ("mla", "mac"), ("smull", "mul_long"), ("smlad", "dsp"),
    ("sxtb16", "dsp"), ("sdiv", "div"), ("b", "branch"), ("cbz", "branch"), ("bl", "call"), ("vmla", "fpu"),
    ("vldr", "fpu_load_store"), ("vpush", "fpu_load_store")])
def test_instruction_class(name, cls):
    assert instruction_class(name) == cls


def test_cycles_for_counts():
    m4 = get_profile("cortex-m4").cycles
    counts = {"alu": 10, "load": 4, "mac": 2, "load_multiple": 1, "multiple_registers": 5, "pc_refill": 1,
              "branch_taken": 3, "branch_not_taken": 1}
    assert instruction_total(counts) == 21
    expected = 10 * 1 + 4 * 2 + 2 * 1 + 1 * 1 + 5 * 1 + (3 - 1) + 3 * 3 + 1 * 1
    assert cycles_for(counts, m4) == expected

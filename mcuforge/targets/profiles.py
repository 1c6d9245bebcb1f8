"""Target profiles: a CPU core (compiler flags, cycle costs), the boards it typically sits on (clock, memory,
power figures with their sources) and the QEMU machine that emulates it, when one exists.

The cycle tables feed latency estimates (targets/cycles.py); the power figures feed energy estimates. Both are
typical datasheet values, not measurements: each figure names its document, and `confidence` says whether the
value was checked against that document's text ("datasheet") or is quoted from it without that check
("approximate": check the document before relying on the figure)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from mcuforge.errors import McuforgeError

KIB, MIB = 1024, 1024 * 1024


@dataclass(frozen=True)
class PowerFigure:
    value: float
    unit: str  # "uA/MHz" (scales with the clock), "mA" or "uA"
    condition: str
    source: str
    confidence: str = "approximate"  # or "datasheet": checked against the document

    def current_ma(self, clock_hz: int) -> float:
        if self.unit == "uA/MHz":
            return self.value * clock_hz / 1e6 / 1000
        return self.value if self.unit == "mA" else self.value / 1000


@dataclass(frozen=True)
class TimeFigure:
    """A datasheet time, e.g. the wake-up from the sleep mode of `Board.sleep` to running code."""

    microseconds: float
    condition: str
    source: str
    confidence: str = "approximate"


@dataclass(frozen=True)
class MemoryMap:
    """Where the linker puts code and data: flash (boot address, vector table) and one contiguous RAM."""

    flash_origin: int
    flash_size: int
    ram_origin: int
    ram_size: int


@dataclass(frozen=True)
class Board:
    name: str
    mcu: str
    clock_hz: int
    flash_bytes: int
    ram_bytes: int  # all SRAM on the chip (it may be split across regions; see memory)
    memory: MemoryMap  # the largest contiguous regions, for a build linked to this board
    supply_v: float
    active: PowerFigure
    sleep: PowerFigure
    wakeup: TimeFigure | None = None  # from `sleep` to running code (report/power.py charges it at active power)


@dataclass(frozen=True)
class QemuMachine:
    machine: str  # qemu-system-arm -M
    memory: MemoryMap
    doc: str


@dataclass(frozen=True)
class CycleTable:
    """Cycles per instruction class (see targets/instruction_classes.py for the classes). `multiple_per_register`
    is added per register of LDM/STM/PUSH/POP; `branch_taken` includes the pipeline refill. `load_pipelined` /
    `store_pipelined` cost an LDR/STR that pipelines behind the LDR before it: one cycle less than `load` /
    `store` where the core's TRM documents that rule (M3, M4), the same as them elsewhere."""

    costs: MappingProxyType
    source: str

    def __getitem__(self, cls: str) -> float:
        return self.costs[cls]


def cycle_table(source: str, **costs: float) -> CycleTable:
    return CycleTable(MappingProxyType(dict(costs)), source)


@dataclass(frozen=True)
class TargetProfile:
    name: str
    core: str
    gcc_flags: tuple[str, ...]
    boards: tuple[Board, ...]  # the first is the default
    cycles: CycleTable
    has_fpu: bool = False
    has_dsp: bool = False  # ARMv7E-M / ARMv8-M DSP extension (SMLAD, SXTB16, ...)
    qemu: QemuMachine | None = None
    unicorn_cpu: str | None = None  # unicorn's UC_CPU_ARM_* model for instruction counting
    buildable: bool = True  # False: estimates only (no toolchain here)
    notes: str = ""

    @property
    def board(self) -> Board:
        return self.boards[0]

    @property
    def link_memory(self) -> MemoryMap:
        """The emulator's memory when it can run the image, else the default board's."""
        return self.qemu.memory if self.qemu else self.board.memory


# QEMU 7.2 hw/arm/mps2.c: AN385, AN386 and AN500 map 4 MB ZBT SSRAM1 at 0x0 (boot) and 4 MB SSRAM2&3 at
# 0x20000000.
MPS2_MEMORY = MemoryMap(0x0, 4 * MIB, 0x20000000, 4 * MIB)
# QEMU 7.2 hw/arm/mps2-tz.c (AN505, Cortex-M33 in the IoT Kit subsystem): 4 MB SSRAM1 at 0x0 and 2 MB SSRAM2 at
# 0x28000000 behind memory protection controllers that reset to secure-only, seen through the IDAU's secure
# aliases (address bit 28): the core boots in the secure state from the vector table at 0x10000000.
MPS2_AN505_MEMORY = MemoryMap(0x10000000, 4 * MIB, 0x38000000, 2 * MIB)

# Per-class cycle costs. ARM's TRMs give the M0+, M3 and M4 tables (zero wait states); M7 and M33 tables are
# not published per instruction, so theirs are modelled (see each source string).
_M0PLUS = cycle_table(
    "Cortex-M0+ TRM (DDI0484) 'Instruction set summary', single-cycle multiplier (as on RP2040)",
    alu=1, mul=1, mac=2, mul_long=6, dsp=2, div=40, load=2, store=2, load_multiple=1, store_multiple=1,
    multiple_per_register=1, branch_taken=2, branch_not_taken=1, call=3, fpu=30, fpu_load_store=4,
    load_pipelined=2, store_pipelined=2, other=1)
_M3 = cycle_table(
    "Cortex-M3 TRM (DDI0337) 'Processor instruction timings': MLA 2, SMULL 3-5, SMLAL 4-7, SDIV 2-12, "
    "LDR/STR 2, LDM 1+N, branch 1+P (P 1-3, taken as 2); 'Load/store timings': an LDR/STR right after an "
    "independent LDR pipelines (1)",
    alu=1, mul=1, mac=2, mul_long=4, dsp=2, div=7, load=2, store=2, load_multiple=1, store_multiple=1,
    multiple_per_register=1, branch_taken=3, branch_not_taken=1, call=3, fpu=30, fpu_load_store=4,
    load_pipelined=1, store_pipelined=1, other=1)
_M4 = cycle_table(
    "Cortex-M4 TRM (DDI 0439 / 100166) Table 3-1: MUL/MLA/SMULL/SMLAL/SMLAD 1, SDIV 2-12, LDR 2, STR 1 "
    "(write buffer), LDM 1+N, branch 1+P (P 1-3, taken as 2), VFP 1-14; 'Load/store timings': an LDR/STR right "
    "after an LDR whose result its address does not use pipelines (1)",
    alu=1, mul=1, mac=1, mul_long=1, dsp=1, div=7, load=2, store=1, load_multiple=1, store_multiple=1,
    multiple_per_register=1, branch_taken=3, branch_not_taken=1, call=3, fpu=1, fpu_load_store=2,
    load_pipelined=1, store_pipelined=1, other=1)
_M7 = cycle_table(
    "model: Arm publishes no per-instruction table for the dual-issue Cortex-M7; ALU pairs issue together "
    "(0.5), TCM loads 1, predicted branches ~1.5; about 0.7x the M4's cycles, the CoreMark/MHz ratio 5.01/3.42",
    alu=0.5, mul=1, mac=1, mul_long=1, dsp=1, div=6, load=1, store=1, load_multiple=1, store_multiple=1,
    multiple_per_register=0.5, branch_taken=1.5, branch_not_taken=0.5, call=2, fpu=1, fpu_load_store=1,
    load_pipelined=1, store_pipelined=1, other=1)
_M33 = cycle_table(
    "model: Cortex-M33 (3-stage ARMv8-M pipeline) taken as the M4's table with a shorter refill (branch 2); "
    "its TRM gives no load pipelining rule, so pipelined loads are costed as plain ones",
    alu=1, mul=1, mac=1, mul_long=1, dsp=1, div=7, load=2, store=1, load_multiple=1, store_multiple=1,
    multiple_per_register=1, branch_taken=2, branch_not_taken=1, call=2, fpu=1, fpu_load_store=2,
    load_pipelined=2, store_pipelined=1, other=1)
_XTENSA = cycle_table(
    "cross-ISA model: the Cortex-M4 build's instruction mix costed as Xtensa LX6/LX7 (5-stage, 1-cycle "
    "ALU/MUL16, 32-bit MULL 2, taken branch 3, no SIMD MAC from plain C); rough, +-50%",
    alu=1, mul=2, mac=3, mul_long=4, dsp=2, div=10, load=1.5, store=1, load_multiple=1, store_multiple=1,
    multiple_per_register=1, branch_taken=3, branch_not_taken=1, call=3, fpu=2, fpu_load_store=1.5,
    load_pipelined=1.5, store_pipelined=1, other=1)


def _power(value, unit, condition, source, confidence="approximate") -> PowerFigure:
    return PowerFigure(value, unit, condition, source, confidence)


RP2040 = Board(
    "Raspberry Pi Pico", "RP2040", 133_000_000, 2 * MIB, 264 * KIB,
    MemoryMap(0x10000000, 2 * MIB, 0x20000000, 264 * KIB), 3.3,
    _power(180, "uA/MHz", "both cores running, DVDD 1.1 V", "RP2040 Datasheet §5.4 'Power Consumption'"),
    _power(180, "uA", "DORMANT, clocks stopped", "RP2040 Datasheet §5.4 'Power Consumption'"),
    TimeFigure(1000, "DORMANT exit: crystal oscillator restart (XOSC startup delay ~1 ms)",
               "RP2040 Datasheet §2.16 'Crystal Oscillator (XOSC)', startup delay"))
STM32F207 = Board(
    "STM3220G-EVAL", "STM32F207ZG", 120_000_000, 1 * MIB, 128 * KIB,
    MemoryMap(0x08000000, 1 * MIB, 0x20000000, 128 * KIB), 3.3,
    _power(188, "uA/MHz", "Run from flash, ART accelerator on", "STM32F205xx/F207xx datasheet DS6329, features"),
    _power(550, "uA", "Stop, regulator in low-power mode", "STM32F205xx/F207xx datasheet DS6329"),
    TimeFigure(20, "Stop exit, regulator in low-power mode, HSI restart",
               "STM32F205xx/F207xx datasheet DS6329, table 'Low-power mode wakeup timings'"))
STM32L4R5 = Board(
    "NUCLEO-L4R5ZI", "STM32L4R5ZI", 120_000_000, 2 * MIB, 640 * KIB,
    MemoryMap(0x08000000, 2 * MIB, 0x20000000, 640 * KIB), 3.3,
    _power(110, "uA/MHz", "Run, LDO, from flash", "STM32L4R5xx datasheet DS12023, features"),
    _power(2.8, "uA", "Stop 2 with RTC", "STM32L4R5xx datasheet DS12023, features"),
    TimeFigure(6, "Stop 2 exit to Run on MSI", "STM32L4R5xx datasheet DS12023, table 'Low-power mode wakeup "
               "timings' (tWUSTOP2)"))
NRF52840 = Board(
    "nRF52840 DK", "nRF52840", 64_000_000, 1 * MIB, 256 * KIB,
    MemoryMap(0x00000000, 1 * MIB, 0x20000000, 256 * KIB), 3.0,
    _power(52, "uA/MHz", "CoreMark from flash, DC/DC at 3 V", "nRF52840 Product Specification v1.x, key features"),
    _power(1.5, "uA", "System ON, RTC wake-up", "nRF52840 Product Specification v1.x, key features"),
    TimeFigure(5, "System ON idle to CPU running (tIDLE2CPU), low-power sub-mode",
               "nRF52840 Product Specification v1.x, 'Electrical specification' of POWER"))
STM32H7A3 = Board(
    "NUCLEO-H7A3ZI-Q", "STM32H7A3ZI", 280_000_000, 2 * MIB, 1400 * KIB,
    MemoryMap(0x08000000, 2 * MIB, 0x24000000, 1 * MIB), 3.3,  # 1 MB AXI SRAM is the largest region
    _power(120, "uA/MHz", "Run from flash, SMPS", "STM32H7A3xI/G datasheet DS13195"),
    _power(32, "uA", "Stop, full SRAM retention", "STM32H7A3xI/G datasheet DS13195"),
    TimeFigure(30, "Stop exit, SVOS low, HSI restart", "STM32H7A3xI/G datasheet DS13195, table 'Low-power mode "
               "wakeup timings'"))
STM32U585 = Board(
    "B-U585I-IOT02A", "STM32U585AI", 160_000_000, 2 * MIB, 786 * KIB,
    MemoryMap(0x08000000, 2 * MIB, 0x20000000, 768 * KIB), 3.3,  # SRAM1-3 are contiguous: 768 KB
    _power(19.5, "uA/MHz", "Run, SMPS at 3.3 V", "STM32U575xx/585xx datasheet DS13086, features"),
    _power(4.0, "uA", "Stop 2, full SRAM retention", "STM32U575xx/585xx datasheet DS13086"),
    TimeFigure(10, "Stop 2 exit to Run on MSI/HSI16", "STM32U575xx/585xx datasheet DS13086, table 'Low-power mode "
               "wakeup timings'"))
ESP32 = Board(
    "ESP32-DevKitC (ESP32-WROOM-32)", "ESP32-D0WD-V3", 240_000_000, 4 * MIB, 520 * KIB,
    MemoryMap(0x400D0000, 3 * MIB, 0x3FFB0000, 320 * KIB), 3.3,
    _power(68, "mA", "Modem-sleep, 240 MHz dual-core (datasheet range 30-68 mA)",
           "ESP32 Series Datasheet v3.5, Table 'Power Consumption by Power Modes'", "datasheet"),
    _power(800, "uA", "Light-sleep", "ESP32 Series Datasheet v3.5, Table 'Power Consumption by Power Modes'",
           "datasheet"),
    TimeFigure(1000, "light-sleep exit (clock and flash cache restore)",
               "ESP-IDF Programming Guide, 'Sleep Modes' (light sleep); order of magnitude"))
ESP32S3 = Board(
    "ESP32-S3-DevKitC-1 (ESP32-S3-WROOM-1-N8)", "ESP32-S3", 240_000_000, 8 * MIB, 512 * KIB,
    MemoryMap(0x42000000, 8 * MIB, 0x3FC88000, 416 * KIB), 3.3,
    _power(45, "mA", "Modem-sleep, 240 MHz dual-core", "ESP32-S3 Series Datasheet, 'Current Consumption'"),
    _power(240, "uA", "Light-sleep", "ESP32-S3 Series Datasheet, 'Current Consumption'"),
    TimeFigure(1000, "light-sleep exit (clock and flash cache restore)",
               "ESP-IDF Programming Guide, 'Sleep Modes' (light sleep); order of magnitude"))

_ARM_COMMON = ("-mthumb",)
PROFILES: dict[str, TargetProfile] = {p.name: p for p in (
    TargetProfile("cortex-m0plus", "Cortex-M0+ (ARMv6-M)", ("-mcpu=cortex-m0plus", *_ARM_COMMON, "-mfloat-abi=soft"),
                  (RP2040,), _M0PLUS, unicorn_cpu="CORTEX_M0",
                  notes="no QEMU machine for an M0+ here: build and size only, linked to the RP2040's map "
                        "(a real RP2040 image also needs the 256-byte boot2 stage)"),
    TargetProfile("cortex-m3", "Cortex-M3 (ARMv7-M)", ("-mcpu=cortex-m3", *_ARM_COMMON, "-mfloat-abi=soft"),
                  (STM32F207,), _M3,
                  qemu=QemuMachine("mps2-an385", MPS2_MEMORY, "Arm AN385, MPS2 FPGA image for Cortex-M3"),
                  unicorn_cpu="CORTEX_M3"),
    TargetProfile("cortex-m4", "Cortex-M4F (ARMv7E-M)",
                  ("-mcpu=cortex-m4", *_ARM_COMMON, "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                  (STM32L4R5, NRF52840), _M4, has_fpu=True, has_dsp=True,
                  qemu=QemuMachine("mps2-an386", MPS2_MEMORY, "Arm AN386, MPS2 FPGA image for Cortex-M4"),
                  unicorn_cpu="CORTEX_M4"),
    TargetProfile("cortex-m7", "Cortex-M7 (ARMv7E-M, double-precision FPU)",
                  ("-mcpu=cortex-m7", *_ARM_COMMON, "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
                  (STM32H7A3,), _M7, has_fpu=True, has_dsp=True,
                  qemu=QemuMachine("mps2-an500", MPS2_MEMORY, "Arm AN500, MPS2 FPGA image for Cortex-M7"),
                  unicorn_cpu="CORTEX_M7"),
    TargetProfile("cortex-m33", "Cortex-M33 (ARMv8-M Mainline, DSP, FPU)",
                  ("-mcpu=cortex-m33", *_ARM_COMMON, "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
                  (STM32U585,), _M33, has_fpu=True, has_dsp=True, unicorn_cpu="CORTEX_M33",
                  qemu=QemuMachine("mps2-an505", MPS2_AN505_MEMORY,
                                   "Arm AN505, MPS2+ FPGA image for Cortex-M33 (secure state)")),
    TargetProfile("esp32", "Xtensa LX6 dual-core", (), (ESP32,), _XTENSA, has_fpu=True, buildable=False,
                  notes="estimate only: no Xtensa toolchain here; cycles from the Cortex-M4 build's mix"),
    TargetProfile("esp32-s3", "Xtensa LX7 dual-core", (), (ESP32S3,), _XTENSA, has_fpu=True, buildable=False,
                  notes="estimate only: no Xtensa toolchain here; cycles from the Cortex-M4 build's mix"),
)}


def get_profile(name: str) -> TargetProfile:
    """The profile called `name` (e.g. "cortex-m4"); an unknown name lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise McuforgeError(f"unknown target {name!r}; known targets: {', '.join(PROFILES)}") from None


def buildable_profile(name: str) -> TargetProfile:
    profile = get_profile(name)
    if not profile.buildable:
        raise McuforgeError(f"target {name!r} is estimate-only ({profile.notes}); buildable targets: "
                            f"{', '.join(n for n, p in PROFILES.items() if p.buildable)}")
    return profile

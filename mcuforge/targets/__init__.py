"""Targets: profiles of microcontroller cores and boards, bare-metal builds, QEMU runs, measured size and
instruction counts. profiles.py says what a target is; build.py cross-compiles the library with a bare-metal
runner (startup_cortex_m.c, runner_main.c, cortex_m.ld) into an ELF; qemu.py runs it; size_report.py reads flash
and RAM from the ELF; instruction_count.py (with instruction_classes.py and layer_map.py) counts instructions per
layer in an emulator and estimates cycles; report.py gathers what `mcuforge build` prints."""

from mcuforge.targets.profiles import PROFILES, TargetProfile, get_profile

__all__ = ["PROFILES", "TargetProfile", "get_profile"]

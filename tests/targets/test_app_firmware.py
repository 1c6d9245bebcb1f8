"""targets/app_firmware.py: an app's own semihosting main (through semihost_io.c) cross-built with the startup
code and linker script, and run on QEMU with files in and out."""

import pytest

from mcuforge.errors import McuforgeError, ToolchainError
from mcuforge.targets.app_firmware import build_app_firmware, qemu_profile, run_app_qemu
from tests.targets.conftest import require_qemu

# Reverses each 4-byte record of in.bin into out.bin; exit 2 when in.bin is missing.
REVERSE_MAIN = r"""
#include <stdint.h>
#include "semihost_io.h"

int main(void)
{
    uint8_t record[4], reversed[4];
    const int32_t in = mcuforge_sh_open("in.bin", MCUFORGE_SH_READ_BINARY);
    int32_t out;
    int k;
    if (in < 0) {
        mcuforge_sh_say("reverse: cannot open in.bin\n");
        return 2;
    }
    out = mcuforge_sh_open("out.bin", MCUFORGE_SH_WRITE_BINARY);
    while (mcuforge_sh_read(in, record, sizeof record)) {
        for (k = 0; k < 4; ++k) {
            reversed[k] = record[3 - k];
        }
        if (!mcuforge_sh_write(out, reversed, sizeof reversed)) {
            return 1;
        }
    }
    (void)mcuforge_sh_close(in);
    return mcuforge_sh_close(out) ? 0 : 1;
}
"""


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    require_qemu()
    src = tmp_path_factory.mktemp("src") / "reverse_main.c"
    src.write_text(REVERSE_MAIN)
    return build_app_firmware([src], [src.parent], src.parent.parent / "build", "cortex-m3", "reverse.elf")


def test_files_in_and_out_through_semihosting(firmware):
    data = bytes(range(12))
    got = run_app_qemu(firmware, {"in.bin": data}, ["out.bin"], timeout=60)["out.bin"]
    assert got == b"".join(data[i:i + 4][::-1] for i in range(0, 12, 4))
    assert (firmware.elf.parent / "firmware" / "semihost_io.c").is_file()


def test_failures_name_the_program_and_what_is_missing(firmware):
    with pytest.raises(ToolchainError, match="reverse.elf.*exited with status 2.*cannot open in.bin"):
        run_app_qemu(firmware, {}, ["out.bin"], timeout=60)
    with pytest.raises(ToolchainError, match="without writing never.bin"):
        run_app_qemu(firmware, {"in.bin": b"abcd"}, ["out.bin", "never.bin"], timeout=60)


def test_target_without_emulator_and_clashing_objects_are_refused(tmp_path):
    with pytest.raises(McuforgeError, match="cortex-m0plus.*no QEMU machine"):
        qemu_profile("cortex-m0plus")
    require_qemu()
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "main.c").write_text("int main(void) { return 0; }\n")
    with pytest.raises(McuforgeError, match="second C file named main.c"):
        build_app_firmware([tmp_path / "a" / "main.c", tmp_path / "b" / "main.c"], [], tmp_path / "build",
                           "cortex-m3", "x.elf")

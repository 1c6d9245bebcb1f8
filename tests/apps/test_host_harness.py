"""apps/host_harness.py and c/record_files.c: the host test harnesses' record files."""

import subprocess

from mcuforge.apps.host_harness import build_harness, run_harness

# Writes each 2-byte record of the input with its bytes swapped.
SWAP_MAIN = r"""
#include "record_files.h"

int main(int argc, char **argv)
{
    FILE *in, *out;
    unsigned char record[2];
    if (!mcuforge_open_record_files(argc, argv, "IN.bin OUT.bin", &in, &out)) {
        return 2;
    }
    while (fread(record, 1, sizeof record, in) == sizeof record) {
        fputc(record[1], out);
        fputc(record[0], out);
    }
    return mcuforge_close_record_files(in, out);
}
"""


def test_records_through_a_sanitized_harness_and_usage_errors(tmp_path):
    (tmp_path / "swap_main.c").write_text(SWAP_MAIN)
    exe = build_harness([tmp_path / "swap_main.c"], tmp_path / "swap", "swap", sanitize=True)
    assert run_harness(exe, b"abcdef") == b"badcfe"
    usage = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "usage: " in usage.stderr and "IN.bin OUT.bin" in usage.stderr
    missing = subprocess.run([str(exe), str(tmp_path / "nothing.bin"), str(tmp_path / "o.bin")], capture_output=True,
                             text=True, check=False)
    assert missing.returncode == 2 and "cannot open" in missing.stderr

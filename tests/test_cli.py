"""The command line: inspect, run, compile, and one-line errors with exit code 2 on bad input."""

import errno
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.frontends.tflite_export import export_tflite
from tests.builders import GraphBuilder
from tests.conftest import shared_model


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcuforge.cli", *map(str, args)], capture_output=True, text=True)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mcuforge: error: ") and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def small_model(tmp_path):
    b = GraphBuilder(seed=4)
    x = b.input("x", (1, 8), scale=0.1, zero_point=0)
    h = b.op("FULLY_CONNECTED", [x, b.int8_weights("w1", (16, 8), axis=None), ""], "h", scale=0.2, zero_point=0)
    y = b.op("FULLY_CONNECTED", [h, b.int8_weights("w2", (4, 16), axis=None), ""], "y", scale=0.2, zero_point=0)
    path = tmp_path / "small.tflite"
    path.write_bytes(export_tflite(b.build(y)))
    return path


def test_inspect_table_and_json(small_model, capsys):
    assert main(["inspect", str(small_model)]) == 0
    table = capsys.readouterr().out
    assert "FULLY_CONNECTED" in table and "total (2 ops)" in table
    assert main(["inspect", str(small_model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["total"]["macs"] == 8 * 16 + 16 * 4 and info["layers"][1]["output_shape"] == [1, 4]


def test_inspect_vww_reports_mlperf_macs():
    result = run_cli("inspect", shared_model("vww"), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert round(info["total"]["macs"] / 1e6, 2) == 7.49


def test_run_writes_output(small_model, tmp_path):
    x = np.arange(8, dtype=np.int8).reshape(1, 8)
    np.save(tmp_path / "in.npy", x)
    outs = {}
    for engine in ("reference", "host-c"):
        result = run_cli("run", small_model, "--input", tmp_path / "in.npy", "--output", tmp_path / f"{engine}.npy",
                         "--engine", engine)
        assert result.returncode == 0, result.stderr
        outs[engine] = np.load(tmp_path / f"{engine}.npy")
    assert outs["reference"].shape == (1, 4) and outs["reference"].dtype == np.int8
    assert np.array_equal(outs["reference"], outs["host-c"])


@pytest.mark.parametrize("content, needle", [
    (b"", "empty file"),
    (b"hello world, this is not a model", "not a TFLite model"),
    (b"\x18\x00\x00\x00TFL3" + b"\xff" * 40, "corrupt or truncated"),
])
def test_bad_model_files(tmp_path, content, needle):
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    assert_one_line_error(run_cli("inspect", path), str(path), needle)


def test_truncated_model(tmp_path, small_model):
    data = small_model.read_bytes()
    path = tmp_path / "truncated.tflite"
    path.write_bytes(data[: len(data) // 2])
    assert_one_line_error(run_cli("inspect", path), str(path))


def test_missing_file_and_wrong_suffix(tmp_path):
    assert_one_line_error(run_cli("inspect", tmp_path / "nope.tflite"), "no such file")
    other = tmp_path / "model.pb"
    other.write_bytes(b"x")
    assert_one_line_error(run_cli("inspect", other), "unknown model format")


def test_unsupported_op_names_op_index_and_list(tmp_path, small_model):
    # Rewrite the model's opcode (both FCs share it) to EMBEDDING_LOOKUP (7), which mcuforge does not implement.
    import tflite

    data = bytearray(small_model.read_bytes())
    model = tflite.Model.GetRootAs(data, 0)
    code = model.OperatorCodes(0)
    for field_offset in (4, 10):  # deprecated_builtin_code (int8) and builtin_code (int32)
        pos = code._tab.Offset(field_offset)
        if pos:
            data[code._tab.Pos + pos] = 7
    path = tmp_path / "unsupported.tflite"
    path.write_bytes(bytes(data))
    assert_one_line_error(run_cli("inspect", path), "EMBEDDING_LOOKUP", "op #0", "mcuforge ops")



def test_run_rejects_wrong_shape_and_dtype(small_model, tmp_path):
    np.save(tmp_path / "shape.npy", np.zeros((1, 9), np.int8))
    assert_one_line_error(run_cli("run", small_model, "--input", tmp_path / "shape.npy"), "shape", "[1, 8]")
    np.save(tmp_path / "dtype.npy", np.zeros((1, 8), np.float32))
    assert_one_line_error(run_cli("run", small_model, "--input", tmp_path / "dtype.npy"), "int8", "float32")
    (tmp_path / "junk.npy").write_bytes(b"junk")
    assert_one_line_error(run_cli("run", small_model, "--input", tmp_path / "junk.npy"), "junk.npy")


def test_compile_refuses_non_empty_dir_and_ram_limit(small_model, tmp_path):
    out = tmp_path / "out"
    assert run_cli("compile", small_model, "-o", out).returncode == 0
    assert (out / "small.h").exists() and (out / "small.c").exists()
    assert_one_line_error(run_cli("compile", small_model, "-o", out), "not empty", "--force")
    assert run_cli("compile", small_model, "-o", out, "--force", "--name", "kws").returncode == 0
    assert (out / "kws.h").exists() and not (out / "small.h").exists()
    result = run_cli("compile", small_model, "-o", tmp_path / "tiny", "--ram-limit", "1")
    assert_one_line_error(result, "RAM limit")
    assert not (tmp_path / "tiny").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary directory left behind"


def test_ops_lists_supported_ops():
    result = run_cli("ops")
    assert result.returncode == 0 and "FULLY_CONNECTED" in result.stdout


def test_docs_ops_md_is_current():
    """The op list the unsupported-op error points to stays true: regenerate with `mcuforge ops --markdown`."""
    from pathlib import Path

    result = run_cli("ops", "--markdown")
    assert result.returncode == 0
    assert (Path(__file__).resolve().parents[1] / "docs" / "ops.md").read_text() == result.stdout


def test_os_errors_are_one_line(small_model, tmp_path, capsys, monkeypatch):
    x = np.arange(8, dtype=np.int8).reshape(1, 8)
    np.save(tmp_path / "in.npy", x)
    missing = tmp_path / "no-such-dir" / "out.npy"
    assert main(["run", str(small_model), "--input", str(tmp_path / "in.npy"), "--output", str(missing)]) == 2
    assert capsys.readouterr().err == f"mcuforge: error: {missing}: No such file or directory\n"

    def disk_full(args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no file name

    monkeypatch.setattr("mcuforge.cli.cmd_ops", disk_full)
    assert main(["ops"]) == 2
    assert capsys.readouterr().err == f"mcuforge: error: {os.strerror(errno.ENOSPC)}\n"


def test_sigterm_exits_143_and_removes_the_temporary_output(small_model, tmp_path, monkeypatch):
    def terminated_while_publishing(tmp, outdir):
        os.kill(os.getpid(), signal.SIGTERM)  # as `timeout` or a CI runner would, mid-write
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr("mcuforge.codegen.project.replace_directory", terminated_while_publishing)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info:
        main(["compile", str(small_model), "-o", str(tmp_path / "out")])
    assert info.value.code == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.tflite"]  # no .out.* temporary left
    assert signal.getsignal(signal.SIGTERM) == before  # main() restores the caller's handler


def test_compiled_directory_is_readable_by_all(small_model, tmp_path):
    assert main(["compile", str(small_model), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755  # not mkdtemp's 0700


def test_features_reports_the_file_written(tmp_path, capsys):
    audio = np.zeros((1, 16000), dtype=np.float32)
    np.save(tmp_path / "clip.npy", audio)
    assert main(["features", "mfcc", "--input", str(tmp_path / "clip.npy"), "--output", str(tmp_path / "feat")]) == 0
    written = tmp_path / "feat.npy"
    assert capsys.readouterr().out.startswith(f"wrote {written}: float32 [1, ")
    assert np.load(written).shape[0] == 1

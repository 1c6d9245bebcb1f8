"""The whole pipeline through the CLI on tiny settings: output directory, summary.json, verification on QEMU,
the refusals (model too big for the target, non-empty output directory) and the atomic replacement."""

import io
import json
from contextlib import chdir, contextmanager, redirect_stdout

import pytest

from mcuforge.cli import main
from tests.pipeline.conftest import TINY_CONFIG, require_emulator, write_config


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One tiny run with magnitude pruning and QAT into a directory that already holds a file: refused without
    --force, replaced with it. Kept for the tests below."""
    require_emulator()
    import torch

    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("pipeline")
    document = {**TINY_CONFIG, "prune": {"method": "magnitude", "sparsity": 0.5, "fine_tune_epochs": 1},
                "train": {**TINY_CONFIG["train"], "qat_epochs": 1}}
    config = write_config(tmp, document)
    out = tmp / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with chdir(tmp):  # a relative output directory, as `make demo` uses
        refused = main(["pipeline", str(config), "-o", "out"])
        assert (out / "keep.txt").exists()
        with capture() as printed:
            status = main(["pipeline", str(config), "-o", "out", "--force", "--set", "verify.samples=5"])
    assert status == 0
    return config, out, json.loads((out / "summary.json").read_text()), refused, printed.getvalue()


@contextmanager
def capture():
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        yield buffer


def test_output_directory_holds_every_artifact(finished):
    _, out, summary, _, _ = finished
    for name in ("model_float.pt", "model_float.tflite", "model_int8.tflite", "report.html", "summary.json",
                 "config.yaml", "c/tiny.c", "c/tiny.h", "firmware/tiny.elf"):
        assert (out / name).is_file(), name
    assert sorted(summary["files"]) == sorted(p.name for p in out.iterdir())
    from mcuforge.pipeline import load_config

    again = load_config(out / "config.yaml")  # the run's own configuration, overrides applied
    assert again.verify.samples == 5 and again.prune.method == "magnitude"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]  # no temporary left behind
    from mcuforge.frontends import load_model

    graph = load_model(out / "model_int8.tflite")
    assert summary["quantization"]["input"]["scale"] == pytest.approx(graph.tensors[graph.inputs[0]].quant.scalar_scale)
    page = (out / "report.html").read_text()
    assert "Pipeline results" in page and "test_shifted" in page and "noisier patterns" in page


def test_output_directories_are_readable_by_all(finished):
    _, out, _, _, _ = finished  # mkdtemp makes 0700 directories; the published output is 0755 throughout
    modes = {str(p.relative_to(out.parent)): oct(p.stat().st_mode & 0o777) for p in (out, *out.rglob("*"))
             if p.is_dir()}
    assert "out/c" in modes and set(modes.values()) == {"0o755"}, modes


def test_summary_has_every_number(finished):
    _, _, s, _, _ = finished
    assert s["quantization"]["method"] == "QAT" and s["prune"]["method"] == "magnitude"
    assert s["prune"]["sparsity"] == pytest.approx(0.5, abs=0.02)
    assert set(s["results"]) == {"val", "test", "test_shifted"}
    assert s["results"]["test_shifted"]["note"] == "noisier patterns"
    for split in s["results"].values():
        assert 0.0 <= split["int8"]["accuracy"] <= 1.0 and 0.0 <= split["float"]["accuracy"] <= 1.0
    assert s["results"]["test"]["int8"]["accuracy"] > 0.8
    v = s["verify"]
    assert v["samples"] == 5 and v["bit_exact"] == 5 and v["machine"] == "mps2-an386"
    d = s["deploy"]
    assert d["cycles"] > d["macs"] > 0 and d["latency_ms"] == pytest.approx(d["cycles"] / d["clock_hz"] * 1e3)
    assert d["energy_uj"] > 0 and d["fits_board"] and d["size"]["stack"] > 0
    assert d["size"]["flash_total"] > d["size"]["weights"] > 0 and d["size"]["ram_total"] >= d["size"]["arena"]
    assert set(s["wall_seconds"]) >= {"data", "model", "train", "prune", "qat", "quantize", "compile", "build",
                                      "verify", "measure"}


def test_non_empty_output_is_refused_then_replaced_with_force(finished):
    _, out, _, refused, printed = finished
    assert refused == 2 and not (out / "keep.txt").exists()
    assert "[ 1/11] data" in printed and "[11/11] report" in printed and "epoch   3/3, val accuracy" in printed
    assert "5/5 outputs bit-exact" in printed and "latency" in printed and "energy" in printed
    assert "test_shifted" in printed and "noisier patterns" in printed


def test_refusal_of_a_non_empty_directory_is_one_line(tmp_path, capsys):
    config = write_config(tmp_path, TINY_CONFIG)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["pipeline", str(config), "-o", str(out)]) == 2
    assert capsys.readouterr().err == f"mcuforge: error: {out}: directory is not empty (use --force to replace it)\n"


def test_model_too_big_for_the_target_is_refused_before_training(tmp_path, capsys):
    config = write_config(tmp_path, {**TINY_CONFIG, "model": {"arch": "ds_cnn", "width": 256, "blocks": 2},
                                     "target": {"ram_kb": 16}})
    out = tmp_path / "out"
    assert main(["pipeline", str(config), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "does not fit cortex-m4 (STM32L4R5ZI, 16 KiB RAM" in lines[0]
    assert "overflows at layer #" in lines[0] and "] train" not in captured.out and not out.exists()


def test_target_without_an_emulator_is_refused(tmp_path, capsys):
    config = write_config(tmp_path, {**TINY_CONFIG, "target": {"name": "cortex-m0plus"}})
    assert main(["pipeline", str(config), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "target.name 'cortex-m0plus' cannot be verified here" in err and "cortex-m4" in err


def test_unusable_output_location_is_refused_before_the_data_stage(tmp_path, capsys):
    config = write_config(tmp_path, TINY_CONFIG)
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the output's parent directory should be (works as root too)
    assert main(["pipeline", str(config), "-o", str(blocker / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"mcuforge: error: {blocker / 'out'}: cannot create the output directory (File exists "
                            f"at {blocker})\n")
    assert "] data" not in captured.out


def test_override_that_is_not_yaml_is_one_line(tmp_path, capsys):
    config = write_config(tmp_path, TINY_CONFIG)
    assert main(["pipeline", str(config), "-o", str(tmp_path / "out"), "--set", "train.epochs=[1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcuforge: error: {config}: override 'train.epochs=[1': value is not valid YAML")
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()

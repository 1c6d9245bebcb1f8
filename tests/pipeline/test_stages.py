"""Each training-side stage on tiny settings: train, prune (magnitude, structured), QAT, quantize + evaluate."""

import numpy as np
import pytest
import torch

from mcuforge.pipeline.config import parse_config
from mcuforge.pipeline.data import load_dataset
from mcuforge.pipeline.model import build_model
from mcuforge.pipeline.quantize import evaluate_int8, quantize_inputs, quantize_model
from mcuforge.pipeline.run import float_metrics
from mcuforge.pipeline.train import magnitude_layers, prune, train_float, train_qat
from tests.pipeline.conftest import TINY_CONFIG


def setup(**changes):
    config = parse_config({**TINY_CONFIG, **changes}, "tiny.yaml")
    data = load_dataset(config.data, config.path)
    return config, data, build_model(config, data)


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    config, data, model = setup()
    return config, data, train_float(config, data, model)


def test_train_learns_the_classes(trained):
    _config, data, model = trained
    assert not model.training
    assert float_metrics(data, model, "test")["accuracy"] > 0.9  # chance: 1/3


def test_keep_best_restores_the_best_validation_epoch():
    from mcuforge.pipeline.train import validation_score

    config, data, model = setup(train={"epochs": 3, "batch_size": 16, "lr": 0.5, "schedule": "constant"})
    scores = []
    original = validation_score

    def recording(dataset, m):
        scores.append(original(dataset, m))
        return scores[-1]

    import mcuforge.pipeline.train as train_module

    train_module.validation_score = recording
    try:
        model = train_float(config, data, model)
    finally:
        train_module.validation_score = original
    assert len(scores) == 3 and original(data, model) == max(scores)


def test_magnitude_pruning_holds_its_zeros(trained):
    config, data, model = trained
    config = parse_config({**TINY_CONFIG, "prune": {"method": "magnitude", "sparsity": 0.5,
                                                    "fine_tune_epochs": 1}}, "tiny.yaml")
    pruned, result = prune(config, data, model)
    layers = dict(pruned.named_modules())
    assert result.method == "magnitude" and result.sparsity == pytest.approx(0.5, abs=0.02)
    assert set(result.layers) == set(magnitude_layers(pruned)) and "stem.1.0" not in result.layers
    for name in result.layers:
        assert float((layers[name].weight == 0).float().mean()) == pytest.approx(0.5, abs=0.02)
    zeros = sum(int((layers[name].weight == 0).sum()) for name in result.layers)
    assert result.params_before == sum(p.numel() for p in pruned.parameters())
    assert result.params_after == result.params_before - zeros
    assert model is not pruned and float((dict(model.named_modules())["classifier"].weight == 0).sum()) == 0
    assert float_metrics(data, pruned, "test")["accuracy"] > 0.8
    # QAT fine-tuning keeps the pruned weights at zero, and so does the int8 graph made from it
    qat_config = parse_config({**TINY_CONFIG, "train": {**TINY_CONFIG["train"], "qat_epochs": 1}}, "tiny.yaml")
    qat = train_qat(qat_config, data, pruned, result.masks)
    zeros_after = {n: m.layer.weight for n, m in qat.named_modules() if hasattr(m, "output_quant")}
    classifier = next(w for n, w in zeros_after.items() if n.endswith("classifier"))
    np.testing.assert_array_equal(classifier.detach().numpy() == 0, result.masks["classifier"].numpy() == 0)
    _, graph = quantize_model(qat_config, data, pruned, qat)
    fc = next(op for op in graph.ops if op.type == "FULLY_CONNECTED")
    weights = graph.tensors[fc.inputs[1]].data
    assert np.mean(weights == 0) >= 0.49


def test_structured_pruning_shrinks_the_model(trained):
    config, data, model = trained
    config = parse_config({**TINY_CONFIG, "prune": {"method": "structured", "sparsity": 0.5,
                                                    "fine_tune_epochs": 1}}, "tiny.yaml")
    pruned, result = prune(config, data, model)
    assert result.params_after < 0.7 * result.params_before
    assert result.sparsity == pytest.approx(1 - result.params_after / result.params_before)
    assert sum(p.numel() for p in pruned.parameters()) == result.params_after
    assert pruned(torch.zeros(1, *data.sample_shape)).shape == (1, 3)


@pytest.mark.parametrize("qat_epochs", [0, 1])
def test_quantize_gives_an_int8_graph_that_keeps_the_accuracy(trained, qat_epochs):
    config, data, model = trained
    config = parse_config({**TINY_CONFIG, "train": {**TINY_CONFIG["train"], "qat_epochs": qat_epochs}}, "tiny.yaml")
    qat = train_qat(config, data, model) if qat_epochs else None
    float_graph, graph = quantize_model(config, data, model, qat)
    t_in, t_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    assert t_in.dtype == "int8" and t_out.dtype == "int8" and float_graph.tensors[float_graph.inputs[0]].dtype == \
        "float32"
    assert t_in.shape == (1, 12, 8, 1)  # NHWC
    result = evaluate_int8(graph, data, "test")
    assert result["samples"] == 120
    assert result["accuracy"] >= float_metrics(data, model, "test")["accuracy"] - 0.05
    records = quantize_inputs(graph, data.splits["test"][0][:2])
    assert records[0][0].dtype == np.int8 and records[0][0].shape == t_in.shape


def test_verify_compares_every_output_bit_for_bit(trained, monkeypatch):
    """The verify stage on a stand-in emulator run: equal outputs pass with the emulator's accuracy; one changed
    byte fails in one line naming the sample."""
    from types import SimpleNamespace

    import mcuforge.targets.qemu as qemu
    from mcuforge.pipeline.deploy import VerificationError, verification_indices, verify
    from mcuforge.pipeline.quantize import reference_outputs

    config, data, model = trained
    _, graph = quantize_model(config, data, model)
    firmware = SimpleNamespace(profile=SimpleNamespace(qemu=SimpleNamespace(machine="mps2-an386")))
    pick = verification_indices(config, data)
    assert len(pick) == 6 and len(set(pick)) == 6
    changed = {"sample": None}

    def fake_run(build, records, timeout):
        outputs = reference_outputs(graph, records)
        if changed["sample"] is not None:
            outputs[changed["sample"]][0] = outputs[changed["sample"]][0].copy()
            outputs[changed["sample"]][0].flat[0] ^= 1
        return qemu.QemuRun(outputs=outputs, stack_max=100, records=len(records))

    monkeypatch.setattr(qemu, "run_qemu", fake_run)
    result = verify(config, data, graph, firmware)
    assert result.bit_exact == result.samples == 6 and result.stack_bytes == 100
    x, y = data.splits["test"]
    outputs = reference_outputs(graph, quantize_inputs(graph, x[pick]))
    expected = np.mean([int(o[0].argmax()) == label for o, label in zip(outputs, y[pick])])
    assert result.metrics == {"accuracy": expected, "samples": 6}
    changed["sample"] = 2
    with pytest.raises(VerificationError, match=rf"^tiny.yaml: verify: 1 of 6 outputs on mps2-an386 differ from the "
                                                rf"reference interpreter \(first: test sample {pick[2]}\)$"):
        verify(config, data, graph, firmware)

"""QAT with INT4 weights (its fake quantization is ptq's int4 arithmetic; convert() deploys those layers as INT4 and
the deployed model predicts what the fake-quant model predicts), and pruning masks kept through QAT."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
nn = torch.nn

from mcuforge.compress.prune import MagnitudePruner, keep_zeros, prune_magnitude
from mcuforge.compress.qat import (ActivationQuantizer, QConv2d, QLinear, convert, deploy_module, fake_quantize_weights,
                                   set_weight_bits)
from mcuforge.compress.training import accuracy, train_classifier
from mcuforge.quant.int4 import int4_scales, is_int4
from mcuforge.quant.qparams import quantize_symmetric
from mcuforge.runtime.reference import run_reference
from tests.compress.digits import digits

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def small_cnn(weight_bits=8):
    return nn.Sequential(ActivationQuantizer(), QConv2d(1, 8, 3, padding=1, weight_bits=weight_bits), nn.MaxPool2d(2),
                         QConv2d(8, 8, 3, padding=1, groups=8, weight_bits=weight_bits),  # depthwise
                         QConv2d(8, 16, 1, weight_bits=weight_bits), nn.MaxPool2d(2), nn.Flatten(),
                         QLinear(64, 10, weight_bits=weight_bits))


def nhwc(x):
    return x.numpy().transpose(0, 2, 3, 1)


def test_int4_fake_quant_equals_ptq_int4():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 3, 3, 4)).astype(np.float32)
    w[1] = 0.0
    w[3, 0, 0, 0] = 9.0  # an outlier: the clipping search clips it
    for axis in (0, 3):
        scales = int4_scales(w, axis)
        shape = [1] * 4
        shape[axis] = -1
        q = quantize_symmetric(w, scales, axis, 7)
        assert np.abs(q).max() == 7
        expected = (q.astype(np.float64) * scales.astype(np.float64).reshape(shape)).astype(np.float32)
        got = fake_quantize_weights(torch.tensor(w), axis, bits=4).numpy()
        np.testing.assert_array_equal(got, expected)
    x = torch.tensor(w, requires_grad=True)
    fake_quantize_weights(x, 0, bits=4).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(w))  # straight through


@pytest.fixture(scope="module")
def int4_model():
    (x_train, y_train), _ = digits()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    return train_classifier(small_cnn(weight_bits=4), (x_train, y_train), epochs=5, lr=1e-2)


def test_deployed_int4_matches_fake_quant_predictions(int4_model):
    (x_train, _), (x_test, y_test) = digits()
    model = int4_model
    assert accuracy(model, x_test, y_test) > 0.85
    with torch.no_grad():
        fake_quant = model(x_test).argmax(1).numpy()
    graph = convert(model, x_train[:1], calibration=nhwc(x_train[:100]))
    layers = [op for op in graph.ops if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert [op.type for op in layers] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "FULLY_CONNECTED"]
    assert all(is_int4(graph.tensors[op.inputs[1]]) for op in layers)
    # The deployed int4 values are the ones the fake quantization trained with.
    folded, _ = model[1].folded()
    trained = fake_quantize_weights(folded, 0, bits=4).detach().numpy().transpose(0, 2, 3, 1)
    w = graph.tensors[layers[0].inputs[1]]
    np.testing.assert_array_equal((w.data * w.quant.scale.reshape(-1, 1, 1, 1).astype(np.float64)).astype(np.float32),
                                  trained)
    deployed = np.array([run_reference(graph, [nhwc(x)])[0].argmax() for x in x_test.split(1)])
    agreement = (deployed == fake_quant).mean()
    print(f"int4 QAT: fake-quant accuracy {(fake_quant == y_test.numpy()).mean():.4f}, deployed "
          f"{(deployed == y_test.numpy()).mean():.4f}, agreement {agreement:.4f} on {len(y_test)} digits")
    assert agreement >= 0.99


def test_convert_weights_option(int4_model):
    (x_train, _), _ = digits()
    as_int8 = convert(int4_model, x_train[:1], weights="int8")
    assert not any(is_int4(t) for t in as_int8.tensors.values())
    mixed_model = small_cnn()
    set_weight_bits(mixed_model, 4, layers=["4"])
    mixed_model.train()(x_train[:32])  # observe ranges
    mixed = convert(mixed_model.eval(), x_train[:1])
    marked = [op.type for op in mixed.ops if len(op.inputs) > 1 and is_int4(mixed.tensors[op.inputs[1]])]
    assert marked == ["CONV_2D"] and mixed.tensors[[op for op in mixed.ops if op.type == "CONV_2D"][1].inputs[1]]
    everything = convert(mixed_model, x_train[:1], weights="int4")
    assert sum(is_int4(t) for t in everything.tensors.values()) == 4
    with pytest.raises(ValueError, match="weights must be"):
        convert(mixed_model, x_train[:1], weights="int2")
    with pytest.raises(ValueError, match="no QConv2d / QLinear named 'nope'"):
        set_weight_bits(mixed_model, 4, layers=["nope"])


def _adam_steps(model, steps, opt):
    (x_train, y_train), _ = digits()
    model.train()
    for k in range(steps):
        x, y = x_train[32 * k:32 * k + 32], y_train[32 * k:32 * k + 32]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def _graph_weight_zeros(graph) -> dict[str, np.ndarray]:
    return {op.outputs[0]: graph.tensors[op.inputs[1]].data == 0 for op in graph.ops
            if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")}


def test_pruning_masks_hold_on_qat_layers():
    """Pruned mid-training with Adam's moments already moving every weight: the masked weights of QAT layers
    (whose forward never calls the inner layer, so the pruner's pre-hook never runs) stay 0 in the forward and
    in the deployed graph."""
    (x_train, _), _ = digits()
    torch.manual_seed(0)
    model = small_cnn(weight_bits=4)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    _adam_steps(model, 5, opt)
    pruner = prune_magnitude(model, 0.6, scope="layer", layers=["1.layer", "4.layer", "7.layer"])
    _adam_steps(model, 10, opt)
    for name in ("1", "4", "7"):
        mask = pruner.masks[f"{name}.layer"]
        folded, _ = model[int(name)].folded()
        assert torch.all(folded[mask == 0] == 0), name
        assert torch.all(deploy_module(model)[int(name)].layer.weight[mask == 0] == 0), name
    graph = convert(model, x_train[:1])
    conv1, depthwise, pointwise, dense = _graph_weight_zeros(graph).values()
    for zeros, name in ((conv1, "1.layer"), (pointwise, "4.layer")):  # OIHW masks in the graph's OHWI layout
        assert np.all(zeros[pruner.masks[name].permute(0, 2, 3, 1).numpy() == 0]), name
    assert dense.mean() >= 0.6 and depthwise.mean() < 0.5  # int4 rounding adds a few zeros of its own
    pruner.remove()
    assert all(model[int(n)].weight_mask is None for n in ("1", "4", "7"))


def test_pruned_float_model_keeps_zeros_through_qat():
    """A float model pruned and made permanent, loaded into QAT layers: keep_zeros holds its zeros through QAT."""
    (x_train, _), _ = digits()
    torch.manual_seed(0)
    float_model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10))
    prune_magnitude(float_model, 0.75, scope="layer").remove()
    qat_model = nn.Sequential(ActivationQuantizer(), QConv2d(1, 8, 3, padding=1, batchnorm=False),
                              nn.Flatten(), QLinear(512, 10, weight_bits=4))
    qat_model[1].layer.load_state_dict(float_model[0].state_dict())
    qat_model[3].layer.load_state_dict(float_model[3].state_dict())
    control = copy.deepcopy(qat_model)
    _adam_steps(control, 10, torch.optim.Adam(control.parameters(), 1e-2))
    # Without masks QAT training fills the zeros in.
    assert float((deploy_module(control)[3].layer.weight == 0).float().mean()) < 0.5
    pruner = keep_zeros(qat_model)
    assert isinstance(pruner, MagnitudePruner)
    assert pruner.sparsity()["global"] == pytest.approx(0.75, abs=1e-3)
    _adam_steps(qat_model, 10, torch.optim.Adam(qat_model.parameters(), 1e-2))
    deployed = deploy_module(qat_model)
    for k, float_layer in ((1, float_model[0]), (3, float_model[3])):
        assert torch.all(deployed[k].layer.weight[float_layer.weight == 0] == 0), k
    zeros = _graph_weight_zeros(convert(qat_model, x_train[:1]))  # int4 rounding may add zeros, never remove one
    assert all(float(z.mean()) >= 0.75 for z in zeros.values())

"""QAT: the fake-quant model's arithmetic equals mcuforge's quantizer, and the deployed int8 graph predicts what
the fake-quant model predicts on held-out digits."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
nn = torch.nn

from mcuforge.compress.qat import (ActivationQuantizer, QConv2d, QLinear, convert, deploy_module,
                                   fake_quantize_activation, fake_quantize_weights)
from mcuforge.compress.training import accuracy, train_classifier
from mcuforge.quant.qparams import asymmetric_qparams, fake_quantize, quantize_symmetric, symmetric_scales
from mcuforge.runtime.reference import run_reference
from tests.compress.digits import digits

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_weight_fake_quant_equals_ptq_rounding():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3, 3, 4)).astype(np.float32)
    w[2] = 0.0  # an all-zero channel takes the fallback scale
    w[4, 0, 0, 0] = 0.5 * np.abs(w[4]).max()  # a value on a rounding boundary stays where PTQ puts it
    for axis in (0, 3):
        scales = symmetric_scales(w, axis, 127)
        shape = [1] * 4
        shape[axis] = -1
        expected = quantize_symmetric(w, scales, axis, 127).astype(np.float64) * scales.astype(np.float64).reshape(shape)
        got = fake_quantize_weights(torch.tensor(w), axis).numpy()
        np.testing.assert_array_equal(got, expected.astype(np.float32))


def test_activation_fake_quant_equals_qparams():
    x = torch.linspace(-1.3, 2.7, 1001)
    scale, zero_point = asymmetric_qparams(-1.0, 2.5)
    got = fake_quantize_activation(x, float(scale), zero_point).numpy()
    np.testing.assert_allclose(got, fake_quantize(x.numpy(), scale, zero_point), atol=1e-6)


def test_straight_through_gradient_zero_outside_range():
    x = torch.tensor([-5.0, -0.5, 0.0, 0.7, 5.0], requires_grad=True)
    scale, zero_point = asymmetric_qparams(-1.0, 1.0)
    fake_quantize_activation(x, float(scale), zero_point).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])


def test_observer_tracks_ema_of_min_max():
    q = ActivationQuantizer(momentum=0.5).train()
    q(torch.tensor([-1.0, 3.0]))
    q(torch.tensor([-3.0, 1.0]))
    assert q.range() == pytest.approx((-2.0, 2.0))
    q.eval()(torch.tensor([-100.0, 100.0]))
    assert q.range() == pytest.approx((-2.0, 2.0))  # frozen outside training


def test_batchnorm_folded_like_the_front_end():
    torch.manual_seed(0)
    layer = QConv2d(3, 5, 3, padding=1)
    layer.train()(torch.randn(8, 3, 6, 6))  # moves the running statistics and sets a range
    layer.eval()
    x = torch.randn(2, 3, 6, 6)
    reference = nn.Sequential(layer.layer, layer.bn, nn.ReLU()).eval()
    np.testing.assert_allclose(deploy_module(layer)(x).detach().numpy(), reference(x).detach().numpy(), atol=1e-5)


def small_cnn():
    return nn.Sequential(ActivationQuantizer(), QConv2d(1, 8, 3, padding=1), nn.MaxPool2d(2),
                         QConv2d(8, 16, 3, padding=1), nn.MaxPool2d(2), nn.Flatten(), QLinear(64, 10))


def test_deployed_int8_matches_fake_quant_predictions():
    (x_train, y_train), (x_test, y_test) = digits()
    torch.manual_seed(0)
    model = train_classifier(small_cnn(), (x_train, y_train), epochs=6, lr=1e-2)
    assert accuracy(model, x_test, y_test) > 0.9
    with torch.no_grad():
        fake_quant = model(x_test).argmax(1).numpy()
    graph = convert(model, x_train[:1], calibration=x_train[:100].numpy().transpose(0, 2, 3, 1))
    assert [op.type for op in graph.ops] == ["QUANTIZE", "CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D",
                                             "RESHAPE", "FULLY_CONNECTED", "DEQUANTIZE"]
    # The learned ranges, not the calibration data's, set the activations' quantization.
    conv = graph.tensors[graph.ops[1].outputs[0]]
    assert float(conv.quant.scale[0]) == pytest.approx(float(model[1].output_quant.qparams()[0]))
    deployed = np.array([run_reference(graph, [x.numpy().transpose(0, 2, 3, 1)])[0].argmax()
                         for x in x_test.split(1)])
    agreement = (deployed == fake_quant).mean()
    print(f"fake-quant accuracy {(fake_quant == y_test.numpy()).mean():.4f}, int8 accuracy "
          f"{(deployed == y_test.numpy()).mean():.4f}, agreement {agreement:.4f} on {len(y_test)} digits")
    assert agreement >= 0.99


def test_ranges_override_rejects_unknown_tensor():
    import mcuforge

    graph = mcuforge.from_torch(nn.Sequential(nn.Linear(4, 3)).eval(), torch.zeros(1, 4))
    with pytest.raises(ValueError, match="not activations"):
        mcuforge.quantize(graph, np.zeros((2, 1, 4), np.float32), ranges={"nope": (0.0, 1.0)})

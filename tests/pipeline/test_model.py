"""The architecture stage: zoo model from the config and the data, fit refusal naming the layer, QAT layers."""

import numpy as np
import pytest
import torch

from mcuforge.compress.qat import prepare_qat
from mcuforge.errors import DoesNotFitError
from mcuforge.pipeline.config import ConfigError, parse_config
from mcuforge.pipeline.data import load_dataset
from mcuforge.pipeline.model import build_model, check_fit
from tests.pipeline.conftest import TINY_CONFIG, TINY_SHAPE


def tiny(**changes):
    document = {**TINY_CONFIG, **changes}
    config = parse_config(document, "tiny.yaml")
    return config, load_dataset(config.data, config.path)


def test_model_takes_its_input_shape_and_classes_from_the_data():
    config, data = tiny()
    model = build_model(config, data)
    assert model.input_shape == (1, *TINY_SHAPE)
    assert model.arch_params == {"width": 8, "blocks": 1, "frames": 12, "coefficients": 8, "classes": 3}
    assert model(torch.zeros(2, *TINY_SHAPE)).shape == (2, 3)


def test_model_errors_name_the_field():
    config, data = tiny(model={"arch": "ds_cnn", "widht": 8})
    with pytest.raises(ConfigError, match=r"^tiny.yaml: model.widht is not a parameter of ds_cnn \(parameters: "
                                          r"classes, width, blocks, frames, coefficients\)$"):
        build_model(config, data)
    config, data = tiny(model={"arch": "lenet"})
    with pytest.raises(ConfigError, match=r"^tiny.yaml: model.arch 'lenet' is not a zoo model"):
        build_model(config, data)
    config, data = tiny(model={"arch": "ds_cnn", "frames": 49})
    with pytest.raises(ConfigError, match=r"ds_cnn takes inputs of shape \[1, 49, 8\] .* but the data's samples "
                                          r"are \[1, 12, 8\]"):
        build_model(config, data)
    config, data = tiny(model={"arch": "ds_cnn", "width": -3})  # torch refuses it with a RuntimeError
    with pytest.raises(ConfigError, match=r"^tiny.yaml: model ds_cnn\(width=-3, .*negative dimension"):
        build_model(config, data)
    config, data = tiny(model={"arch": "ds_cnn", "width": 8, "classes": 5})
    with pytest.raises(ConfigError, match=r"^tiny.yaml: model.classes is 5 but the data has 3 classes"):
        build_model(config, data)
    config, data = tiny(model={"arch": "ds_cnn", "width": 8, "classes": 3})  # stating the right count is fine
    assert build_model(config, data).arch_params["classes"] == 3


def test_fit_refusal_names_the_overflowing_layer():
    config, data = tiny(target={"ram_kb": 1})
    with pytest.raises(DoesNotFitError) as info:
        check_fit(config, build_model(config, data))
    message = str(info.value)
    assert "\n" not in message and message.startswith("tiny.yaml: ds_cnn (width=8")
    assert "does not fit cortex-m4 (STM32L4R5ZI, 1 KiB RAM" in message
    assert "RAM" in message and "overflows at layer #" in message
    config, data = tiny(model={"arch": "ds_cnn", "width": 512, "blocks": 4}, target={"flash_kb": 64})
    with pytest.raises(DoesNotFitError, match=r"flash [\d,]+ B of weights > 32,768 B .*overflows at layer #\d+ \w+"):
        check_fit(config, build_model(config, data))
    config, data = tiny()
    assert check_fit(config, build_model(config, data)).fits


@pytest.mark.parametrize("arch, shape", [("ds_cnn", TINY_SHAPE), ("mobilenet_v1", (3, 16, 16)),
                                         ("fc_autoencoder", (16,)), ("vibration_cnn", (3, 32))])
def test_qat_layers_compute_the_float_model(arch, shape):
    """With fake quantization off, the QAT copy is the float model (batch norms folded, weights carried over)."""
    from mcuforge.compress.qat import QConv2d, QLinear, set_fake_quant
    from mcuforge.models import ZOO
    from mcuforge.models.blocks import randomize_batchnorm

    torch.manual_seed(0)
    params = {"ds_cnn": {"width": 8, "blocks": 1, "frames": 12, "coefficients": 8},
              "mobilenet_v1": {"resolution": 16}, "fc_autoencoder": {"features": 16, "hidden": 8, "depth": 1},
              "vibration_cnn": {"length": 32}}[arch]
    model = randomize_batchnorm(ZOO[arch](**params))
    qat = prepare_qat(model).eval()
    set_fake_quant(qat, False)
    assert any(isinstance(m, (QConv2d, QLinear)) for m in qat.modules())
    assert not any(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and not _inside_quant_layer(qat, m)
                   for m in qat.modules())
    x = torch.randn(3, *shape)
    np.testing.assert_allclose(qat(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-4, atol=1e-4)


def _inside_quant_layer(root, module) -> bool:
    from mcuforge.compress.qat import QConv2d, QLinear

    return any(isinstance(m, (QConv2d, QLinear)) and module is m.layer for m in root.modules())

"""The model zoo: every model imports through from_torch and its float graph equals PyTorch; fits() answers
sensibly against target profiles and names the layer that overflows."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import mcuforge
from mcuforge.models import ZOO, DSCNN, FCAutoencoder, MobileNetV1, estimate_fit, fits
from mcuforge.models.blocks import make_divisible, randomize_batchnorm
from mcuforge.runtime.reference import run_reference


def to_graph_layout(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if x.ndim == 4 else x)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model_imports_and_matches_torch(name):
    model = randomize_batchnorm(ZOO[name](), seed=1)
    x = torch.randn(model.input_shape, generator=torch.Generator().manual_seed(2))
    graph = mcuforge.from_torch(model, x)
    # batch norms folded, activations fused: no standalone MUL/ADD-by-constant or RELU left
    assert not {"MUL", "RELU", "RELU6"} & {op.type for op in graph.ops}
    with torch.no_grad():
        expected = to_graph_layout(model(x).numpy())
    got = run_reference(graph, [to_graph_layout(x.numpy())])[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(expected).max())))
    result = estimate_fit(graph, "cortex-m4")
    params = sum(p.numel() for n, p in model.named_parameters())
    # folded batch norms leave conv weights + biases: within the BN parameters of the torch count
    bn = sum(m.num_features * 2 for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    assert params - bn <= result.params <= params + bn


def test_reference_sizes():
    # MLPerf Tiny: DS-CNN about 23 k parameters (with BN), ResNet-8 about 78 k, the AD autoencoder about 270 k.
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert 20_000 < count(DSCNN()) < 26_000
    assert 75_000 < count(ZOO["resnet8"]()) < 80_000
    assert 260_000 < count(FCAutoencoder()) < 275_000
    assert make_divisible(32 * 0.25) == 8 and make_divisible(1024 * 0.35) == 360


def test_small_models_fit_a_cortex_m4():
    result = fits(DSCNN(), "cortex-m4")
    assert result and result.fits_ram and result.fits_flash
    assert result.flash_layer is None and result.ram_layer is None
    assert 20_000 < result.flash_bytes < 40_000  # int8 weights: about 1 byte per parameter, + tables
    assert result.ram_bytes < 32 * 1024
    assert "fits" in str(result)


def test_big_mobilenet_does_not_fit_m0plus_and_names_the_layer():
    model = MobileNetV1(alpha=1.0, resolution=128, classes=1000)
    result = fits(model, target="cortex-m0plus")
    assert not result and not result.fits_ram and not result.fits_flash
    assert result.ram_limit == 264 * 1024
    assert result.ram_bytes > result.ram_limit
    # 64x64x32 depthwise input + its 64x64x32 output alone pass 264 KiB with the I/O buffers
    assert result.ram_layer is not None and "DEPTHWISE_CONV_2D" in result.ram_layer
    assert "features.1" in result.ram_layer
    assert result.flash_layer is not None and "CONV_2D" in result.flash_layer
    text = str(result)
    assert "does NOT fit" in text and result.ram_layer in text
    # the same model fits an M7 board's flash (2 MiB) neither: 4.2 M int8 weights; a small one fits
    assert not fits(model, "cortex-m7").fits_flash
    assert fits(MobileNetV1(alpha=0.25, resolution=96), "cortex-m0plus")


def test_fits_needs_an_input_shape():
    with pytest.raises(ValueError, match="input_shape"):
        fits(torch.nn.Linear(4, 2))
    assert fits(torch.nn.Linear(4, 2).eval(), input_shape=(1, 4)).params == 10

"""Post-training quantization of float graphs: TFLite's int8 rules hold, the int8 graphs are bit-exact with
LiteRT and TFLite Micro (and the generated C), and they approximate their float originals."""

import numpy as np
import pytest

import mcuforge
from mcuforge.errors import UnsupportedOpError
from mcuforge.frontends import load_model
from mcuforge.runtime.reference import run_reference
from tests.conftest import shared_model
from tests.golden import check_graph_golden
from tests.quant.float_graphs import (argmax_agreement, concat, conv_stack, gated_concat, gates, inputs_like,
                                     output_pairs, residual)

METHODS = ["minmax", "percentile", "mse"]


def _quant(q, name):
    t = q.tensors[name]
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("make", [conv_stack, residual, concat], ids=["conv_stack", "residual", "concat"])
def test_golden_and_accurate(make, method):
    g = make()
    q = mcuforge.quantize(g, inputs_like(g, 48, seed=1), method=method)
    assert all(t.dtype != "float32" for t in q.tensors.values())
    check_graph_golden(q, n=12, c_code=False)  # validates, then LiteRT and TFLite Micro bit for bit
    agreement = argmax_agreement(g, q, inputs_like(g, 60, seed=2))
    assert agreement >= 0.9, f"{g.name}/{method}: argmax agreement {agreement:.0%}"


def test_int8_rules():
    g = conv_stack()
    q = mcuforge.quantize(g, inputs_like(g, 16, seed=1))
    # Weights: symmetric per channel on the output-channel axis, in [-127, 127].
    for name, axis in (("conv_w", 0), ("dw_w", 3), ("fc_w", 0)):
        w = q.tensors[name]
        assert w.dtype == "int8" and w.quant.axis == axis and w.quant.scale.size == w.shape[axis]
        assert not w.quant.zero_point.any() and np.abs(w.data.astype(int)).max() == 127
    # Biases: int32 on input_scale * weight_scale[c].
    for bias, x, w in (("conv_b", "x", "conv_w"), ("dw_b", "conv", "dw_w"), ("fc_b", "flat", "fc_w")):
        b = q.tensors[bias]
        expected = (np.float64(q.tensors[x].quant.scale[0]) * q.tensors[w].quant.scale).astype(np.float32)
        assert b.dtype == "int32" and np.array_equal(b.quant.scale, expected) and not b.quant.zero_point.any()
    # A ReLU output's zero point is the lowest integer; pooling and reshape keep their input's quantization;
    # softmax outputs on TFLite's fixed grid.
    assert _quant(q, "conv")[1] == -128
    assert _quant(q, "pool") == _quant(q, "dw") == _quant(q, "flat")
    assert _quant(q, "probs") == (1 / 256, -128)
    assert q.tensors["x"].dtype == q.tensors["probs"].dtype == "int8"


def test_concatenation_shares_one_quantization():
    g = concat()
    q = mcuforge.quantize(g, inputs_like(g, 32, seed=1))
    assert _quant(q, "small") == _quant(q, "large") == _quant(q, "joined") == _quant(q, "pool")


def test_concatenation_of_fixed_grids_requantizes():
    g = gates()
    q = mcuforge.quantize(g, inputs_like(g, 32, seed=1))
    assert _quant(q, "sigmoid") == (1 / 256, -128) and _quant(q, "tanh") == (1 / 128, 0)
    requantize = [op for op in q.ops if op.type == "QUANTIZE"]
    assert len(requantize) == 1 and requantize[0].inputs == ["tanh"]
    assert _quant(q, requantize[0].outputs[0]) == _quant(q, "joined") == _quant(q, "sigmoid")
    check_graph_golden(q, n=12, c_code=False)


def test_fixed_grid_next_to_free_inputs_requantizes():
    """A LOGISTIC output does not impose its [0, 1) grid on a wide-range input of the same concatenation."""
    g = gated_concat()
    q = mcuforge.quantize(g, inputs_like(g, 128, seed=1))
    requantize = [op for op in q.ops if op.type == "QUANTIZE"]
    assert len(requantize) == 1 and requantize[0].inputs == ["sigmoid"]
    assert _quant(q, "sigmoid") == (1 / 256, -128) and _quant(q, "wide") == _quant(q, "joined")
    assert _quant(q, "joined")[0] > 4 / 256
    check_graph_golden(q, n=12, c_code=False)
    f, d = output_pairs(g, q, inputs_like(g, 40, seed=2))
    assert np.abs(d - f).mean() < 0.03 * np.abs(f).mean()


def test_float_io_and_generated_c():
    """float32 inputs and outputs behind QUANTIZE / DEQUANTIZE; the whole graph also runs as generated C."""
    g = conv_stack(seed=5)
    q = mcuforge.quantize(g, inputs_like(g, 32, seed=1), float_io=True)
    assert q.ops[0].type == "QUANTIZE" and q.ops[-1].type == "DEQUANTIZE"
    assert q.tensors["x"].dtype == q.tensors["probs"].dtype == "float32"
    check_graph_golden(q, n=10)
    xs = inputs_like(g, 40, seed=3)
    agree = np.mean([run_reference(g, [x])[0].argmax() == run_reference(q, [x])[0].argmax() for x in xs])
    assert agree >= 0.9


def test_hybrid_float_model_kws():
    """MLPerf Tiny's float KWS model (its convolutions have int8 "hybrid" weights, dequantized first)."""
    g = load_model(shared_model("kws_float"))
    rng = np.random.default_rng(0)

    def mfcc_like(n):  # a per-frame level plus noise, over the int8 model's input range (about -120..26)
        return (rng.uniform(-60, 20, (n, 1, 49, 1, 1)) + 15 * rng.standard_normal((n, 1, 49, 10, 1))).astype(
            np.float32)

    q = mcuforge.quantize(g, mfcc_like(24), method="mse", float_io=True)
    assert all(q.tensors[op.inputs[1]].dtype == "int8" for op in q.ops if op.type == "CONV_2D")
    xs = mfcc_like(40)
    agree = np.mean([run_reference(g, [x])[0].argmax() == run_reference(q, [x])[0].argmax() for x in xs])
    assert agree >= 0.9
    check_graph_golden(q, n=4, c_code=False)


def test_rejects_quantized_graph():
    g = conv_stack()
    q = mcuforge.quantize(g, inputs_like(g, 4, seed=1))
    with pytest.raises(UnsupportedOpError, match="already"):
        mcuforge.quantize(q, np.zeros((1, *q.tensors["x"].shape), np.int8))


def test_bad_arguments():
    g = conv_stack()
    with pytest.raises(ValueError, match="method"):
        mcuforge.quantize(g, inputs_like(g, 2, seed=1), method="kl")
    with pytest.raises(ValueError, match="weights"):
        mcuforge.quantize(g, inputs_like(g, 2, seed=1), weights="int2")


def test_graph_from_pytorch():
    """A float graph from the PyTorch front end (batch norm, depthwise, residual, mean, sigmoid gate,
    flatten through NCHW order, concatenation, softmax)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.dw, self.pw = nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 8, 1)
            self.fc = nn.Linear(8 * 4 * 4 + 8, 10)

        def forward(self, x):
            a = torch.relu(self.bn(self.conv(x)))
            c = self.pw(nn.functional.relu6(self.dw(a))) + a
            gate = torch.sigmoid(torch.mean(c, dim=(2, 3)))
            z = torch.cat([torch.flatten(nn.functional.max_pool2d(c, 2), 1), gate], 1)
            return torch.softmax(self.fc(z) * 4, 1)

    torch.manual_seed(0)
    net = Net().eval()
    g = mcuforge.from_torch(net, torch.randn(1, 3, 8, 8))
    q = mcuforge.quantize(g, inputs_like(g, 32, seed=1), method="mse")
    check_graph_golden(q, n=8, c_code=False)
    assert argmax_agreement(g, q, inputs_like(g, 60, seed=2)) >= 0.9

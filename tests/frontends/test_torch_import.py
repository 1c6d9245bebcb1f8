"""from_torch: small PyTorch modules imported as float graphs equal onnxruntime and PyTorch within 1e-5 on seeded
random inputs, in NHWC without stray transposes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
nn = torch.nn
F = torch.nn.functional

import mcuforge
from mcuforge.errors import UnsupportedOpError
from tests.frontends.harness import (
    assert_close,
    check_against_onnxruntime,
    export_onnx,
    run_graph_nchw,
)


class Lambda(nn.Module):
    def __init__(self, fn, *layers):
        super().__init__()
        self.fn = fn
        self.layers = nn.ModuleList(layers)

    def forward(self, *xs):
        return self.fn(self.layers, *xs)


def conv_bn(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), act())


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, c // 2), nn.Linear(c // 2, c)

    def forward(self, x):
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))
        return x * s.view(x.size(0), -1, 1, 1)


def residual():
    body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))
    return Lambda(lambda m, x: F.relu(x + m[0](x)), body)


def linear_head():
    return nn.Sequential(conv_bn(3, 6), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 5 * 4, 16), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(16, 5))


MODULES = {
    "conv_bn_relu_stack": (lambda: nn.Sequential(conv_bn(3, 8), conv_bn(8, 16, stride=2, act=nn.ReLU6),
                                                 conv_bn(16, 16, k=1)), [(1, 3, 12, 12)]),
    "depthwise_separable": (lambda: nn.Sequential(conv_bn(4, 4, groups=4), conv_bn(4, 12, k=1),
                                                  nn.Conv2d(12, 24, 3, 2, 1, groups=12)), [(1, 4, 9, 10)]),
    "grouped_dilated": (lambda: nn.Sequential(nn.Conv2d(4, 8, 3, groups=2, dilation=2, padding=2),
                                              nn.Conv2d(8, 6, (1, 3), stride=(1, 2))), [(2, 4, 7, 9)]),
    "residual_add": (residual, [(1, 8, 6, 6)]),
    "pools": (lambda: Lambda(lambda m, x: (F.max_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1),
                                           F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                                           F.max_pool2d(x, 2, 2, ceil_mode=True), F.avg_pool2d(x, 2, 1))),
              [(1, 3, 8, 8)]),
    "pools_odd": (lambda: Lambda(lambda m, x: (F.max_pool2d(x, 2, ceil_mode=True), F.avg_pool2d(x, 3, 2),
                                               F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                                               F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1))),
                  [(1, 2, 7, 9)]),
    "linear_head_flatten": (linear_head, [(2, 3, 10, 8)]),
    "view_flatten": (lambda: Lambda(lambda m, x: m[1](m[0](x).view(x.size(0), -1)), nn.Conv2d(3, 4, 3),
                                    nn.Linear(4 * 4 * 5, 3)), [(1, 3, 6, 7)]),
    "concat": (lambda: Lambda(lambda m, x: torch.cat([m[0](x), F.relu(m[1](x)), x], 1).flatten(1),
                              nn.Conv2d(3, 4, 1), nn.Conv2d(3, 2, 3, padding=1)), [(1, 3, 5, 5)]),
    "concat_height": (lambda: Lambda(lambda m, x: torch.cat([m[0](x), x], 2), nn.Conv2d(2, 2, 3, padding=1)),
                      [(1, 2, 4, 6)]),
    "activations": (lambda: nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.Hardswish(), nn.Conv2d(6, 6, 1),
                                          nn.Sigmoid(), nn.Conv2d(6, 6, 1), nn.Tanh(), nn.Conv2d(6, 6, 1),
                                          nn.LeakyReLU(0.1), nn.Conv2d(6, 6, 1), nn.Hardsigmoid(), nn.ReLU6(),
                                          nn.Hardtanh()), [(1, 3, 5, 5)]),
    "softmax": (lambda: Lambda(lambda m, x: (F.softmax(m[0](x), 1), F.softmax(x, -1),
                                             F.softmax(m[1](x.flatten(1)), -1)),
                               nn.Conv2d(3, 4, 1), nn.Linear(3 * 4 * 5, 6)), [(1, 3, 4, 5)]),
    "reduce_mean": (lambda: Lambda(lambda m, x: (x.mean((2, 3)), x.mean((2, 3), keepdim=True) + x,
                                                 x.mean(1), x.mean((1, 2)), x.mean(3, keepdim=True), x.amax(1))),
                    [(2, 3, 4, 5)]),
    "squeeze_excite": (lambda: nn.Sequential(nn.Conv2d(3, 8, 3), SqueezeExcite(8)), [(1, 3, 6, 6)]),
    "pad_and_permute": (lambda: Lambda(lambda m, x: m[0](F.pad(x, (1, 2, 0, 1))).permute(0, 2, 3, 1),
                                       nn.Conv2d(3, 4, 2)), [(1, 3, 5, 5)]),
    "transpose_hw": (lambda: Lambda(lambda m, x: m[0](x).transpose(2, 3) + 1, nn.Conv2d(2, 4, 3)), [(1, 2, 5, 6)]),
    "standalone_batchnorm": (lambda: Lambda(lambda m, x, y: m[0](x + y), nn.BatchNorm2d(3)),
                             [(1, 3, 4, 4), (1, 3, 4, 4)]),
    "mlp": (lambda: nn.Sequential(nn.Linear(10, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 4), nn.Softmax(-1)),
            [(3, 10)]),
}


def _randomized(module: nn.Module) -> nn.Module:
    """Non-trivial batch norm statistics, then eval mode."""
    torch.manual_seed(0)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.5, 0.5)
    return module.eval()


@pytest.mark.parametrize("key", sorted(MODULES))
def test_module_matches_onnxruntime_and_torch(key):
    make, shapes = MODULES[key]
    torch.manual_seed(1)
    module = _randomized(make())
    examples = tuple(torch.randn(s) for s in shapes)
    graph = mcuforge.from_torch(module, examples if len(examples) > 1 else examples[0])
    check_against_onnxruntime(graph, export_onnx(module, examples), shapes)
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    with torch.no_grad():
        expected = module(*(torch.from_numpy(x) for x in inputs))
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    assert_close(run_graph_nchw(graph, inputs), [e.numpy() for e in expected], "vs torch")
    assert not {"BATCH_NORM", "IDENTITY"} & {op.type for op in graph.ops}


def _op_types(graph) -> list[str]:
    return [op.type for op in graph.ops]


def test_conv_stack_is_nhwc_with_folded_batchnorm_and_fused_relu():
    make, shapes = MODULES["conv_bn_relu_stack"]
    graph = mcuforge.from_torch(_randomized(make()), torch.randn(shapes[0]))
    assert _op_types(graph) == ["CONV_2D", "PAD", "CONV_2D", "CONV_2D"]
    assert [op.attrs["fused_activation_function"] for op in graph.ops if op.type == "CONV_2D"] == ["RELU", "RELU6",
                                                                                                    "RELU"]
    assert graph.tensors[graph.inputs[0]].shape == (1, 12, 12, 3)


def test_depthwise_becomes_depthwise_conv_with_multiplier():
    make, shapes = MODULES["depthwise_separable"]
    graph = mcuforge.from_torch(_randomized(make()), torch.randn(shapes[0]))
    depthwise = [op for op in graph.ops if op.type == "DEPTHWISE_CONV_2D"]
    assert [op.attrs["depth_multiplier"] for op in depthwise] == [1, 2]
    assert graph.tensors[depthwise[1].inputs[1]].shape == (1, 3, 3, 24)


def test_flatten_before_linear_needs_no_transpose():
    make, shapes = MODULES["linear_head_flatten"]
    graph = mcuforge.from_torch(_randomized(make()), torch.randn(shapes[0]))
    assert "TRANSPOSE" not in _op_types(graph)
    assert _op_types(graph).count("FULLY_CONNECTED") == 2


def test_squeeze_excite_has_no_transpose():
    make, shapes = MODULES["squeeze_excite"]
    graph = mcuforge.from_torch(make().eval(), torch.randn(shapes[0]))
    assert "TRANSPOSE" not in _op_types(graph)


def test_unsupported_torch_op_names_the_op_and_node():
    module = nn.Sequential(nn.Conv2d(3, 4, 1), nn.GELU())
    with pytest.raises(UnsupportedOpError, match=r"unsupported ONNX op Gelu \(node '/1/Gelu'\)"):
        mcuforge.from_torch(module.eval(), torch.randn(1, 3, 4, 4))


def test_importing_mcuforge_does_not_import_torch_or_onnx():
    import subprocess
    import sys

    code = "import sys, mcuforge, mcuforge.frontends; print('torch' in sys.modules, 'onnx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]

"""The ONNX importer on hand-built models: ops and attributes exporters rarely emit (auto_pad, Gemm's alpha/beta
and transB, old opsets' attribute forms, standalone and foldable BatchNormalization), errors, and the CLI."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper

from mcuforge.cli import main
from mcuforge.errors import ModelFormatError, UnsupportedOpError
from mcuforge.frontends import load_model
from mcuforge.frontends.onnx_import import from_onnx, parse_onnx
from tests.frontends.harness import check_against_onnxruntime


def make_model(nodes, inputs: dict, outputs: list[str], initializers: dict, opset: int = 17) -> bytes:
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(v if isinstance(v, np.ndarray) else rng.standard_normal(v).astype(np.float32), k)
             for k, v in initializers.items()]
    graph = helper.make_graph(
        nodes, "test", [helper.make_tensor_value_info(k, TensorProto.FLOAT, s) for k, s in inputs.items()],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()


def batchnorm_params(prefix: str, c: int) -> dict:
    rng = np.random.default_rng(5)
    return {f"{prefix}_scale": rng.uniform(0.5, 1.5, c).astype(np.float32),
            f"{prefix}_bias": rng.uniform(-0.5, 0.5, c).astype(np.float32),
            f"{prefix}_mean": rng.uniform(-1, 1, c).astype(np.float32),
            f"{prefix}_var": rng.uniform(0.5, 2, c).astype(np.float32)}


def check(model: bytes, shapes) -> list[str]:
    graph = from_onnx(model)
    check_against_onnxruntime(graph, model, shapes)
    return [op.type for op in graph.ops]


def test_conv_batchnorm_folds_and_standalone_batchnorm_stays_mul_add():
    bn_inputs = ["scale", "bias", "mean", "var"]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], "conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c"] + [f"bn1_{k}" for k in bn_inputs], ["b"], "bn1", epsilon=1e-3),
        helper.make_node("Relu", ["b"], ["r"], "relu"),
        helper.make_node("Add", ["r", "x2"], ["s"], "add"),
        helper.make_node("BatchNormalization", ["s"] + [f"bn2_{k}" for k in bn_inputs], ["y"], "bn2"),
    ]
    model = make_model(nodes, {"x": [1, 3, 6, 5], "x2": [1, 4, 6, 5]}, ["y"],
                       {"w": (4, 3, 3, 3), **batchnorm_params("bn1", 4), **batchnorm_params("bn2", 4)})
    assert check(model, [(1, 3, 6, 5), (1, 4, 6, 5)]) == ["CONV_2D", "ADD", "MUL", "ADD"]
    graph = from_onnx(model)
    assert graph.ops[0].attrs["fused_activation_function"] == "RELU"


@pytest.mark.parametrize("auto_pad, expected", [
    ("SAME_UPPER", ["CONV_2D", "MAX_POOL_2D"]),  # TFLite's SAME: the odd pixel after
    ("SAME_LOWER", ["PAD", "CONV_2D", "PADV2", "MAX_POOL_2D"]),  # the odd pixel before: explicit
    ("VALID", ["CONV_2D", "MAX_POOL_2D"]),
])
def test_auto_pad(auto_pad, expected):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], "conv", kernel_shape=[3, 2], strides=[2, 2],
                              auto_pad=auto_pad),
             helper.make_node("MaxPool", ["c"], ["y"], "pool", kernel_shape=[2, 2], auto_pad=auto_pad)]
    model = make_model(nodes, {"x": [1, 2, 8, 7]}, ["y"], {"w": (3, 2, 3, 2), "b": (3,)})
    assert check(model, [(1, 2, 8, 7)]) == expected


def test_gemm_alpha_beta_and_untransposed_weights():
    nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["g"], "gemm", alpha=0.5, beta=2.0),
             helper.make_node("MatMul", ["g", "w2"], ["m"], "matmul"),
             helper.make_node("Add", ["m", "b2"], ["y"], "bias")]
    model = make_model(nodes, {"x": [2, 6]}, ["y"], {"w": (6, 4), "c": (1, 4), "w2": (4, 3), "b2": (3,)})
    assert check(model, [(2, 6)]) == ["FULLY_CONNECTED", "FULLY_CONNECTED"]  # the bias Add folded


def test_opset_11_attribute_forms():
    nodes = [helper.make_node("Relu", ["x"], ["c"], "relu"),
             helper.make_node("GlobalAveragePool", ["c"], ["p"], "gap"),
             helper.make_node("Squeeze", ["p"], ["s"], "squeeze", axes=[2, 3]),
             helper.make_node("Unsqueeze", ["s"], ["u"], "unsqueeze", axes=[1]),
             helper.make_node("Softmax", ["u"], ["sm"], "softmax", axis=1),
             helper.make_node("ReduceMean", ["x"], ["rm"], "mean", axes=[1], keepdims=0),
             helper.make_node("Pad", ["rm", "pads"], ["y"], "pad")]
    model = make_model(nodes, {"x": [1, 3, 4, 5]}, ["sm", "y"],
                       {"pads": np.array([0, 1, 0, 0, 0, 2], np.int64)}, opset=11)
    ops = check(model, [(1, 3, 4, 5)])
    assert "TRANSPOSE" not in ops


def test_clip_attributes_before_opset_11():
    nodes = [helper.make_node("Clip", ["x"], ["y"], "clip", min=-1.0, max=1.0)]
    model = make_model(nodes, {"x": [2, 5]}, ["y"], {}, opset=10)
    assert check(model, [(2, 5)]) == ["RELU_N1_TO_1"]


def test_unsupported_op_names_op_type_and_node():
    nodes = [helper.make_node("Relu", ["x"], ["r"], "relu"), helper.make_node("Cos", ["r"], ["y"], "my_cos")]
    model = make_model(nodes, {"x": [1, 4]}, ["y"], {})
    with pytest.raises(UnsupportedOpError, match=r"unsupported ONNX op Cos \(node 'my_cos'\)"):
        parse_onnx(model)


def test_unsupported_attribute_names_the_node():
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["y"], "odd_clip")]
    model = make_model(nodes, {"x": [1, 4]}, ["y"], {"lo": np.array(-2.0, np.float32), "hi": np.array(3.0, np.float32)})
    with pytest.raises(UnsupportedOpError, match=r"Clip node 'odd_clip'"):
        parse_onnx(model)


def test_corrupt_model_is_a_format_error(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x07garbage that is not protobuf")
    with pytest.raises(ModelFormatError):
        load_model(path)


def test_cli_inspects_onnx(tmp_path, capsys):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], "conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], "relu"),
             helper.make_node("Flatten", ["r"], ["f"], "flatten"),
             helper.make_node("Gemm", ["f", "fc"], ["y"], "fc", transB=1)]
    path = tmp_path / "small.onnx"
    path.write_bytes(make_model(nodes, {"x": [1, 2, 4, 4]}, ["y"], {"w": (3, 2, 3, 3), "fc": (5, 48)}))
    assert main(["inspect", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [layer["op"] for layer in info["layers"]] == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]
    assert info["total"]["macs"] == 4 * 4 * 3 * 2 * 9 + 48 * 5


def test_external_weights_are_read_from_the_model_folder(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)]  # unnamed
    model = onnx.load_model_from_string(make_model(nodes, {"x": [1, 8]}, ["y"], {"w": (3, 8)}))
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="ext.weights", size_threshold=0)
    assert (tmp_path / "ext.weights").exists()
    graph = load_model(path)
    check_against_onnxruntime(graph, onnx.load(str(path)).SerializeToString(), [(1, 8)])
    with pytest.raises(ModelFormatError, match="external"):
        parse_onnx(onnx.load(str(path), load_external_data=False))


def test_unnamed_node_is_named_by_its_output():
    nodes = [helper.make_node("Erf", ["x"], ["y"])]
    with pytest.raises(UnsupportedOpError, match=r"unsupported ONNX op Erf \(node \(unnamed, output 'y'\)\)"):
        parse_onnx(make_model(nodes, {"x": [1, 4]}, ["y"], {}))


@pytest.mark.parametrize("axis", [0, 2, -1])
def test_flatten_axes(axis):
    nodes = [helper.make_node("Relu", ["x"], ["r"], "relu"), helper.make_node("Flatten", ["r"], ["y"], axis=axis)]
    check(make_model(nodes, {"x": [2, 3, 4, 5]}, ["y"], {}), [(2, 3, 4, 5)])


@pytest.mark.parametrize("include_pad, average", [
    (0, ["AVERAGE_POOL_2D"]),  # these pads and ceil_mode happen to be TFLite's SAME
    (1, ["PAD", "AVERAGE_POOL_2D", "MUL"]),  # ceil_mode's overhang is left out of the count: rescaled
])
def test_asymmetric_pads_and_ceil_mode(include_pad, average):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], "conv", kernel_shape=[2, 3], pads=[0, 1, 2, 0], strides=[2, 1]),
             helper.make_node("AveragePool", ["c"], ["a"], "avg", kernel_shape=[3, 2], pads=[1, 0, 0, 1], strides=[2, 2],
                              ceil_mode=1, count_include_pad=include_pad),
             helper.make_node("MaxPool", ["c"], ["m"], "max", kernel_shape=[2, 2], pads=[0, 1, 1, 0], strides=[2, 2],
                              ceil_mode=1)]
    model = make_model(nodes, {"x": [1, 2, 9, 8]}, ["a", "m"], {"w": (3, 2, 2, 3)})
    assert check(model, [(1, 2, 9, 8)]) == ["PAD", "CONV_2D", *average, "PADV2", "MAX_POOL_2D"]

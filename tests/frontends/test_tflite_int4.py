"""INT4 weights through .tflite: exported as TFLite INT4 tensors (two values a byte, low nibble first), read
back as marked int4 weights; LiteRT runs the exported model (TFLite Micro its convolutions), bit-exact with the
reference and with the generated C of the re-imported model."""

import numpy as np
import pytest
import tflite

import mcuforge
from mcuforge.errors import ModelFormatError
from mcuforge.frontends.tflite_export import export_tflite
from mcuforge.frontends.tflite_import import parse_tflite
from mcuforge.quant.int4 import is_int4, pack_int4
from tests.golden import check_graph_golden
from tests.quant.float_graphs import inputs_like
from tests.quant.test_int4_conv import conv_variants

WEIGHTS = ("c1_w", "c2_w", "c3_w", "c4_w", "d0_w", "d1_w", "d2_w", "g1_w", "fc_w")


@pytest.fixture(scope="module")
def quantized():
    g = conv_variants()
    return mcuforge.quantize(g, inputs_like(g, 16, seed=2), weights="int4", int4_layers=[
        "c1", "c2", "c3", "c4", "d0", "d1", "d2", "g1", "y"])


def _flatbuffer_tensors(data: bytes) -> dict:
    model = tflite.Model.GetRootAs(data, 0)
    sub = model.Subgraphs(0)
    out = {}
    for i in range(sub.TensorsLength()):
        t = sub.Tensors(i)
        buf = model.Buffers(t.Buffer())
        out[t.Name().decode()] = (t.Type(), buf.DataAsNumpy() if buf.DataLength() else None)
    return out


def test_int4_weights_written_packed(quantized):
    tensors = _flatbuffer_tensors(export_tflite(quantized))
    for name in WEIGHTS:
        kind, raw = tensors[name]
        assert kind == tflite.TensorType.INT4, name
        np.testing.assert_array_equal(raw, pack_int4(quantized.tensors[name].data))
    assert tensors["c1_b"][0] == tflite.TensorType.INT32
    plain = _flatbuffer_tensors(export_tflite(quantized, int4_tensors=False))
    assert all(plain[name][0] == tflite.TensorType.INT8 for name in WEIGHTS)


def test_int4_round_trip(quantized):
    back = parse_tflite(export_tflite(quantized))
    for name, t in quantized.tensors.items():
        r = back.tensors[name]
        assert (r.shape, r.dtype, is_int4(r)) == (t.shape, t.dtype, is_int4(t)), name
        if t.data is not None:
            np.testing.assert_array_equal(r.data, t.data)
        if t.quant is not None:
            np.testing.assert_array_equal(r.quant.scale, t.quant.scale)
            assert r.quant.axis == t.quant.axis
    assert sum(is_int4(t) for t in back.tensors.values()) == len(WEIGHTS)


def test_int4_model_runs_in_litert_and_c(quantized):
    """LiteRT's reference kernels run the INT4 tensors; the re-imported model compiles to the packed kernels."""
    check_graph_golden(quantized, n=8, oracles=("litert",), c_code=True)


def test_int4_convolutions_run_in_tflm():
    g = conv_variants(dense_head=False)
    q = mcuforge.quantize(g, inputs_like(g, 16, seed=2), weights="int4")
    check_graph_golden(q, n=8, oracles=("tflm", "litert"), c_code=False)


def test_truncated_int4_buffer_is_a_format_error(quantized):
    data = bytearray(export_tflite(quantized))
    packed = pack_int4(quantized.tensors["c1_w"].data).tobytes()
    at = bytes(data).index(packed)
    # The buffer's length prefix sits just before its bytes: claim one byte fewer.
    length = int.from_bytes(data[at - 4:at], "little")
    data[at - 4:at] = (length - 1).to_bytes(4, "little")
    with pytest.raises(ModelFormatError, match="c1_w.*packed two per byte"):
        parse_tflite(bytes(data))


def test_cli_quantize_int4_then_compile(tmp_path, capsys):
    """`mcuforge quantize --weights int4` writes INT4 tensors; `mcuforge compile` of that file packs them in flash."""
    from mcuforge.cli import main
    from mcuforge.frontends.tflite_export import save_tflite

    g = conv_variants(dense_head=False)
    model, calibration = tmp_path / "float.tflite", tmp_path / "calibration.npy"
    save_tflite(g, model)
    np.save(calibration, inputs_like(g, 8, seed=4))
    out = tmp_path / "int4.tflite"
    assert main(["quantize", str(model), "--calibration", str(calibration), "--weights", "int4", "-o", str(out)]) == 0
    tensors = _flatbuffer_tensors(out.read_bytes())
    assert all(tensors[name][0] == tflite.TensorType.INT4 for name in WEIGHTS[:-1])
    assert main(["compile", str(out), "-o", str(tmp_path / "c")]) == 0
    source = (tmp_path / "c" / "int4.c").read_text()
    assert "mcuforge_conv_s4(" in source and "mcuforge_depthwise_conv_s4(" in source
    assert "mcuforge_conv_s8" not in source

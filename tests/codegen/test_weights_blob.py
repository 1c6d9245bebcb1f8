"""--weights-blob: weights in a separate, checked binary; the library refuses corrupt, truncated or foreign blobs."""

import subprocess

import numpy as np
import pytest

from mcuforge.codegen.host import build_host
from mcuforge.codegen.project import compile_model
from mcuforge.codegen.weights_blob import ERROR_CODES, HEADER_BYTES
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder


def two_layer_mlp(seed: int):
    b = GraphBuilder(seed=seed)
    x = b.input("x", (1, 32), scale=0.05, zero_point=3)
    w1 = b.int8_weights("w1", (24, 32))
    h = b.op("FULLY_CONNECTED", [x, w1, b.int32_bias("b1", 24, 0.05 * b.graph.tensors[w1].quant.scale)], "h",
             scale=0.3, zero_point=-10, fused_activation_function="RELU")
    w2 = b.int8_weights("w2", (10, 24))
    y = b.op("FULLY_CONNECTED", [h, w2, b.int32_bias("b2", 10, 0.3 * b.graph.tensors[w2].quant.scale)], "y",
             scale=0.5, zero_point=4)
    return b.build(y)


@pytest.fixture(scope="module")
def blob_project(tmp_path_factory):
    graph = two_layer_mlp(seed=7)
    out = tmp_path_factory.mktemp("blob") / "mlp"
    compiled = compile_model(graph, out, name="mlp", weights_blob=True)
    exe = build_host(compiled.outdir, "mlp", sanitize=True)
    return graph, compiled.outdir, exe


def run_with_blob(project, exe, blob: bytes, x: np.ndarray) -> subprocess.CompletedProcess:
    (project / "mlp_weights.bin").write_bytes(blob)
    x.tofile(project / "in.bin")
    return subprocess.run([str(exe), "in.bin", "out.bin"], cwd=project, capture_output=True, text=True)


def test_good_blob_runs_bit_exact(blob_project):
    graph, project, exe = blob_project
    assert "w0[" not in (project / "mlp.c").read_text(), "weights must not be compiled into the library"
    blob = (project / "mlp_weights.bin").read_bytes()
    assert blob[:4] == b"MCFW"
    x = np.random.default_rng(0).integers(-128, 128, (1, 32)).astype(np.int8)
    result = run_with_blob(project, exe, blob, x)
    assert result.returncode == 0, result.stderr
    expected = run_reference(graph, [x])[0]
    assert np.array_equal(np.fromfile(project / "out.bin", np.int8).reshape(expected.shape), expected)


def _expect_error(result, code_name):
    assert result.returncode == 3, result.stderr
    assert f"error {ERROR_CODES[code_name][0]})" in result.stderr, result.stderr


def test_flipped_byte_is_a_crc_error(blob_project):
    graph, project, exe = blob_project
    good = bytearray((project / "mlp_weights.bin").read_bytes())
    good[HEADER_BYTES + 100] ^= 0x01
    _expect_error(run_with_blob(project, exe, bytes(good), np.zeros((1, 32), np.int8)), "ERR_BLOB_CRC")


def test_truncated_blob_is_a_size_error(blob_project):
    graph, project, exe = blob_project
    compiled_blob = compile_model(graph, project.parent / "again", name="mlp", weights_blob=True).outdir
    good = (compiled_blob / "mlp_weights.bin").read_bytes()
    for cut in (10, len(good) - 1):
        _expect_error(run_with_blob(project, exe, good[:cut], np.zeros((1, 32), np.int8)), "ERR_BLOB_SIZE")


def test_blob_of_another_model_is_refused(blob_project, tmp_path):
    _, project, exe = blob_project
    other = two_layer_mlp(seed=8)  # same architecture, other weights and scales
    other.tensors["h"].quant.scale[0] *= 1.5
    foreign = compile_model(other, tmp_path / "other", name="mlp", weights_blob=True).outdir
    blob = (foreign / "mlp_weights.bin").read_bytes()
    _expect_error(run_with_blob(project, exe, blob, np.zeros((1, 32), np.int8)), "ERR_BLOB_MODEL")


def test_bad_magic_and_version(blob_project, tmp_path):
    graph, project, exe = blob_project
    good = compile_model(graph, tmp_path / "v", name="mlp", weights_blob=True).outdir.joinpath("mlp_weights.bin")
    data = bytearray(good.read_bytes())
    data[0] = ord("X")
    _expect_error(run_with_blob(project, exe, bytes(data), np.zeros((1, 32), np.int8)), "ERR_BLOB_MAGIC")
    data = bytearray(good.read_bytes())
    data[4] = 2
    _expect_error(run_with_blob(project, exe, bytes(data), np.zeros((1, 32), np.int8)), "ERR_BLOB_VERSION")

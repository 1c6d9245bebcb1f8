"""Sparse int8 FULLY_CONNECTED weights in the generated C: bit-exact with TFLite Micro / LiteRT, and smaller."""

import numpy as np
import pytest

from mcuforge.codegen.project import render_project
from mcuforge.quant.sparse import (
    flash_saved,
    pack_sparse,
    sparse_bytes,
    unpack_sparse,
    use_sparse,
)
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden


def sparse_fc_graph(zeros: float, per_channel: bool = True, shape=(24, 45), batches: int = 3, seed: int = 0,
                    bias: bool = True, activation: str = "NONE"):
    b = GraphBuilder(seed=seed)
    x = b.input("x", (batches, shape[1]), scale=0.05, zero_point=-3)
    w = b.int8_weights("w", shape, axis=0 if per_channel else None)
    data = b.graph.tensors[w].data
    data[b.rng.random(shape) < zeros] = 0
    bias_name = b.int32_bias("b", shape[0], 0.05 * b.graph.tensors[w].quant.scale) if bias else ""
    y = b.op("FULLY_CONNECTED", [x, w, bias_name], "y", scale=0.4, zero_point=5, fused_activation_function=activation)
    return b.build(y)


def weight_bytes(graph) -> int:
    _, _, sources = render_project(graph, name="model")
    return sum(a.values.nbytes for a in sources.context.arrays if a.is_weight)


def test_pack_round_trip():
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, size=(5, 19)).astype(np.int8)
    w[rng.random(w.shape) < 0.6] = 0
    bitmap, values = pack_sparse(w)
    assert bitmap.size == 5 * 3 and values.size == np.count_nonzero(w)
    np.testing.assert_array_equal(unpack_sparse(bitmap, values, w.shape), w)
    assert sparse_bytes(w) == bitmap.size + values.size


@pytest.mark.parametrize("zeros", [0.5, 0.75, 0.9])
def test_sparse_fc_bit_exact_and_smaller(zeros):
    graph = check_graph_golden(sparse_fc_graph(zeros), sanitize=zeros == 0.75)
    w = graph.tensors["w"]
    assert use_sparse(w)
    dense = w.data.size
    saved = flash_saved(graph)["w"]
    assert 0 < saved and weight_bytes(graph) == dense + graph.tensors["b"].nbytes - saved
    print(f"{zeros:.0%} zeros: dense {dense} B -> sparse {dense - saved} B, saved {saved} B ({saved / dense:.0%})")
    files, _, _ = render_project(graph, name="model")
    assert "fully_connected_sparse_s8.c" in files and "fully_connected_s8.c" not in files


@pytest.mark.parametrize("per_channel, bias, activation, shape, batches",
                         [(False, False, "RELU", (7, 8), 1), (True, True, "RELU6", (10, 33), 2)])
def test_sparse_fc_variants(per_channel, bias, activation, shape, batches):
    graph = check_graph_golden(sparse_fc_graph(0.8, per_channel, shape, batches, seed=3, bias=bias,
                                               activation=activation))
    assert use_sparse(graph.tensors["w"])


def test_all_zero_rows_and_all_zero_weights():
    graph = sparse_fc_graph(0.5, shape=(6, 16))
    graph.tensors["w"].data[:3] = 0
    check_graph_golden(graph, n=10)
    graph = sparse_fc_graph(1.0, shape=(4, 16))
    check_graph_golden(graph, n=5)


def test_dense_weights_stay_dense():
    graph = sparse_fc_graph(0.1)  # bitmap + 90% nonzeros > dense
    assert not use_sparse(graph.tensors["w"]) and flash_saved(graph) == {}
    files, _, _ = render_project(graph, name="model")
    assert "fully_connected_s8.c" in files and "fully_connected_sparse_s8.c" not in files


def test_pruned_torch_model_compiles_sparse_and_bit_exact():
    torch = pytest.importorskip("torch")
    import mcuforge
    from mcuforge.compress.prune import prune_magnitude

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 48), torch.nn.ReLU(), torch.nn.Linear(48, 10)).eval()
    prune_magnitude(net, 0.8, scope="layer").remove()
    calibration = [torch.randn(1, 64).numpy() for _ in range(16)]
    graph = mcuforge.quantize(mcuforge.from_torch(net, torch.randn(1, 64)), calibration)
    saved = flash_saved(graph)
    assert len(saved) == 2 and sum(saved.values()) > 0.6 * (64 * 48 + 48 * 10)
    check_graph_golden(graph, n=10)

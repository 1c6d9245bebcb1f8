"""A magnitude-pruned CNN compiles with its conv filters stored sparse: less flash than the dense filters, and
the generated C gives the very same outputs (bit-exact with the reference, TFLite Micro and LiteRT)."""

import tempfile

import numpy as np
import pytest

from mcuforge.codegen.project import render_project
from mcuforge.ops import conv_2d
from mcuforge.ops.conv_2d_sparse import dense_compute
from mcuforge.quant import sparse
from tests.golden import check_graph_golden, random_inputs, run_generated_c

torch = pytest.importorskip("torch")


def weight_bytes(graph) -> tuple[int, set[str]]:
    """The weights' flash bytes (without the dense filters' DSP padding, ops/conv_2d.py) and the kernels used."""
    _, _, sources = render_project(graph, name="model")
    arrays = [a for a in sources.context.arrays if a.is_weight]
    padding = sum(conv_2d.FILTER_PADDING for a in arrays if conv_2d.FILTER_PADDING_NOTE in a.comment)
    return sum(a.values.nbytes for a in arrays) - padding, sources.kernels


def test_pruned_cnn_compiles_sparse_smaller_and_identical(monkeypatch):
    import mcuforge
    from mcuforge.compress.prune import prune_magnitude

    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(16, 16, 1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    prune_magnitude(net, 0.75, scope="layer").remove()
    net.eval()
    example = torch.randn(1, 1, 8, 8)
    calibration = [torch.rand(1, 8, 8, 1).numpy() for _ in range(16)]
    graph = mcuforge.quantize(mcuforge.from_torch(net, example), calibration)

    saved = sparse.flash_saved(graph)
    convs = [op.inputs[1] for op in graph.ops if op.type == "CONV_2D"]
    assert len(convs) == 3 and set(convs) <= set(saved)
    sparse_flash, kernels = weight_bytes(graph)
    # the dense conv kernel ships only for a pointwise layer run as sparse storage, dense compute (its 1x1 conv)
    dense = any(op.type == "CONV_2D" and dense_compute(op, graph) for op in graph.ops)
    assert "conv_2d_sparse_s8" in kernels and ("conv_2d_s8" in kernels) == dense
    check_graph_golden(graph, n=10)

    rng = np.random.default_rng(1)
    batch = [random_inputs(graph, rng) for _ in range(10)]
    with tempfile.TemporaryDirectory(prefix="mcuforge-sparse-") as workdir:
        sparse_out = run_generated_c(graph, batch, "tflm", f"{workdir}/sparse")
        monkeypatch.setattr(sparse, "MAX_SPARSE_FRACTION", -1.0)  # the same model with dense filters
        dense_flash, kernels = weight_bytes(graph)
        assert "conv_2d_sparse_s8" not in kernels and sparse.flash_saved(graph) == {}
        dense_out = run_generated_c(graph, batch, "tflm", f"{workdir}/dense")
    for s, d in zip(sparse_out, dense_out):
        for a, b in zip(s, d):
            np.testing.assert_array_equal(a, b)
    assert dense_flash - sparse_flash == sum(saved.values())
    assert sparse_flash < 0.6 * dense_flash
    print(f"75% pruned CNN weights: dense {dense_flash} B -> sparse {sparse_flash} B")

"""The sparse weight format shared by FULLY_CONNECTED and CONV_2D (quant/sparse.py): encoding, size and the rule
that picks it."""

import numpy as np
import pytest

from mcuforge.ir.tensor import Quantization, Tensor
from mcuforge.quant.int4 import BITS_KEY
from mcuforge.quant.sparse import (MAX_SPARSE_FRACTION, flash_saved, pack_sparse, sparse_bytes, unpack_sparse,
                                   use_sparse)
from tests.builders import GraphBuilder


def pruned(shape, zeros: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, size=shape).astype(np.int8)
    w[rng.random(shape) < zeros] = 0
    return w


@pytest.mark.parametrize("shape", [(5, 19), (4, 3, 3, 5), (2, 1, 1, 16), (3, 2, 2, 1)])
def test_round_trip_and_layout(shape):
    w = pruned(shape, 0.6)
    bitmap, values = pack_sparse(w)
    depth = int(np.prod(shape[1:]))
    assert bitmap.size == shape[0] * ((depth + 7) // 8) and values.size == np.count_nonzero(w)
    assert sparse_bytes(w) == bitmap.size + values.size
    np.testing.assert_array_equal(unpack_sparse(bitmap, values, shape), w)
    # one row per output channel, filter order (ky, kx, c): bit d % 8 of byte d // 8
    rows = w.reshape(shape[0], -1)
    row_bytes = (depth + 7) // 8
    for r in range(shape[0]):
        for d in range(depth):
            assert (bitmap[r * row_bytes + d // 8] >> (d % 8)) & 1 == (rows[r, d] != 0)
    np.testing.assert_array_equal(values, rows[rows != 0])


def test_depthwise_rows_are_output_channels():
    w = pruned((1, 3, 3, 6), 0.7, seed=2)
    bitmap, values = pack_sparse(w, axis=3)
    assert bitmap.size == 6 * 2 and sparse_bytes(w, axis=3) == 12 + np.count_nonzero(w)
    rows = w.reshape(9, 6).T  # channel c: taps (ky, kx) in order
    np.testing.assert_array_equal(values, rows[rows != 0])
    np.testing.assert_array_equal(unpack_sparse(bitmap, values, w.shape, axis=3), w)


def weights_tensor(data, zero_point=0, dtype="int8", bits=None):
    n = data.shape[0]
    t = Tensor("w", tuple(data.shape), dtype, data=data,
               quant=Quantization(np.full(n, 0.01, np.float32), np.full(n, zero_point, np.int64), 0))
    if bits:
        t.meta[BITS_KEY] = bits
    return t


def test_rule():
    w = pruned((8, 3, 3, 16), 0.75)
    assert sparse_bytes(w) <= MAX_SPARSE_FRACTION * w.size and use_sparse(weights_tensor(w))
    assert not use_sparse(weights_tensor(pruned((8, 3, 3, 16), 0.2)))  # too dense
    assert not use_sparse(weights_tensor(w, zero_point=1))  # asymmetric
    assert not use_sparse(weights_tensor(np.clip(w, -7, 7), bits=4))  # INT4 packs its own way
    assert not use_sparse(weights_tensor(w.astype(np.float32), dtype="float32"))
    thin = np.zeros((8, 1, 1, 3), np.int8)
    thin[..., 0] = 5  # 2/3 zeros, yet 3 weights a row cost 1 bitmap byte + 1 nonzero: 2/3 of the dense bytes
    thin[:4, ..., 1] = -3  # ... and more with a few second nonzeros
    assert sparse_bytes(thin) > MAX_SPARSE_FRACTION * thin.size and not use_sparse(weights_tensor(thin))


def test_flash_saved_counts_fc_and_conv():
    b = GraphBuilder(seed=1)
    x = b.input("x", (1, 6, 6, 8), scale=0.05, zero_point=-3)
    wc = b.int8_weights("wc", (16, 3, 3, 8))
    b.graph.tensors[wc].data[b.rng.random((16, 3, 3, 8)) < 0.8] = 0
    c = b.op("CONV_2D", [x, wc, ""], "c", scale=0.2, padding="VALID")
    r = b.op("RESHAPE", [c], "r", scale=0.2, new_shape=[1, 16 * 4 * 4])
    wf = b.int8_weights("wf", (10, 256))
    b.graph.tensors[wf].data[b.rng.random((10, 256)) < 0.9] = 0
    graph = b.build(b.op("FULLY_CONNECTED", [r, wf, ""], "y", scale=0.3))
    saved = flash_saved(graph)
    assert set(saved) == {"wc", "wf"}
    for name in saved:
        data = graph.tensors[name].data
        assert saved[name] == data.size - sparse_bytes(data) > 0

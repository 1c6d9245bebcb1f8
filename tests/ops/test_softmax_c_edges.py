"""The int8 SOFTMAX C kernel (kernels/softmax_s8.c) where the oracles cannot follow: rows whose exps sum to 512
or more (TFLite aborts, the reference interpreter raises) give the minimum output, under ASan/UBSan; rows just
under that bound, next to them in the same tensor, still equal the reference."""

import numpy as np

from mcuforge.codegen.host import build_host, run_host
from mcuforge.codegen.project import compile_model
from mcuforge.runtime.reference import run_reference
from tests.ops.test_softmax import softmax_graph


def test_rows_summing_past_512_give_the_minimum(tmp_path):
    graph = softmax_graph((3, 600), 0.05, 0)
    exe = build_host(compile_model(graph, tmp_path / "lib", name="model").outdir, "model", sanitize=True)
    x = np.full((3, 600), -128, np.int8)
    x[0] = 0                        # 600 values at the max: the sum is 600 (exponent 32)
    x[1, :100] = 0                  # 100 at the max, the rest far below: an ordinary row
    x[2] = np.arange(600) % 2       # 300 values at the max, 300 just below (exp 0.95): a sum past 512
    got = run_host(exe, graph, [[x]])[0][0]
    assert (got[0] == -128).all() and (got[2] == -128).all()
    ordinary = run_reference(softmax_graph((1, 600), 0.05, 0), [x[1:2]])[0]
    np.testing.assert_array_equal(got[1:2], ordinary)

"""The float32 reference kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MEAN) sum in
float32 in TFLite's reference loop order. The float KWS model shows why: its hybrid CONV_2D layers re-quantize
their float input to int8, so one ulp upstream can flip a rounding and move the softmax by ~1e-4 (float64 sums
did, e.g. on the second record of seed 7). The reference interpreter must equal LiteRT within 1e-6 (SOFTMAX's
exp may still differ from libm's expf by an ulp)."""

import numpy as np

from mcuforge.frontends import load_model
from mcuforge.runtime.reference import run_reference
from tests.conftest import shared_model
from tests.oracles import LiteRT


def test_kws_float_reference_equals_litert():
    path = shared_model("kws_float")
    graph = load_model(path)
    litert = LiteRT(path.read_bytes())
    for seed in range(1, 8):  # 3 standard normal records per seed, as tests/targets' random_batch draws them
        rng = np.random.default_rng(seed)
        for k in range(3):
            record = [rng.standard_normal(graph.tensors[name].shape).astype(np.float32) for name in graph.inputs]
            for i, (ours, theirs) in enumerate(zip(run_reference(graph, record), litert(record))):
                np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6,
                                           err_msg=f"seed {seed} record {k}, output {i}")

"""The MLPerf Tiny reference models: our interpreter and our generated C equal TFLite Micro and LiteRT bit for bit
(50 seeded random inputs each; the float model within 1e-5), and the C runs clean under ASan/UBSan."""

import pytest

from tests.conftest import SHARED_MODELS, shared_model
from tests.golden import check_model_golden


# TFLite Micro has no hybrid kernels (float activations, int8 weights), which the float KWS model's CONV_2D is.
ORACLES = {"kws_float": ("litert",)}


@pytest.mark.parametrize("key", sorted(SHARED_MODELS))
def test_shared_model_bit_exact(key):
    check_model_golden(shared_model(key).read_bytes(), oracles=ORACLES.get(key, ("tflm", "litert")), c_code=True,
                       sanitize=True)

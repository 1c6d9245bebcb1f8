import importlib
import os
from pathlib import Path

import pytest

if os.environ.get("CI") == "true":
    # In CI every optional dependency is installed by the set-up, so a missing one is a failure, not a skip:
    # `pytest.importorskip` becomes a plain import there (an ImportError fails the test or module).
    def _import_or_fail(modname: str, minversion=None, reason=None, **kwargs):
        return importlib.import_module(modname)

    pytest.importorskip = _import_or_fail

MODELS_DIR = Path(os.environ.get("MCUFORGE_MODELS", Path(__file__).resolve().parents[2] / "shared" / "models"))
SHARED_MODELS = {
    "kws": "kws_ref_model.tflite",
    "kws_float": "kws_ref_model_float32.tflite",
    "vww": "vww_96_int8.tflite",
    "ic": "pretrainedResnet_quant.tflite",
    "ad": "ad01_int8.tflite",
}


def shared_model(key: str) -> Path:
    """Path of a shared MLPerf Tiny model. Missing models fail in CI and skip elsewhere."""
    path = MODELS_DIR / SHARED_MODELS[key]
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared model {path} is missing")
        pytest.skip(f"shared model {path} not found")
    return path


@pytest.fixture(params=sorted(SHARED_MODELS))
def shared_model_path(request) -> Path:
    return shared_model(request.param)


@pytest.fixture
def one_thread():
    """PyTorch on one thread for the test: tiny models only pay overhead (and contention) for more."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


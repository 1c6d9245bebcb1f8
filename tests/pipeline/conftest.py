import os
import shutil

import numpy as np
import pytest
import yaml

from mcuforge.pipeline.data import Dataset, register_provider

TINY_SHAPE = (1, 12, 8)  # DS-CNN's [1, frames, coefficients] at toy size
TINY_CLASSES = ("a", "b", "c")


def tiny_provider(params: dict, where: str) -> Dataset:
    """Three classes, each a fixed random pattern plus noise: learnable in one or two epochs. `count` samples per
    split and class; an extra "test_shifted" split (noisier) stands for a test set from another source."""
    count, seed = params.get("count", 40), params.get("seed", 0)
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(len(TINY_CLASSES), *TINY_SHAPE)).astype(np.float32)

    def split(k: int, noise: float):
        r = np.random.default_rng([seed, k])
        y = np.repeat(np.arange(len(TINY_CLASSES)), count)
        return (prototypes[y] + noise * r.normal(size=(len(y), *TINY_SHAPE))).astype(np.float32), y

    splits = {"train": split(1, 0.5), "val": split(2, 0.5), "test": split(3, 0.5), "test_shifted": split(4, 1.0)}
    return Dataset("classification", splits, TINY_CLASSES, "tiny synthetic patterns",
                   notes={"test_shifted": "noisier patterns"})


register_provider("tiny-synth", tiny_provider)

TINY_CONFIG = {
    "name": "tiny",
    "data": {"provider": "tiny-synth", "count": 40},
    "model": {"arch": "ds_cnn", "width": 8, "blocks": 1},
    "train": {"epochs": 3, "batch_size": 16, "lr": 0.01},
    "quantize": {"calibration_samples": 32},
    "verify": {"samples": 6},
}


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every pipeline test trains tiny models: one torch thread (tests/conftest.py)."""


def write_config(tmp_path, document: dict, name: str = "tiny.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def require_emulator():
    """The build and verify stages need arm-none-eabi-gcc and qemu-system-arm: required in CI."""
    missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} not found (required in CI)")
        pytest.skip(f"{', '.join(missing)} not found")

"""Data providers: the registry, the anomaly simulator's splits, .npz files, and parameter errors."""

import numpy as np
import pytest

from mcuforge.pipeline.config import ConfigError
from mcuforge.pipeline.data import PROVIDERS, load_dataset


def test_registry_lists_the_providers():
    assert {"kws-synth", "vww", "anomaly-sim", "npz"} <= set(PROVIDERS)
    with pytest.raises(ConfigError, match=r"^a.yaml: data.provider 'mnist' is not a data provider \(providers: "):
        load_dataset({"provider": "mnist"}, "a.yaml")


def test_anomaly_sim_splits():
    data = load_dataset({"provider": "anomaly-sim", "train": 12, "val": 4, "test_per_class": 3, "seed": 1}, "a.yaml")
    assert data.task == "anomaly" and data.classes[0] == "normal" and len(data.classes) == 5
    x, y = data.splits["train"]
    assert x.shape == (12, 64) and x.dtype == np.float32 and not y.any()
    # standardized on the normal training clips
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-4)
    assert np.array_equal(data.splits["test"][1], np.repeat(np.arange(5), 3))
    assert len(data.meta["standardizer"]["mean"]) == 64 and data.test_splits == ["test"]


def test_provider_parameter_errors():
    with pytest.raises(ConfigError, match=r"^a.yaml: data.trian is not a parameter of AnomalySimConfig "
                                          r"\(parameters: train, val, test_per_class, seed\)$"):
        load_dataset({"provider": "anomaly-sim", "trian": 3}, "a.yaml")
    with pytest.raises(ConfigError, match=r"^a.yaml: data: train must be a positive integer, got 0$"):
        load_dataset({"provider": "anomaly-sim", "train": 0}, "a.yaml")
    # checked before any speech is synthesized
    with pytest.raises(ConfigError, match=r"^a.yaml: data.clips is not a parameter of KwsDataConfig"):
        load_dataset({"provider": "kws-synth", "clips": 3}, "a.yaml")


def test_npz_files(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {f"{p}_{s}": (rng.normal(size=(6, 4)).astype(np.float32) if p == "x" else rng.integers(0, 3, 6))
              for s in ("train", "val", "test", "field") for p in ("x", "y")}
    np.savez(tmp_path / "d.npz", **arrays)
    data = load_dataset({"provider": "npz", "path": str(tmp_path / "d.npz"), "classes": ["u", "v", "w"]}, "a.yaml")
    assert data.test_splits == ["test", "field"] and data.classes == ("u", "v", "w")
    np.testing.assert_array_equal(data.splits["field"][0], arrays["x_field"])
    assert data.splits["val"][1].dtype == np.int64
    np.savez(tmp_path / "partial.npz", x_train=arrays["x_train"], y_train=arrays["y_train"])
    with pytest.raises(ConfigError, match=r"partial.npz has no x_val / y_val arrays$"):
        load_dataset({"provider": "npz", "path": str(tmp_path / "partial.npz")}, "a.yaml")
    with pytest.raises(ConfigError, match=r"data.path: .*nothere.npz: no such file$"):
        load_dataset({"provider": "npz", "path": str(tmp_path / "nothere.npz")}, "a.yaml")


def test_inconsistent_provider_output_is_refused(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=np.zeros((4, 3)), y_train=np.zeros(4), x_val=np.zeros((2, 5)),
             y_val=np.zeros(2), x_test=np.zeros((2, 3)), y_test=np.zeros(2))
    with pytest.raises(ConfigError, match=r"split 'val' has samples of shape \[5\], train \[3\]"):
        load_dataset({"provider": "npz", "path": str(tmp_path / "d.npz")}, "a.yaml")


def _require(tool: str):
    import os
    import shutil

    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} not found (required in CI)")
        pytest.skip(f"{tool} not found")


def test_kws_synth_provider_adds_the_channel_axis_and_labels_the_flite_split():
    _require("espeak-ng")
    _require("flite")
    from mcuforge.apps.kws.synth import KWS_LABELS

    data = load_dataset({"provider": "kws-synth", "clips_per_keyword": 3, "train_copies": 1,
                         "flite_speeds": [150]}, "k.yaml")
    assert data.task == "classification" and data.classes == tuple(KWS_LABELS) and data.sample_shape == (1, 49, 10)
    assert data.test_splits == ["test", "test_flite"] and "never heard in training" in data.notes["test_flite"]
    assert set(np.unique(data.splits["train"][1])) <= set(range(12))


def test_vww_provider_gives_nchw_images():
    data = load_dataset({"provider": "vww", "resolution": 16, "train_copies": 1, "negative_crops": 10}, "v.yaml")
    x, y = data.splits["train"]
    assert data.classes == ("no_person", "person") and data.sample_shape == (3, 16, 16)
    assert 0.0 <= x.min() and x.max() <= 1.0 and set(np.unique(y)) == {0, 1}
    with pytest.raises(ConfigError, match=r"^v.yaml: data: vww data: resolution must be in 8..512, got 4$"):
        load_dataset({"provider": "vww", "resolution": 4}, "v.yaml")

"""Visual wake words data: the PyPI proxy (lfw_subset + bundled photos) and the person/ no_person/ folder layout,
seeded splits that never share a source image between train and test."""

import matplotlib.image
import numpy as np
import pytest

from mcuforge.apps.vww.dataset import VwwDataConfig, split_sources, vww_splits
from mcuforge.errors import InputError

SMALL = {"resolution": 16, "train_copies": 2, "negative_crops": 40}


def test_proxy_splits_shapes_labels_and_determinism():
    config = VwwDataConfig(channels=1, **SMALL)
    splits = vww_splits(config)
    sizes = {}
    for name, (x, y) in splits.items():
        assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape[1:] == (1, 16, 16) and len(x) == len(y)
        assert 0 <= x.min() and x.max() <= 1 and set(np.unique(y)) == {0, 1}
        sizes[name] = len(y)
    # 100 faces + 100 lfw non-faces + 40 crops; every training image twice (augmented)
    assert sizes["train"] % 2 == 0 and sizes["train"] // 2 + sizes["val"] + sizes["test"] == 240
    assert 0.2 < splits["test"][1].mean() < 0.6
    again = vww_splits(config)
    assert all(np.array_equal(splits[k][0], again[k][0]) for k in splits)
    other = vww_splits(VwwDataConfig(channels=1, seed=1, **SMALL))
    assert not np.array_equal(splits["test"][0], other["test"][0])
    rgb = vww_splits(VwwDataConfig(channels=3, **SMALL))["test"][0]
    assert rgb.shape[1] == 3 and np.array_equal(rgb[:, 0], rgb[:, 2])  # grayscale proxy, replicated


def test_splits_never_share_a_source_image():
    sources, splits = split_sources(VwwDataConfig(**SMALL))
    groups = {name: {s.group for s, split in zip(sources, splits) if split == name} for name in ("train", "val", "test")}
    assert not groups["train"] & groups["test"] and not groups["val"] & groups["test"]
    photos = {g for g in groups["test"] if not g.startswith("lfw/")}
    assert photos and all(s.group not in photos for s, split in zip(sources, splits) if split == "train")
    names = " ".join(s.group for s in sources)
    assert "astronaut" not in names and "camera.png" not in names and "grace_hopper" not in names
    assert all(s.image.shape == (25, 25, 1) for s in sources)  # photo crops reduced like lfw_subset


def test_folder_layout(tmp_path):
    rng = np.random.default_rng(0)
    for label, name in enumerate(("no_person", "person")):
        (tmp_path / name).mkdir()
        for i in range(6):
            h, w = int(rng.integers(20, 90)), int(rng.integers(20, 90))
            image = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
            image[..., 0] = 255 * label  # red = person: learnable, and checks colour survives
            matplotlib.image.imsave(tmp_path / name / f"{i}.{'png' if i % 2 else 'jpg'}", image)
    splits = vww_splits(VwwDataConfig(folder=str(tmp_path), resolution=24, train_copies=1, flip=False,
                                      scale_jitter=0, brightness=0, contrast=0))
    x, y = (np.concatenate([splits[k][i] for k in splits]) for i in (0, 1))
    assert x.shape == (12, 3, 24, 24) and sorted(y.tolist()) == [0] * 6 + [1] * 6
    red = x[:, 0].mean(axis=(1, 2))
    assert np.all(red[y == 1] > 0.8) and np.all(red[y == 0] < 0.2)  # JPEG blurs the chroma


def test_folder_errors(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        vww_splits(VwwDataConfig(folder=str(tmp_path / "missing")))
    (tmp_path / "person").mkdir()
    matplotlib.image.imsave(tmp_path / "person" / "a.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError, match=r"no_person/ is missing"):
        vww_splits(VwwDataConfig(folder=str(tmp_path)))
    (tmp_path / "no_person").mkdir()
    (tmp_path / "no_person" / "b.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="b.jpg: cannot read image"):
        vww_splits(VwwDataConfig(folder=str(tmp_path)))
    with pytest.raises(InputError, match="channels"):
        vww_splits(VwwDataConfig(channels=2))

"""Visual wake words data: person / no-person images -> seeded train / val / test splits for a classifier.

Sources: a folder with `person/` and `no_person/` subfolders of images (any size, any format matplotlib reads),
or by default a proxy made only of images that ship inside PyPI packages (no download): scikit-image's
`lfw_subset` (100 faces = person, 100 LFW background patches = no person) plus random crops of the photos bundled
with scikit-image and matplotlib that show no person. The proxy is grayscale at 25x25 like lfw_subset: photo crops
are reduced to that size and to luma so that neither colour nor sharpness gives the class away.

Every source image belongs to one split only (all crops of one photo stay together), chosen per class with the
seed. Images are cropped and resized with the camera adapter's integer bilinear resize (camera.py), so the model
trains on what the microcontroller will feed it; training images are augmented (flip, crop/scale jitter,
brightness/contrast), validation and test images take the centred square crop as the camera does."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.apps.vww.camera import center_crop, convert_channels, resize_bilinear
from mcuforge.errors import InputError

CLASSES = ("no_person", "person")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")
PROXY_SIZE = 25  # lfw_subset's side
# Photos bundled with scikit-image (skimage/data) and matplotlib (mpl-data/sample_data) that show no person.
# Left out on purpose: astronaut, camera (cameraman), no_time_for_that_tiny (people); grace_hopper (matplotlib);
# tiny or synthetic ones (chessboards, multipage tifs).
SKIMAGE_NEGATIVE_PHOTOS = ("brick.png", "cell.png", "chelsea.png", "clock_motion.png", "coffee.png", "coins.png",
                           "color.png", "grass.png", "gravel.png", "horse.png", "hubble_deep_field.jpg", "ihc.png",
                           "logo.png", "microaneurysms.png", "moon.png", "motorcycle_left.png",
                           "motorcycle_right.png", "page.png", "phantom.png", "retina.jpg", "rocket.jpg", "text.png")
MATPLOTLIB_NEGATIVE_PHOTOS = ("Minduka_Present_Blue_Pack.png", "logo2.png")


@dataclass(frozen=True)
class VwwDataConfig:
    resolution: int = 48
    channels: int = 3
    flip: bool = True
    scale_jitter: float = 0.2      # training crops keep a random 1 - jitter .. 1 of the square's side
    brightness: float = 0.1        # training images get + U(-b, b)
    contrast: float = 0.2          # and are scaled by 1 + U(-c, c) around their mean
    train_copies: int = 4          # augmented copies of each training image
    negative_crops: int = 100      # proxy only: no-person crops of the bundled photos
    val_fraction: float = 0.15
    test_fraction: float = 0.25
    seed: int = 0
    folder: str | None = None

    def check(self) -> VwwDataConfig:
        if not 8 <= self.resolution <= 512:
            raise InputError(f"vww data: resolution must be in 8..512, got {self.resolution}")
        if self.channels not in (1, 3):
            raise InputError(f"vww data: channels must be 1 or 3, got {self.channels}")
        if not (0 <= self.scale_jitter < 1 and 0 <= self.brightness <= 1 and 0 <= self.contrast < 1):
            raise InputError("vww data: scale_jitter and contrast must be in [0, 1), brightness in [0, 1]")
        if self.train_copies < 1 or self.negative_crops < 0:
            raise InputError("vww data: train_copies must be >= 1 and negative_crops >= 0")
        if not (0 < self.test_fraction and 0 <= self.val_fraction and self.val_fraction + self.test_fraction < 1):
            raise InputError("vww data: test_fraction must be > 0, val_fraction >= 0, and their sum < 1")
        return self


@dataclass
class Source:
    """One original image (uint8 [H, W, 1 or 3]) with its label and the group it must not be split from."""
    image: np.ndarray
    label: int
    group: str


# --- reading images ---------------------------------------------------------------------------------------------

def to_uint8(image: np.ndarray, where: str) -> np.ndarray:
    """uint8 [H, W, 1 or 3] from what image readers return: gray or RGB(A), uint8 / uint16 / float in [0, 1].
    Transparent pixels are composited over white."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4) or min(image.shape[:2]) < 1:
        raise InputError(f"{where}: not an image (shape {list(image.shape)})")
    if image.dtype == np.uint8:
        x = image.astype(np.float32) / 255
    elif image.dtype == np.uint16:
        x = image.astype(np.float32) / 65535
    else:
        x = np.clip(image.astype(np.float32), 0, 1)
    if image.shape[2] in (2, 4):  # gray+alpha or RGBA
        alpha = x[:, :, -1:]
        x = x[:, :, :-1] * alpha + (1 - alpha)
    return np.round(x * 255).astype(np.uint8)


def read_image(path: Path) -> np.ndarray:
    import matplotlib.image

    try:
        image = matplotlib.image.imread(path)
    except (OSError, ValueError, SyntaxError) as e:  # what Pillow and matplotlib raise for unreadable files
        raise InputError(f"{path}: cannot read image ({type(e).__name__}: {e})") from None
    if image.ndim == 4:  # animated: first frame
        image = image[0]
    return to_uint8(image, str(path))


def folder_sources(folder: str | Path) -> list[Source]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory (expected one with person/ and no_person/ subfolders)")
    sources = []
    for label, name in enumerate(CLASSES):
        sub = folder / name
        files = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if sub.is_dir() else []
        if not files:
            raise InputError(f"{folder}: expected subfolders person/ and no_person/ with images "
                             f"({', '.join(IMAGE_SUFFIXES)}); {name}/ is missing or has none")
        sources += [Source(read_image(p), label, str(p)) for p in files]
    return sources


# --- the PyPI proxy ---------------------------------------------------------------------------------------------

@functools.cache
def _package_photos() -> tuple[tuple[str, np.ndarray], ...]:
    """(name, read-only uint8 image) of each bundled negative photo, decoded once per process."""
    import matplotlib
    import skimage

    skimage_dir = Path(skimage.__file__).parent / "data"
    mpl_dir = Path(matplotlib.get_data_path()) / "sample_data"
    paths = [(f"skimage/{n}", skimage_dir / n) for n in SKIMAGE_NEGATIVE_PHOTOS]
    paths += [(f"matplotlib/{n}", mpl_dir / n) for n in MATPLOTLIB_NEGATIVE_PHOTOS]
    photos = []
    for name, path in paths:
        if path.is_file():
            image = read_image(path)
            image.flags.writeable = False
            photos.append((name, image))
    return tuple(photos)


def _to_proxy(image: np.ndarray) -> np.ndarray:
    """A photo crop as lfw_subset looks: 25x25 luma, low-pass filtered before the reduction (no aliasing)."""
    from skimage.transform import resize

    gray = convert_channels(image, 1)[:, :, 0].astype(np.float64)
    small = resize(gray, (PROXY_SIZE, PROXY_SIZE), order=1, anti_aliasing=True, preserve_range=True)
    return np.clip(np.round(small), 0, 255).astype(np.uint8)[:, :, None]


def photo_crops(count: int, rng: np.random.Generator) -> list[Source]:
    """`count` square crops (10-60 % of the short side, random place) spread evenly over the negative photos."""
    photos = _package_photos()
    sources = []
    for k, (name, image) in enumerate(photos):
        h, w = image.shape[:2]
        for _ in range(count // len(photos) + (k < count % len(photos))):
            side = max(PROXY_SIZE, int(min(h, w) * rng.uniform(0.1, 0.6)))
            side = min(side, h, w)
            y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            sources.append(Source(_to_proxy(image[y:y + side, x:x + side]), 0, name))
    return sources


def proxy_sources(config: VwwDataConfig) -> list[Source]:
    try:
        from skimage.data import lfw_subset
    except ImportError:
        raise InputError("vww data: the lfw proxy needs scikit-image (pip install 'mcuforge[apps]')") from None

    # float [200, 25, 25] in [0, 1]: 100 faces, then 100 background patches of the same photos
    sources = [Source(to_uint8(img, "skimage.data.lfw_subset"), int(i < 100), f"lfw/{i}")
               for i, img in enumerate(lfw_subset())]
    return sources + photo_crops(config.negative_crops, np.random.default_rng([config.seed, 1]))


# --- splits and rendering ---------------------------------------------------------------------------------------

def assign_splits(sources: list[Source], config: VwwDataConfig, rng: np.random.Generator) -> list[str]:
    """The split of each source: groups are shuffled and cut per class and per family (lfw / photo / file), so
    each split gets its share of every kind of image and no group straddles two splits."""
    strata: dict[tuple[int, str], dict[str, None]] = {}  # dicts as ordered sets
    for s in sources:
        family = "lfw" if s.group.startswith("lfw/") else "other"
        strata.setdefault((s.label, family), {})[s.group] = None
    split_of = {}
    for key in sorted(strata):
        members = list(strata[key])
        groups = [members[i] for i in rng.permutation(len(members))]
        n_test = max(1, round(config.test_fraction * len(groups))) if len(groups) > 1 else 0
        n_val = round(config.val_fraction * len(groups)) if len(groups) > n_test + 1 else 0
        for i, g in enumerate(groups):
            split_of[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return [split_of[s.group] for s in sources]


def render(image: np.ndarray, config: VwwDataConfig, rng: np.random.Generator | None) -> np.ndarray:
    """float32 [C, R, R] in [0, 1]: centred square crop (jittered in size and place, flipped, brightness and
    contrast changed when `rng` is given), resized with the camera adapter's integer bilinear resize."""
    h, w = image.shape[:2]
    x, y, side, _ = center_crop(w, h)
    if rng is not None and config.scale_jitter > 0:
        side = max(1, round(side * rng.uniform(1 - config.scale_jitter, 1)))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
    pixels = convert_channels(resize_bilinear(image[y:y + side, x:x + side], config.resolution), config.channels)
    out = pixels.astype(np.float32).transpose(2, 0, 1) / 255
    if rng is None:
        return out
    if config.flip and rng.random() < 0.5:
        out = out[:, :, ::-1]
    mean = out.mean()
    out = (out - mean) * (1 + rng.uniform(-config.contrast, config.contrast)) + mean
    out = out + rng.uniform(-config.brightness, config.brightness)
    return np.clip(out, 0, 1).astype(np.float32)


def split_sources(config: VwwDataConfig) -> tuple[list[Source], list[str]]:
    """The source images of `config` and the split ("train", "val" or "test") of each."""
    config = config.check()
    sources = folder_sources(config.folder) if config.folder else proxy_sources(config)
    return sources, assign_splits(sources, config, np.random.default_rng([config.seed, 2]))


def vww_splits(config: VwwDataConfig | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train", "val", "test"}: (x float32 [N, C, R, R] in [0, 1], y int64 with 0 = no_person, 1 = person)."""
    config = (config or VwwDataConfig()).check()
    sources, splits = split_sources(config)
    rng = np.random.default_rng([config.seed, 3])
    out = {}
    for name in ("train", "val", "test"):
        members = [s for s, split in zip(sources, splits) if split == name]
        copies = config.train_copies if name == "train" else 1
        xs = [render(s.image, config, rng if name == "train" else None) for s in members for _ in range(copies)]
        ys = [s.label for s in members for _ in range(copies)]
        shape = (0, config.channels, config.resolution, config.resolution)
        out[name] = (np.stack(xs) if xs else np.zeros(shape, np.float32), np.asarray(ys, dtype=np.int64))
    return out

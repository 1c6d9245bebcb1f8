"""Data providers of the pipeline: `data.provider` in the configuration names one, its other fields are the
provider's parameters. Each returns a Dataset: float32 inputs in the zoo models' layout (NCHW for images and
spectrograms, [N, F] for feature vectors), int64 labels, split by name ("train", "val", "test", and any extra
test split, e.g. KWS's "test_flite": a speech synthesizer never heard in training, reported apart).

Providers: kws-synth (mcuforge.apps.kws.dataset), vww (mcuforge.apps.vww.dataset), anomaly-sim (the vibration
simulator of mcuforge.apps.anomaly; task "anomaly": train and val hold normal clips only, test every fault type)
and npz (arrays in a file: x_train, y_train, x_val, y_val, x_test, y_test, and more x_NAME / y_NAME test splits).
register_provider adds one."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.errors import InputError
from mcuforge.pipeline.config import ConfigError

TASKS = ("classification", "anomaly")
REQUIRED_SPLITS = ("train", "val", "test")
# What the extra test splits known to the providers are (others are reported as "extra test split").
SPLIT_NOTES = {"test_flite": "flite voices: a speech synthesizer never heard in training"}


@dataclass
class Dataset:
    task: str  # "classification" (labels are class indices) or "anomaly" (label 0 = normal, k = classes[k])
    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    classes: tuple[str, ...]
    description: str
    meta: dict = field(default_factory=dict)  # what deployment needs to reproduce the inputs (e.g. standardizer)
    notes: dict[str, str] = field(default_factory=dict)  # split -> what it is

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.splits["train"][0].shape[1:])

    @property
    def test_splits(self) -> list[str]:
        """"test" first, then the extra test splits in the provider's order."""
        return ["test"] + [s for s in self.splits if s not in REQUIRED_SPLITS]

    def counts(self) -> str:
        return ", ".join(f"{name} {len(x):,}" for name, (x, _) in self.splits.items())


Provider = Callable[[dict, str], Dataset]  # (parameters, "file: data" for error messages) -> Dataset
PROVIDERS: dict[str, Provider] = {}


def register_provider(name: str, provider: Provider) -> None:
    PROVIDERS[name] = provider


def check_dataset(dataset: Dataset, where: str) -> Dataset:
    """Splits present, float32 inputs and int64 labels of matching lengths, one sample shape."""
    if dataset.task not in TASKS:
        raise ConfigError(f"{where}: the provider's task {dataset.task!r} is not one of {', '.join(TASKS)}")
    missing = [s for s in REQUIRED_SPLITS if s not in dataset.splits]
    if missing:
        raise ConfigError(f"{where}: the provider gave no {missing[0]!r} split")
    shape = None
    for name, (x, y) in list(dataset.splits.items()):
        x, y = np.asarray(x, np.float32), np.asarray(y).astype(np.int64)
        if len(x) == 0 or len(x) != len(y) or y.ndim != 1:
            raise ConfigError(f"{where}: split {name!r} has {len(x)} inputs and labels of shape {list(y.shape)}")
        if shape is not None and x.shape[1:] != shape:
            raise ConfigError(f"{where}: split {name!r} has samples of shape {list(x.shape[1:])}, train "
                              f"{list(shape)}")
        shape = x.shape[1:]
        dataset.splits[name] = (x, y)
    return dataset


def load_dataset(data: dict, path: str) -> Dataset:
    """The Dataset of a configuration's `data` section."""
    name = data["provider"]
    if name not in PROVIDERS:
        raise ConfigError(f"{path}: data.provider {name!r} is not a data provider (providers: "
                          f"{', '.join(sorted(PROVIDERS))})")
    params = {k: v for k, v in data.items() if k != "provider"}
    return check_dataset(PROVIDERS[name](params, f"{path}: data"), f"{path}: data ({name})")


def make_config(config_class, params: dict, where: str):
    """A provider's frozen config dataclass from the YAML fields, each unknown or rejected field named."""
    known = [f.name for f in dataclasses.fields(config_class)]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]} is not a parameter of {config_class.__name__} "
                          f"(parameters: {', '.join(known)})")
    try:
        config = config_class(**params)
        return config.check() if hasattr(config, "check") else config
    except (TypeError, ValueError, InputError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _app_module(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise ConfigError(f"data provider {what}: {module} is not available in this installation") from None
        raise


# --- the providers ----------------------------------------------------------------------------------------------

def kws_synth(params: dict, where: str) -> Dataset:
    """Keyword spotting on synthesized speech (apps/kws/dataset.py): MFCC [49, 10] as DS-CNN's [1, 49, 10]."""
    dataset = _app_module("mcuforge.apps.kws.dataset", "kws-synth")
    from mcuforge.apps.kws.synth import KWS_LABELS

    config = make_config(dataset.KwsDataConfig, params, where)
    splits = {name: (np.asarray(x, np.float32)[:, None], y) for name, (x, y) in dataset.kws_splits(config).items()}
    return Dataset("classification", splits, tuple(KWS_LABELS),
                   f"keyword spotting on speech synthesized with espeak-ng, split by voice ({config.clips_per_keyword} "
                   f"utterances per keyword, {config.train_copies} augmented training copies)",
                   meta={"features": "MFCC (mcuforge.apps.kws.mfcc, preset mlperf-kws) [49 frames, 10 coefficients]",
                         "config": dataclasses.asdict(config)},
                   notes={s: SPLIT_NOTES.get(s, "extra test split") for s in splits if s not in REQUIRED_SPLITS})


def vww(params: dict, where: str) -> Dataset:
    """Visual wake words proxy (apps/vww/dataset.py): NCHW images in [0, 1], 0 no_person, 1 person."""
    dataset = _app_module("mcuforge.apps.vww.dataset", "vww")
    config = make_config(dataset.VwwDataConfig, params, where)
    splits = dict(dataset.vww_splits(config))
    source = config.folder or "images shipped in PyPI packages (scikit-image lfw_subset, bundled photos)"
    return Dataset("classification", splits, ("no_person", "person"),
                   f"visual wake words, {config.resolution}x{config.resolution}x{config.channels} images from {source}",
                   meta={"config": dataclasses.asdict(config)},
                   notes={s: SPLIT_NOTES.get(s, "extra test split") for s in splits if s not in REQUIRED_SPLITS})


@dataclass(frozen=True)
class AnomalySimConfig:
    train: int = 600  # normal clips to train on
    val: int = 200  # normal clips for the alarm threshold
    test_per_class: int = 200  # test clips of each fault type (normal included)
    seed: int = 0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if f.name == "seed" else 1):
                raise ValueError(f"{f.name} must be a {'non-negative' if f.name == 'seed' else 'positive'} "
                                 f"integer, got {value!r}")


def anomaly_sim(params: dict, where: str) -> Dataset:
    """Vibration anomaly detection: log band energies of simulated clips, standardized on the normal training
    clips (the standardizer goes into meta: the device applies it before quantizing)."""
    from mcuforge.apps.anomaly import FAULTS, Standardizer, simulate, vibration_features

    config = make_config(AnomalySimConfig, params, where)

    def features(fault: str, count: int, seed: int) -> np.ndarray:
        return vibration_features(simulate(fault, count, seed))

    base = 1000 * config.seed
    train, val = features("normal", config.train, base + 1), features("normal", config.val, base + 2)
    standardize = Standardizer.fit(train)
    tests = [features(f, config.test_per_class, base + 3 + i) for i, f in enumerate(FAULTS)]
    x_test = np.concatenate(tests)
    y_test = np.repeat(np.arange(len(FAULTS)), config.test_per_class)
    splits = {"train": (standardize(train), np.zeros(len(train), np.int64)),
              "val": (standardize(val), np.zeros(len(val), np.int64)),
              "test": (standardize(x_test), y_test)}
    return Dataset("anomaly", splits, tuple(FAULTS),
                   f"simulated machine vibration ({config.train} normal training clips, {config.test_per_class} test "
                   f"clips per class)",
                   meta={"standardizer": {"mean": standardize.mean.tolist(), "std": standardize.std.tolist()},
                         "features": "log band energies (mcuforge.apps.anomaly.vibration_features)"})


@dataclass(frozen=True)
class NpzConfig:
    path: str
    task: str = "classification"
    classes: tuple | list | None = None


def npz_files(params: dict, where: str) -> Dataset:
    config = make_config(NpzConfig, params, where)
    if config.task not in TASKS:
        raise ConfigError(f"{where}.task must be one of {', '.join(TASKS)}, got {config.task!r}")
    try:
        with np.load(Path(config.path).expanduser(), allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise ConfigError(f"{where}.path: {config.path}: no such file") from None
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{where}.path: {config.path}: not a readable .npz file ({exc})") from None
    names = [k[2:] for k in arrays if k.startswith("x_")]
    splits = {}
    for name in ["train", "val", "test"] + [n for n in names if n not in REQUIRED_SPLITS]:
        if f"x_{name}" not in arrays or f"y_{name}" not in arrays:
            raise ConfigError(f"{where}.path: {config.path} has no x_{name} / y_{name} arrays")
        splits[name] = (arrays[f"x_{name}"], arrays[f"y_{name}"])
    top = int(max(y.max() for _, y in splits.values())) + 1
    classes = tuple(str(c) for c in config.classes) if config.classes else tuple(str(k) for k in range(top))
    return Dataset(config.task, splits, classes, f"arrays of {config.path}",
                   notes={s: "extra test split" for s in splits if s not in REQUIRED_SPLITS})


register_provider("kws-synth", kws_synth)
register_provider("vww", vww)
register_provider("anomaly-sim", anomaly_sim)
register_provider("npz", npz_files)

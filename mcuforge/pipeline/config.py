"""The pipeline's configuration: a YAML file of sections (data, model, train, prune, quantize, target, verify,
report), each checked field by field against the schema below. Every mistake is one line naming the file and the
field (`examples/kws.yaml: train.epochs must be a positive integer`); unknown fields are mistakes too, so a typo
never silently falls back to a default.

`data` and `model` are open sections: besides `provider` / `arch` their fields go to the data provider and to the
zoo model's constructor, which check them (pipeline/data.py, pipeline/model.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mcuforge.errors import InputError
from mcuforge.quant.sparse import SPARSE_MODES

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
PRUNE_METHODS = ("none", "magnitude", "structured")
CALIBRATION_METHODS = ("minmax", "percentile", "mse")
SCHEDULES = ("cosine", "onecycle", "constant")


class ConfigError(InputError):
    """A pipeline configuration that cannot be used (one line: file, field, what is wrong)."""


# --- field checks: each returns the (normalized) value or raises ValueError with the expectation --------------

def positive_int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValueError("must be a positive integer")
    return v


def non_negative_int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError("must be a non-negative integer")
    return v


def _finite_number(v) -> bool:
    # YAML's .inf / .nan are floats; an int too large for a float would overflow where it is used
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def positive_number(v):
    if not _finite_number(v) or not v > 0:
        raise ValueError("must be a positive number")
    return float(v)


def non_negative_number(v):
    if not _finite_number(v) or not v >= 0:
        raise ValueError("must be a non-negative number")
    return float(v)


def seed_int(v):
    # torch.manual_seed and numpy's generators take seeds below 2**32
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**32:
        raise ValueError("must be an integer in [0, 2**32)")
    return v


def fraction(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
        raise ValueError("must be a number in [0, 1)")
    return float(v)


def boolean(v):
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def text(v):
    if not isinstance(v, str) or not v:
        raise ValueError("must be a non-empty string")
    return v


def optional(check: Callable) -> Callable:
    def checked(v):
        return None if v is None else check(v)
    return checked


def one_of(*choices: str) -> Callable:
    def checked(v):
        if v not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return v
    return checked


def name_text(v):
    if not isinstance(v, str) or not NAME_PATTERN.match(v):
        raise ValueError("must be a name of letters, digits, '_' and '-' (it names the output directory)")
    return v


# section -> {field: (check, default)}; a default of REQUIRED must be given.
REQUIRED = object()
SCHEMA: dict[str, dict[str, tuple[Callable, object]]] = {
    "train": {"epochs": (positive_int, 10), "batch_size": (positive_int, 64), "lr": (positive_number, 3e-3),
              "seed": (seed_int, 0), "threads": (positive_int, 1), "schedule": (one_of(*SCHEDULES), "cosine"),
              "weight_decay": (non_negative_number, 0.0), "label_smoothing": (fraction, 0.0),
              "keep_best": (boolean, True), "qat_epochs": (non_negative_int, 0), "qat_lr": (positive_number, 5e-4)},
    "prune": {"method": (one_of(*PRUNE_METHODS), "none"), "sparsity": (fraction, 0.5),
              "fine_tune_epochs": (non_negative_int, 1), "lr": (positive_number, 1e-3)},
    "quantize": {"method": (one_of(*CALIBRATION_METHODS), "minmax"), "calibration_samples": (positive_int, 256)},
    "compile": {"sparse": (one_of(*SPARSE_MODES), "auto")},  # quant/sparse.py: flash (auto), cycles (speed), off
    "target": {"name": (text, "cortex-m4"), "board": (optional(text), None),
               "ram_kb": (optional(positive_number), None), "flash_kb": (optional(positive_number), None)},
    "verify": {"samples": (positive_int, 50), "split": (text, "test")},
    "report": {"rate_hz": (positive_number, 1.0), "battery_mah": (positive_number, 220.0),
               "battery_v": (positive_number, 3.0)},
}
OPEN_SECTIONS = {"data": "provider", "model": "arch"}  # section -> its required key; other keys pass through


class Section:
    """One checked section: its fields as attributes (`config.train.epochs`, `config.target.name`)."""

    def __init__(self, section: str, values: dict):
        self._section, self._values = section, dict(values)

    def __getattr__(self, key):
        try:
            return self.__dict__["_values"][key]
        except KeyError:
            raise AttributeError(f"section {self.__dict__['_section']!r} has no field {key!r}") from None

    @property
    def values(self) -> dict:
        return dict(self._values)


@dataclass(frozen=True)
class PipelineConfig:
    path: str  # where it came from, for error messages
    name: str
    data: dict  # provider + its parameters
    model: dict  # arch + the constructor's parameters
    train: Section
    prune: Section
    quantize: Section
    compile: Section
    target: Section
    verify: Section
    report: Section
    raw: dict = field(default_factory=dict)  # the document as read (with overrides), for the output directory

    def error(self, where: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {where} {message}")

    @property
    def qat(self) -> bool:
        return self.train.qat_epochs > 0

    def resolved(self) -> dict:
        """Every field with its effective value (defaults filled in): what summary.json records."""
        out = {"name": self.name, "data": dict(self.data), "model": dict(self.model)}
        for section in SCHEMA:
            out[section] = dict(getattr(self, section).values)
        return out


def _check_section(path: str, section: str, given, schema: dict) -> Section:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ConfigError(f"{path}: {section} must be a mapping of fields")
    unknown = sorted(set(given) - set(schema))
    if unknown:
        raise ConfigError(f"{path}: {section}.{unknown[0]} is not a field (fields: {', '.join(schema)})")
    values = {}
    for key, (check, default) in schema.items():
        if key not in given:
            if default is REQUIRED:
                raise ConfigError(f"{path}: {section}.{key} is required")
            values[key] = default
            continue
        try:
            values[key] = check(given[key])
        except ValueError as exc:
            raise ConfigError(f"{path}: {section}.{key} {exc}, got {given[key]!r}") from None
    return Section(section, values)


def _check_open(path: str, section: str, given) -> dict:
    key = OPEN_SECTIONS[section]
    if not isinstance(given, dict):
        raise ConfigError(f"{path}: {section} must be a mapping with at least {section}.{key}")
    if key not in given:
        raise ConfigError(f"{path}: {section}.{key} is required")
    try:
        text(given[key])
    except ValueError as exc:
        raise ConfigError(f"{path}: {section}.{key} {exc}, got {given[key]!r}") from None
    return dict(given)


def parse_config(document, path: str = "<config>") -> PipelineConfig:
    """Check a parsed YAML document; raises ConfigError (one line) on the first mistake."""
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: must be a YAML mapping of sections (name, data, model, train, ...)")
    known = {"name", *OPEN_SECTIONS, *SCHEMA}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]} is not a section (sections: {', '.join(sorted(known))})")
    try:
        name = name_text(document.get("name", Path(path).stem))
    except ValueError as exc:
        raise ConfigError(f"{path}: name {exc}, got {document.get('name')!r}") from None
    sections = {s: _check_section(path, s, document.get(s), schema) for s, schema in SCHEMA.items()}
    return PipelineConfig(path=path, name=name, data=_check_open(path, "data", document.get("data")),
                          model=_check_open(path, "model", document.get("model")), raw=document, **sections)


def apply_overrides(document: dict, overrides: list[str], path: str) -> dict:
    """`section.field=value` strings (value parsed as YAML: 3, 0.5, true, text) set into a copy of `document`."""
    import copy

    document = copy.deepcopy(document)
    for item in overrides:
        key, sep, value = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) != 2 or not all(parts):
            raise ConfigError(f"{path}: override {item!r} must look like section.field=value")
        section = document.setdefault(parts[0], {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: override {item!r}: {parts[0]} is not a section")
        try:
            section[parts[1]] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: override {item!r}: value is not valid YAML "
                              f"({getattr(exc, 'problem', None) or exc})") from None
    return document


def load_config(path: str | Path, overrides: list[str] = ()) -> PipelineConfig:
    """Read and check a pipeline YAML file (plus `section.field=value` overrides)."""
    path = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            document = yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where} ({getattr(exc, 'problem', None) or exc})") from None
    if document is None:
        raise ConfigError(f"{path}: is empty")
    if overrides:
        if not isinstance(document, dict):
            raise ConfigError(f"{path}: must be a YAML mapping of sections (name, data, model, train, ...)")
        document = apply_overrides(document, list(overrides), path)
    return parse_config(document, path)

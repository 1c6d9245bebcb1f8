"""The configuration: defaults, and one line naming the file and the field for every kind of mistake."""

import pytest

from mcuforge.pipeline.config import ConfigError, load_config, parse_config


def check_error(document, message: str, path: str = "examples/kws.yaml"):
    with pytest.raises(ConfigError) as info:
        parse_config(document, path)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


MINIMAL = {"data": {"provider": "kws-synth"}, "model": {"arch": "ds_cnn"}}


def test_defaults_and_open_sections():
    config = parse_config({**MINIMAL, "model": {"arch": "ds_cnn", "width": 32}}, "examples/kws.yaml")
    assert config.name == "kws"  # from the file name
    assert config.train.epochs == 10 and config.train.schedule == "cosine" and not config.qat
    assert config.prune.method == "none" and config.target.name == "cortex-m4" and config.target.ram_kb is None
    assert config.model == {"arch": "ds_cnn", "width": 32}
    resolved = config.resolved()
    assert resolved["verify"] == {"samples": 50, "split": "test"} and resolved["data"] == {"provider": "kws-synth"}


@pytest.mark.parametrize("section, value, message", [
    ("train", {"epochs": 0}, "train.epochs must be a positive integer, got 0"),
    ("train", {"epochs": 2.5}, "train.epochs must be a positive integer, got 2.5"),
    ("train", {"lr": "fast"}, "train.lr must be a positive number, got 'fast'"),
    ("train", {"keep_best": "yes"}, "train.keep_best must be true or false, got 'yes'"),
    ("prune", {"method": "random"}, "prune.method must be one of none, magnitude, structured, got 'random'"),
    ("prune", {"sparsity": 1.0}, "prune.sparsity must be a number in [0, 1), got 1.0"),
    ("quantize", {"method": "kl"}, "quantize.method must be one of minmax, percentile, mse, got 'kl'"),
    ("target", {"ram_kb": -4}, "target.ram_kb must be a positive number, got -4"),
    ("train", {"lr": float("inf")}, "train.lr must be a positive number, got inf"),
    ("train", {"lr": float("nan")}, "train.lr must be a positive number, got nan"),
    ("target", {"flash_kb": 10**400}, f"target.flash_kb must be a positive number, got {10**400!r}"),
    ("train", {"seed": 2**32}, "train.seed must be an integer in [0, 2**32), got 4294967296"),
    ("train", {"seed": -1}, "train.seed must be an integer in [0, 2**32), got -1"),
    ("verify", {"sample": 3}, "verify.sample is not a field (fields: samples, split)"),
    ("report", [1, 2], "report must be a mapping of fields"),
])
def test_field_errors_name_the_field(section, value, message):
    check_error({**MINIMAL, section: value}, f"examples/kws.yaml: {message}")


def test_document_errors():
    check_error({**MINIMAL, "training": {}}, "examples/kws.yaml: training is not a section (sections: compile, data, "
                                             "model, name, prune, quantize, report, target, train, verify)")
    check_error({"model": {"arch": "ds_cnn"}, "data": {"cache": 1}}, "examples/kws.yaml: data.provider is required")
    check_error({**MINIMAL, "model": {"arch": 3}}, "examples/kws.yaml: model.arch must be a non-empty string, got 3")
    check_error({**MINIMAL, "name": "my model"}, "examples/kws.yaml: name must be a name of letters, digits, '_' "
                                                 "and '-' (it names the output directory), got 'my model'")
    check_error([1], "examples/kws.yaml: must be a YAML mapping of sections (name, data, model, train, ...)")


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such file$"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: [1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML at line \d+"):
        load_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match=r"empty\.yaml: is empty$"):
        load_config(empty)


def test_overrides(tmp_path):
    path = tmp_path / "k.yaml"
    path.write_text("data: {provider: kws-synth}\nmodel: {arch: ds_cnn}\ntrain: {epochs: 9}\n")
    config = load_config(path, ["train.epochs=2", "model.width=16", "target.name=cortex-m7", "prune.sparsity=0.25"])
    assert config.train.epochs == 2 and config.model["width"] == 16 and config.target.name == "cortex-m7"
    assert config.prune.sparsity == 0.25
    with pytest.raises(ConfigError, match="override 'epochs=2' must look like section.field=value"):
        load_config(path, ["epochs=2"])
    with pytest.raises(ConfigError, match="train.epochs must be a positive integer, got -1"):
        load_config(path, ["train.epochs=-1"])
    with pytest.raises(ConfigError, match=r"k\.yaml: override 'train\.epochs=\[1': value is not valid YAML"):
        load_config(path, ["train.epochs=[1"])
    assert load_config(path, ["train.seed=4294967295", "train.lr=.5"]).train.seed == 2**32 - 1
    with pytest.raises(ConfigError, match=r"train\.lr must be a positive number, got inf"):
        load_config(path, ["train.lr=.inf"])


@pytest.mark.parametrize("example", ["kws", "anomaly", "vww"])
def test_examples_are_valid(example):
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parents[2] / "examples" / f"{example}.yaml")
    assert config.name == example

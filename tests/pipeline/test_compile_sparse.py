"""compile.sparse in the pipeline configuration: validated like the other fields, and the fit check counts the
weights as that mode stores them."""

import pytest
import torch

from mcuforge.compress.prune import prune_magnitude
from mcuforge.pipeline.config import ConfigError, parse_config
from mcuforge.pipeline.model import build_model, check_fit
from tests.pipeline.test_model import tiny

MINIMAL = {"data": {"provider": "kws-synth"}, "model": {"arch": "ds_cnn"}}


def test_compile_sparse_field():
    assert parse_config(MINIMAL, "kws.yaml").compile.sparse == "auto"
    assert parse_config({**MINIMAL, "compile": {"sparse": "off"}}, "kws.yaml").resolved()["compile"] == \
        {"sparse": "off"}
    with pytest.raises(ConfigError, match=r"^kws.yaml: compile.sparse must be one of auto, speed, off, got 'dense'$"):
        parse_config({**MINIMAL, "compile": {"sparse": "dense"}}, "kws.yaml")
    with pytest.raises(ConfigError, match=r"^kws.yaml: compile.spares is not a field \(fields: sparse\)$"):
        parse_config({**MINIMAL, "compile": {"spares": "off"}}, "kws.yaml")


def test_fit_check_follows_the_mode():
    flash = {}
    for mode in ("auto", "off"):
        config, data = tiny(model={"arch": "ds_cnn", "width": 32}, compile={"sparse": mode})
        torch.manual_seed(0)
        model = build_model(config, data)
        prune_magnitude(model, 0.9, scope="layer").remove()
        fit = check_fit(config, model)
        flash[mode] = (fit.flash_bytes, fit.sparse_layers)
    assert flash["auto"][1] > 0 and flash["off"][1] == 0 and flash["auto"][0] < flash["off"][0]

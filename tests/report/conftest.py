"""Fixtures of the report tests: emulator measurements cached for the whole session (vww and ic take ~10 s each),
and headless Chromium (missing: fails in CI, skips elsewhere)."""

import functools
import os
import shutil

import pytest

from mcuforge.errors import UnsupportedOpError
from mcuforge.frontends import load_model
from tests.conftest import shared_model
from tests.targets.conftest import require_cross_toolchain

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


@functools.cache
def _measure(key: str, target: str):
    from mcuforge.report.measure import measure_model

    return measure_model(load_model(shared_model(key)), target)


def measured_shared_model(key: str, target: str = "cortex-m4"):
    """The graph and its emulator measurement (cached per session). A model that does not compile yet fails in
    CI and skips elsewhere."""
    require_cross_toolchain()
    graph = load_model(shared_model(key))
    try:
        return graph, _measure(key, target)
    except UnsupportedOpError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{key}: {exc}")
        pytest.skip(f"{key}: {exc}")


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    message = "chromium not found (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)

"""The HTML report: self-contained, and it renders with its figures in headless Chromium."""

import re
import subprocess
import tempfile

import numpy as np
import pytest
from PIL import Image

from mcuforge.cli import main
from mcuforge.frontends import load_model
from mcuforge.report.html import ReportSettings, render_report
from tests.conftest import shared_model
from tests.report.conftest import chromium
from tests.targets.conftest import require_cross_toolchain

FIGURES = ("fig-memory", "fig-cycles", "fig-flash", "fig-battery")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


def _chromium(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="mcuforge-chromium-") as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


def test_page_is_self_contained():
    page = render_report(load_model(shared_model("ad")), ReportSettings(rate_hz=2.0))
    for fig in FIGURES:
        assert re.search(rf"<figure id='{fig}'><svg[^>]*>", page), fig
    # nothing to fetch: inline SVG and style, no scripts, no links, no images by reference
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)|@import|href=\"http", page)
    assert "arena" in page and "days" in page and "DS12023" in page  # peak, battery life, cited sources


def test_report_renders_in_headless_chromium(tmp_path):
    html_path = tmp_path / "report.html"
    png_path = tmp_path / "report.png"
    assert main(["report", str(shared_model("kws")), "--target", "cortex-m4", "-o", str(html_path), "--rate", "1",
                 "--compare", str(shared_model("ad")), str(shared_model("vww")), "--quiet"]) == 0
    url = html_path.resolve().as_uri()
    dom = _chromium(["--dump-dom", url])
    assert dom.returncode == 0, dom.stderr[-2000:]
    for fig in FIGURES:
        assert re.search(rf'<figure id="{fig}"><svg', dom.stdout), f"{fig} missing from the rendered DOM"
    assert dom.stdout.count("<svg") >= len(FIGURES)
    assert "vww_96_int8.tflite" in dom.stdout and "ad01_int8.tflite" in dom.stdout  # the comparison table
    shot = _chromium([f"--screenshot={png_path}", "--window-size=1200,3000", url])
    assert shot.returncode == 0 and png_path.is_file(), shot.stderr[-2000:]
    pixels = np.asarray(Image.open(png_path).convert("L"), dtype=np.float64)
    assert pixels.shape == (3000, 1200)
    dark = pixels < 128
    assert dark.mean() > 0.01, "screenshot is blank"
    assert dark[1000:2000].mean() > 0.005, "nothing drawn mid-page: the figures did not render"


def test_report_with_measurement_and_accuracy(tmp_path, capsys):
    require_cross_toolchain()
    model = shared_model("ad")
    graph = load_model(model)
    rng = np.random.default_rng(3)
    np.save(tmp_path / "x.npy", rng.integers(-128, 128, size=(6, 640), dtype=np.int8))
    np.save(tmp_path / "y.npy", rng.integers(0, 640, size=6))
    out = tmp_path / "r.html"
    assert main(["report", str(model), "-o", str(out), "--measure", "--compare", str(model), "--data",
                 str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"), "--quiet"]) == 0
    page = out.read_text()
    assert "measured (emulator)" in page and "measured cycles" in page and "accuracy" in page
    assert f"wrote {out}" in capsys.readouterr().out
    layers = page.split("<h2>Layers</h2>")[1].split("<h2>")[0]
    assert layers.count("<tr><td>") == len(graph.ops)


def test_report_rejects_half_a_dataset(tmp_path, capsys):
    assert main(["report", str(shared_model("ad")), "-o", str(tmp_path / "r.html"), "--data", "x.npy"]) == 2
    assert "--data and --labels go together" in capsys.readouterr().err


@pytest.mark.parametrize("rate", ["0", "1e9"])
def test_report_rate_limits(tmp_path, rate, capsys):
    assert main(["report", str(shared_model("ad")), "-o", str(tmp_path / "r.html"), "--rate", rate]) == 2
    assert "mcuforge: error" in capsys.readouterr().err

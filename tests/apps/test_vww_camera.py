"""The camera-frame adapter: the NumPy reference's arithmetic, and the generated C (host build, ASan/UBSan) giving
the same bytes for random frame sizes, pixel formats, crops and quantizations; a Cortex-M4 cross-compile."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from mcuforge.apps.vww.camera import (
    CameraAdapter,
    center_crop,
    convert_channels,
    input_lut,
    resize_bilinear,
    unpack_frame,
)
from mcuforge.apps.vww.camera_c import (
    emit_adapter_files,
    emit_camera_adapter_c,
    run_camera_host,
)
from mcuforge.codegen.host import STRICT_CFLAGS
from mcuforge.errors import InputError
from mcuforge.frontends import load_model
from tests.conftest import shared_model


def float_bilinear(image: np.ndarray, out: int) -> np.ndarray:
    """Half-pixel-centre bilinear in float64, the textbook definition the integer version approximates."""
    def axis(n):
        s = np.clip((np.arange(out) + 0.5) * n / out - 0.5, 0, n - 1)
        lo = np.floor(s).astype(int)
        return lo, np.minimum(lo + 1, n - 1), s - lo

    y0, y1, wy = axis(image.shape[0])
    x0, x1, wx = axis(image.shape[1])
    p = image.astype(np.float64)
    wx, wy = wx[None, :, None], wy[:, None, None]
    top = p[y0][:, x0] * (1 - wx) + p[y0][:, x1] * wx
    bottom = p[y1][:, x0] * (1 - wx) + p[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def random_frame(rng, pixel_format, w, h):
    if pixel_format == "rgb565":
        return rng.integers(0, 1 << 16, (h, w)).astype(np.uint16)
    return rng.integers(0, 256, (h, w, 3) if pixel_format == "rgb888" else (h, w)).astype(np.uint8)


def test_resize_is_bilinear_to_one_level():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    assert np.array_equal(resize_bilinear(image[:, :37], 37), image[:, :37])  # same size: the pixels themselves
    for out in (5, 16, 48, 96, 131):
        got = resize_bilinear(image, out).astype(np.float64)
        assert got.shape == (out, out, 3)
        error = np.abs(got - float_bilinear(image, out))
        assert error.max() <= 0.5 + 2 * 255 / 512 and error.mean() < 0.3, (out, error.max(), error.mean())
    flat = np.full((7, 9, 1), 200, np.uint8)
    assert np.all(resize_bilinear(flat, 30) == 200)


def test_pixel_formats_lut_and_crop():
    white_red_blue = np.array([[0xFFFF, 0xF800, 0x001F, 0x07E0]], np.uint16)
    assert unpack_frame(white_red_blue, "rgb565").tolist() == [[[255, 255, 255], [255, 0, 0], [0, 0, 255],
                                                                [0, 255, 0]]]
    assert convert_channels(np.array([[[255, 255, 255], [255, 0, 0]]], np.uint8), 1)[..., 0].tolist() == [[255, 77]]
    assert np.array_equal(input_lut(1 / 255, -128), np.arange(256) - 128)  # MLPerf VWW: q = pixel - 128
    lut = input_lut(0.02, 3)
    assert lut[0] == 3 and lut[255] == 53 and np.all(np.diff(lut.astype(int)) >= 0)
    assert center_crop(160, 120) == (20, 0, 120, 120) and center_crop(5, 9) == (0, 2, 5, 5)
    adapter = CameraAdapter(16, 12, "gray8", 8, 3, lut).check()
    with pytest.raises(InputError, match="not inside"):
        adapter(np.zeros((12, 16), np.uint8), crop=(10, 0, 7, 5))
    with pytest.raises(InputError, match="gray8 frame"):
        adapter(np.zeros((12, 16, 3), np.uint8))
    with pytest.raises(InputError, match="pixel format"):
        CameraAdapter(16, 12, "yuv422", 8, 3, lut).check()


@pytest.mark.parametrize("pixel_format", ["gray8", "rgb888", "rgb565"])
def test_c_adapter_is_bit_identical(pixel_format):
    rng = np.random.default_rng(["gray8", "rgb888", "rgb565"].index(pixel_format))
    for channels in (1, 3):
        w, h = int(rng.integers(1, 320)), int(rng.integers(1, 240))
        resolution = int(rng.integers(1, 100))
        adapter = CameraAdapter(w, h, pixel_format, resolution, channels,
                                input_lut(float(rng.uniform(0.002, 0.03)), int(rng.integers(-128, 128)))).check()
        frames = [random_frame(rng, pixel_format, w, h) for _ in range(4)]
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        crops = [None, (0, 0, w, h), (x, y, int(rng.integers(1, w - x + 1)), int(rng.integers(1, h - y + 1))),
                 (w - 1, h - 1, 1, 1)]
        got = run_camera_host(adapter, frames + frames[:1], crops + [(x, y, w - x + 1, 1)], sanitize=True)
        for frame, crop, g in zip(frames, crops, got):
            assert g is not None and np.array_equal(g, adapter(frame, crop)), (w, h, resolution, channels, crop)
        assert got[-1] is None  # a crop leaving the frame is rejected


def test_c_adapter_for_the_shared_model_geometry():
    """160x120 RGB888 -> 96x96x3 (the MLPerf VWW model's input) and a large frame downscaled 5x."""
    rng = np.random.default_rng(7)
    for w, h in ((160, 120), (640, 480)):
        adapter = CameraAdapter(w, h, "rgb888", 96, 3, input_lut(1 / 255, -128)).check()
        frames = [random_frame(rng, "rgb888", w, h) for _ in range(2)]
        for frame, got in zip(frames, run_camera_host(adapter, frames)):
            assert np.array_equal(got, adapter(frame))


def test_adapter_cross_compiles_for_cortex_m4(tmp_path):
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        if os.environ.get("CI") == "true":
            pytest.fail("arm-none-eabi-gcc not found (required in CI)")
        pytest.skip("arm-none-eabi-gcc not installed")
    for pixel_format, channels in (("rgb888", 3), ("gray8", 3), ("rgb565", 1)):
        out = tmp_path / pixel_format
        adapter = CameraAdapter(160, 120, pixel_format, 96, channels, input_lut(1 / 255, -128))
        sources = [str(p) for p in emit_adapter_files(out, adapter) if p.suffix == ".c"]
        for source in sources:
            result = subprocess.run([cc, "-mcpu=cortex-m4", "-mthumb", *STRICT_CFLAGS, "-c", source, "-o",
                                     str(out / (os.path.basename(source) + ".o"))], capture_output=True, text=True,
                                    check=False)
            assert result.returncode == 0, result.stderr
        # no library calls at all (no soft float, no memcpy): only the generated table is external
        nm = subprocess.run([cc.replace("gcc", "nm"), "-u", str(out / "camera_adapter.c.o")], capture_output=True,
                            text=True, check=True)
        assert nm.stdout.split()[-1:] == ["camera_input_lut"] and len(nm.stdout.split()) == 2, nm.stdout


def test_emitter_takes_geometry_and_quantization_from_the_model(tmp_path):
    graph = load_model(shared_model("vww"))
    emit_camera_adapter_c(tmp_path, 160, 120, "rgb565", graph)
    header = (tmp_path / "camera_config.h").read_text()
    for line in ("CAMERA_OUT_SIZE 96", "CAMERA_OUT_CHANNELS 3", "CAMERA_FRAME_BYTES 38400",
                 "CAMERA_PIXEL_FORMAT CAMERA_FORMAT_RGB565"):
        assert f"#define {line}" in header
    assert "-128, -127, -126" in (tmp_path / "camera_tables.c").read_text()  # q = pixel - 128
    float_input = graph.copy()
    t = float_input.tensors[float_input.inputs[0]]
    t.dtype, t.quant = "float32", None
    with pytest.raises(InputError, match="one int8 input"):
        emit_camera_adapter_c(tmp_path / "float", 160, 120, "rgb888", float_input)

"""The KWS audio front end: NumPy pipeline properties, generated C vs NumPy, streaming vs batch, CLI."""

import numpy as np
import pytest

from mcuforge.apps.kws.audio import fit_clip, load_audio, resample
from mcuforge.apps.kws.mfcc import (dct_matrix, get_preset, hann_window, hertz_to_mel, mel_weight_matrix, mfcc,
                                    log_mel_spectrogram, peak_normalize, quantize_features)
from mcuforge.apps.kws.mfcc_c import run_mfcc_host
from mcuforge.cli import main
from mcuforge.errors import InputError

KWS = get_preset("mlperf-kws")


def tone(hz, amplitude=0.5, n=16000, rate=16000):
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(n) / rate)).astype(np.float32)


def speechlike(seed, n_clips=4):
    """Noise bursts shaped by a few resonances: broadband, non-stationary, with silent padding."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(n_clips):
        t = np.arange(16000) / 16000
        x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * rng.uniform(0.1, 1) for f in rng.uniform(100, 3500, 5))
        x = x * np.exp(-((t - rng.uniform(0.3, 0.7)) / 0.15) ** 2) + rng.normal(0, 0.01, t.size)
        x[:rng.integers(0, 3000)] = 0
        clips.append(x / np.abs(x).max() * rng.uniform(0.1, 1))
    return np.asarray(clips, dtype=np.float32)


def test_shapes_and_presets():
    assert KWS.shape == (49, 10) and KWS.fft_size == 512 and KWS.num_bins == 257
    assert mfcc(np.zeros((3, 16000), np.float32)).shape == (3, 49, 10)
    assert mfcc(tone(440)).shape == (49, 10) and mfcc(tone(440)).dtype == np.float32
    logmel = get_preset("mlperf-kws-logmel")
    assert mfcc(tone(440), logmel).shape == (49, 40)
    custom = get_preset("mlperf-kws", frame_length=640, frame_step=320, num_coefficients=13)
    assert custom.fft_size == 1024 and mfcc(tone(440), custom).shape == (49, 13)
    with pytest.raises(InputError):
        get_preset("mlperf-kws", upper_hz=9000.0)
    with pytest.raises(InputError):
        mfcc(np.zeros(8000, np.float32))


def test_window_mel_and_dct_definitions():
    w = hann_window(480)
    assert w[0] == 0 and w[240] == pytest.approx(1.0) and w[1] == pytest.approx(w[479])   # periodic
    matrix = mel_weight_matrix(KWS)
    assert matrix.shape == (257, 40) and not matrix[0].any()                              # DC bin zeroed
    edges = np.linspace(hertz_to_mel(20.0), hertz_to_mel(4000.0), 42)
    freqs = np.arange(257) * 8000.0 / 256
    for m in (0, 7, 39):                                                                   # HTK triangles
        mel = 1127.0 * np.log(1.0 + freqs / 700.0)
        expected = np.clip(np.minimum((mel - edges[m]) / (edges[m + 1] - edges[m]),
                                      (edges[m + 2] - mel) / (edges[m + 2] - edges[m + 1])), 0, None)
        expected[0] = 0
        np.testing.assert_allclose(matrix[:, m], expected, atol=1e-12)
    assert not matrix[freqs > 4000].any()
    dct = dct_matrix(KWS)
    np.testing.assert_allclose(dct[0], np.full(40, np.sqrt(2 / 40)))                        # no k=0 special case
    np.testing.assert_allclose(dct @ dct.T, np.eye(10) + np.diag([1.0] + [0] * 9), atol=1e-12)


@pytest.mark.parametrize("hz", [300.0, 1000.0, 2500.0])
def test_pure_tone_lands_in_its_mel_band(hz):
    logmel = log_mel_spectrogram(tone(hz))
    band = int(np.argmax(logmel[24]))
    centers = 700.0 * (np.exp(np.linspace(hertz_to_mel(20.0), hertz_to_mel(4000.0), 42)[1:-1] / 1127.0) - 1)
    assert abs(centers[band] - hz) <= max(np.diff(centers)[max(band - 1, 0)], 60.0)


def test_peak_normalization_and_quantization():
    x = tone(440, amplitude=0.25)
    assert peak_normalize(x).max() == pytest.approx(1.0)
    np.testing.assert_allclose(mfcc(x), mfcc(4 * x), atol=1e-4)                            # gain invariant
    assert np.array_equal(peak_normalize(np.zeros(16000, np.float32)), np.zeros(16000, np.float32))
    q = quantize_features(np.array([-200.0, 0.0, 0.29, 0.30, 200.0]), 0.5847029, 83)
    assert q.tolist() == [-128, 83, 83, 84, 127]


def test_c_frontend_matches_numpy_and_streaming_equals_batch():
    clips = np.concatenate([speechlike(0), tone(1000)[None], np.zeros((1, 16000), np.float32)])
    batch, streamed = run_mfcc_host(clips)
    ours = mfcc(clips)
    err = np.abs(batch - ours) / np.maximum(np.abs(ours), 1.0)
    assert err.max() < 1e-3
    # Streaming has no clip peak to normalize by: on normalized audio it equals the batch result exactly.
    _, streamed_normalized = run_mfcc_host(peak_normalize(clips))
    assert np.array_equal(streamed_normalized, batch)
    assert not np.array_equal(streamed, batch)                                              # peaks differ from 1


def test_c_frontend_log_mel_preset():
    config = get_preset("mlperf-kws-logmel", frame_length=400, frame_step=160, peak_normalize=False)
    clips = speechlike(1, 2)
    batch, streamed = run_mfcc_host(clips, config)
    ours = mfcc(clips, config)
    assert batch.shape == (2, 98, 40)
    assert (np.abs(batch - ours) / np.maximum(np.abs(ours), 1.0)).max() < 1e-3
    assert np.array_equal(streamed, batch)


def test_resample_and_fit_clip():
    x = np.sin(2 * np.pi * 1000 * np.arange(22050) / 22050)
    y = resample(x, 22050, 16000)
    assert len(y) == 16000
    np.testing.assert_allclose(y[100:-100], tone(1000, 1.0)[100:-100], atol=1e-3)
    assert np.abs(resample(np.sin(2 * np.pi * 9500 * np.arange(22050) / 22050), 22050, 16000)[100:-100]).max() < 1e-3
    clip = fit_clip(np.concatenate([np.zeros(500), np.ones(1000), np.zeros(3000)]), 4000)
    assert clip.shape == (4000,) and np.flatnonzero(clip)[[0, -1]].tolist() == [1500, 2499]


def test_cli_features(tmp_path, capsys):
    audio = speechlike(2, 3)
    np.save(tmp_path / "audio.npy", audio)
    assert main(["features", "mfcc", "--preset", "mlperf-kws", "--input", str(tmp_path / "audio.npy"),
                 "--output", str(tmp_path / "feats.npy")]) == 0
    feats = np.load(tmp_path / "feats.npy")
    assert feats.dtype == np.float32 and feats.shape == (3, 49, 10)
    np.testing.assert_array_equal(feats, mfcc(audio))
    assert main(["features", "mfcc", "--log-mel", "--input", str(tmp_path / "audio.npy"),
                 "--output", str(tmp_path / "logmel.npy")]) == 0
    assert np.load(tmp_path / "logmel.npy").shape == (3, 49, 40)
    import wave
    with wave.open(str(tmp_path / "a.wav"), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(8000)
        f.writeframes((tone(440, 0.5, 8000, 8000) * 32767).astype(np.int16).tobytes())
    assert load_audio(tmp_path / "a.wav").shape == (1, 16000)
    assert main(["features", "mfcc", "--input", str(tmp_path / "a.wav"), "--output", str(tmp_path / "w.npy")]) == 0
    assert np.load(tmp_path / "w.npy").shape == (1, 49, 10)
    assert main(["features", "mfcc", "--input", str(tmp_path / "missing.npy"), "--output", str(tmp_path / "x.npy")]) == 2
    assert "no such file" in capsys.readouterr().err

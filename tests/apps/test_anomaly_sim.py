"""The vibration simulator: seeded reproducibility and physics (bearing frequencies, envelope spectrum)."""

import numpy as np
import pytest

from mcuforge.apps.anomaly import FAULTS, Bearing, Machine, simulate


def test_seeded_and_reproducible():
    a = simulate("inner_race", 3, seed=5)
    assert a.shape == (3, 2, 4096) and a.dtype == np.float32
    assert np.array_equal(a, simulate("inner_race", 3, seed=5))
    assert not np.array_equal(a, simulate("inner_race", 3, seed=6))
    assert not np.array_equal(simulate("normal", 1, 5), simulate("outer_race", 1, 5))
    with pytest.raises(ValueError):
        simulate("broken", 1)


def test_bearing_frequencies_from_geometry():
    b = Bearing()  # 6205: n = 9, d = 7.94 mm, D = 39.04 mm
    assert b.bpfo(1.0) == pytest.approx(3.585, abs=1e-3) and b.bpfi(1.0) == pytest.approx(5.415, abs=1e-3)
    assert b.bpfo(25.0) + b.bpfi(25.0) == pytest.approx(9 * 25.0)
    assert Bearing(contact_angle_deg=90).bpfo(10.0) == pytest.approx(45.0)


def envelope_spectrum(x, fs, band):
    spectrum = np.fft.fft(x)
    freqs = np.abs(np.fft.fftfreq(x.size, 1 / fs))
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    spectrum[np.fft.fftfreq(x.size) < 0] = 0          # analytic signal of the band-passed signal
    envelope = np.abs(np.fft.ifft(2 * spectrum))
    env = np.abs(np.fft.rfft(envelope - envelope.mean()))
    return np.fft.rfftfreq(x.size, 1 / fs), env


@pytest.mark.parametrize("fault", ["outer_race", "inner_race"])
def test_envelope_spectrum_peaks_at_the_defect_frequency(fault):
    machine = Machine(clip_samples=6400 * 4, speed_wobble=0.0)
    clips, speeds = simulate(fault, 2, seed=1, machine=machine, severity=(0.5, 0.5), return_speed=True)
    for clip, f0 in zip(clips, speeds):
        freqs, env = envelope_spectrum(clip[0].astype(np.float64), 6400, (1800, 3000))
        search = (freqs > 30) & (freqs < 300)
        peak = freqs[search][np.argmax(env[search])]
        expected = getattr(Bearing(), "bpfo" if fault == "outer_race" else "bpfi")(f0)
        assert peak == pytest.approx(expected, rel=0.02), (fault, f0, peak, expected)
        if fault == "inner_race":  # load-zone modulation: lines at f_r and BPFI +- f_r
            for line in (f0, expected - f0, expected + f0):
                assert env[np.abs(freqs - line) < 1].max() > 3 * np.median(env[search]), line


def test_faults_change_the_expected_components():
    def amplitude(clips, hz_of_clip, channel):
        out = []
        for clip, hz in zip(clips, hz_of_clip):
            spectrum = np.abs(np.fft.rfft(clip[channel] * np.hanning(clip.shape[1])))
            k = int(np.rint(hz * clip.shape[1] / 6400))
            out.append(spectrum[k - 2:k + 3].max())
        return np.median(out)

    machine = Machine(speed_wobble=0.0)
    normal, f_n = simulate("normal", 20, 0, machine, return_speed=True)
    imbalance, f_i = simulate("imbalance", 20, 0, machine, return_speed=True)
    misaligned, f_m = simulate("misalignment", 20, 0, machine, return_speed=True)
    assert amplitude(imbalance, f_i, 0) > 2 * amplitude(normal, f_n, 0)            # radial 1x
    assert amplitude(misaligned, 2 * f_m, 0) > 2 * amplitude(normal, 2 * f_n, 0)    # radial 2x
    assert amplitude(misaligned, 2 * f_m, 1) > 5 * amplitude(normal, 2 * f_n, 1)    # axial 2x
    assert set(FAULTS) == {"normal", "imbalance", "misalignment", "outer_race", "inner_race"}

"""A seeded physical simulator of the vibration of a rotating machine (motor, coupling, rolling-element bearing),
as a two-axis accelerometer (radial, axial) sampled at `sample_rate` would record it, in g.

Shaft. The shaft frequency f_r(t) = f0 (1 + a sin(2 pi f_w t + phi)) varies slowly around a speed f0 drawn per
clip; the shaft angle is theta(t) = 2 pi integral f_r dt, so every shaft-locked component follows the speed.

Shaft harmonics. Radial acceleration sum_h A_h cos(h theta + phi_h), h = 1, 2, 3. The 1x term is the residual
unbalance: the force m e omega^2 grows with the square of the speed, A_1 = A_u (f0 / f_ref)^2.
- imbalance: the unbalance m e grows, so A_1 is multiplied by 1 + 6 s (s = severity in [0, 1]).
- misalignment (angular/parallel at the coupling): a strong 2x radial component (A_2 multiplied by 1 + 5 s) and
  axial vibration at 1x and 2x, comparable to the radial 1x (the classic signature: high axial 2x).

Bearing defects (Randall & Antoni, "Rolling element bearing diagnostics - A tutorial", MSSP 25, 2011). A ball
rolling over a localized defect gives a short impulse that rings the structure's resonance: each impulse adds the
impulse response of a single-degree-of-freedom mode,
    h(t) = exp(-zeta omega_n t) sin(omega_d t),  omega_n = 2 pi f_n,  omega_d = omega_n sqrt(1 - zeta^2).
For n balls of diameter d on pitch diameter D with contact angle phi, the impulse rates are
    BPFO = (n / 2) f_r (1 - (d / D) cos phi)      (ball pass frequency, outer race)
    BPFI = (n / 2) f_r (1 + (d / D) cos phi)      (ball pass frequency, inner race)
(defaults: a 6205 deep-groove bearing, n = 9, d = 7.94 mm, D = 39.04 mm, phi = 0: BPFO = 3.585 f_r,
BPFI = 5.415 f_r). Impulses are spaced in shaft angle (they follow the speed) with 1 % random jitter (slip).
- outer race: the defect is fixed in the load zone, so the impulse amplitudes are steady.
- inner race: the defect turns with the shaft through the load zone, so the impulse amplitudes are modulated at
  f_r: a (1 + cos theta) / 2 load factor (sidebands at BPFI +- f_r in the envelope spectrum).

Every clip also gets broadband machine noise through the same resonance, a per-clip sensor gain (+-10 %) and white
sensor noise. Clips of one (fault, seed) pair are reproducible: the random stream is seeded by both."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FAULTS = ("normal", "imbalance", "misalignment", "outer_race", "inner_race")
CHANNELS = ("radial", "axial")


@dataclass(frozen=True)
class Bearing:
    """Rolling-element bearing geometry (defaults: SKF 6205, the drive-end bearing of the CWRU data set)."""

    balls: int = 9
    ball_diameter_mm: float = 7.94
    pitch_diameter_mm: float = 39.04
    contact_angle_deg: float = 0.0

    @property
    def _ratio(self) -> float:
        return self.ball_diameter_mm / self.pitch_diameter_mm * np.cos(np.radians(self.contact_angle_deg))

    def bpfo(self, shaft_hz):
        """Ball pass frequency of the outer race: (n / 2) f_r (1 - (d / D) cos phi)."""
        return self.balls / 2 * shaft_hz * (1 - self._ratio)

    def bpfi(self, shaft_hz):
        """Ball pass frequency of the inner race: (n / 2) f_r (1 + (d / D) cos phi)."""
        return self.balls / 2 * shaft_hz * (1 + self._ratio)


@dataclass(frozen=True)
class Machine:
    """The simulated machine and sensor. Amplitudes in g, frequencies in Hz."""

    sample_rate: int = 6400
    clip_samples: int = 4096
    shaft_hz: tuple[float, float] = (20.0, 30.0)     # per-clip running speed f0, uniform in this range
    reference_hz: float = 25.0                       # speed at which the unbalance response is `unbalance_g`
    speed_wobble: float = 0.02                       # peak relative speed variation a
    wobble_hz: tuple[float, float] = (0.2, 1.0)      # rate f_w of the slow speed variation
    unbalance_g: float = 0.25                        # residual 1x of a healthy machine at reference_hz
    harmonics_g: tuple[float, float] = (0.06, 0.03)  # healthy radial 2x and 3x
    axial_g: float = 0.04                            # healthy axial 1x
    spread: float = 0.2                              # machine-to-machine spread (log-normal sigma) of amplitudes
    resonance_hz: float = 2400.0                     # f_n of the structural mode the bearing impulses ring
    resonance_spread: float = 0.05                   # per-clip relative spread of f_n
    damping: float = 0.04                            # zeta
    impulse_g: float = 1.0                           # peak ring of one bearing impulse at severity 1
    machine_noise_g: float = 0.02                    # broadband excitation of the resonance
    sensor_noise_g: float = 0.01                     # white sensor noise (rms)
    bearing: Bearing = field(default_factory=Bearing)

    @property
    def duration(self) -> float:
        return self.clip_samples / self.sample_rate


def impulse_response(machine: Machine, resonance_hz: float) -> np.ndarray:
    """h(t) = exp(-zeta omega_n t) sin(omega_d t) for ~8 time constants, peak-normalized."""
    omega_n = 2 * np.pi * resonance_hz
    zeta = machine.damping
    length = int(np.ceil(8 / (zeta * omega_n) * machine.sample_rate))
    t = np.arange(length) / machine.sample_rate
    h = np.exp(-zeta * omega_n * t) * np.sin(omega_n * np.sqrt(1 - zeta ** 2) * t)
    return h / np.abs(h).max()


def _impulse_train(rng, machine: Machine, theta: np.ndarray, per_rev: float, amplitude) -> np.ndarray:
    """Unit impulses every 2 pi / per_rev of shaft angle (1 % jitter), weighted by amplitude(theta)."""
    spacing = 2 * np.pi / per_rev
    count = int(theta[-1] / spacing) + 2
    angles = rng.uniform(0, spacing) + np.cumsum(spacing * (1 + 0.01 * rng.standard_normal(count)))
    angles = angles[angles < theta[-1]]
    positions = np.searchsorted(theta, angles)
    train = np.zeros(theta.size)
    np.add.at(train, positions, amplitude(angles))
    return train


def _clip(rng, fault: str, machine: Machine, severity: float) -> tuple[np.ndarray, float]:
    n, fs = machine.clip_samples, machine.sample_rate
    t = np.arange(n) / fs
    f0 = rng.uniform(*machine.shaft_hz)
    wobble = machine.speed_wobble * rng.uniform(0, 1)
    shaft = f0 * (1 + wobble * np.sin(2 * np.pi * rng.uniform(*machine.wobble_hz) * t + rng.uniform(0, 2 * np.pi)))
    theta = 2 * np.pi * np.cumsum(shaft) / fs + rng.uniform(0, 2 * np.pi)

    def spread() -> float:
        return float(np.exp(machine.spread * rng.standard_normal()))

    radial_amp = [machine.unbalance_g * (f0 / machine.reference_hz) ** 2 * spread(),
                  machine.harmonics_g[0] * spread(), machine.harmonics_g[1] * spread()]
    axial_amp = [machine.axial_g * spread(), 0.25 * machine.axial_g * spread()]
    if fault == "imbalance":
        radial_amp[0] *= 1 + 6 * severity
    elif fault == "misalignment":
        radial_amp[1] *= 1 + 5 * severity
        axial_amp = [a + severity * radial_amp[0] * k for a, k in zip(axial_amp, (0.5, 1.0))]
    radial = sum(a * np.cos(h * theta + rng.uniform(0, 2 * np.pi)) for h, a in enumerate(radial_amp, 1))
    axial = sum(a * np.cos(h * theta + rng.uniform(0, 2 * np.pi)) for h, a in enumerate(axial_amp, 1))

    h = impulse_response(machine, machine.resonance_hz * (1 + machine.resonance_spread * rng.uniform(-1, 1)))
    excitation = machine.machine_noise_g * rng.standard_normal(n)
    if fault in ("outer_race", "inner_race"):
        bearing = machine.bearing
        per_rev = (bearing.bpfo(1.0) if fault == "outer_race" else bearing.bpfi(1.0))
        peak = machine.impulse_g * severity

        def amplitude(angles: np.ndarray) -> np.ndarray:
            if fault == "outer_race":  # fixed in the load zone: steady, 10 % scatter
                return peak * (1 + 0.1 * rng.standard_normal(angles.size))
            return peak * (1 + np.cos(angles)) / 2  # turns with the shaft through the load zone

        excitation = excitation + _impulse_train(rng, machine, theta, per_rev, amplitude)
    ring = np.convolve(excitation, h)[:n]
    gain = 1 + 0.1 * rng.uniform(-1, 1)
    signal = np.stack([radial + ring, axial + 0.3 * ring]) * gain
    signal += machine.sensor_noise_g * rng.standard_normal(signal.shape)
    return signal.astype(np.float32), f0


def simulate(fault: str, count: int, seed: int = 0, machine: Machine | None = None,
             severity: tuple[float, float] = (0.3, 1.0), return_speed: bool = False):
    """`count` clips of `fault` (one of FAULTS), float32 [count, 2 (radial, axial), clip_samples] in g; the
    severity of each faulty clip is uniform in `severity`. With `return_speed`, also each clip's f0 in Hz.
    The same (fault, count, seed, machine, severity) always gives the same clips."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; faults: {', '.join(FAULTS)}")
    machine = machine or Machine()
    rng = np.random.default_rng([seed, FAULTS.index(fault)])
    clips, speeds = [], []
    for _ in range(count):
        s = 0.0 if fault == "normal" else rng.uniform(*severity)
        clip, f0 = _clip(rng, fault, machine, s)
        clips.append(clip)
        speeds.append(f0)
    clips = np.asarray(clips, dtype=np.float32).reshape(count, len(CHANNELS), machine.clip_samples)
    return (clips, np.asarray(speeds)) if return_speed else clips

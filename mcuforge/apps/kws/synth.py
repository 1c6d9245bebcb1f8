"""Spoken keywords synthesized with espeak-ng: a small labelled test set for the KWS model without a corpus."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mcuforge.apps.kws.audio import fit_clip, read_wav, resample
from mcuforge.errors import ToolchainError

# Output order of the MLPerf Tiny KWS model: tfds speech_commands labels (MLPerf Tiny get_dataset.py word_labels).
KWS_LABELS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown")
KEYWORDS = KWS_LABELS[:10]
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-x-rp", "en-us+m3", "en-029", "en-gb-scotland", "en-us+f2")


def espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ToolchainError("espeak-ng not found (apt-get install espeak-ng)")
    return exe


def speak(text: str, voice: str = "en-us", speed: int = 150, pitch: int = 50, sample_rate: int = 16000,
          clip_samples: int = 16000) -> np.ndarray:
    """One float32 [clip_samples] clip of `text`, resampled to `sample_rate` and centred."""
    with tempfile.TemporaryDirectory(prefix="mcuforge-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        result = subprocess.run([espeak(), "-w", str(out), "-v", voice, "-s", str(speed), "-p", str(pitch), text],
                                capture_output=True, text=True)
        if result.returncode != 0 or not out.exists():
            raise ToolchainError(f"espeak-ng failed on {text!r} ({voice}): {result.stderr.strip()[:200]}")
        samples, rate = read_wav(out)
    return fit_clip(resample(samples, rate, sample_rate), clip_samples)


def keyword_clips(per_word: int = 3, words=KEYWORDS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(float32 [N, 16000] clips, int labels into KWS_LABELS): each word in `per_word` voice/speed/pitch
    variants, drawn deterministically from `seed`."""
    rng = np.random.default_rng(seed)
    styles = list(itertools.product(VOICES, (130, 160, 190), (35, 50, 65)))
    clips, labels = [], []
    for word in words:
        for i in rng.choice(len(styles), size=per_word, replace=False):
            voice, speed, pitch = styles[i]
            clips.append(speak(word, voice, speed, pitch))
            labels.append(KWS_LABELS.index(word))
    return np.stack(clips), np.asarray(labels)

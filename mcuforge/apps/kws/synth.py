"""Spoken words synthesized with espeak-ng or flite: labelled keyword audio without a speech corpus.

A `Style` is one synthetic speaker saying something: the engine, its voice (an espeak-ng accent such as
"en-gb-scotland" plus one of its ~100 voice variants, or a flite voice), speed and pitch. `synthesize` says several
words in one style with a single espeak-ng call (the words are separated by SSML breaks and cut apart again at the
silences: process start-up, not speech, is what costs), `synthesize_many` runs many styles on a thread pool
(the work is in the child processes), and `synthesize_sentence` says a whole sentence as running speech (the
continuous "unknown" material of dataset.py)."""

from __future__ import annotations

import functools
import io
import itertools
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from mcuforge.apps.kws.audio import fit_clip, read_wav, resample
from mcuforge.errors import InputError, ToolchainError

# Output order of the MLPerf Tiny KWS model: tfds speech_commands labels (MLPerf Tiny get_dataset.py word_labels).
KWS_LABELS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown")
KEYWORDS = KWS_LABELS[:10]
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-x-rp", "en-us+m3", "en-029", "en-gb-scotland", "en-us+f2")
ENGINES = ("espeak-ng", "flite")
# espeak-ng's English accents with their own pronunciation rules (`espeak-ng --voices=en`, the gmw/ voices).
ESPEAK_ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                  "en-us-nyc")
FLITE_LIMITED_DOMAIN = ("awb_time",)   # speaks clock times only
WORD_BREAK_MS = 500                     # silence espeak-ng puts between the words of one call
MIN_SPLIT_GAP_S = 0.25                  # longer than any pause inside an English word (stop closures ~60 ms)
SPLIT_THRESHOLD_DB = 45.0               # "silent" = this far below the call's peak


@dataclass(frozen=True)
class Style:
    """One synthetic speaker. espeak-ng: `voice` is an accent, `variant` a voice variant ("" = none), `speed` in
    words per minute, `pitch` 0..99. flite: `voice` is a flite voice, `speed` sets the duration stretch
    (150 / speed), `pitch` is not used (flite's unit-selection voices keep their own pitch)."""
    engine: str = "espeak-ng"
    voice: str = "en-us"
    variant: str = ""
    speed: int = 150
    pitch: int = 50

    @property
    def speaker(self) -> tuple[str, str, str]:
        """Who speaks, apart from how fast and how high: the unit a voice-disjoint split separates."""
        return (self.engine, self.voice, self.variant)


def _tool(name: str, package: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise ToolchainError(f"{name} not found (apt-get install {package})")
    return exe


def espeak() -> str:
    return _tool("espeak-ng", "espeak-ng")


def flite() -> str:
    return _tool("flite", "flite")


@functools.lru_cache(maxsize=None)
def espeak_variants() -> tuple[str, ...]:
    """Names of espeak-ng's voice variants (`espeak-ng --voices=variant`, files under voices/!v), sorted."""
    listing = subprocess.run([espeak(), "--voices=variant"], capture_output=True, text=True).stdout
    names = {line.split()[-1].split("/", 1)[1] for line in listing.splitlines()[1:]
             if line.split() and line.split()[-1].startswith("!v/")}
    return tuple(sorted(names))


@functools.lru_cache(maxsize=None)
def flite_voices() -> tuple[str, ...]:
    """flite's built-in general-domain voices (`flite -lv`), e.g. kal, kal16, awb, rms, slt."""
    listing = subprocess.run([flite(), "-lv"], capture_output=True, text=True).stdout
    names = listing.split(":", 1)[-1].split()
    return tuple(n for n in names if n not in FLITE_LIMITED_DOMAIN)


def _wav_bytes(raw: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(raw), "rb") as f:
        rate, frames = f.getframerate(), f.readframes(f.getnframes())
    return np.frombuffer(frames, np.int16).astype(np.float32) / 32768.0, rate


def _run_espeak(text: str, style: Style, ssml: bool) -> tuple[np.ndarray, int]:
    voice = f"{style.voice}+{style.variant}" if style.variant else style.voice
    command = [espeak(), "--stdout", "-v", voice, "-s", str(style.speed), "-p", str(style.pitch)]
    result = subprocess.run(command + (["-m"] if ssml else []) + [text], capture_output=True)
    if result.returncode != 0 or len(result.stdout) <= 44:
        message = result.stderr.decode(errors="replace").strip()[:200]
        raise ToolchainError(f"espeak-ng failed on {text[:60]!r} ({voice}): {message}")
    return _wav_bytes(result.stdout)


def _run_flite(word: str, style: Style) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory(prefix="mcuforge-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        command = [flite(), "-voice", style.voice, "--setf", f"duration_stretch={150.0 / style.speed:.4f}",
                   "-t", word, "-o", str(out)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not out.exists():
            raise ToolchainError(f"flite failed on {word!r} ({style.voice}): {result.stderr.strip()[:200]}")
        return read_wav(out)


def split_at_silences(samples: np.ndarray, rate: int, count: int) -> list[np.ndarray] | None:
    """`count` pieces of `samples` cut in the middle of the `count - 1` silent gaps (>= MIN_SPLIT_GAP_S) between
    words, or None when the recording does not have exactly that many gaps."""
    magnitude = np.abs(samples)
    if not magnitude.size or magnitude.max() <= 0:
        return None
    loud = np.flatnonzero(magnitude >= magnitude.max() * 10 ** (-SPLIT_THRESHOLD_DB / 20))
    gap_after = np.flatnonzero(np.diff(loud) >= MIN_SPLIT_GAP_S * rate)
    if len(gap_after) != count - 1:
        return None
    cuts = [0] + [int(loud[i] + loud[i + 1]) // 2 for i in gap_after] + [len(samples)]
    return [samples[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def resample_clips(clips: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """[N, n] clips of equal length -> [N, n * rate_out / rate_in] by FFT (ideal low-pass at the lower Nyquist
    frequency). Exact for periodic signals; our clips are centred words with silent edges, so the wrap-around a
    periodic resampler assumes costs nothing, and it is ~50x faster than the polyphase `audio.resample`."""
    if rate_in == rate_out:
        return clips.astype(np.float32)
    n_in = clips.shape[-1]
    n_out = int(round(n_in * rate_out / rate_in))
    spectrum = np.fft.rfft(clips.astype(np.float64), axis=-1)
    bins = min(spectrum.shape[-1], n_out // 2 + 1)
    out = np.zeros(clips.shape[:-1] + (n_out // 2 + 1,), np.complex128)
    out[..., :bins] = spectrum[..., :bins]
    return (np.fft.irfft(out, n_out, axis=-1) * (n_out / n_in)).astype(np.float32)


def synthesize(words, style: Style, sample_rate: int = 16000, clip_samples: int = 16000) -> np.ndarray:
    """float32 [len(words), clip_samples]: each word said in `style`, resampled to `sample_rate` and centred.
    espeak-ng says all words in one call, each as a sentence of its own (so it keeps the length and falling pitch
    of a word said alone) followed by a break, and the recording is cut at the breaks; should the cut not find one
    piece per word (a variant with breath noise, say), each word is synthesized on its own."""
    words = list(words)
    if style.engine not in ENGINES:
        raise InputError(f"synthesis engine {style.engine!r} is not one of {', '.join(ENGINES)}")
    if not words:
        return np.zeros((0, clip_samples), np.float32)
    if style.engine == "flite":
        recordings = [_run_flite(word, style) for word in words]
    else:
        pieces = None
        if len(words) > 1:
            text = "<speak>" + f'<break time="{WORD_BREAK_MS}ms"/>'.join(f"<s>{escape(w)}.</s>" for w in words) + "</speak>"
            samples, rate = _run_espeak(text, style, ssml=True)
            pieces = split_at_silences(samples, rate, len(words))
            recordings = [(piece, rate) for piece in pieces] if pieces is not None else None
        if pieces is None:
            recordings = [_run_espeak(word, style, ssml=False) for word in words]
    clips = []
    for samples, rate in recordings:
        native = int(round(clip_samples * rate / sample_rate))
        clips.append(resample_clips(fit_clip(samples, native)[None, :], rate, sample_rate)[0])
    return np.stack(clips)


def synthesize_sentence(text: str, style: Style, sample_rate: int = 16000) -> np.ndarray:
    """float32 speech of `text` said by espeak-ng in `style` as one continuous utterance (words run together, as in
    conversation), any length, resampled to `sample_rate`, silent ends trimmed (40 dB below the peak)."""
    if style.engine != "espeak-ng":
        raise InputError(f"sentences are synthesized with espeak-ng only, not {style.engine!r}")
    samples, rate = _run_espeak(text, style, ssml=False)
    magnitude = np.abs(samples)
    if magnitude.size and magnitude.max() > 0:
        loud = np.flatnonzero(magnitude >= magnitude.max() * 10 ** (-40.0 / 20))
        samples = samples[loud[0]:loud[-1] + 1]
    # Zero margins keep the FFT resampler's wrap-around off the speech.
    margin = rate // 20
    padded = np.concatenate([np.zeros(margin, np.float32), samples, np.zeros(margin, np.float32)])
    out = resample_clips(padded[None, :], rate, sample_rate)[0]
    edge = sample_rate // 20
    return out[edge:len(out) - edge].astype(np.float32)


def synthesize_many(jobs, workers: int = 2, sample_rate: int = 16000, clip_samples: int = 16000) -> list[np.ndarray]:
    """`synthesize(words, style)` for each (words, style) in `jobs`, in order, `workers` synthesizer processes at
    a time."""
    jobs = list(jobs)
    run = functools.partial(_synthesize_job, sample_rate=sample_rate, clip_samples=clip_samples)
    if workers <= 1 or len(jobs) <= 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def _synthesize_job(job, sample_rate: int, clip_samples: int) -> np.ndarray:
    words, style = job
    return synthesize(words, style, sample_rate, clip_samples)


def speak(text: str, voice: str = "en-us", speed: int = 150, pitch: int = 50, sample_rate: int = 16000,
          clip_samples: int = 16000) -> np.ndarray:
    """One float32 [clip_samples] clip of `text` said by espeak-ng `voice` ("accent" or "accent+variant"),
    resampled to `sample_rate` (polyphase) and centred."""
    samples, rate = _run_espeak(text, Style(voice=voice, speed=speed, pitch=pitch), ssml=False)
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

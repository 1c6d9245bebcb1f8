"""Long synthetic audio streams for the streaming detector: no corpus, everything from espeak-ng, flite and
`noise`.

- `background_chunks`: non-keyword audio of any length, chunk by chunk (bounded memory): segments of random
  English sentences (espeak-ng and flite, several voices, speeds and pitches) over noise, noise alone (pink,
  brown, hum, babble, white) and near-silence, at random levels. The vocabulary holds none of the ten keywords
  and none of Speech Commands' auxiliary words, which KWS models learn as "unknown": the speech is held out
  from what a model was trained to reject.
- `keyword_stream`: keywords inserted every few seconds into noise, with their labels, sample spans and TTS
  engine (the ground truth for a detection rate; flite is an engine the synthetic-speech training never heard).

Every stream is reproducible from its seed. Speech is synthesized into a pool once and reused at random gains,
offsets and noise mixes (a sentence takes ~20 ms to synthesize, but an hour of distinct sentences is not needed
to measure false accepts).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.apps.kws.audio import read_wav, resample
from mcuforge.apps.kws.noise import NOISES, babble, mix_at_snr
from mcuforge.apps.kws.synth import KEYWORDS, KWS_LABELS, VOICES, espeak
from mcuforge.errors import ToolchainError

SAMPLE_RATE = 16000

# Everyday English without the ten keywords (down go left no off on right stop up yes). Words that contain or
# sound like one ("going", "upon", "often", "know", "write") stay in on purpose: they are what false accepts
# are made of.
NON_KEYWORD_WORDS = tuple("""
the a an and but or if then because while after before when where what which who how why this that these those
i you he she it we they me him her us them my your his its our their some any every each all many much more most
few little other another same such only own very really just still even also too again never always often
sometimes here there now today tonight tomorrow yesterday soon later early late first last next once twice
time year day week month morning evening night hour minute moment people man woman child children family friend
house home room door window wall floor table chair bed kitchen garden street road city town country world water
fire air earth light sound music voice word name story book letter paper picture number money price market shop
school teacher student class lesson work job office meeting project plan idea problem question answer reason
example part place point side end line hand head face eye ear mouth arm leg foot heart mind body food bread milk
coffee tea sugar salt apple orange lemon dinner lunch breakfast car train bus plane boat bicycle ticket station
weather rain snow wind sun cloud summer winter spring autumn river mountain forest field flower tree grass
animal dog cat bird fish horse cow be is are was were been have has had do does did say said make made take took
see saw come came know knew think thought look looked want wanted give gave use used find found tell told ask
asked feel felt try tried leave call called keep kept begin began seem help talk turn start show hear play run
move live believe bring happen write sit stand lose pay meet include continue set learn change lead understand
watch follow create speak read allow add spend grow open walk win offer remember love consider appear buy wait
serve die send expect build stay fall cut reach kill remain suggest raise pass sell require report decide pull
good new old great high small large long big little young important different public bad able free sure clear
full special easy strong certain whole real best better black white red blue green yellow brown happy quiet
loud warm cold hot dark bright heavy soft simple quick slow busy ready afternoon between under over through
about across around behind beside during without within toward against among along past since until upon
going gone stopping nobody nothing north known note nose now stone stomach soup cup top shop app cop
lift lefty bright light write ride rice night nine yet yellow yesterday yell guess dog dough toe oak
""".split())

# Speech Commands v2's non-keyword words: the "unknown" class KWS models are trained on.
SPEECH_COMMANDS_AUXILIARY = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward", "four",
                             "happy", "house", "learn", "marvin", "nine", "one", "seven", "sheila", "six", "three",
                             "tree", "two", "visual", "wow", "zero")
SEGMENT_KINDS = ("speech", "noise", "silence")
ENGINES = ("espeak-ng", "flite")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")     # flite's general-domain voices


def words_without_keywords(words=NON_KEYWORD_WORDS) -> tuple[str, ...]:
    """The vocabulary minus the keywords and Speech Commands' auxiliary words."""
    excluded = set(KEYWORDS) | set(SPEECH_COMMANDS_AUXILIARY)
    return tuple(dict.fromkeys(w for w in words if w not in excluded))


@functools.cache
def _flite() -> str:
    exe = shutil.which("flite")
    if exe is None:
        raise ToolchainError("flite not found (apt-get install flite)")
    return exe


def speak_text(text: str, engine: str = "espeak-ng", voice: str = "en-us", speed: int = 160, pitch: int = 50
               ) -> np.ndarray:
    """float32 speech of any length at 16 kHz (no trimming or centring). flite ignores `pitch` and takes
    `speed` as a duration stretch of 150 / speed."""
    with tempfile.TemporaryDirectory(prefix="mcuforge-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        if engine == "flite":
            command = [_flite(), "-voice", voice, "--setf", f"duration_stretch={150.0 / speed:.4f}", "-t", text,
                       "-o", str(out)]
        elif engine == "espeak-ng":
            command = [espeak(), "-w", str(out), "-v", voice, "-s", str(speed), "-p", str(pitch), text]
        else:
            raise ToolchainError(f"unknown TTS engine {engine!r} (known: {', '.join(ENGINES)})")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not out.exists():
            raise ToolchainError(f"{engine} failed on {text[:40]!r} ({voice}): {result.stderr.strip()[:200]}")
        samples, rate = read_wav(out)
    return resample(samples, rate, SAMPLE_RATE)


def random_speaker(rng: np.random.Generator, engines=ENGINES) -> tuple[str, str, int, int]:
    """(engine, voice, speed in words per minute, pitch)."""
    engine = engines[int(rng.integers(len(engines)))]
    voices = FLITE_VOICES if engine == "flite" else VOICES
    return engine, voices[int(rng.integers(len(voices)))], int(rng.integers(120, 200)), int(rng.integers(30, 71))


def speech_pool(count: int, rng: np.random.Generator, words_per_sentence: tuple[int, int] = (4, 14),
                engines=ENGINES) -> list[np.ndarray]:
    """`count` non-keyword sentences, each by a random speaker, peak-normalized to 1."""
    vocabulary = words_without_keywords()
    pool = []
    for _ in range(count):
        n = int(rng.integers(words_per_sentence[0], words_per_sentence[1] + 1))
        text = " ".join(rng.choice(vocabulary, size=n))
        speech = speak_text(text, *random_speaker(rng, engines))
        peak = float(np.abs(speech).max())
        if peak > 0:
            pool.append((speech / peak).astype(np.float32))
    return pool


def _noise(kind: str, n: int, rng: np.random.Generator, pool: list[np.ndarray]) -> np.ndarray:
    if kind == "babble":
        rows = np.stack([np.resize(p, SAMPLE_RATE * 3) for p in pool[:32]])
        return babble(n, rng, rows, talkers=int(rng.integers(3, 7)))
    return NOISES[kind](n, rng)


def _level(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def background_segment(rng: np.random.Generator, pool: list[np.ndarray], kind: str | None = None
                       ) -> tuple[np.ndarray, str]:
    """One 2-15 s segment and its description ("speech+pink", "noise+hum", ...): speech over noise (SNR
    0-30 dB), noise alone (-40..-10 dBFS), or near-silence (noise at -75..-55 dBFS)."""
    kind = kind or SEGMENT_KINDS[int(rng.choice(3, p=(0.5, 0.35, 0.15)))]
    noise_kind = ("pink", "brown", "hum", "babble", "white")[int(rng.integers(5))]
    n = int(rng.uniform(2.0, 15.0) * SAMPLE_RATE)
    if kind == "speech":
        speech = np.zeros(n, np.float32)
        pos = int(rng.integers(0, SAMPLE_RATE // 2))
        while pos < n:
            sentence = pool[int(rng.integers(len(pool)))]
            take = min(len(sentence), n - pos)
            speech[pos:pos + take] = sentence[:take] * _level(rng.uniform(-6.0, 0.0))
            pos += take + int(rng.uniform(0.1, 1.0) * SAMPLE_RATE)
        out = mix_at_snr(speech, _noise(noise_kind, n, rng, pool), rng.uniform(0.0, 30.0))
        out = out / max(float(np.abs(out).max()), 1e-9) * _level(rng.uniform(-20.0, -1.0))
        return out.astype(np.float32), f"{kind}+{noise_kind}"
    level = rng.uniform(-40.0, -10.0) if kind == "noise" else rng.uniform(-75.0, -55.0)
    return (_noise(noise_kind, n, rng, pool) * _level(level)).astype(np.float32), f"{kind}+{noise_kind}"


def background_chunks(seconds: float, seed: int = 0, pool_size: int = 120, chunk_seconds: float = 60.0,
                      segments: list | None = None) -> Iterator[np.ndarray]:
    """`seconds` of non-keyword audio, yielded in chunks of about `chunk_seconds` (float32, clipped to [-1, 1]).
    `segments`, when given, receives (first sample, length, description) of every segment made."""
    rng = np.random.default_rng(seed)
    pool = speech_pool(pool_size, rng)
    total, pending, size = int(seconds * SAMPLE_RATE), [], 0
    emitted, chunk = 0, int(chunk_seconds * SAMPLE_RATE)
    while emitted < total:
        while size < chunk and emitted + size < total:
            audio, description = background_segment(rng, pool)
            if segments is not None:
                segments.append((emitted + size, len(audio), description))
            pending.append(audio)
            size += len(audio)
        audio = np.concatenate(pending)
        take = min(chunk, total - emitted, len(audio))
        yield np.clip(audio[:take], -1.0, 1.0)
        pending, size = [audio[take:]], len(audio) - take
        emitted += take


@dataclass
class KeywordStream:
    audio: np.ndarray          # float32 samples
    labels: np.ndarray         # class index into KWS_LABELS of each inserted keyword
    starts: np.ndarray         # first sample of each keyword
    ends: np.ndarray           # one past its last sample
    engines: np.ndarray        # TTS engine that said it


def _trimmed(clip: np.ndarray, trim_db: float = 40.0) -> np.ndarray:
    loud = np.flatnonzero(np.abs(clip) >= np.abs(clip).max() * _level(-trim_db))
    return clip[loud[0]:loud[-1] + 1] if loud.size else clip


def keyword_stream(count: int, seed: int = 0, gap_seconds: tuple[float, float] = (2.5, 3.5), pool_size: int = 40,
                   snr_db: tuple[float, float] = (10.0, 30.0), words=KEYWORDS, engines=ENGINES) -> KeywordStream:
    """`count` keywords (random words and speakers, peaks -12..-1 dBFS) over noise (pink, brown, hum, babble or
    white) at `snr_db` relative to the keyword, each after `gap_seconds` of that noise alone."""
    rng = np.random.default_rng(seed)
    pool = speech_pool(pool_size, rng, engines=engines)
    pieces, labels, starts, ends, used, pos = [], [], [], [], [], 0
    for _ in range(count):
        gap = int(rng.uniform(*gap_seconds) * SAMPLE_RATE)
        word = words[int(rng.integers(len(words)))]
        speaker = random_speaker(rng, engines)
        used.append(speaker[0])
        clip = _trimmed(speak_text(word, *speaker))
        clip = clip / max(float(np.abs(clip).max()), 1e-9) * _level(rng.uniform(-12.0, -1.0))
        padded = np.concatenate([np.zeros(gap, np.float32), clip.astype(np.float32)])
        noise_kind = ("pink", "brown", "hum", "babble", "white")[int(rng.integers(5))]
        noise = _noise(noise_kind, len(padded), rng, pool)
        p_clip = float(np.mean(np.square(clip, dtype=np.float64)))
        noise = noise * np.sqrt(p_clip / 10.0 ** (rng.uniform(*snr_db) / 10.0))
        pieces.append(np.clip(padded + noise, -1.0, 1.0).astype(np.float32))
        labels.append(KWS_LABELS.index(word))
        starts.append(pos + gap)
        ends.append(pos + len(padded))
        pos += len(padded)
    tail = int(gap_seconds[1] * SAMPLE_RATE)
    pieces.append((_noise("pink", tail, rng, pool) * _level(-50.0)).astype(np.float32))
    return KeywordStream(np.concatenate(pieces), np.asarray(labels), np.asarray(starts), np.asarray(ends),
                         np.asarray(used))


@dataclass
class DetectionScore:
    hits: int            # keywords with an event of their label in their response window
    misses: int          # keywords without one
    wrong: int           # events of another keyword in a keyword's response window
    extra: int           # events outside every response window (false accepts)
    hit: np.ndarray      # per keyword: detected

    @property
    def detection_rate(self) -> float:
        return self.hits / max(1, self.hits + self.misses)


def score_detections(events, stream: KeywordStream, hop_samples: int, late_seconds: float) -> DetectionScore:
    """Match events (with .hop and .label) to the inserted keywords: keyword i's response window is
    [start_i, end_i + late_seconds] in samples of the event's hop end (hop * hop_samples)."""
    late = int(late_seconds * SAMPLE_RATE)
    hit = np.zeros(len(stream.labels), bool)
    wrong = extra = 0
    for event in events:
        t = event.hop * hop_samples
        inside = np.flatnonzero((stream.starts <= t) & (t <= stream.ends + late))
        if inside.size == 0:
            extra += 1
        elif any(stream.labels[i] == event.label and not hit[i] for i in inside):
            hit[next(i for i in inside if stream.labels[i] == event.label and not hit[i])] = True
        else:
            wrong += 1
    return DetectionScore(int(hit.sum()), int((~hit).sum()), wrong, extra, hit)

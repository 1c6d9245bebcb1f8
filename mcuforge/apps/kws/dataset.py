"""A 12-class keyword-spotting data set made here by speech synthesis, split by voice.

A voice is an (espeak-ng accent, voice variant) pair: 8 accents x ~100 variants. Voices are shuffled from the
seed and dealt to test, val and train, so the test set is said by voices training never heard. Each synthesized
utterance is one espeak-ng call in one voice at a speed and pitch drawn from the config, saying every keyword and
a few unknown words (synth.synthesize), so each keyword gets `clips_per_keyword` utterances over the splits.

- "unknown": Speech Commands' auxiliary words (never the keywords), `unknown_ratio` times a keyword class's size;
  in train also `continuous_unknown_ratio` times a keyword class's size of 1 s windows cut at random offsets from
  continuous synthesized sentences (augment.speech_windows): running speech and fragments of words at the window
  edges, what a streaming detector hears between keywords. A model that only ever saw isolated words as
  "unknown" false-accepts on running speech (benchmarks/kws_streaming.py at threshold 0.6: 242 false accepts per
  hour of speech without these windows, 80 with the default ratio 1, 59 with ratio 2 at a lower detection rate).
- keyword context (train): with probability `keyword_context_probability` a keyword clip gets the end of one
  sentence before it and/or the start of another after it (augment.with_context), so keywords said inside speech
  are still keywords. Off by default: at 0.5 it changed no false-accept rate and lowered flite keyword detection.
- Sentences: 4 to 14 random words of `sentence_words` (SENTENCE_LENGTH) in one espeak-ng call, said by the TRAINING
  voices only (espeak-ng, never flite). The vocabulary is disjoint from stream_audio.NON_KEYWORD_WORDS, the pool
  of the false-accept benchmark's test speech (benchmarks/kws_streaming.py), and from the keywords; the config
  check rejects any overlap, so no test sentence word is ever trained on. val/test keep their isolated-word
  composition, comparable with earlier runs; running speech is measured by the streaming benchmark.
- "silence": noise-only clips (pink, brown, white, hum; babble only under words) at levels from -110 to -10 dBFS,
  digital silence and a few LSBs of dither included (augment.silence_clips), `silence_ratio` times a keyword
  class's size.
- train: `train_copies` augmented copies of each utterance: speed perturbation (stretch, off by default), spectral
  tilt (tilt, off by default), time shift up to +-shift_ms, gain in gain_db, background noise (noise_kinds;
  babble mixes unknown words said by the split's own voices) with probability noise_probability at an SNR in
  snr_db. Gain barely matters to the MLPerf features (each clip is divided by its peak) but does to a front end
  without that normalization.
- val / test / test_flite: each utterance once, unshifted; a fraction eval_noise_fraction gets background noise at
  an SNR in eval_snr_db (mild noise: a test of unseen voices, not of noise robustness), the rest stays clean.
- test_flite (flite_test): the same classes said by Debian's flite voices, an engine training never heard; it
  measures how far the model generalizes beyond espeak-ng, still synthetic speech, never real-speech accuracy.

Features are MLPerf Tiny's MFCC (mfcc.py, preset mlperf-kws): x float32 [N, 49, 10], y int64 into KWS_LABELS."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.apps.kws.augment import Augmentation, NoiseBank, augment, silence_clips, speech_windows, with_context
from mcuforge.apps.kws.mfcc import mfcc
from mcuforge.apps.kws.noise import NOISE_KINDS
from mcuforge.apps.kws.stream_audio import NON_KEYWORD_WORDS as STREAM_TEST_WORDS
from mcuforge.apps.kws.synth import (ESPEAK_ACCENTS, KEYWORDS, KWS_LABELS, Style, espeak_variants, flite_voices,
                                     synthesize, synthesize_many, synthesize_sentence)
from mcuforge.errors import InputError

# Speech Commands v2's auxiliary (non-keyword) words.
UNKNOWN_WORDS = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward", "four", "happy",
                 "house", "learn", "marvin", "nine", "one", "seven", "sheila", "six", "three", "tree", "two",
                 "visual", "wow", "zero")
# Words of the training sentences: none is a keyword nor in stream_audio.NON_KEYWORD_WORDS (the false-accept
# test's vocabulary); a few sound close to a keyword (goal, gold, loft, stock) on purpose.
SENTENCE_WORDS = tuple("""
absent accept account acid action active actor actual adult advice affair agent agree ahead alarm album alive
alley amount ancient angle angry ankle annual apart appeal argue armchair army artist aside asleep attack attic
aunt author avenue awful baby bacon badge bake balance balcony ballet banana band bank barber barrel basket bath
battle beach bean bear beard beauty bee beef belt bench berry blanket blade blind blossom board bold bone bonus
border bottle bottom bowl box brain branch brave brick bridge brief broom brother bucket budget bundle butter
button cabin cable cake camera camp candle canvas captain carpet carrot castle cattle cave ceiling cellar cereal
chalk champion channel chapter charge cheap cheese chest chicken chimney chin chocolate circle citizen claim
clever cliff climate clock cloth clown coach coast coat coin collar colour comfort common copper corner cotton
couch cousin cradle crash crayon cream credit crew crystal cupboard curtain cushion custom damage dancer danger
daughter deal debate decade deep degree dentist desert desk detail diamond diary dish distant doctor dollar
dolphin dragon drama drawer dream dress drink driver drum duck dust eagle eager eastern echo edge effort elbow
elder elephant engine envelope equal error escape evidence exact exit expert fabric factory fairy famous fancy
farmer feather fence festival fever fiction finger flag flame flavor fleet flour fluid forty fossil fountain fox
frame frog frost fruit fuel funny furniture gallery garage garlic gate gentle giant ginger glass glove goal goat
gold golf gossip grain grape gravel guitar habit hammer harbor harvest hazard helmet hero hill holiday honey hook
hotel humble hunger husband ice island jacket jar jelly jewel journey judge juice jungle kettle kidney king
kitten knee knife ladder lake lamp language laundry lawyer leather lemonade lettuce library lion liquid lizard
lobby locker loft lonely lucky lumber magic magnet maple marble meadow medal melon metal middle mirror mixture
modern monkey monster motor muffin muscle museum napkin narrow nation needle nephew nickel noble novel nurse oven
ocean olive onion opera orbit oxygen paddle palace panel parade parrot patch peanut pencil pepper piano pickle
pigeon pillow pilot planet plastic pocket poem potato powder puzzle pyramid rabbit radio rainbow ribbon robot
rocket rubber saddle salad salmon sandwich satellite saucer scarf science scissors season secret shadow shelf
shoulder signal silver sister skate skull sleeve slipper smoke socket soldier spider spoon squirrel stable
stadium stock stool stuff sweater tablet tailor target tennis thunder tiger timber tomato tongue towel tower
tractor traffic tunnel turtle umbrella uncle valley velvet violin wagon walnut wallet whistle wizard wolf wonder
wooden yogurt zebra
""".split())
SENTENCE_LENGTH = (4, 14)    # words per training sentence (as stream_audio's test sentences)
WINDOWS_PER_SENTENCE = 3     # continuous-speech windows cut per sentence and train copy: ~3 s sentences
SPLITS = ("train", "val", "test")
SAMPLE_RATE, CLIP_SAMPLES = 16000, 16000
CHUNK_UTTERANCES = 48        # synthesized and featurized together: bounds memory, keeps both workers busy
MFCC_BATCH = 64
BABBLE_POOL = 32             # unknown-word clips per split that babble noise mixes
FORMAT_VERSION = 4           # part of the cache key: bump when the synthesis or the augmentation changes


@dataclass(frozen=True)
class KwsDataConfig:
    """Every field has a default; lists from YAML become tuples. `variants=()` means every installed espeak-ng
    voice variant plus each accent's own voice ("")."""
    clips_per_keyword: int = 400
    unknown_words: tuple[str, ...] = UNKNOWN_WORDS
    unknown_ratio: float = 2.0
    silence_ratio: float = 1.0
    continuous_unknown_ratio: float = 1.0
    keyword_context_probability: float = 0.0
    sentence_words: tuple[str, ...] = SENTENCE_WORDS
    accents: tuple[str, ...] = ESPEAK_ACCENTS
    variants: tuple[str, ...] = ()
    speeds: tuple[int, ...] = (120, 140, 160, 180, 210)
    pitches: tuple[int, ...] = (20, 35, 50, 65, 80)
    val_voices: float = 0.1
    test_voices: float = 0.1
    train_copies: int = 2
    stretch: tuple[float, float] = (1.0, 1.0)
    tilt: tuple[float, float] = (0.0, 0.0)
    shift_ms: float = 100.0
    gain_db: tuple[float, float] = (-10.0, 10.0)
    snr_db: tuple[float, float] = (0.0, 30.0)
    noise_probability: float = 0.8
    noise_kinds: tuple[str, ...] = NOISE_KINDS
    eval_noise_fraction: float = 0.5
    eval_snr_db: tuple[float, float] = (10.0, 30.0)
    flite_test: bool = True
    flite_speeds: tuple[int, ...] = (110, 130, 150, 170, 190)
    seed: int = 0
    workers: int = 2
    cache_dir: str | None = None

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        _check(self)

    @classmethod
    def from_dict(cls, params: dict | None, where: str = "kws data") -> "KwsDataConfig":
        """From a YAML mapping; an unknown field is an InputError naming it."""
        params = dict(params or {})
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InputError(f"{where}: {unknown[0]!r} is not a field of KwsDataConfig (fields: {', '.join(known)})")
        return cls(**params)


def _check(c: KwsDataConfig) -> None:
    def bad(name, expectation):
        raise InputError(f"KwsDataConfig.{name} {expectation}, got {getattr(c, name)!r}")

    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    def is_number(v):
        return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)

    for name in ("clips_per_keyword", "train_copies", "workers"):
        if not is_int(getattr(c, name)) or getattr(c, name) < 1:
            bad(name, "must be a positive integer")
    if not is_int(c.seed):
        bad("seed", "must be an integer")
    for name in ("unknown_ratio", "silence_ratio", "continuous_unknown_ratio", "shift_ms"):
        if not is_number(getattr(c, name)) or getattr(c, name) < 0:
            bad(name, "must be a non-negative number")
    for name in ("noise_probability", "eval_noise_fraction", "val_voices", "test_voices",
                 "keyword_context_probability"):
        if not is_number(getattr(c, name)) or not 0 <= getattr(c, name) <= 1:
            bad(name, "must be a number in [0, 1]")
    if c.val_voices + c.test_voices >= 1:
        bad("test_voices", f"plus val_voices ({c.val_voices}) must leave voices for training (< 1)")
    for name in ("gain_db", "snr_db", "eval_snr_db", "stretch", "tilt"):
        v = getattr(c, name)
        if not (isinstance(v, tuple) and len(v) == 2 and all(map(is_number, v)) and v[0] <= v[1]):
            bad(name, "must be a [low, high] pair of numbers")
    if not 0.5 <= c.stretch[0] <= c.stretch[1] <= 2.0:
        bad("stretch", "must be a [low, high] pair of speed factors in [0.5, 2]")
    if not -1.0 <= c.tilt[0] <= c.tilt[1] <= 1.0:
        bad("tilt", "must be a [low, high] pair of tilt coefficients in [-1, 1]")
    for name in ("speeds", "flite_speeds"):
        v = getattr(c, name)
        if not (isinstance(v, tuple) and v and all(is_int(s) and 80 <= s <= 450 for s in v)):
            bad(name, "must be a non-empty list of words-per-minute integers in [80, 450]")
    if not (isinstance(c.pitches, tuple) and c.pitches and all(is_int(p) and 0 <= p <= 99 for p in c.pitches)):
        bad("pitches", "must be a non-empty list of integers in [0, 99]")
    for name in ("unknown_words", "sentence_words", "accents", "variants", "noise_kinds"):
        v = getattr(c, name)
        if not (isinstance(v, tuple) and all(isinstance(s, str) for s in v)):
            bad(name, "must be a list of strings")
    if c.unknown_ratio > 0 and not c.unknown_words:
        bad("unknown_words", "must not be empty when unknown_ratio > 0")
    if set(c.unknown_words) & set(KEYWORDS):
        bad("unknown_words", f"must not contain keywords ({', '.join(sorted(set(c.unknown_words) & set(KEYWORDS)))})")
    if any(not w.isalpha() for w in c.unknown_words):
        bad("unknown_words", "must be plain words (letters only)")
    if (c.continuous_unknown_ratio > 0 or c.keyword_context_probability > 0) and not c.sentence_words:
        bad("sentence_words", "must not be empty when continuous_unknown_ratio or keyword_context_probability > 0")
    if any(not w.isalpha() for w in c.sentence_words):
        bad("sentence_words", "must be plain words (letters only)")
    if set(c.sentence_words) & set(KEYWORDS):
        bad("sentence_words", f"must not contain keywords ({', '.join(sorted(set(c.sentence_words) & set(KEYWORDS)))})")
    leaked = sorted(set(c.sentence_words) & set(STREAM_TEST_WORDS))
    if leaked:
        bad("sentence_words", f"must not contain words of the false-accept test's vocabulary "
                              f"(stream_audio.NON_KEYWORD_WORDS: {', '.join(leaked[:5])})")
    if not c.accents or set(c.accents) - set(ESPEAK_ACCENTS):
        bad("accents", f"must be a non-empty list from {', '.join(ESPEAK_ACCENTS)}")
    if not c.noise_kinds or set(c.noise_kinds) - set(NOISE_KINDS):
        bad("noise_kinds", f"must be a non-empty list from {', '.join(NOISE_KINDS)}")
    if not isinstance(c.flite_test, bool):
        bad("flite_test", "must be true or false")
    if c.cache_dir is not None and not isinstance(c.cache_dir, str):
        bad("cache_dir", "must be a directory path")


def voices(config: KwsDataConfig) -> list[tuple[str, str]]:
    """Every (accent, variant) voice of the config, sorted; unknown variants are an InputError."""
    installed = espeak_variants()
    variants = config.variants or ("",) + installed
    missing = sorted(set(variants) - set(installed) - {""})
    if missing:
        raise InputError(f"KwsDataConfig.variants: {', '.join(missing[:5])} not installed espeak-ng variants "
                         f"(installed: {', '.join(installed[:8])}, ...)")
    return sorted((accent, variant) for accent in config.accents for variant in dict.fromkeys(variants))


def voice_split(config: KwsDataConfig) -> dict[str, list[tuple[str, str]]]:
    """Disjoint voice lists per split. A voice is an (accent, variant) pair, but the variant carries the timbre
    (formants, pitch range, voicing) while the accent only carries pronunciation rules, so it is the variants that
    are dealt to the splits, every accent of a variant going with it: a test voice's timbre is never heard in
    training, in any accent. Seeded shuffle of the variants: test first, then val, the rest train."""
    pool = voices(config)
    variants = list(dict.fromkeys(variant for _, variant in pool))
    order = np.random.default_rng([config.seed, 0]).permutation(len(variants))
    n_test = max(1, int(round(config.test_voices * len(variants)))) if config.test_voices > 0 else 0
    n_val = max(1, int(round(config.val_voices * len(variants)))) if config.val_voices > 0 else 0
    if len(variants) - n_test - n_val < 1:
        raise InputError(f"KwsDataConfig: {len(variants)} voice variants leave none for training after val_voices "
                         "and test_voices (add variants)")
    shuffled = [variants[i] for i in order]
    dealt = {"test": set(shuffled[:n_test]), "val": set(shuffled[n_test:n_test + n_val]),
             "train": set(shuffled[n_test + n_val:])}
    return {name: [voice for voice in pool if voice[1] in held] for name, held in dealt.items()}


def _split_fraction(config: KwsDataConfig, split: str) -> float:
    return {"val": config.val_voices, "test": config.test_voices,
            "train": 1.0 - config.val_voices - config.test_voices}[split]


def _plan(config: KwsDataConfig, styles: list[Style], count: int, rng) -> list[tuple[list[str], Style]]:
    """`count` utterances: each keyword plus about unknown_ratio unknown words, the styles used in turn."""
    jobs = []
    for i in range(count):
        extra = int(config.unknown_ratio) + int(rng.random() < config.unknown_ratio % 1)
        unknown = rng.choice(config.unknown_words, size=min(extra, len(config.unknown_words)), replace=False)
        jobs.append((list(KEYWORDS) + [str(w) for w in unknown], styles[i % len(styles)]))
    return jobs


def _espeak_styles(config: KwsDataConfig, split_voices, count: int, rng) -> list[Style]:
    """`count` styles cycling through the split's voices in a shuffled order, speed and pitch drawn per style."""
    order = [split_voices[i] for i in rng.permutation(len(split_voices))]
    return [Style("espeak-ng", *order[i % len(order)], speed=int(rng.choice(config.speeds)),
                  pitch=int(rng.choice(config.pitches))) for i in range(count)]


def _labels(words: list[str]) -> np.ndarray:
    return np.array([KWS_LABELS.index(w) if w in KEYWORDS else KWS_LABELS.index("unknown") for w in words])


def _features(audio: np.ndarray) -> np.ndarray:
    """MLPerf MFCC of [N, 16000] clips, MFCC_BATCH at a time: mfcc's float64 frame arrays of a few MB stay in
    cache (8x faster than one call on thousands of clips)."""
    return np.concatenate([mfcc(audio[i:i + MFCC_BATCH], "mlperf-kws") for i in range(0, len(audio), MFCC_BATCH)])


def _synthesize_job(job) -> np.ndarray:
    words, style = job
    return synthesize(words, style, SAMPLE_RATE, CLIP_SAMPLES)


def _build_split(config: KwsDataConfig, jobs, copies: int, how: Augmentation, rng,
                 sentences: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the utterances `jobs` say (each `copies` times, augmented by `how`), of the
    silence class and, given `sentences`, of continuous-speech "unknown" windows and keyword context, in a seeded
    random order."""
    babble_jobs = [([w], style) for (words, style) in jobs[:BABBLE_POOL] for w in words[len(KEYWORDS):][:1]]
    if len(babble_jobs) < 4:      # no unknown words to mix: babble from keywords of the split's own voices
        babble_jobs = [([words[i % len(words)]], style) for i, (words, style) in enumerate(jobs[:BABBLE_POOL])]
    speech = np.concatenate(synthesize_many(babble_jobs, config.workers))
    bank = NoiseBank(config.noise_kinds, rng, speech)
    features, labels = [], []
    chunks = [jobs[i:i + CHUNK_UTTERANCES] for i in range(0, len(jobs), CHUNK_UTTERANCES)]
    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        # The next chunk is being synthesized (child processes) while this one is augmented and featurized.
        pending = [pool.map(_synthesize_job, chunk) for chunk in chunks[:1]]
        for k, chunk in enumerate(chunks):
            if k + 1 < len(chunks):
                pending.append(pool.map(_synthesize_job, chunks[k + 1]))
            clips = np.concatenate(list(pending[k]))
            pending[k] = None
            y = np.concatenate([_labels(words) for words, _ in chunk])
            for _ in range(copies):
                source = clips
                if sentences and config.keyword_context_probability > 0:
                    source = with_context(clips, y < len(KEYWORDS), sentences, config.keyword_context_probability,
                                          rng)
                features.append(_features(augment(source, rng, how, bank)))
                labels.append(y)
    n_windows = int(round(config.continuous_unknown_ratio * len(jobs) * copies)) if sentences else 0
    for start in range(0, n_windows, CHUNK_UTTERANCES * len(KEYWORDS)):
        count = min(CHUNK_UTTERANCES * len(KEYWORDS), n_windows - start)
        windows = speech_windows(sentences, count, CLIP_SAMPLES, rng)
        features.append(_features(augment(windows, rng, how, bank)))
        labels.append(np.full(count, KWS_LABELS.index("unknown")))
    n_silence = int(round(config.silence_ratio * len(jobs) * copies))
    # Babble is speech, not silence: it stays under words only (unless it is the only noise configured).
    silence_kinds = tuple(k for k in config.noise_kinds if k != "babble") or config.noise_kinds
    for start in range(0, n_silence, CHUNK_UTTERANCES * len(KEYWORDS)):
        count = min(CHUNK_UTTERANCES * len(KEYWORDS), n_silence - start)
        features.append(_features(silence_clips(count, CLIP_SAMPLES, rng, silence_kinds, bank)))
        labels.append(np.full(count, KWS_LABELS.index("silence")))
    x, y = np.concatenate(features).astype(np.float32), np.concatenate(labels).astype(np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def _augmentations(config: KwsDataConfig) -> tuple[Augmentation, Augmentation]:
    train = Augmentation(config.shift_ms, config.gain_db, config.snr_db, config.noise_probability, config.noise_kinds,
                         config.stretch, config.tilt)
    evaluation = Augmentation(0.0, (0.0, 0.0), config.eval_snr_db, config.eval_noise_fraction, config.noise_kinds)
    return train, evaluation


def plan(config: KwsDataConfig) -> dict[str, list[tuple[list[str], Style]]]:
    """What each split's utterances say and in which style: {split: [(words, Style)]}, from config.seed."""
    split_voices = voice_split(config)
    jobs = {}
    for index, split in enumerate(SPLITS, start=1):
        if not split_voices[split]:
            continue
        rng = np.random.default_rng([config.seed, index, 0])
        count = max(1, int(round(config.clips_per_keyword * _split_fraction(config, split))))
        jobs[split] = _plan(config, _espeak_styles(config, split_voices[split], count, rng), count, rng)
    if config.flite_test:
        rng = np.random.default_rng([config.seed, len(SPLITS) + 1, 0])
        styles = [Style("flite", voice, speed=speed) for voice in flite_voices() for speed in config.flite_speeds]
        jobs["test_flite"] = _plan(config, styles, len(styles), rng)
    return jobs


def sentence_plan(config: KwsDataConfig) -> list[tuple[str, Style]]:
    """The training sentences: [(text, Style)], random words of config.sentence_words said by training voices
    (espeak-ng), enough for continuous_unknown_ratio windows (WINDOWS_PER_SENTENCE each) and at least a few for
    keyword context; [] when neither is asked for."""
    split_voices = voice_split(config)["train"]
    if not (config.continuous_unknown_ratio > 0 or config.keyword_context_probability > 0):
        return []
    utterances = max(1, int(round(config.clips_per_keyword * _split_fraction(config, "train"))))
    count = max(8, int(np.ceil(config.continuous_unknown_ratio * utterances / WINDOWS_PER_SENTENCE)))
    rng = np.random.default_rng([config.seed, 1, 2])
    styles = _espeak_styles(config, split_voices, count, rng)
    words = sorted(set(config.sentence_words))
    return [(" ".join(rng.choice(words, size=int(rng.integers(SENTENCE_LENGTH[0], SENTENCE_LENGTH[1] + 1)))), style)
            for style in styles]


def _synthesize_sentence(job) -> np.ndarray:
    text, style = job
    speech = synthesize_sentence(text, style, SAMPLE_RATE)
    return speech / max(float(np.abs(speech).max()), 1e-9)


def training_sentences(config: KwsDataConfig) -> list[np.ndarray]:
    """float32 speech of each sentence_plan sentence, peak-normalized to 1."""
    jobs = sentence_plan(config)
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        return [s.astype(np.float32) for s in pool.map(_synthesize_sentence, jobs) if len(s)]


def build_splits(config: KwsDataConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The data set, synthesized now (kws_splits adds the disk cache)."""
    train_how, eval_how = _augmentations(config)
    out = {}
    for split, jobs in plan(config).items():
        rng = np.random.default_rng([config.seed, (*SPLITS, "test_flite").index(split) + 1, 1])
        if split == "train":
            out[split] = _build_split(config, jobs, config.train_copies, train_how, rng, training_sentences(config))
        else:
            out[split] = _build_split(config, jobs, 1, eval_how, rng)
    return out


def cache_key(config: KwsDataConfig) -> str:
    """Hash of everything the data depend on: the config (not where it is cached nor how many workers make it),
    the resolved voice lists and the format version."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("cache_dir", "workers")}
    described = {"config": fields, "voices": voices(config), "version": FORMAT_VERSION,
                 "flite": list(flite_voices()) if config.flite_test else []}
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=list).encode()).hexdigest()[:20]


def kws_splits(config: KwsDataConfig | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train", "val", "test"[, "test_flite"]: (x float32 [N, 49, 10] MFCC, y int64 into KWS_LABELS)},
    deterministic from config.seed; read from / written to config.cache_dir when it is set."""
    config = config or KwsDataConfig()
    if config.cache_dir is None:
        return build_splits(config)
    path = Path(config.cache_dir) / f"kws-synth-{cache_key(config)}.npz"
    if path.exists():
        try:
            with np.load(path) as data:
                return {name: (data[f"{name}_x"], data[f"{name}_y"]) for name in _split_names(data.files)}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass                   # a damaged cache file is rebuilt and replaced below
    try:                           # before minutes of synthesis, not after
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"KwsDataConfig.cache_dir: cannot create {path.parent} ({exc.strerror})") from None
    splits = build_splits(config)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, **{f"{name}_{part}": a for name, (x, y) in splits.items() for part, a in (("x", x), ("y", y))})
    os.replace(partial, path)      # atomic: a concurrent reader sees the whole file or none
    return splits


def _split_names(files) -> list[str]:
    names = [f[:-2] for f in files if f.endswith("_x")]
    return [s for s in (*SPLITS, "test_flite") if s in names]

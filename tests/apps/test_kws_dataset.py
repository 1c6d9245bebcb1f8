"""The synthesized KWS data set: voice-disjoint splits, reproducible from the seed, all 12 classes, augmentation,
continuous-speech "unknown" windows and keyword context (sentences disjoint from the false-accept test's), the
flite test engine, config errors."""

import os
import shutil

import numpy as np
import pytest

from mcuforge.apps.kws.augment import (Augmentation, NoiseBank, augment, silence_clips, speech_windows, stretch,
                                       with_context)
from mcuforge.apps.kws.dataset import (SENTENCE_WORDS, UNKNOWN_WORDS, KwsDataConfig, cache_key, kws_splits, plan,
                                       sentence_plan, voice_split, voices)
from mcuforge.apps.kws.stream_audio import NON_KEYWORD_WORDS, words_without_keywords
from mcuforge.apps.kws.synth import KEYWORDS, KWS_LABELS, Style, synthesize, synthesize_sentence
from mcuforge.errors import InputError, ToolchainError


def require(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is missing (make apt installs it)")
        pytest.skip(f"{tool} not installed")


@pytest.fixture(autouse=True)
def espeak_installed():
    require("espeak-ng")


# Two accents x four variants = 8 voices: 2 test, 2 val, 4 train; 10 utterances of each keyword in all.
TINY = dict(clips_per_keyword=10, unknown_ratio=2.0, continuous_unknown_ratio=1.0, keyword_context_probability=0.5,
            accents=("en-us", "en-gb-x-rp"), variants=("", "f2", "m3", "klatt"), val_voices=0.25, test_voices=0.25,
            flite_test=False, workers=2)


@pytest.fixture(scope="module")
def tiny_splits():
    require("espeak-ng")
    return kws_splits(KwsDataConfig(**TINY))


def test_test_voices_never_appear_in_training():
    config = KwsDataConfig(seed=3)                  # every accent and installed variant
    split = voice_split(config)
    train, val, test = map(set, (split["train"], split["val"], split["test"]))
    assert not train & test and not train & val and not val & test
    assert train | val | test == set(voices(config)) and len(test) >= 0.09 * len(voices(config)) > 50
    # whole variants (timbres) are held out: a test variant is heard in training in no accent
    variants = {name: {v for _, v in split[name]} for name in split}
    assert not variants["train"] & variants["test"] and not variants["train"] & variants["val"]
    assert not variants["val"] & variants["test"]
    tiny_test = set(voice_split(KwsDataConfig(**TINY))["test"])
    jobs = plan(KwsDataConfig(**TINY))
    speakers = {name: {style.speaker for _, style in js} for name, js in jobs.items()}
    assert speakers["train"] and speakers["test"] and not speakers["train"] & speakers["test"]
    assert not speakers["train"] & speakers["val"]
    assert all(s[0] == "espeak-ng" and (s[1], s[2]) in tiny_test for s in speakers["test"])


def test_shapes_labels_and_every_class(tiny_splits):
    assert set(tiny_splits) == {"train", "val", "test"}
    for x, y in tiny_splits.values():
        assert x.dtype == np.float32 and x.shape[1:] == (49, 10) and y.dtype == np.int64 and len(x) == len(y)
        assert np.isfinite(x).all() and y.min() >= 0 and y.max() < len(KWS_LABELS)
    x, y = tiny_splits["train"]
    counts = np.bincount(y, minlength=len(KWS_LABELS))
    # 5 training utterances (10 x the 0.5 of the voices training has), each twice (train_copies=2, augmented
    # differently); an utterance says every keyword and two unknown words (unknown_ratio=2); silence_ratio=1;
    # continuous_unknown_ratio=1 adds 10 running-speech windows to "unknown" in train only.
    assert list(counts) == [10] * 10 + [10, 20 + 10]
    for split in ("val", "test"):
        assert list(np.bincount(tiny_splits[split][1], minlength=len(KWS_LABELS))) == [2] * 10 + [2, 4]
    # the two augmented copies of one utterance differ
    assert len(np.unique(x.reshape(len(x), -1), axis=0)) == len(x)


def test_same_seed_same_data_other_seed_other_data(tiny_splits, tmp_path):
    again = kws_splits(KwsDataConfig(**TINY, cache_dir=str(tmp_path)))
    for name, (x, y) in tiny_splits.items():
        np.testing.assert_array_equal(again[name][0], x)
        np.testing.assert_array_equal(again[name][1], y)
    cached = kws_splits(KwsDataConfig(**TINY, cache_dir=str(tmp_path)))     # read back from the cache file
    assert len(list(tmp_path.glob("kws-synth-*.npz"))) == 1
    np.testing.assert_array_equal(cached["test"][0], tiny_splits["test"][0])
    other = kws_splits(KwsDataConfig(**{**TINY, "seed": 1, "clips_per_keyword": 4}))
    assert not np.array_equal(other["val"][0], tiny_splits["val"][0][:len(other["val"][0])])


def test_augmentation_changes_audio_not_its_word():
    clean = synthesize(["yes", "stop"], Style(voice="en-us", variant="f2"))
    rng = np.random.default_rng(0)
    bank = NoiseBank(("pink", "hum", "babble"), rng, clean)
    how = Augmentation(shift_ms=100, gain_db=(-6.0, 6.0), snr_db=(20.0, 20.0), noise_probability=1.0,
                       noise_kinds=("pink", "hum", "babble"), stretch=(1.0, 1.0), tilt=(-0.3, 0.3))
    noisy = augment(clean, rng, how, bank)
    assert noisy.shape == clean.shape and not np.allclose(noisy, clean, atol=1e-3)
    for a, b in zip(clean, noisy):   # at 20 dB SNR the word is still there: best lag correlation stays high
        xcorr = np.abs(np.fft.irfft(np.fft.rfft(a, 32768) * np.conj(np.fft.rfft(b, 32768))))
        assert xcorr.max() / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.8
    # speed perturbation: 25 % faster is 20 % shorter
    def duration(clip):
        loud = np.flatnonzero(np.abs(clip) >= 0.05 * np.abs(clip).max())
        return loud[-1] - loud[0]
    assert abs(duration(stretch(clean[0], 1.25)) / duration(clean[0]) - 0.8) < 0.02
    quiet = silence_clips(200, 16000, rng, ("pink", "hum"), bank)
    assert (np.abs(quiet).max(axis=1) == 0).any()          # some digital silence
    assert (np.abs(quiet).max(axis=1) > 0.01).any()        # and audible noise


def test_flite_engine_and_flite_test_split():
    require("flite")
    clips = synthesize(["yes", "marvin"], Style("flite", "slt", speed=130))
    assert clips.shape == (2, 16000) and (np.sqrt(np.mean(clips ** 2, axis=1)) > 0.01).all()
    config = KwsDataConfig(**{**TINY, "flite_test": True, "flite_speeds": (150,), "clips_per_keyword": 4})
    jobs = plan(config)["test_flite"]
    assert {style.engine for _, style in jobs} == {"flite"} and len(jobs) >= 5      # kal, kal16, awb, rms, slt
    x, y = kws_splits(config)["test_flite"]
    assert x.shape == (len(y), 49, 10) and set(y) == set(range(len(KWS_LABELS)))


@pytest.mark.parametrize("fields, named", [
    ({"snr_db": [3.0]}, "snr_db"),
    ({"clips_per_keyword": 0}, "clips_per_keyword"),
    ({"unknown_words": ["bed", "yes"]}, "unknown_words"),
    ({"accents": ["fr"]}, "accents"),
    ({"noise_kinds": ["rain"]}, "noise_kinds"),
    ({"val_voices": 0.5, "test_voices": 0.5}, "test_voices"),
    ({"pitches": [120]}, "pitches"),
    ({"flite_test": "yes"}, "flite_test"),
    ({"stretch": [0.2, 1.0]}, "stretch"),
    ({"tilt": "0.5"}, "tilt"),
    ({"continuous_unknown_ratio": -1}, "continuous_unknown_ratio"),
    ({"keyword_context_probability": 1.5}, "keyword_context_probability"),
    ({"sentence_words": ["carpet", "up"]}, "sentence_words"),
    ({"sentence_words": [], "continuous_unknown_ratio": 1.0}, "sentence_words"),
])
def test_bad_field_is_one_line_naming_it(fields, named):
    with pytest.raises(InputError, match=named) as info:
        KwsDataConfig.from_dict(fields)
    assert "\n" not in str(info.value)


def test_unknown_field_and_missing_variant_are_input_errors():
    with pytest.raises(InputError, match="'snr' is not a field"):
        KwsDataConfig.from_dict({"snr": [0, 10]})
    with pytest.raises(InputError, match="variants"):
        voices(KwsDataConfig(variants=("no-such-variant",)))
    config = KwsDataConfig.from_dict({"snr_db": [5, 15], "accents": ["en-us"]})    # YAML lists become tuples
    assert config.snr_db == (5, 15) and config.accents == ("en-us",) and config.unknown_words == UNKNOWN_WORDS


def test_a_missing_synthesizer_is_a_toolchain_error(monkeypatch):
    import mcuforge.apps.kws.synth as synth

    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    with pytest.raises(ToolchainError, match="flite not found"):
        synthesize(["yes"], Style("flite", "slt"))
    with pytest.raises(ToolchainError, match="espeak-ng not found"):
        synthesize(["yes", "no"], Style())


def test_training_sentences_are_disjoint_from_the_false_accept_test_and_said_by_training_voices():
    assert SENTENCE_WORDS and not set(SENTENCE_WORDS) & set(NON_KEYWORD_WORDS)
    assert not set(SENTENCE_WORDS) & set(KEYWORDS)
    config = KwsDataConfig(**TINY)
    jobs = sentence_plan(config)
    train_voices = set(voice_split(config)["train"])
    assert len(jobs) >= 8 and all(style.engine == "espeak-ng" for _, style in jobs)
    assert {(style.voice, style.variant) for _, style in jobs} <= train_voices
    said = {w for text, _ in jobs for w in text.split()}
    assert said <= set(SENTENCE_WORDS) and not said & set(NON_KEYWORD_WORDS) and len(said) > 20
    assert sentence_plan(config) == jobs                                           # deterministic from the seed
    assert sentence_plan(KwsDataConfig(**{**TINY, "seed": 1})) != jobs
    # the false-accept test's sentence pool (stream_audio.speech_pool) draws from this vocabulary
    assert set(words_without_keywords()) <= set(NON_KEYWORD_WORDS)
    assert sentence_plan(KwsDataConfig(**{**TINY, "continuous_unknown_ratio": 0.0,
                                          "keyword_context_probability": 0.0})) == []


def test_speech_windows_are_running_speech_at_random_offsets():
    sentence = synthesize_sentence("lonely ribbon branch ginger bottle harbor", Style(voice="en-us", variant="m3"))
    assert len(sentence) > 24000                      # words run together: longer than one 1 s window
    rng = np.random.default_rng(0)
    windows = speech_windows([sentence / np.abs(sentence).max()], 40, 16000, rng)
    assert windows.shape == (40, 16000)
    # every window's centre lies inside the sentence: there is speech in each, most windows are cut mid-speech
    assert (np.abs(windows).max(axis=1) > 0.05).all()
    assert len(np.unique(windows.reshape(40, -1), axis=0)) == 40
    voiced_edges = (np.abs(windows[:, :160]).max(axis=1) > 0.01) | (np.abs(windows[:, -160:]).max(axis=1) > 0.01)
    assert voiced_edges.mean() > 0.5


def test_keyword_context_adds_speech_around_the_word_only():
    clips = synthesize(["yes", "left", "stop"], Style(voice="en-gb-x-rp", variant="f2"))
    sentence = synthesize_sentence("carpet whistle yogurt tunnel velvet", Style(voice="en-us"))
    rng = np.random.default_rng(1)
    which = np.array([True, True, False])
    out = with_context(clips, which, [sentence], 1.0, rng)
    assert np.array_equal(out[2], clips[2])            # not chosen: unchanged
    for clip, new in zip(clips[:2], out[:2]):
        loud = np.flatnonzero(np.abs(clip) >= np.abs(clip).max() * 0.01)
        span = slice(loud[0], loud[-1] + 1)
        outside = np.ones(len(clip), bool)
        outside[span] = False
        assert np.abs(new[outside]).max() > 0.1 * np.abs(clip).max()       # speech next to the word
        assert np.abs(new - clip)[span].max() < 0.05 * np.abs(clip).max()  # the word itself kept (gap >= 40 ms)
    assert not np.array_equal(with_context(clips, which, [sentence], 1.0, np.random.default_rng(2)), out)


def test_continuous_windows_only_add_training_unknowns(tiny_splits):
    without = kws_splits(KwsDataConfig(**{**TINY, "continuous_unknown_ratio": 0.0}))
    unknown = KWS_LABELS.index("unknown")
    assert np.sum(tiny_splits["train"][1] == unknown) - np.sum(without["train"][1] == unknown) == 10
    assert np.sum(tiny_splits["train"][1] != unknown) == np.sum(without["train"][1] != unknown)
    for split in ("val", "test"):                     # evaluation splits are untouched by the training material
        np.testing.assert_array_equal(without[split][0], tiny_splits[split][0])


def test_sentence_words_overlapping_the_test_vocabulary_is_an_input_error():
    with pytest.raises(InputError, match="sentence_words.*false-accept") as info:
        KwsDataConfig.from_dict({"sentence_words": ["carpet", "weather"]})
    assert "\n" not in str(info.value)


def test_a_damaged_cache_file_is_rebuilt_and_an_unwritable_cache_dir_is_refused_before_synthesis(tmp_path):
    require("espeak-ng")
    config = KwsDataConfig(**TINY, cache_dir=str(tmp_path))
    path = tmp_path / f"kws-synth-{cache_key(config)}.npz"
    path.write_bytes(b"not a zip file")
    splits = kws_splits(config)
    assert splits["train"][0].shape[1:] == (49, 10)
    with np.load(path) as data:
        assert np.array_equal(data["test_y"], splits["test"][1])
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(InputError, match="cache_dir"):
        kws_splits(KwsDataConfig(**TINY, cache_dir=str(blocked / "cache")))

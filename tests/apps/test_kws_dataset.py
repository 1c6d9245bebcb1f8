"""The synthesized KWS data set: voice-disjoint splits, reproducible from the seed, all 12 classes, augmentation,
the flite test engine, config errors."""

import os
import shutil

import numpy as np
import pytest

from mcuforge.apps.kws.augment import Augmentation, NoiseBank, augment, silence_clips, stretch
from mcuforge.apps.kws.dataset import UNKNOWN_WORDS, KwsDataConfig, kws_splits, plan, voice_split, voices
from mcuforge.apps.kws.synth import KWS_LABELS, Style, synthesize
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
TINY = dict(clips_per_keyword=10, unknown_ratio=2.0, accents=("en-us", "en-gb-x-rp"),
            variants=("", "f2", "m3", "klatt"), val_voices=0.25, test_voices=0.25, flite_test=False, workers=2)


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
    # differently); an utterance says every keyword and two unknown words (unknown_ratio=2); silence_ratio=1.
    assert list(counts) == [10] * 10 + [10, 20]
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

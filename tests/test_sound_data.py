"""The spoken-digit data: deterministic bytes, the voice split, clips as the docstring says,
and one clear message when no synthesizer can be loaded."""
import ctypes.util
import sys

import numpy as np
import pytest
import torch

from edu_gen import sound_data, speech_synth
from edu_gen.sound_data import (CLIP_SAMPLES, TEST_VOICES, VOICES, check_voice_split, clip_list,
                                make_dataset, read_dataset, sha256, to_clip)

pytest.importorskip("espeakng_loader")
SMALL = dict(voices=("m1", "f2"), accents=("en", "en-US"), renditions=1)


def test_the_same_bytes_twice(tmp_path):
    first = make_dataset(tmp_path / "a", **SMALL)
    second = make_dataset(tmp_path / "b", **SMALL)
    for name in ("clips.npy", "clips.csv", "manifest.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    clips, rows = read_dataset(first)
    assert clips.shape == (40, CLIP_SAMPLES) and clips.dtype == np.int16
    assert [r["digit"] for r in rows[:10]] == [str(d) for d in range(10)]
    peaks = np.abs(clips).max(1) / 32767
    np.testing.assert_allclose(peaks, 0.9, atol=1e-4)          # peak-normalized to 0.9


def test_an_edited_file_is_refused(tmp_path):
    folder = make_dataset(tmp_path / "a", **SMALL)
    data = bytearray((folder / "clips.npy").read_bytes())
    data[-1] ^= 1
    (folder / "clips.npy").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match its manifest"):
        read_dataset(folder)


def test_the_split_is_by_voice():
    rows = clip_list()
    train = {r["voice"] for r in rows if r["split"] == "train"}
    test = {r["voice"] for r in rows if r["split"] == "test"}
    assert test == set(TEST_VOICES) and train == set(VOICES) - set(TEST_VOICES)
    assert len(VOICES) >= 20 and len(rows) == 4800
    assert sum(r["split"] == "test" for r in rows) == 960
    check_voice_split(train, test)


def test_a_planted_leak_of_a_train_voice_into_test_is_caught():
    rows = clip_list()
    for r in rows[:20]:                       # m1, a training voice, also in the test split
        r["split"] = "test"
    train = {r["voice"] for r in rows if r["split"] == "train"}
    test = {r["voice"] for r in rows if r["split"] == "test"}
    with pytest.raises(ValueError, match="both the training and the test split"):
        check_voice_split(train, test)


def test_loaded_splits(monkeypatch):
    clips, digits, voices = sound_data.load_spoken_digits("train")
    test_clips, test_digits, test_voices = sound_data.load_spoken_digits("test")
    assert clips.shape == (3840, CLIP_SAMPLES) and test_clips.shape == (960, CLIP_SAMPLES)
    assert clips.dtype == torch.float32 and clips.abs().max() <= 1
    assert not set(voices) & set(test_voices)
    assert torch.equal(torch.bincount(digits), torch.full((10,), 384))
    with pytest.raises(ValueError, match="unknown split"):
        sound_data.load_spoken_digits("validation")


def test_to_clip_centres_and_rejects():
    samples = (np.sin(np.arange(4410) / 5) * 10000).astype(np.int16)   # 0.2 s at 22,050 Hz
    clip = to_clip(samples, 22050)
    loud = np.flatnonzero(np.abs(clip) > 0.01)
    assert clip.shape == (CLIP_SAMPLES,) and abs((loud[0] + loud[-1]) / 2 - CLIP_SAMPLES / 2) < 20
    with pytest.raises(ValueError, match="silence"):
        to_clip(np.zeros(100, np.int16), 22050)
    with pytest.raises(ValueError, match="longer than the 1 s"):
        to_clip(samples.repeat(6), 22050)


def test_no_synthesizer_gives_one_message_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)      # import fails
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(speech_synth.SynthesizerUnavailable, match="pip install espeakng-loader==0.2.4"):
        speech_synth.find_espeak()
    with pytest.raises(speech_synth.SynthesizerUnavailable, match="apt-get install espeak-ng"):
        make_dataset("/nonexistent/never-made", **SMALL)


def test_make_data_without_a_synthesizer_exits_with_the_message(monkeypatch, tmp_path, capsys):
    """``python -m edu_gen.sound_data`` (``make data``) without eSpeak NG and without the
    cached set: exit status 1 and the install command, no traceback."""
    monkeypatch.setenv("EDU_GEN_DATA", str(tmp_path))
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(SystemExit) as exit_:
        sound_data.main([])
    assert "were not made" in str(exit_.value) and "pip install espeakng-loader" in str(exit_.value)
    assert not (tmp_path / f"spoken_digits-{sound_data.VERSION}").exists()


def test_make_data_prints_what_it_made(capsys):
    sound_data.main([])
    out = capsys.readouterr().out
    assert "spoken digits train: 3,840 clips of 24 voices" in out
    assert "spoken digits test: 960 clips of 6 voices" in out and "eSpeak NG 1.5" in out


def test_synthesizer_rejects_unknown_voices_and_settings():
    synth = speech_synth.Synthesizer()
    assert synth.version.startswith("1.5")
    with pytest.raises(ValueError, match="no voice"):
        synth.say("one", "xx-nowhere+m1")
    with pytest.raises(ValueError, match="rate must be"):
        synth.say("one", "en+m1", rate=10)
    assert synth.say("one", "en+m1").dtype == np.int16

"""Spoken digits: the audio analogue of MNIST, made on this machine by a speech synthesizer.

Every clip is one word, "zero" to "nine", spoken by eSpeak NG (``edu_gen.speech_synth``)
in one of 30 voice variants, each with 8 English accents, twice at a random speed and
pitch: 4,800 clips of 1 s at 8 kHz, the word centred, peak-normalized to 0.9, stored as
16-bit samples. The split is by voice: the 6 voices of ``TEST_VOICES`` are never heard in
training (3,840 train clips of 24 voices, 960 test clips of 6).

The set is made once, in a fresh process that speaks a fixed list in a fixed order (eSpeak
keeps state between utterances, so only that order repeats), and cached in
``data_dir()/spoken_digits-<version>/`` (``$EDU_GEN_DATA``, else ``~/.cache/edu_gen``):
``clips.npy`` (int16, 4,800 x 8,000), ``clips.csv`` (digit, voice, accent, rate, pitch,
split of each row) and ``manifest.json`` (the synthesizer and the SHA-256 of both files).
Making it twice gives the same bytes (``tests/test_sound_data.py``).

    python -m edu_gen.sound_data          # make (or find) the set and print what it holds
"""
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

SAMPLE_RATE = 8_000                  # Hz
CLIP_SAMPLES = SAMPLE_RATE           # 1 s
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
VOICES = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
          "klatt", "klatt2", "klatt3", "croak", "Andy", "Annie", "Alex", "Alicia", "Denis",
          "Gene", "Lee", "Michael", "Storm", "aunty", "belinda", "boris", "linda")
TEST_VOICES = ("m3", "m7", "f2", "f5", "klatt3", "Alex")
ACCENTS = ("en", "en-US", "en-GB-scotland", "en-GB-x-rp", "en-GB-x-gbclan", "en-GB-x-gbcwmd",
           "en-029", "en-US-nyc")
RENDITIONS = 2                       # each (voice, accent, digit) twice
RATES = (130, 200)                   # words a minute, uniform (inclusive)
PITCHES = (30, 70)                   # eSpeak's 0..99, uniform (inclusive)
PEAK = 0.9
SEED = 0
VERSION = "v1"
COLUMNS = ("digit", "voice", "accent", "rate", "pitch", "split")


# --- the list of clips and its split ---------------------------------------------------

def clip_list(voices=VOICES, accents=ACCENTS, renditions=RENDITIONS, seed=SEED):
    """Every clip to make, in the order made: dicts of digit, voice, accent, rate, pitch,
    split. Rates and pitches come from one seeded NumPy generator in this order."""
    rng = np.random.default_rng(seed)
    rows = []
    for voice in voices:
        for accent in accents:
            for digit in range(10):
                for _ in range(renditions):
                    rate = int(rng.integers(RATES[0], RATES[1] + 1))
                    pitch = int(rng.integers(PITCHES[0], PITCHES[1] + 1))
                    split = "test" if voice in TEST_VOICES else "train"
                    rows.append(dict(digit=digit, voice=voice, accent=accent, rate=rate,
                                     pitch=pitch, split=split))
    return rows


def check_voice_split(train_voices, test_voices):
    """Raise a ValueError if a voice is heard in both splits (a test voice must be new)."""
    shared = sorted(set(train_voices) & set(test_voices))
    if shared:
        raise ValueError(f"voices {shared} are in both the training and the test split: the "
                         "test would hear voices it trained on. Split by voice (TEST_VOICES).")


# --- one clip -------------------------------------------------------------------------

def to_clip(samples, rate_in, threshold=0.02):
    """eSpeak's int16 samples at ``rate_in`` Hz -> one 1 s clip at 8 kHz, float32 (8000,):
    silence before and after the word cut (below ``threshold`` of the peak), resampled
    (polyphase, scipy's resample_poly), peak-normalized to 0.9 and centred."""
    x = samples.astype(np.float64) / 32768
    loud = np.flatnonzero(np.abs(x) > threshold * np.abs(x).max()) if len(x) else []
    if len(loud) == 0:
        raise ValueError("the synthesizer returned silence for this clip")
    x = x[loud[0]:loud[-1] + 1]
    x = resample_poly(x, SAMPLE_RATE, rate_in)
    if len(x) > CLIP_SAMPLES:
        raise ValueError(f"the word lasts {len(x) / SAMPLE_RATE:.2f} s, longer than the 1 s "
                         "clip: speak it faster")
    x = PEAK * x / np.abs(x).max()
    clip = np.zeros(CLIP_SAMPLES)
    start = (CLIP_SAMPLES - len(x)) // 2
    clip[start:start + len(x)] = x
    return clip.astype(np.float32)


def to_int16(clip):
    """float samples in [-1, 1] -> int16 (rounded)."""
    return np.round(np.clip(clip, -1, 1) * 32767).astype(np.int16)


# --- making the set (in a fresh process) ----------------------------------------------

def write_dataset(folder, voices=VOICES, accents=ACCENTS, renditions=RENDITIONS):
    """Speak every clip of ``clip_list`` and write clips.npy, clips.csv and manifest.json into
    ``folder``. Call it in a fresh process (``make_dataset`` does) for repeatable bytes."""
    from .speech_synth import ESPEAK_RATE, Synthesizer

    synth = Synthesizer()
    rows = clip_list(voices, accents, renditions)
    clips = np.empty((len(rows), CLIP_SAMPLES), np.int16)
    for i, row in enumerate(rows):
        samples = synth.say(WORDS[row["digit"]], f"{row['accent']}+{row['voice']}",
                            row["rate"], row["pitch"])
        clips[i] = to_int16(to_clip(samples, ESPEAK_RATE))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "clips.npy", clips)
    table = io.StringIO()
    writer = csv.DictWriter(table, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / "clips.csv").write_text(table.getvalue())
    manifest = {"synthesizer": f"eSpeak NG {synth.version} ({synth.source})",
                "dataset": VERSION, "sample_rate": SAMPLE_RATE, "clips": len(rows),
                "sha256": {name: sha256(folder / name) for name in ("clips.npy", "clips.csv")}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return folder


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def dataset_dir():
    """The cache folder of the spoken digits: ``data_dir()/spoken_digits-v1``."""
    from .data import data_dir   # here, not above: the process that speaks the set needs no torch

    return data_dir() / f"spoken_digits-{VERSION}"


def make_dataset(folder=None, voices=VOICES, accents=ACCENTS, renditions=RENDITIONS):
    """Make the set in a fresh Python process and move it into ``folder`` (default
    ``dataset_dir()``) in one step. Returns the folder."""
    from .speech_synth import find_espeak

    find_espeak()                                   # no synthesizer: say so before starting
    folder = Path(folder or dataset_dir())
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".spoken_digits-", dir=folder.parent))
    command = [sys.executable, "-m", "edu_gen.sound_data", "--write", str(work),
               "--voices", ",".join(voices), "--accents", ",".join(accents),
               "--renditions", str(renditions)]
    done = subprocess.run(command, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeError(f"making the spoken digits failed:\n{done.stderr[-2000:]}")
    if folder.exists():
        shutil.rmtree(folder)
    work.rename(folder)
    return folder


# --- loading ---------------------------------------------------------------------------

def read_dataset(folder):
    """``(clips int16 (N, 8000), rows)`` of a folder written by ``write_dataset``, after
    checking the files against the manifest's SHA-256."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest["sha256"].items():
        if sha256(folder / name) != digest:
            raise ValueError(f"{folder / name} does not match its manifest (a partial or "
                             f"edited file): delete {folder} and load again to remake it")
    with open(folder / "clips.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return np.load(folder / "clips.npy"), rows


def load_spoken_digits(split="train"):
    """The spoken digits of ``split`` (``"train"``: 24 voices, ``"test"``: 6 others):
    ``(clips, digits, voices)`` with clips float32 (N, 8000) in [-1, 1] at 8 kHz, digits
    int64 (N,) and voices a list of N voice names. Made and cached on first use (about
    15 s on 2 cores)."""
    import torch   # here, not above: the process that speaks the set starts without it

    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}: use 'train' or 'test'")
    folder = dataset_dir()
    if not (folder / "manifest.json").exists():
        print(f"making the spoken digits with eSpeak NG into {folder} (once)")
        make_dataset(folder)
    clips, rows = read_dataset(folder)
    keep = [i for i, row in enumerate(rows) if row["split"] == split]
    check_voice_split({r["voice"] for r in rows if r["split"] == "train"},
                      {r["voice"] for r in rows if r["split"] == "test"})
    audio = torch.from_numpy(clips[keep].astype(np.float32) / 32768)
    digits = torch.tensor([int(rows[i]["digit"]) for i in keep])
    return audio, digits, [rows[i]["voice"] for i in keep]


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", help="(internal) speak the set into this folder")
    parser.add_argument("--voices", default=",".join(VOICES))
    parser.add_argument("--accents", default=",".join(ACCENTS))
    parser.add_argument("--renditions", type=int, default=RENDITIONS)
    args = parser.parse_args(argv)
    if args.write:
        write_dataset(args.write, args.voices.split(","), args.accents.split(","), args.renditions)
        return
    from .speech_synth import SynthesizerUnavailable

    try:
        for split in ("train", "test"):
            clips, digits, voices = load_spoken_digits(split)
            print(f"spoken digits {split}: {len(clips):,} clips of {len(set(voices))} voices "
                  f"({', '.join(sorted(set(voices)))}), {clips.shape[1] / SAMPLE_RATE:.0f} s "
                  f"at {SAMPLE_RATE:,} Hz")
    except SynthesizerUnavailable as error:      # the one message, no traceback; exit status 1
        raise SystemExit(f"the spoken digits (book/sound) were not made: {error}") from None
    print("spoken digits made by",
          json.loads((dataset_dir() / "manifest.json").read_text())["synthesizer"],
          "in", dataset_dir())


if __name__ == "__main__":
    main()

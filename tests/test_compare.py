"""edu_gen.compare: the rows of the chapter "VAE or GAN?" are built, sampled and measured
as the chapter says (untrained networks here; the chapter checks trained ones)."""
import csv
from pathlib import Path

import pytest
import torch

from edu_gen.compare import (BINARY, FIELDS, FLOOR, GANS, MODELS, PROFILES, ROWS, SECOND, VAES,
                             build, count, draw, judge, reference_set, run_rows)
from edu_gen.ladder import NOT_DIGITS

ROOT = Path(__file__).resolve().parents[1]


def test_every_profile_names_every_model_and_every_row_is_named_once():
    for settings in PROFILES.values():
        assert set(settings["epochs"]) == set(MODELS)
    assert len(set(ROWS)) == len(ROWS) and set(ROWS) == {FLOOR, *MODELS, *BINARY.values(), *NOT_DIGITS}


@pytest.mark.parametrize("name", MODELS)
def test_samples_are_images_in_the_unit_interval(name):
    networks = build(name)
    x = draw(name, networks, 20, seed=0)
    assert x.shape == (20, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    torch.testing.assert_close(x, draw(name, networks, 20, seed=0))   # seeded
    assert not torch.equal(x, draw(name, networks, 20, seed=1))
    if name in VAES:
        binary = draw(name, networks, 20, seed=0, binary=True)
        assert set(binary.unique().tolist()) <= {0.0, 1.0}


def test_judge_reports_the_spread_of_fresh_sets_as_the_evaluation_error():
    test = torch.rand(300, 1, 28, 28)
    fresh = lambda i: torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(i))
    row, first = judge(fresh, test, 3)
    assert torch.equal(first, fresh(0)) and row["fd_se"] > 0 and row["precision_se"] is not None
    same, _ = judge(lambda i: fresh(0), test, 3)     # planted: the same set three times
    assert same["fd_se"] < 1e-6 < row["fd_se"] and same["precision_se"] == 0


def test_a_gan_row_has_no_likelihood_and_every_row_has_every_field(monkeypatch):
    import edu_gen.compare as compare
    monkeypatch.setitem(PROFILES["quick"], "epochs", {**PROFILES["quick"]["epochs"], "DCGAN": 1})
    monkeypatch.setattr(compare, "train", lambda name, seed, profile, device, data: (build(name), 1.0))
    monkeypatch.setitem(PROFILES["quick"], "n_samples", 200)
    images = torch.rand(400, 1, 28, 28)
    rows, networks, samples = run_rows("DCGAN", data=(images, images))
    assert len(rows) == 1 and rows[0]["nll"] is None and rows[0]["infers_z"] == "no"
    assert set(rows[0]) == set(FIELDS) and {f"{m}_mlp" for m in SECOND} <= set(rows[0])
    rows, _, samples = run_rows("MLP VAE", data=(images, images))
    assert [r["model"] for r in rows] == ["MLP VAE", BINARY["MLP VAE"]] and set(samples) == {r["model"] for r in rows}
    assert rows[0]["nll"] == rows[1]["nll"] is not None and rows[0]["rate"] >= 0


def test_reference_rows_are_real_digits_or_not_digits():
    train = torch.rand(1500, 1, 28, 28)
    real = reference_set(FLOOR, train, 100)
    assert (real[:, None] == train[None]).flatten(2).all(2).any(1).all()   # training images
    assert set(reference_set("coin flips", train, 10).unique().tolist()) == {0.0, 1.0}
    assert torch.equal(reference_set("mean image", train, 3)[2], train.mean(0))
    with pytest.raises(ValueError, match="unknown reference row"):
        reference_set("noise", train, 3)


def test_the_committed_table_has_every_row_five_seeds_and_its_header():
    path = ROOT / "book" / "compare" / "compare_results.csv"
    lines = path.read_text().splitlines()
    for key in ("command", "date", "profile: quick", "versions", "machine"):
        assert any(line.startswith(f"# {key}") for line in lines), key
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    seeds = {name: {r["seed"] for r in rows if r["model"] == name} for name in ROWS}
    assert all(len(s) >= 5 for s in seeds.values()), seeds
    assert set(rows[0]) == set(FIELDS)


def test_every_model_trains_with_its_lr_decayed_to_zero(monkeypatch):
    """The docstring's guarantee: one lr-schedule family (Adam, decayed linearly to 0) for all."""
    import edu_gen.compare as compare
    seen = {}
    monkeypatch.setattr(compare, "train_vae", lambda *a, **k: seen.setdefault("vae", k))
    monkeypatch.setattr(compare, "train_gan", lambda *a, **k: seen.setdefault("gan", k))
    images = torch.rand(64, 1, 28, 28)
    for name in ("MLP VAE", "DCGAN"):
        networks, seconds = compare.train(name, 0, data=(images, images))
        assert seconds >= 0 and len(networks) == (1 if name in VAES else 2)
    assert seen["vae"]["lr_decay"] is True and seen["gan"]["lr_decay"] is True, seen
    assert seen["gan"]["betas"] == (0.5, 0.999)


def test_samples_and_reference_rows_shift_with_the_seed_offset(monkeypatch):
    """Seeds go through edu_gen.runtime: EDU_GEN_SEED_OFFSET=1 turns seed 0 into seed 1."""
    networks = build("MLP GAN")
    train = torch.rand(50, 1, 28, 28)
    plain = draw("MLP GAN", networks, 5, seed=1), reference_set("uniform noise", train, 5, seed=1)
    monkeypatch.setenv("EDU_GEN_SEED_OFFSET", "1")
    shifted = draw("MLP GAN", networks, 5, seed=0), reference_set("uniform noise", train, 5, seed=0)
    assert torch.equal(plain[0], shifted[0]) and torch.equal(plain[1], shifted[1])

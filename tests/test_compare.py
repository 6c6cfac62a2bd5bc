"""edu_gen.compare: the rows of the chapter "VAE or GAN?" are built, sampled and measured
as the chapter says (untrained networks here; the chapter checks trained ones)."""
import csv
from pathlib import Path

import pytest
import torch

from edu_gen.compare import FIELDS, FLOOR, GANS, PROFILES, ROWS, VAES, build, count, draw, measure, run_row

ROOT = Path(__file__).resolve().parents[1]


def test_every_profile_names_every_model():
    for settings in PROFILES.values():
        assert set(settings["epochs"]) == set(ROWS) - {FLOOR}


@pytest.mark.parametrize("name", [*VAES, *GANS])
def test_samples_are_images_in_the_unit_interval(name):
    networks = build(name)
    x = draw(name, networks, 20, seed=0)
    assert x.shape == (20, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    torch.testing.assert_close(x, draw(name, networks, 20, seed=0))   # seeded
    assert 1e5 < count(networks[0].decoder if name in VAES else networks[0]) < 1e6


def test_a_gan_row_has_no_likelihood_and_infers_no_code():
    networks = build("DCGAN")
    images = torch.rand(200, 1, 28, 28)
    row = measure("DCGAN", draw("DCGAN", networks, 100), images, images, networks,
                  profile="quick")
    assert row["nll"] is None and row["infers_z"] == "no"
    assert set(row) | {"model", "seed", "seconds", "epochs"} == set(FIELDS)


def test_the_floor_is_real_digits_and_scores_near_zero():
    train, test = torch.rand(1500, 1, 28, 28), torch.rand(1000, 1, 28, 28)
    row, networks, samples = run_row(FLOOR, seed=0, data=(train, test))
    assert networks is None and row["seconds"] == 0 and row["nll"] is None
    assert len(samples) == PROFILES["quick"]["n_samples"]
    assert (samples[:, None] == train[None]).flatten(2).all(2).any(1).all()   # training images


def test_the_committed_table_has_every_row_and_three_seeds():
    path = ROOT / "book" / "compare" / "compare_results.csv"
    lines = path.read_text().splitlines()
    assert any(line.startswith("# profile: quick") for line in lines)
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    seeds = {name: {r["seed"] for r in rows if r["model"] == name} for name in ROWS}
    assert all(len(s) >= 3 for s in seeds.values()), seeds

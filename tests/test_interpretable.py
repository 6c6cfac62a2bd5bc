"""The chapter's experiment on a tiny profile: each row has the table's columns, repeats
for its seed, records the seed actually used (EDU_GEN_SEED_OFFSET added), and refuses
unknown models."""
import math

import pytest

import edu_gen.interpretable as experiment
from edu_gen.interpretable import FIELDS, infogan_row, vae_row

TINY = dict(shape_sizes=(3, 2, 2, 4, 4), vae_epochs=1, vae_batch=32, latent=4, small_mnist=True,
            gan_epochs=1, gan_batch=64, width=4, n_generated=200)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(experiment.PROFILES, "tiny", TINY)
    return "tiny"


@pytest.mark.parametrize("method", ["beta-VAE", "beta-TCVAE"])
def test_a_vae_row_has_the_tables_columns_and_repeats(tiny, method):
    row, model, history = vae_row(method, 4, seed=3, profile=tiny)
    again, _, _ = vae_row(method, 4, seed=3, profile=tiny)
    assert set(row) <= set(FIELDS) and row["seed"] == 3 and model.latent_dim == 4
    assert 0 <= row["mig"] <= 1 and 0 <= row["factorvae"] <= 1 and math.isfinite(row["distortion"])
    assert {k: v for k, v in row.items() if k != "seconds"} == \
        {k: v for k, v in again.items() if k != "seconds"}
    assert ("tc" in history) == (method == "beta-TCVAE")


def test_rows_record_the_seed_with_its_offset(tiny, monkeypatch):
    monkeypatch.setenv("EDU_GEN_SEED_OFFSET", "2")
    assert vae_row("beta-VAE", 1, seed=0, profile=tiny)[0]["seed"] == 2


def test_an_infogan_row_has_the_tables_columns(tiny):
    row, (codes, generator, discriminator), history = infogan_row("plain GAN", seed=0, profile=tiny)
    assert set(row) <= set(FIELDS) and generator.latent_dim == codes.dim == 74
    assert row["info_bound"] <= math.log(10)
    assert 0 <= row["code_accuracy"] <= 1 and 0 <= row["q_accuracy"] <= 1
    assert 0 <= row["slant_rho"] <= 1 and 0 <= row["width_rho"] <= 1
    assert len(history["info_bound"]) == 1


def test_unknown_models_are_refused():
    with pytest.raises(ValueError, match="beta-VAE"):
        vae_row("FactorVAE", 4)
    with pytest.raises(ValueError, match="InfoGAN"):
        infogan_row("BiGAN")

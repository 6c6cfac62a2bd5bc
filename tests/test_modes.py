"""The VEEGAN/PacGAN mode metric on hand-made sample sets whose answer is known."""
import math

import pytest
import torch

from edu_gen.data import mixture_modes, sample_mixture
from edu_gen.modes import mode_metric


@pytest.mark.parametrize("name, k", [("ring", 8), ("grid", 25)])
def test_real_samples_cover_every_mode_with_the_rayleigh_fraction(name, k):
    centers, sd = mixture_modes(name)
    samples = sample_mixture(name, 20000, torch.Generator().manual_seed(0))
    result = mode_metric(samples, centers, sd)
    assert result["modes"] == k and result["covered"].all()
    # ||noise|| / sd is Rayleigh in 2D: P(||e|| <= 3 sd) = 1 - exp(-9/2) = 0.98889
    assert abs(result["high_quality"] - (1 - math.exp(-4.5))) < 0.003
    assert result["counts"].sum() == round(result["high_quality"] * 20000)


def test_one_mode_only():
    centers, sd = mixture_modes("ring")
    samples = centers[3] + sd * torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    result = mode_metric(samples, centers, sd)
    assert result["modes"] == 1 and result["covered"].tolist() == [i == 3 for i in range(8)]
    assert result["high_quality"] > 0.97


def test_off_mode_noise_is_low_quality_and_covers_nothing():
    centers, sd = mixture_modes("grid")
    # points exactly between grid modes (odd coordinates): 1.41 or more from every mode
    odd = torch.tensor([-3.0, -1.0, 1.0, 3.0])
    samples = torch.cartesian_prod(odd, odd).repeat(100, 1)
    result = mode_metric(samples, centers, sd)
    assert result["modes"] == 0 and result["high_quality"] == 0.0


def test_the_three_sd_boundary():
    centers, sd = torch.zeros(1, 2), 0.1
    inside, outside = torch.tensor([[0.299, 0.0]]), torch.tensor([[0.0, 0.301]])
    assert mode_metric(inside, centers, sd)["modes"] == 1
    assert mode_metric(outside, centers, sd)["modes"] == 0


def test_a_far_sample_does_not_cover_its_nearest_mode():
    centers, sd = mixture_modes("ring")
    samples = torch.cat([centers[:2], 0.5 * centers[2:3]])   # third point halfway to the origin
    result = mode_metric(samples, centers, sd)
    assert result["modes"] == 2 and abs(result["high_quality"] - 2 / 3) < 1e-6


def test_bad_input_is_a_clear_error():
    centers, sd = mixture_modes("ring")
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        mode_metric(torch.zeros(10, 3), centers, sd)
    with pytest.raises(ValueError, match="NaN"):
        mode_metric(torch.full((4, 2), float("nan")), centers, sd)
    with pytest.raises(ValueError, match="sd must be positive"):
        mode_metric(torch.zeros(4, 2), centers, 0.0)


def test_toy_methods_build_and_unknown_method_is_a_clear_error():
    from edu_gen.toy_experiment import BASELINE, METHODS, toy_gan
    with pytest.raises(ValueError, match="unknown method"):
        toy_gan("LSGAN")
    for method in METHODS:
        g, d, options = toy_gan(method, g_hidden=8, d_hidden=8)
        assert options["lr_decay"] == (method != BASELINE)
        assert not {"pack", "spectral_norm", "rejection"} & set(options)
        assert d(torch.zeros(8, 2)).shape == (8 // d.pack,)



def test_drs_trains_the_same_generator_as_the_plain_gan_and_samples_it_by_rejection():
    from edu_gen.toy_experiment import run_toy
    tiny = dict(epochs=1, g_hidden=8, d_hidden=8)
    plain, _, _ = run_toy("GAN", "ring", seed=3, **tiny)
    drs, _, metric = run_toy("GAN + DRS", "ring", seed=3, **tiny)
    for a, b in zip(plain.parameters(), drs.parameters()):
        assert torch.equal(a, b)
    assert 0 <= metric["modes"] <= 8 and 0 <= metric["high_quality"] <= 1


def test_live_ring_run_repeats_itself_and_keeps_its_snapshots():
    from edu_gen.toy_experiment import LIVE_SNAPSHOTS, live_ring_run
    snaps, metric, g, _ = live_ring_run(lr_decay=True, seed=4, epochs=1)
    again, metric_again, g_again, _ = live_ring_run(lr_decay=True, seed=4, epochs=1)
    assert [epoch for epoch, _ in snaps.samples] == [1]
    assert snaps.samples[0][1].shape == (LIVE_SNAPSHOTS, 2)
    assert metric["high_quality"] == metric_again["high_quality"] and metric["modes"] == metric_again["modes"]
    for a, b in zip(g.parameters(), g_again.parameters()):
        assert torch.equal(a, b)
    torch.testing.assert_close(snaps.samples[0][1], again.samples[0][1], rtol=0, atol=0)

"""Reading InfoGAN's code: the Hungarian matching against every permutation, a code that
carries nothing scoring about 1/K, slant and width from moments against drawn bars whose
slant and width are known, rank correlations, and clear errors (the digit classifier given
2D points)."""
import itertools

import numpy as np
import pytest
import torch

from edu_gen.gan import MLPGenerator
from edu_gen.infogan import InfoCodes
from edu_gen.infogan_eval import (code_accuracy, code_correlations, generate, matched_accuracy,
                                  slant_and_width)


def test_matched_accuracy_is_the_best_of_all_relabellings():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(4, (300,), generator=g)
    codes = torch.where(torch.rand(300, generator=g) < 0.6, (labels + 1) % 4,
                        torch.randint(4, (300,), generator=g))
    accuracy, mapping = matched_accuracy(codes, labels)
    best = max((torch.tensor(perm)[codes] == labels).float().mean().item()
               for perm in itertools.permutations(range(4)))
    assert accuracy == pytest.approx(best)
    assert mapping.tolist() == [3, 0, 1, 2]                       # code k is digit k - 1
    assert matched_accuracy(labels, labels)[0] == 1.0


def test_a_code_independent_of_the_digits_scores_about_one_in_k():
    """With c independent of the label every matching expects 1/K; the best of them adds
    the table's noise: about 0.11 to 0.13 here for 10 x 10 cells of 2,000 draws."""
    g = torch.Generator().manual_seed(0)
    scores = [matched_accuracy(torch.randint(10, (2000,), generator=g),
                               torch.randint(10, (2000,), generator=g))[0] for _ in range(20)]
    assert 0.1 < np.mean(scores) < 0.14, scores


def bar(slant, half_width, height=16):
    """A bar of 2 * half_width + 1 columns, rows 6..6 + height, its middle shifted right by
    ``slant`` columns per row upward (rows grow downwards), drawn exactly on the pixels."""
    image = torch.zeros(1, 28, 28)
    for r in range(6, 6 + height):
        centre = 14 + slant * (6 + height / 2 - 0.5 - r)
        for c in range(int(round(centre - half_width)), int(round(centre + half_width)) + 1):
            image[0, r, c] = 1.0
    return image


def test_slant_and_width_of_upright_and_slanted_bars():
    upright = bar(0.0, 2)                                  # 5 columns: sd sqrt((5^2 - 1) / 12)
    slant, width = slant_and_width(upright[None])
    assert slant.item() == pytest.approx(0.0, abs=1e-12)
    assert width.item() == pytest.approx(np.sqrt((25 - 1) / 12), rel=1e-9)
    slanted = torch.stack([bar(s, 2) for s in (-0.5, -0.25, 0.25, 0.5)])
    slant, width = slant_and_width(slanted)
    torch.testing.assert_close(slant, torch.tensor([-0.5, -0.25, 0.25, 0.5], dtype=torch.float64),
                               atol=0.03, rtol=0)          # rounding to whole pixels
    torch.testing.assert_close(width, torch.full((4,), np.sqrt(2.0), dtype=torch.float64),
                               atol=0.06, rtol=0)          # the slant is removed from the width
    wider = slant_and_width(torch.stack([bar(0.3, h) for h in (1, 2, 3)]))[1]
    assert (wider.diff() > 0.5).all()


def test_rank_correlation_of_codes_that_set_slant_and_width():
    codes = torch.linspace(-1, 1, 9)
    images = torch.stack([bar(0.4 * c.item(), 1 + int(c > 0)) for c in codes])
    rho = code_correlations(images, torch.stack([codes, -codes], 1))
    assert rho[0, 0] == pytest.approx(1.0) and rho[1, 0] == pytest.approx(-1.0)
    assert rho.shape == (2, 2)


def test_generate_gives_images_in_the_unit_range_and_repeats():
    codes = InfoCodes(4, 10, 2)
    torch.manual_seed(0)
    g = MLPGenerator(codes.dim, (1, 28, 28), hidden=8, tanh=True)
    images, code = generate(g, codes, 12, seed=3)
    again, _ = generate(g, codes, 12, seed=3)
    assert torch.equal(images, again) and images.min() >= 0 and images.max() <= 1
    assert code.categories.shape == (12,) and code.continuous.shape == (12, 2)


def test_the_digit_classifier_refuses_2d_points():
    """A GAN of the 2D toys has no digits for the shipped classifier to read."""
    with pytest.raises(ValueError, match="28x28"):
        code_accuracy(torch.rand(100, 2), torch.zeros(100, dtype=torch.long))


@pytest.mark.parametrize("codes, labels", [(torch.zeros(5), torch.zeros(4)),
                                           (torch.zeros(0), torch.zeros(0)),
                                           (torch.zeros(3, 2), torch.zeros(3, 2))])
def test_matched_accuracy_refuses_mismatched_input(codes, labels):
    with pytest.raises(ValueError, match="1D tensors of the same length"):
        matched_accuracy(codes, labels)


def test_moments_refuse_empty_images_and_wrong_shapes():
    with pytest.raises(ValueError, match="no ink"):
        slant_and_width(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        slant_and_width(torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match="continuous codes"):
        code_correlations(torch.rand(3, 1, 28, 28), torch.zeros(4, 2))

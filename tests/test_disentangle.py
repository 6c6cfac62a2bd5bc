"""MIG and the FactorVAE score against hand computations on codes built to be perfectly
disentangled, entangled and partly mixed; the mutual information and the binning against
scikit-learn and NumPy; a planted bug (MIG normalised by the code's entropy, not the
factor's) caught; clear errors for bad input."""
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import mutual_info_score

from edu_gen.disentangle import (discretize, entropy, factorvae_score, gaps, mig,
                                 mutual_information)
from edu_gen.shapes import factor_grid

GRID = factor_grid((3, 4, 6, 8, 8))            # the quick profile's 4,608 shapes


def two_factors():
    """v1, v2 uniform on {0, 1, 2, 3}, every pair once: 16 rows, H(v) = log 4 each."""
    grid = torch.cartesian_prod(torch.arange(4), torch.arange(4))
    return grid[:, 0], grid[:, 1], grid


def check_mig_by_hand(mig_fn):
    """The three cases of the issue, with MIG worked out by hand."""
    v1, v2, factors = two_factors()
    # perfectly disentangled: z_k = v_k. I(z_k; v_k) = log 4, I(z_j; v_k) = 0: MIG = 1
    assert mig_fn(torch.stack([v1, v2], 1), factors) == pytest.approx(1.0, abs=1e-12)
    # perfectly entangled: both dimensions the same bijection of (v1, v2). For each factor
    # the two largest informations are equal (log 4): MIG = 0
    both = 4 * v1 + v2
    assert mig_fn(torch.stack([both, both], 1), factors) == pytest.approx(0.0, abs=1e-12)
    # partly mixed: z1 = v1 and z2 = (v1 // 2, v2) coded as 2 v2 + v1 // 2.
    # v1: I(z1; v1) = log 4, I(z2; v1) = H(v1 // 2) = log 2, gap (log 4 - log 2) / log 4 = 1/2
    # v2: I(z2; v2) = log 4, I(z1; v2) = 0, gap 1. MIG = 3/4
    mixed = torch.stack([v1, 2 * v2 + v1 // 2], 1)
    assert mig_fn(mixed, factors) == pytest.approx(0.75, abs=1e-12)


def test_mig_on_the_hand_computed_cases():
    check_mig_by_hand(lambda codes, factors: mig(codes, factors)["score"])


def test_planted_bug_mig_divided_by_the_codes_entropy_is_caught():
    """The bug: the gap divided by H(z_j) of the most informative dimension, not H(v_k).
    In the mixed case H(z2) = log 8, so v2's gap becomes 2/3 and MIG 7/12."""
    def wrong_entropy(codes, factors):
        mi = mutual_information(codes, factors)
        return float(gaps(mi, entropy(codes)[mi.argmax(0)]).mean())
    with pytest.raises(AssertionError):
        check_mig_by_hand(wrong_entropy)


def test_mutual_information_and_entropy_against_sklearn_and_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(2000, 3))
    b = np.stack([a[:, 0], (a[:, 1] + rng.integers(0, 2, 2000)) % 5, rng.integers(0, 7, 2000)], 1)
    mi = mutual_information(torch.as_tensor(a), torch.as_tensor(b))
    expected = [[mutual_info_score(a[:, i], b[:, k]) for k in range(3)] for i in range(3)]
    torch.testing.assert_close(mi, torch.tensor(expected, dtype=torch.float64), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(entropy(GRID), torch.tensor([math.log(n) for n in (3, 4, 6, 8, 8)],
                                                           dtype=torch.float64))


def test_discretize_matches_numpy_histogram_bins():
    """disentanglement_lib's binning: np.histogram's equal-width edges, then np.digitize."""
    codes = torch.randn(500, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = discretize(codes, bins=20)
    for j in range(4):
        edges = np.histogram(codes[:, j].numpy(), bins=20)[1]
        expected = np.digitize(codes[:, j].numpy(), edges[:-1]) - 1
        assert (ours[:, j].numpy() == expected).mean() > 0.99      # ties at an edge may round apart
    assert ours.min() == 0 and ours.max() == 19
    assert discretize(torch.ones(10, 1)).eq(0).all()              # a constant column: one bin


def test_mig_of_the_grid_itself_is_one_and_of_noise_near_zero():
    assert mig(GRID.double(), GRID)["score"] == pytest.approx(1.0, abs=1e-12)
    noise = torch.randn(len(GRID), 10, generator=torch.Generator().manual_seed(0))
    assert mig(noise, GRID)["score"] < 0.01


def test_factorvae_score_of_perfect_codes_is_one_in_any_order_and_scale():
    codes = GRID.double()[:, [3, 0, 4, 1, 2]] * torch.tensor([1.0, -2.0, 0.5, 3.0, 1.0])
    codes = torch.cat([codes, torch.randn(len(GRID), 2, generator=torch.Generator().manual_seed(1),
                                          dtype=torch.float64)], 1)     # and two nuisance dims
    result = factorvae_score(codes, GRID, n_train=2000, n_eval=1000)
    assert result["score"] == 1.0
    # the vote maps each factor to its own dimension: factor k to column where it was put
    assert result["votes"].argmax(1).tolist() == [1, 3, 4, 0, 2]


def test_factorvae_score_of_codes_blind_to_the_factors_is_about_chance():
    """Codes independent of the factors: the least-variance dimension is random, so the
    majority vote is right about 1/K of the time (K = 5), a little more for the vote's
    fit to noise; over 5,000 draws the standard error is about 0.006."""
    noise = torch.randn(len(GRID), 10, generator=torch.Generator().manual_seed(0))
    score = factorvae_score(noise, GRID)["score"]
    assert 0.18 < score < 0.3, score


def test_factorvae_score_leaves_out_collapsed_dimensions_and_partly_mixed_codes():
    """z = (x + y, x - y, shape, scale, rotation) plus a collapsed dimension: shape, scale and
    rotation are found by their own dimension; fixing x or y leaves both position dimensions
    equally variable, so x and y share the vote and one of the two is always wrong:
    3 right factors + 1 of the 2 position factors = 4/5."""
    g = GRID.double()
    codes = torch.stack([g[:, 3] + g[:, 4], g[:, 3] - g[:, 4], g[:, 0], g[:, 1], g[:, 2],
                         torch.full((len(g),), 0.01) + 1e-3 * g[:, 0]], 1)
    result = factorvae_score(codes, GRID)
    assert result["active"].tolist() == [True] * 5 + [False]
    assert result["score"] == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize("codes, factors, phrase", [
    (torch.zeros(10, 3), torch.zeros(9, 5, dtype=torch.long), "one row per image"),
    (torch.zeros(10), torch.zeros(10, 5, dtype=torch.long), "2D tensor"),
    (torch.zeros(10, 0), torch.zeros(10, 5, dtype=torch.long), "non-empty"),       # a code of size 0
    (torch.zeros(10, 3), torch.zeros(10, 0, dtype=torch.long), "non-empty"),       # no factors
    (torch.zeros(10, 3), torch.zeros(10, 5), "integer indices"),
    (torch.full((10, 3), math.nan), torch.zeros(10, 5, dtype=torch.long), "NaN"),
])
def test_bad_input_gets_a_clear_error(codes, factors, phrase):
    for score in (mig, factorvae_score):
        with pytest.raises(ValueError, match=phrase):
            score(codes, factors)


def test_mig_refuses_a_factor_that_never_varies():
    v1, _, factors = two_factors()
    with pytest.raises(ValueError, match="one value"):
        mig(v1[:, None].double(), torch.stack([v1, torch.zeros_like(v1)], 1))

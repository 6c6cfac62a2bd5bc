"""edu_gen.metrics against independent oracles (scipy, torchmetrics, prdc), known answers,
planted bugs the oracles must reject, and validity on corrupted real digits."""
import subprocess
import sys

import numpy as np
import prdc
import prdc.prdc
import pytest
import scipy.linalg
import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance, poly_mmd
from torchvision.transforms.functional import gaussian_blur

import edu_gen.metrics as metrics
from edu_gen.data import load_mnist
from edu_gen.digit_features import load_digit_classifier
from edu_gen.metrics import (class_balance, evaluate_samples, features_and_digits,
                             frechet_distance, frechet_distance_gaussians, gaussian_fit, kid,
                             mmd2_unbiased, nearest_training_distances,
                             precision_recall_density_coverage)


@pytest.fixture(scope="module")
def digits():
    """(held-out images, their labels, training images, training features)."""
    test, labels = load_mnist("test", small=True)
    train, _ = load_mnist("train", small=True)
    return test, labels, train, features_and_digits(train)[0]


def random_gaussian(d, generator):
    mean = torch.randn(d, generator=generator, dtype=torch.float64)
    a = torch.randn(d, d, generator=generator, dtype=torch.float64)
    return mean, a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


# --- Fréchet distance -------------------------------------------------------------------

def scipy_frechet(mean1, cov1, mean2, cov2):
    """The FID formula with scipy's general matrix square root (the oracle)."""
    root = scipy.linalg.sqrtm(cov1.numpy() @ cov2.numpy()).real
    return float(((mean1 - mean2) ** 2).sum()) + np.trace(cov1.numpy() + cov2.numpy() - 2 * root)


def agrees_with_scipy(fd_function):
    generator = torch.Generator().manual_seed(0)
    for d in (1, 3, 10):
        a, b = random_gaussian(d, generator), random_gaussian(d, generator)
        if abs(fd_function(*a, *b) - scipy_frechet(*a, *b)) > 1e-8 * (1 + scipy_frechet(*a, *b)):
            return False
    return True


def fd_with_elementwise_sqrt(mean1, cov1, mean2, cov2):
    """Planted bug: the square root of the covariance product taken entry by entry."""
    cross = (cov1 @ cov2).abs().sqrt().trace()
    return float((mean1 - mean2).square().sum() + cov1.trace() + cov2.trace() - 2 * cross)


def fd_without_cross_term_factor(mean1, cov1, mean2, cov2):
    """Planted bug: the cross term without its factor 2."""
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().real.sum()
    return float((mean1 - mean2).square().sum() + cov1.trace() + cov2.trace() - cross)


def test_frechet_distance_of_gaussians_matches_scipy_sqrtm():
    assert agrees_with_scipy(frechet_distance_gaussians)


@pytest.mark.parametrize("bug", [fd_with_elementwise_sqrt, fd_without_cross_term_factor])
def test_planted_frechet_bugs_are_rejected(bug):
    assert not agrees_with_scipy(bug)


def test_frechet_distance_in_one_dimension_is_the_closed_form():
    one = torch.ones(1, 1, dtype=torch.float64)
    # (m1 - m2)^2 + (s1 - s2)^2 for N(1, 2^2) and N(-2, 0.5^2)
    value = frechet_distance_gaussians(torch.tensor([1.0]).double(), 4 * one,
                                       torch.tensor([-2.0]).double(), 0.25 * one)
    assert abs(value - (9 + 1.5 ** 2)) < 1e-12


def test_frechet_distance_of_a_set_with_itself_is_zero(digits):
    features = digits[3]
    assert abs(frechet_distance(features, features)) < 1e-8
    mean, cov = gaussian_fit(features)
    torch.testing.assert_close(cov, torch.from_numpy(np.cov(features.double().numpy().T)))


class FeatureModule(nn.Module):
    """The classifier's features as torchmetrics wants them: forward -> (N, 84), float64."""

    def __init__(self):
        super().__init__()
        self.classifier = load_digit_classifier()
        self.num_features = self.classifier.num_features

    def forward(self, images):
        return self.classifier.features(images).double()


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save")
def test_fd_and_kid_match_torchmetrics_with_the_same_feature_network(digits):
    test, _, train, _ = digits
    real, fake = train[:1500], test[:700]
    fid = FrechetInceptionDistance(feature=FeatureModule(), normalize=True)
    for batch in real.split(500):
        fid.update(batch, real=True)
    fid.update(fake, real=False)
    real_features, fake_features = features_and_digits(real)[0], features_and_digits(fake)[0]
    ours = frechet_distance(real_features, fake_features)
    assert abs(ours - fid.compute().item()) < 1e-6 * ours
    # one subset of 700 reals and 700 fakes, so torchmetrics' random subset is the whole set
    kid_oracle = KernelInceptionDistance(feature=FeatureModule(), normalize=True, subsets=1,
                                         subset_size=700)
    kid_oracle.update(real[:700], real=True)
    kid_oracle.update(fake, real=False)
    ours = mmd2_unbiased(real_features[:700].double(), fake_features.double()).item()
    assert abs(ours - kid_oracle.compute()[0].item()) < 1e-6 * abs(ours)


# --- KID --------------------------------------------------------------------------------

def biased_mmd2(x, y):
    """Planted bug: the biased (V-statistic) MMD^2, a point compared with itself too."""
    k = metrics.polynomial_kernel
    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()


def mmd_agrees_with_torchmetrics(mmd_function):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(200, 8, generator=generator, dtype=torch.float64)
    y = 0.2 + torch.randn(200, 8, generator=generator, dtype=torch.float64)
    return abs(mmd_function(x, y) - poly_mmd(x, y)).item() < 1e-9


def test_unbiased_mmd_matches_torchmetrics_and_the_biased_one_does_not():
    assert mmd_agrees_with_torchmetrics(mmd2_unbiased)
    assert not mmd_agrees_with_torchmetrics(biased_mmd2)


@pytest.fixture
def one_thread():
    """Many tiny matrix products: one thread is far faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def kid_over_independent_draws(shift, draws=40, n=400, d=6, kid=kid):
    """KID and its standard error on ``draws`` fresh pairs of Gaussian sets."""
    generator = torch.Generator().manual_seed(2)
    values = []
    for seed in range(draws):
        x = torch.randn(n, d, generator=generator)
        y = shift + torch.randn(n, d, generator=generator)
        values.append(kid(x, y, subsets=10, seed=seed))
    return torch.tensor(values).T   # (2, draws): KID values, standard errors


def standard_error_is_the_spread_of_fresh_draws(kid_function):
    for shift in (0.0, 0.3):
        values, errors = kid_over_independent_draws(shift, kid=kid_function)
        if not 0.7 < errors.mean().item() / values.std().item() < 1.4:
            return False
    return True


def kid_reporting_the_spread_of_parts(x, y, subsets=10, seed=0):
    """Planted bug: the standard deviation over the parts reported as the standard error."""
    value, error = kid(x, y, subsets, seed)
    return value, error * subsets ** 0.5


def test_kid_standard_error_is_the_spread_of_fresh_draws(one_thread):
    assert standard_error_is_the_spread_of_fresh_draws(kid)
    assert not standard_error_is_the_spread_of_fresh_draws(kid_reporting_the_spread_of_parts)


def test_kid_of_one_distribution_is_zero_on_average(one_thread):
    values, _ = kid_over_independent_draws(0.0)
    assert abs(values.mean().item()) < 3 * values.std().item() / len(values) ** 0.5


def test_planted_biased_mmd_is_rejected(monkeypatch, one_thread):
    monkeypatch.setattr(metrics, "mmd2_unbiased", biased_mmd2)
    values, _ = kid_over_independent_draws(0.0, draws=10)
    assert values.mean() > 5 * values.std() / 10 ** 0.5    # biased upward: far from 0


def test_unbiased_mmd_of_sets_of_different_sizes_is_the_double_sum():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(7, 3, generator=generator, dtype=torch.float64)
    k = lambda a, b: (a @ b / 3 + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    yy = sum(k(y[i], y[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    xy = sum(k(x[i], y[j]) for i in range(5) for j in range(7)) / (5 * 7)
    assert abs(mmd2_unbiased(x, y) - (xx + yy - 2 * xy)) < 1e-12


def test_kid_is_the_mean_over_disjoint_parts():
    generator = torch.Generator().manual_seed(3)
    x, y = torch.randn(40, 3, generator=generator), torch.randn(41, 3, generator=generator)
    value, error = kid(x, y, subsets=2, seed=5)
    shuffle = torch.Generator().manual_seed(5)
    x = x.double()[torch.randperm(40, generator=shuffle)]
    y = y.double()[torch.randperm(41, generator=shuffle)]
    parts = torch.stack([poly_mmd(x[:20], y[:20]), poly_mmd(x[20:], y[20:40])])
    assert abs(value - parts.mean().item()) < 1e-12
    assert abs(error - parts.std().item() / 2 ** 0.5) < 1e-12


# --- precision, recall, density, coverage ------------------------------------------------

def pruned_oracle(real, fake, k, percentile=50):
    """Precision and density with Kynkäänniemi et al.'s pruning, from prdc's own distances:
    a real ball whose radius exceeds np.percentile(radii, 50) holds nothing (their code sets
    its radius to 0); density counts the kept balls, normalised by how many were kept."""
    radii = prdc.prdc.compute_nearest_neighbour_distances(real, k)
    kept = radii <= np.percentile(radii, percentile)
    inside = prdc.prdc.compute_pairwise_distance(real, fake) < np.where(kept, radii, 0)[:, None]
    return {"precision": inside.any(0).mean(),
            "density": inside.sum() / (k * len(fake) / len(real) * kept.sum())}


def agrees_with_prdc(n_real=300, n_fake=250, d=5):
    generator = torch.Generator().manual_seed(4)
    real = torch.randn(n_real, d, generator=generator, dtype=torch.float64)
    fake = 0.5 + 1.3 * torch.randn(n_fake, d, generator=generator, dtype=torch.float64)
    for k in (3, 5):
        oracle = prdc.compute_prdc(real.numpy(), fake.numpy(), nearest_k=k)
        ours = precision_recall_density_coverage(real, fake, k_pr=k, k_dc=k, prune=None)
        oracle_pruned = pruned_oracle(real.numpy(), fake.numpy(), k)
        pruned = precision_recall_density_coverage(real, fake, k_pr=k, k_dc=k)
        if any(abs(ours[key] - oracle[key]) > 1e-6 for key in oracle):
            return False
        if any(abs(pruned[key] - oracle_pruned[key]) > 1e-6 for key in oracle_pruned):
            return False
        if abs(pruned["recall"] - oracle["recall"]) + abs(pruned["coverage"] - oracle["coverage"]) > 1e-6:
            return False                          # recall and coverage are never pruned
    return True


def test_precision_recall_density_coverage_match_the_prdc_package():
    assert agrees_with_prdc()


def test_the_same_answers_a_few_rows_at_a_time(monkeypatch):
    monkeypatch.setattr(metrics, "CHUNK_ELEMENTS", 40 * 300)   # blocks of 40 to 48 rows
    assert agrees_with_prdc()


def test_planted_k_off_by_one_is_rejected(monkeypatch):
    def radii_counting_the_point_itself(features, k):
        return squared(features, features).topk(k, dim=1, largest=False).values

    squared = metrics.squared_distances
    monkeypatch.setattr(metrics, "knn_squared_radii", radii_counting_the_point_itself)
    assert not agrees_with_prdc()


def test_planted_pruning_of_the_wrong_end_is_rejected(monkeypatch):
    def prune_the_smallest(squared_radii, percentile):
        if percentile is None:
            return prune_radii(squared_radii, None)
        kept = squared_radii >= torch.quantile(squared_radii, 1 - percentile / 100)
        return torch.where(kept, squared_radii, torch.zeros(())), kept

    prune_radii = metrics.prune_radii
    monkeypatch.setattr(metrics, "prune_radii", prune_the_smallest)
    assert not agrees_with_prdc()


def test_disjoint_supports_give_zero_and_one_distribution_gives_density_near_one():
    generator = torch.Generator().manual_seed(5)
    real = torch.randn(2000, 4, generator=generator)
    far = 100 + torch.randn(2000, 4, generator=generator)
    for prune in (50, None):
        assert precision_recall_density_coverage(real, far, prune=prune) == {
            "precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    fresh = torch.randn(2000, 4, generator=generator)
    same = precision_recall_density_coverage(real, fresh, prune=None)
    assert abs(same["density"] - 1) < 0.1 and same["precision"] > 0.8 and same["recall"] > 0.8
    assert same["coverage"] > 0.9   # 1 - 2^-5 = 0.97 for k = 5 and equal sizes (Naeem et al.)
    # normalised by the balls kept; the kept (smaller) balls hold less than the average ball
    pruned = precision_recall_density_coverage(real, fresh)
    assert 0.7 < pruned["density"] < same["density"] and pruned["precision"] < same["precision"]
    assert (pruned["recall"], pruned["coverage"]) == (same["recall"], same["coverage"])


# --- exact ties -----------------------------------------------------------------------------

def test_a_set_against_itself_gives_exactly_one(digits):
    features = digits[3][:1500]
    everything = precision_recall_density_coverage(features, features.clone(), prune=None)
    assert everything == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    pruned = precision_recall_density_coverage(features, features.clone())
    assert (pruned["recall"], pruned["density"], pruned["coverage"]) == (1.0, 1.0, 1.0)


def test_exact_copies_match_prdc_exactly():
    """Integer features: prdc's distances are exact too, so every tie must agree."""
    generator = torch.Generator().manual_seed(6)
    real = torch.randint(0, 4, (300, 3), generator=generator).double()
    fake = torch.cat([real[:5].repeat(40, 1), real[100:150],
                      torch.randint(0, 4, (50, 3), generator=generator).double()])
    for k in (3, 5):
        oracle = prdc.compute_prdc(real.numpy(), fake.numpy(), nearest_k=k)
        ours = precision_recall_density_coverage(real, fake, k_pr=k, k_dc=k, prune=None)
        assert ours == pytest.approx(oracle, abs=1e-12), (k, ours, oracle)
    copies = torch.cat([real[:5].repeat(40, 1)])
    ours = precision_recall_density_coverage(real, copies, prune=None)
    oracle = prdc.compute_prdc(real.numpy(), copies.numpy(), nearest_k=5)
    assert ours["density"] == pytest.approx(oracle["density"], abs=1e-12)


def test_distances_on_the_grid_are_exact_in_any_order(monkeypatch):
    generator = torch.Generator().manual_seed(7)
    x = torch.rand(500, 84, generator=generator) * 40
    (exact,), grid = metrics.exact_grid(x)
    assert torch.equal(exact, exact.round()) and exact.abs().max() <= 2 ** 22
    assert (exact * grid - x.double()).abs().max() <= grid / 2
    d2 = metrics.squared_distances(exact, exact)
    by_hand = ((exact[:50, None] - exact[None]) ** 2).sum(-1)     # another order of summation
    assert torch.equal(d2[:50], by_hand) and torch.equal(d2.diagonal(), torch.zeros(500, dtype=torch.float64))
    monkeypatch.setattr(metrics, "CHUNK_ELEMENTS", 7 * 500)
    assert torch.equal(metrics.knn_squared_radii(exact, 5), metrics.squared_distances(exact, exact).topk(6, largest=False).values[:, 1:])


def test_float32_distances_break_the_ties_the_grid_keeps(digits, monkeypatch):
    """Planted bug: the round trip sqrt(d^2)^2 in float32 of the old code; self-density != 1."""
    features = digits[3][:1500]
    monkeypatch.setattr(metrics, "exact_grid", lambda *sets: ([s.float() for s in sets], 1.0))
    monkeypatch.setattr(metrics, "knn_squared_radii",
                        lambda f, k: squared(f, f).topk(k + 1, dim=1, largest=False).values[:, 1:].sqrt() ** 2)
    squared = metrics.squared_distances
    assert precision_recall_density_coverage(features, features.clone(), prune=None)["density"] != 1.0


# --- class balance, nearest training digit ------------------------------------------------

def test_class_balance_known_answers(digits):
    _, labels, _, _ = digits
    shares, tv = class_balance(torch.arange(10).repeat(7))
    assert tv < 1e-12 and torch.allclose(shares, torch.full((10,), 0.1, dtype=torch.float64))
    assert abs(class_balance(torch.full((50,), 3))[1] - 0.9) < 1e-12
    shares, tv = class_balance(torch.tensor([0, 0, 1, 1]))
    assert shares[:2].tolist() == [0.5, 0.5] and abs(tv - 0.8) < 1e-12
    # the classifier reads held-out digits with about the shares of their true labels
    test = digits[0]
    read = class_balance(features_and_digits(test)[1])[0]
    assert (read - class_balance(labels)[0]).abs().sum() / 2 < 0.02


def test_nearest_training_distances_match_brute_force(digits, monkeypatch):
    test, _, train, _ = digits
    samples = torch.cat([train[[17, 256]], test[:30]])
    monkeypatch.setattr(metrics, "CHUNK_ELEMENTS", 5 * 1000)
    distances, indices = nearest_training_distances(samples, train[:1000])
    brute = np.linalg.norm(samples.flatten(1).numpy()[:, None] - train[:1000].flatten(1).numpy()[None],
                           axis=2)
    np.testing.assert_allclose(distances.numpy(), brute.min(1), atol=1e-3)
    assert indices[:2].tolist() == [17, 256] and distances[:2].max() < 1e-2
    assert (indices[2:].numpy() == brute[2:].argmin(1)).all()


# --- validity on real images --------------------------------------------------------------

LADDERS = {"blur": [0.5, 1.0, 1.5, 2.0, 2.5], "noise": [0.1, 0.2, 0.3, 0.4, 0.5]}


def corrupt(images, kind, level):
    if kind == "blur":
        return gaussian_blur(images, kernel_size=9, sigma=level)
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    return (images + level * noise).clamp(0, 1)


@pytest.mark.parametrize("kind", LADDERS)
def test_fd_and_kid_rise_along_a_ladder_of_corruptions(digits, kind):
    test, _, _, train_features = digits
    fds, kids = [], []
    for level in [0.0, *LADDERS[kind]]:
        features = features_and_digits(corrupt(test, kind, level) if level else test)[0]
        fds.append(frechet_distance(train_features, features))
        kids.append(kid(train_features, features)[0])
    assert all(a < b for a, b in zip(fds, fds[1:])), fds
    assert all(a < b for a, b in zip(kids, kids[1:])), kids


def test_kid_of_two_halves_of_real_digits_is_within_two_standard_errors_of_zero(digits):
    test = digits[0]
    first, second = features_and_digits(test[:500])[0], features_and_digits(test[500:])[0]
    value, error = kid(first, second)
    assert abs(value) < 2 * error, (value, error)
    blurred = features_and_digits(corrupt(test[500:], "blur", 1.0))[0]
    value, error = kid(first, blurred)   # the test can tell: a light blur is far beyond
    assert value > 5 * error, (value, error)


def test_evaluate_samples_is_the_metrics_one_by_one(digits):
    test, _, train, train_features = digits
    result = evaluate_samples(test[:500], train, training=train[:1000])
    fake, read = features_and_digits(test[:500])
    assert result["fd"] == frechet_distance(train_features, fake)
    assert (result["kid"], result["kid_se"]) == kid(train_features, fake)
    for key, value in precision_recall_density_coverage(train_features, fake).items():
        assert result[key] == value
    assert result["class_tv"] == class_balance(read)[1] and len(result["class_shares"]) == 10
    assert result["nearest_train"] == nearest_training_distances(test[:500], train[:1000])[0].mean().item()
    assert (result["n_samples"], result["n_reference"]) == (500, 4000)


def test_evaluate_samples_embeds_each_image_once(digits):
    test, _, train, _ = digits
    classifier = load_digit_classifier()
    embedded = []
    features = classifier.features
    classifier.features = lambda x: embedded.append(len(x)) or features(x)
    evaluate_samples(test[:500], train[:1500], training=train[:100], classifier=classifier)
    assert sorted(embedded) == [500, 500, 1000]   # 500 samples, 1,500 reference images


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("images, message", [
    (torch.rand(10, 784), r"shape \(N, 1, 28, 28\).*view\(-1, 1, 28, 28\)"),
    (torch.rand(10, 3, 28, 28), r"shape \(N, 1, 28, 28\)"),
    (torch.zeros(0, 1, 28, 28), r"empty.*at least one image"),
    (torch.rand(10, 1, 32, 32), r"28x28 grey digits.*\(10, 1, 32, 32\).*resize"),
    ((torch.rand(10, 1, 28, 28) * 255).byte(), r"float\(\) / 255"),
    (torch.rand(10, 1, 28, 28) * 2 - 1, r"\[0, 1\].*\(x \+ 1\) / 2"),
    (torch.full((10, 1, 28, 28), float("nan")), r"10 of the 10 samples contain NaN"),
])
def test_bad_images_are_a_clear_error(images, message):
    with pytest.raises(ValueError, match=message):
        evaluate_samples(images, torch.rand(100, 1, 28, 28))


def test_fewer_samples_than_the_feature_dimension_says_how_many_are_needed(digits):
    test = digits[0]
    with pytest.raises(ValueError, match="84 x 84 covariance.*at least 85 samples, got 50"):
        evaluate_samples(test[:50], test[500:])
    with pytest.raises(ValueError, match=r"at least 85 real images \(reference\), got 84"):
        frechet_distance(torch.rand(84, 84), torch.rand(100, 84))
    with pytest.raises(ValueError, match="at least 20 samples, got 19"):
        kid(torch.rand(100, 8), torch.rand(19, 8))
    with pytest.raises(ValueError, match="at least 6 samples, got 5"):
        precision_recall_density_coverage(torch.rand(100, 8), torch.rand(5, 8))
    with pytest.raises(ValueError, match="differ in size: 8 and 9"):
        kid(torch.rand(100, 8), torch.rand(100, 9))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(torch.rand(100, 8), torch.full((100, 8), float("nan")))


@pytest.mark.parametrize("call, message", [
    (lambda: frechet_distance(np.ones((100, 4)), np.ones((100, 4))), r"torch.from_numpy\(array\)"),
    (lambda: frechet_distance(torch.ones(100, 4, dtype=torch.long), torch.rand(100, 4)), r"features.float\(\)"),
    (lambda: kid(torch.rand(100, 4), torch.rand(100, 4), subsets=2.5), r"subsets must be a whole number"),
    (lambda: kid(torch.rand(100, 4), torch.rand(100, 4), subsets=1), r"subsets must be at least 2"),
    (lambda: precision_recall_density_coverage(torch.rand(100, 4), torch.rand(100, 4), k_pr=0),
     r"k_pr must be at least 1"),
    (lambda: precision_recall_density_coverage(torch.rand(100, 4), torch.rand(100, 4), k_dc=2.0),
     r"k_dc must be a whole number"),
    (lambda: precision_recall_density_coverage(torch.rand(100, 4), torch.rand(100, 4), prune=0),
     r"prune must be a percentile in \(0, 100\] or None"),
    (lambda: class_balance(torch.tensor([0.0, 1.0, 2.0])), r"logits.argmax\(1\)"),
    (lambda: class_balance([12, 3, 3]), r"must lie in 0 .. 9, got values from 3 to 12"),
    (lambda: class_balance([-1, 3]), r"must lie in 0 .. 9"),
    (lambda: class_balance([]), r"empty"),
    (lambda: mmd2_unbiased(torch.rand(1, 4), torch.rand(1, 4)), r"at least 2 samples in each set, got 1 and 1"),
])
def test_bad_arguments_are_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_class_balance_reads_lists_and_arrays():
    shares, tv = class_balance([3, 3, 1, 0])
    assert shares[[0, 1, 3]].tolist() == [0.25, 0.25, 0.5] and abs(tv - 0.7) < 1e-12
    assert class_balance(np.array([3, 3, 1, 0]))[1] == tv


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_images_of_any_float_dtype_are_converted(digits, dtype):
    test = digits[0][:200]
    ours, read = features_and_digits(test.to(dtype))
    exact, read32 = features_and_digits(test)
    assert ours.dtype == torch.float32
    tolerance = {torch.float64: 1e-5, torch.float16: 0.05, torch.bfloat16: 0.5}[dtype]
    assert (ours - exact).abs().max() < tolerance and (read == read32).float().mean() > 0.97
    evaluate_samples(test.to(dtype), digits[0][200:400].double())      # no dtype error


def test_a_classifier_in_train_mode_gives_the_same_features_and_keeps_its_mode(digits):
    classifier = load_digit_classifier().train()          # dropout on: random features if used so
    x = digits[0][:100]
    first, second = features_and_digits(x, classifier)[0], features_and_digits(x, classifier)[0]
    assert torch.equal(first, second) and classifier.training
    torch.testing.assert_close(first, features_and_digits(x)[0])


def test_planted_train_mode_feature_pass_is_caught(digits, monkeypatch):
    """Without eval mode, dropout makes two passes differ: the check above would fail."""
    classifier = load_digit_classifier().train()
    x = digits[0][:100]
    with torch.no_grad():
        assert not torch.equal(classifier.features(x), classifier.features(x))


def test_the_package_does_not_import_its_oracles():
    code = ("import sys, edu_gen.metrics, edu_gen.digit_features; "
            "print(sorted(m for m in ('torchmetrics', 'prdc') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr[-1000:]

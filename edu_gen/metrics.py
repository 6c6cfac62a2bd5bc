"""One yardstick for samples: every chapter judges generated digits with these functions.

Images are embedded once by the shipped digit classifier (``edu_gen.digit_features``): its
84-number penultimate layer is the feature space of the Fréchet distance (Eq. (fd)), KID
(Eq. (kid), Eq. (kid-se)), precision and recall (Eq. (knn-radius), Eq. (precision-recall))
and density and coverage (Eq. (density-coverage)); its predicted digit gives the class
balance (Eq. (class-balance)); the pixels give the distance to the nearest training digit
(Eq. (nearest-train)). ``evaluate_samples`` computes all of them in one call.

Features come back on the CPU and every metric runs there (float64 for FD and KID), so a
number repeats on any machine up to the network's float rounding. The k-NN metrics round
the features to a grid on which every squared distance is exact (``exact_grid``), so their
ties are decided the same way everywhere. Pairwise distances are computed a block of rows
at a time, so memory stays bounded for any number of samples.
"""
import math
import operator

import torch

from .digit_features import load_digit_classifier

CHUNK_ELEMENTS = 2**22   # distances held at once: 32 MiB in float64


# --- checking the input ---------------------------------------------------------------

def check_images(images, name="samples"):
    """Raise ValueError unless ``images`` is a float tensor (N, 1, 28, 28) in [0, 1]."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor of images, got {type(images).__name__}")
    if not images.is_floating_point():
        raise ValueError(f"{name} has dtype {images.dtype}: pass floats in [0, 1], "
                         "e.g. images.float() / 255 for bytes")
    if images.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(images.shape)}): pass at least one image")
    if images.shape[1:].numel() == 28 * 28 and images.shape[1:] != (1, 28, 28):
        raise ValueError(f"{name} must have shape (N, 1, 28, 28), got {tuple(images.shape)}: "
                         "reshape with images.view(-1, 1, 28, 28)")
    if images.dim() != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"{name} must be 28x28 grey digits of shape (N, 1, 28, 28), got "
                         f"{tuple(images.shape)}: the shipped classifier reads 28x28 digits only "
                         "(resize with torch.nn.functional.interpolate, or judge 28x28 samples)")
    if not torch.isfinite(images).all():
        bad = int((~torch.isfinite(images)).flatten(1).any(1).sum())
        raise ValueError(f"{bad} of the {len(images)} {name} contain NaN or infinite pixels: "
                         "the model that drew them diverged (check its training losses)")
    low, high = images.min().item(), images.max().item()
    if low < 0 or high > 1:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{low:.3g}, {high:.3g}]: "
                         "rescale a tanh generator's output with (x + 1) / 2, and pass a "
                         "decoder's logits through torch.sigmoid")


def _whole_number(name, value, at_least, what):
    """``value`` as an int, or a ValueError saying it must be a whole number >= at_least."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number (int), got {value!r}: {what}") from None
    if number < at_least:
        raise ValueError(f"{name} must be at least {at_least}, got {number}: {what}")
    return number


def _check_features(features, name, at_least, why):
    if not isinstance(features, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor of features (N, d), got "
                         f"{type(features).__module__}.{type(features).__name__}: convert a NumPy "
                         "array with torch.from_numpy(array), a list with torch.tensor(rows)")
    if not features.is_floating_point():
        raise ValueError(f"{name} have dtype {features.dtype}: features must be floats, "
                         "pass features.float() (or embed images with features_and_digits)")
    if features.dim() != 2:
        raise ValueError(f"{name} must be features of shape (N, d), got {tuple(features.shape)}")
    if not torch.isfinite(features).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    if len(features) < at_least:
        raise ValueError(f"{why}: it needs at least {at_least} {name}, got {len(features)} "
                         "(draw or load more images)")


def _check_pair(real_features, fake_features, at_least, why):
    """Both sets (N, d) with the same d, finite, and at least ``at_least`` rows each."""
    _check_features(real_features, "real images (reference)", at_least, why)
    _check_features(fake_features, "samples", at_least, why)
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(f"real and fake features differ in size: {real_features.shape[1]} and "
                         f"{fake_features.shape[1]} (embed both with the same classifier)")


def _row_chunks(n_rows, n_columns):
    """Row indices in blocks of at most CHUNK_ELEMENTS / n_columns rows."""
    return torch.arange(n_rows).split(max(1, CHUNK_ELEMENTS // max(1, n_columns)))


# --- features -------------------------------------------------------------------------

@torch.no_grad()
def features_and_digits(images, classifier=None, batch_size=1000, name="images"):
    """``(features (N, 84) float32, digits (N,) int64)`` of images, both on the CPU.

    ``classifier`` defaults to the shipped one (``load_digit_classifier()``); images of any
    float dtype are fed to it in its own dtype, on its device, ``batch_size`` at a time. It
    runs in eval mode (no dropout: the same images always give the same features) and is
    put back in the mode it was in.
    """
    check_images(images, name)
    if classifier is None:
        classifier = load_digit_classifier()
    parameter = next(classifier.parameters())
    was_training = classifier.training
    classifier.eval()
    features, digits = [], []
    try:
        for batch in images.split(batch_size):
            f = classifier.features(batch.to(parameter.device, parameter.dtype))
            features.append(f.float().cpu())
            digits.append(classifier.head(f).argmax(1).cpu())
    finally:
        classifier.train(was_training)
    return torch.cat(features), torch.cat(digits)


# --- Fréchet distance -----------------------------------------------------------------

def gaussian_fit(features):
    """Mean (d,) and covariance (d, d) of features (N, d) in float64 (divisor N - 1)."""
    x = features.double()
    return x.mean(0), torch.cov(x.T)


def sqrtm_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    return eigenvectors * eigenvalues.clamp(min=0).sqrt() @ eigenvectors.T


def frechet_distance_gaussians(mean1, cov1, mean2, cov2):
    """Squared Fréchet (2-Wasserstein) distance between two Gaussians, Eq. (fd).

    ``|m1 - m2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``; the last trace equals
    ``Tr (S1 S2)^1/2`` and is computed from the eigenvalues of a symmetric matrix.
    """
    root1 = sqrtm_psd(cov1)
    middle = root1 @ cov2 @ root1
    cross = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mean1 - mean2).square().sum() + cov1.trace() + cov2.trace() - 2 * cross)


def frechet_distance(real_features, fake_features):
    """The FID recipe, Eq. (fd), between Gaussian fits of two feature sets (float64).

    Measured in the features of the book's digit classifier, NOT Inception-v3: the numbers
    are not comparable with the FID figures of papers. Like FID it is the squared distance,
    and it is biased upward when samples are few: compare only at equal sample sizes.
    """
    d = real_features.shape[-1]
    why = (f"the Fréchet distance fits a {d} x {d} covariance, singular for {d} samples "
           "or fewer")
    _check_pair(real_features, fake_features, d + 1, why)
    return frechet_distance_gaussians(*gaussian_fit(real_features), *gaussian_fit(fake_features))


# --- KID --------------------------------------------------------------------------------

def polynomial_kernel(x, y):
    """The cubic kernel of KID, k(x, y) = (x . y / d + 1)^3 (in Eq. (kid)), as a matrix."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x, y):
    """The unbiased estimate of MMD^2 between samples x (m, d) and y (n, d), Eq. (kid).

    Within-set sums leave out the diagonal (a point against itself), so each set needs at
    least 2 samples.
    """
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"the unbiased MMD^2 leaves out each point paired with itself: it needs "
                         f"at least 2 samples in each set, got {m} and {n} (draw more samples)")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return ((k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
            + (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
            - 2 * k_xy.mean())


def kid(real_features, fake_features, subsets=10, seed=0):
    """KID (Bińkowski et al. 2018) in this classifier's features, and its standard error,
    Eq. (kid) and Eq. (kid-se); like FD, not comparable with the Inception figures of papers.

    Both sets are shuffled (``seed``) and cut into ``subsets`` disjoint parts; KID is the
    mean of the unbiased MMD^2 over the pairs of parts. The parts are independent, so the
    standard error is their standard deviation / sqrt(subsets). (Bińkowski et al. 2018
    average 100 overlapping subsets instead; the spread of those is no standard error.)
    Returns ``(kid, standard_error)`` as floats. KID estimates MMD^2 >= 0 without bias, so
    between two samples of one distribution it is negative about half the time.
    """
    subsets = _whole_number("subsets", subsets, 2, "KID needs at least 2 disjoint parts to give "
                            "a standard error (10 is the default)")
    why = f"KID cuts each set into {subsets} parts of at least 2 samples"
    _check_pair(real_features, fake_features, 2 * subsets, why)
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for features in (real_features, fake_features):
        shuffled = features.double()[torch.randperm(len(features), generator=generator)]
        size = len(features) // subsets
        parts.append(shuffled[:size * subsets].split(size))
    estimates = torch.stack([mmd2_unbiased(x, y) for x, y in zip(*parts)])
    return float(estimates.mean()), float(estimates.std() / subsets ** 0.5)


# --- precision, recall, density, coverage --------------------------------------------

def squared_distances(x, y):
    """|x_i - y_j|^2 for every row of x (m, d) and of y (n, d): one matrix product."""
    return torch.addmm((y * y).sum(1), x, y.T, alpha=-2).add_((x * x).sum(1, keepdim=True)).clamp_(min=0)


def exact_grid(*feature_sets):
    """The feature sets rounded to one power-of-two grid and stored as float64 integers
    ``(rounded sets, grid)``: a feature is about ``grid * rounded``.

    Each coordinate becomes an integer of at most 2^b in size, with b chosen so that
    d * (2 * 2^b)^2 <= 2^53: every sum of products in a squared distance between two rows
    is then an integer below 2^53, which float64 holds exactly, so ``squared_distances`` of
    rounded rows is exact, whatever the order of summation (threads, blocks, CPU). A point's
    distance to an exact copy of itself is exactly 0, and a tie between a distance and a
    k-NN radius is decided exactly. The rounding moves a coordinate by at most grid / 2, at
    most 2^-(b+1) of the largest coordinate (b = 22 for d = 84: a few parts in 10^7).
    """
    d = feature_sets[0].shape[1]
    bits = int((51 - math.log2(d)) // 2)
    largest = max(float(f.abs().max()) for f in feature_sets)
    grid = 2.0 ** (math.frexp(largest)[1] - bits) if largest > 0 else 1.0
    return [torch.round(f.double() / grid) for f in feature_sets], grid


def knn_squared_radii(features, k):
    """Squared distances (N, k) of each point to its 1st, ..., k-th nearest other point of
    the set; the last column is the squared radius of its k-NN ball, Eq. (knn-radius).

    Exact (no square root) when ``features`` come from ``exact_grid``."""
    nearest = torch.empty(len(features), k, dtype=features.dtype)
    for rows in _row_chunks(len(features), len(features)):
        d2 = squared_distances(features[rows], features)
        nearest[rows] = d2.topk(k + 1, dim=1, largest=False).values[:, 1:]   # [:, 0]: itself
    return nearest


def knn_distances(features, k):
    """Distances (N, k) of each point to its 1st, ..., k-th nearest other point of the set;
    the last column is the radius of its k-NN ball, Eq. (knn-radius)."""
    (exact,), grid = exact_grid(features)
    return (knn_squared_radii(exact, k).sqrt() * grid).to(features.dtype)


def prune_radii(squared_radii, percentile):
    """Kynkäänniemi et al.'s (2019) outlier pruning, Eq. (pruned-radius): a ball whose
    radius exceeds the ``percentile``-th percentile of all radii gets radius 0 (it holds
    nothing); ``percentile=None`` keeps every ball. Returns (pruned radii, kept mask)."""
    if percentile is None:
        return squared_radii, torch.ones(len(squared_radii), dtype=torch.bool)
    threshold = torch.quantile(squared_radii.double(), percentile / 100)
    kept = squared_radii <= threshold.to(squared_radii.dtype)
    return torch.where(kept, squared_radii, torch.zeros(())), kept


def precision_recall_density_coverage(real_features, fake_features, k_pr=3, k_dc=5, prune=50):
    """Precision and recall (Kynkäänniemi et al. 2019, k = 3), Eq. (precision-recall), and
    density and coverage (Naeem et al. 2020, k = 5), Eq. (density-coverage).

    A ball around each point reaches its k-th nearest neighbour in its own set
    (Eq. (knn-radius)). Precision: the share of fakes inside some real ball; recall: the
    share of reals inside some fake ball; density: fakes counted once per real ball that
    holds them, over the number a ball holds on average when fakes and reals come from one
    distribution; coverage: the share of real balls holding a fake.

    ``prune`` (default 50): precision and density use only the real balls whose radius is
    at most this percentile of the real radii (Eq. (pruned-radius), the outlier pruning of
    Kynkäänniemi et al.'s realism score); density is divided by the share of balls kept, so
    it stays comparable with the unpruned density (the kept, smaller balls hold fewer samples
    than the average ball: samples of the real distribution score a little below 1, about
    0.9 for training digits against held-out ones). Pruned precision is on another scale than
    the unpruned one: real digits land in about half of the kept balls, so training digits
    against held-out ones score about 0.5 (0.93 unpruned). Read a model's precision against
    the precision of real digits judged the same way (the ceiling row the book's tables
    print), never against 1. In this book's features the unpruned
    balls of a few unusual real digits reach the region where noise, coin flips and the
    mean image land, and unpruned precision calls those real (appendix). ``prune=None``
    gives the original definitions (those of the ``prdc`` package). Recall and coverage are
    never pruned. Every comparison is exact (``exact_grid``): a set against itself gives
    recall, density and coverage exactly 1. Returns a dict of floats.
    """
    for name, k in (("k_pr", k_pr), ("k_dc", k_dc)):
        _whole_number(name, k, 1, "the k of a k-nearest-neighbour ball: 3 and 5 are the papers' choices")
    if prune is not None and not (isinstance(prune, (int, float)) and 0 < prune <= 100):
        raise ValueError(f"prune must be a percentile in (0, 100] or None, got {prune!r}: "
                         "50 is Kynkäänniemi et al.'s choice, None keeps every ball")
    k = max(k_pr, k_dc)
    _check_pair(real_features, fake_features, k + 1, f"a ball reaching the k-th neighbour, k = {k}")
    (real, fake), _ = exact_grid(real_features, fake_features)
    real_nearest = knn_squared_radii(real, k)
    real_pr2, _ = prune_radii(real_nearest[:, k_pr - 1], prune)
    real_dc2 = real_nearest[:, k_dc - 1]
    real_dc2_pruned, kept_dc = prune_radii(real_dc2, prune)
    fake_pr2 = knn_squared_radii(fake, k_pr)[:, -1]
    fake_in_real_ball = torch.zeros(len(fake), dtype=torch.bool)
    real_balls_per_fake = torch.zeros(len(fake), dtype=torch.long)
    real_in_fake_ball = torch.zeros(len(real), dtype=torch.bool)
    real_ball_covered = torch.zeros(len(real), dtype=torch.bool)
    for rows in _row_chunks(len(real), len(fake)):
        d2 = squared_distances(real[rows], fake)                   # (rows, fakes), exact
        fake_in_real_ball |= (d2 < real_pr2[rows, None]).any(0)
        real_balls_per_fake += (d2 < real_dc2_pruned[rows, None]).sum(0)
        real_in_fake_ball[rows] = (d2 < fake_pr2[None, :]).any(1)
        real_ball_covered[rows] = d2.min(1).values < real_dc2[rows]
    held_per_ball = k_dc * len(fake) / len(real)    # a ball's k/m of the reals' mass, times n
    return {"precision": fake_in_real_ball.double().mean().item(),
            "recall": real_in_fake_ball.double().mean().item(),
            "density": real_balls_per_fake.sum().item() / (held_per_ball * int(kept_dc.sum())),
            "coverage": real_ball_covered.double().mean().item()}


# --- class balance and memorisation --------------------------------------------------

def class_balance(digits, n_classes=10):
    """Share of samples read as each digit (n_classes,), and its total variation distance
    from the uniform share, 1/2 sum_c |p_c - 1/n_classes|, Eq. (class-balance).

    0 is perfectly balanced; 1 - 1/n_classes (0.9) is every sample read as one digit.
    ``digits``: class numbers 0 .. n_classes - 1 (a tensor, array or list of ints).
    """
    n_classes = _whole_number("n_classes", n_classes, 2, "the number of classes (10 digits)")
    if not isinstance(digits, torch.Tensor):
        digits = torch.as_tensor(digits)
    if digits.numel() == 0:
        raise ValueError("digits is empty: class_balance needs at least one predicted digit")
    if digits.is_floating_point() or digits.is_complex() or digits.dtype == torch.bool:
        raise ValueError(f"digits have dtype {digits.dtype}: pass whole class numbers, e.g. the "
                         "classifier's logits.argmax(1) or features_and_digits(images)[1]")
    low, high = int(digits.min()), int(digits.max())
    if low < 0 or high >= n_classes:
        raise ValueError(f"digits must lie in 0 .. {n_classes - 1}, got values from {low} to "
                         f"{high}: pass predicted classes, not counts or labels of another "
                         f"task (or set n_classes)")
    shares = torch.bincount(digits.flatten().cpu().long(), minlength=n_classes).double() / digits.numel()
    return shares, float((shares - 1 / n_classes).abs().sum() / 2)


@torch.no_grad()
def nearest_training_distances(samples, training_images):
    """Euclidean pixel distance of each sample to its nearest training image, Eq. (nearest-train),
    and that image's index: ``(distances (N,), indices (N,))``, on the device of
    ``training_images`` (a GPU makes this fast for the full training set).

    Distances near 0 mean memorised training digits; compare with held-out real digits.
    """
    check_images(samples, "samples")
    check_images(training_images, "training images")
    train = training_images.flatten(1).float()
    x = samples.flatten(1).float().to(train.device)
    distances = torch.empty(len(x), device=train.device)
    indices = torch.empty(len(x), dtype=torch.long, device=train.device)
    for rows in _row_chunks(len(x), len(train)):
        d2, indices[rows] = squared_distances(x[rows], train).min(1)
        distances[rows] = d2.sqrt()
    return distances, indices


# --- everything at once ---------------------------------------------------------------

def evaluate_samples(samples, reference, training=None, classifier=None, kid_subsets=10, seed=0,
                     prune=50):
    """Every metric of this module for ``samples`` against ``reference`` (held-out real digits),
    all images (N, 1, 28, 28) in [0, 1]; features are computed once per set.

    With ``training`` images, also the mean distance of a sample to its nearest training
    digit. Returns a dict: fd, kid, kid_se, precision, recall, density, coverage,
    class_tv, class_shares (10 floats), nearest_train (or None), n_samples, n_reference.
    ``prune`` is that of ``precision_recall_density_coverage`` (precision and density).
    """
    if classifier is None:
        classifier = load_digit_classifier()
    fake, digits = features_and_digits(samples, classifier, name="samples")
    real, _ = features_and_digits(reference, classifier, name="reference images")
    fd = frechet_distance(real, fake)   # first: it needs the most samples (85)
    kid_value, kid_se = kid(real, fake, subsets=kid_subsets, seed=seed)
    shares, class_tv = class_balance(digits)
    nearest = None
    if training is not None:
        nearest = nearest_training_distances(samples, training)[0].mean().item()
    return {"fd": fd, "kid": kid_value, "kid_se": kid_se,
            **precision_recall_density_coverage(real, fake, prune=prune),
            "class_tv": class_tv, "class_shares": shares.tolist(), "nearest_train": nearest,
            "n_samples": len(samples), "n_reference": len(reference)}

"""The yardstick for sound, as for digits: generated clips judged in the shipped classifier's
features (``edu_gen.sound_classifier.hear``) by the SAME functions the image chapters use
(``edu_gen.metrics``: the Fréchet distance, KID, precision and recall), plus the inception
score as Donahue et al. 2019 compute it for SC09 (Eq. (inception-score)):

    IS = exp( E_x KL( p(y | x) || p(y) ) ),   p(y) = E_x p(y | x)

over k = 10 disjoint subsets, the mean and standard deviation of the k scores. It is 1 when
every clip gets the same prediction and 10 when the clips are confidently read as ten
equally common digits.
"""
import torch

from .metrics import frechet_distance, kid, precision_recall_density_coverage, squared_distances
from .sound_classifier import hear, load_sound_classifier


def inception_score(probabilities, splits=10):
    """``(mean, std)`` of Eq. (inception-score) over ``splits`` disjoint consecutive parts of
    ``probabilities`` (N, classes), rows summing to 1 (as Donahue et al.'s score.py; shuffle
    first if the rows are ordered by class)."""
    p = torch.as_tensor(probabilities, dtype=torch.float64)
    if p.dim() != 2 or not torch.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"probabilities must be a finite non-negative (N, classes) matrix, got "
                         f"shape {tuple(p.shape)}")
    if not torch.allclose(p.sum(1), torch.ones(len(p), dtype=p.dtype), atol=1e-4):
        raise ValueError("each row of probabilities must sum to 1: pass softmax(logits), not logits")
    if not isinstance(splits, int) or splits < 1 or len(p) < splits:
        raise ValueError(f"cannot cut {len(p)} rows into {splits} parts: pass more clips or "
                         "fewer splits")
    size = len(p) // splits
    scores = []
    for part in p[:size * splits].split(size):
        marginal = part.mean(0, keepdim=True)                       # p(y)
        kl = torch.special.xlogy(part, part) - torch.special.xlogy(part, marginal)
        scores.append(kl.sum(1).mean().exp())                       # exp E_x KL(p(y|x) || p(y))
    scores = torch.stack(scores)
    return float(scores.mean()), float(scores.std(unbiased=False))


def nearest_training_features(features, training_features):
    """Euclidean distance of each row of ``features`` to its nearest row of
    ``training_features`` in the classifier's feature space, and that row's index."""
    d2, index = squared_distances(features.float(), training_features.float()).min(1)
    return d2.sqrt(), index


def evaluate_clips(clips, reference, requested=None, training=None, classifier=None, seed=0):
    """Every measure of the yardstick for ``clips`` (N, 8000) against ``reference`` (held-out
    real clips): fd, kid, kid_se, precision, recall, density, coverage (in the classifier's
    features, by ``edu_gen.metrics``), inception_score and is_std (Eq. (inception-score)),
    with ``requested`` digits (N,) the accuracy (the share read as the digit asked for), and
    with ``training`` clips the mean distance of a clip to its nearest training clip."""
    if classifier is None:
        classifier = load_sound_classifier()
    fake, probabilities = hear(clips, classifier)
    real, _ = hear(reference, classifier)
    mean, std = inception_score(probabilities)
    result = {"fd": frechet_distance(real, fake), **dict(zip(("kid", "kid_se"), kid(real, fake, seed=seed))),
              **precision_recall_density_coverage(real, fake),
              "inception_score": mean, "is_std": std, "n": len(clips)}
    if requested is not None:
        result["accuracy"] = (probabilities.argmax(1) == requested.cpu()).float().mean().item()
    if training is not None:
        result["nearest_train"] = nearest_training_features(fake, hear(training, classifier)[0])[0].mean().item()
    return result

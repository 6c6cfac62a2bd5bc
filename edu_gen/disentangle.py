"""Disentanglement scores on data whose factors are known: the Mutual Information Gap and
the FactorVAE score.

Both take ``codes`` (N, d), one representation per image (a VAE's posterior means), and
``factors`` (N, K), the true factor indices of the same images (``edu_gen.shapes``), and
return a number in [0, 1]: 1 when every factor is carried by one code dimension of its own.

- MIG (Chen et al. 2018), Eq. (mig): for factor v_k, the mutual information of each code
  dimension with it, I(z_j; v_k); the gap between the largest and the second largest,
  divided by the factor's entropy H(v_k); averaged over the factors. Computed as in
  disentanglement_lib (Locatello et al. 2019): each code dimension cut into 20 equal-width
  bins, then the discrete mutual information of the counts.
- The FactorVAE score (Kim and Mnih 2018), Eq. (factorvae-score): fix one factor, draw a
  batch of images that share its value, find the code dimension whose variance (divided by
  its variance over all the data) is smallest; a majority vote maps each dimension to the
  factor it most often answers for, and the score is the share of new draws that vote
  classifies right. Dimensions that barely vary (standard deviation < 0.05, collapsed to
  the prior) take no part.

Everything runs on the CPU in float64 from counts, so a score repeats on any machine for
the same codes.
"""
import torch

BINS = 20


def check_codes_and_factors(codes, factors):
    """Raise a ValueError unless codes (N, d) and factors (N, K) describe the same N images."""
    for name, t in (("codes", codes), ("factors", factors)):
        if not torch.is_tensor(t) or t.dim() != 2 or t.numel() == 0:
            raise ValueError(f"{name} must be a non-empty 2D tensor (one row per image), got "
                             f"{tuple(getattr(t, 'shape', ())) or type(t).__name__}")
    if len(codes) != len(factors):
        raise ValueError(f"codes and factors must have one row per image each, got {len(codes)} "
                         f"codes and {len(factors)} rows of factors: encode the same images "
                         "whose factors you pass")
    if factors.is_floating_point():
        raise ValueError("factors must be integer indices (e.g. from edu_gen.shapes), got "
                         f"{factors.dtype}: discretize continuous factors first")
    if codes.is_floating_point() and not torch.isfinite(codes).all():
        raise ValueError("codes contain NaN or infinite values (did the model diverge?)")


def discretize(codes, bins=BINS):
    """Each column of ``codes`` (N, d) cut into ``bins`` equal-width bins between its smallest
    and largest value: integer bin indices (N, d) in 0 .. bins - 1 (a constant column: all 0)."""
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    x = codes.double().cpu()
    low, high = x.min(0).values, x.max(0).values
    width = torch.where(high > low, (high - low) / bins, torch.ones_like(high))
    return ((x - low) / width).floor().clamp(0, bins - 1).long()


def entropy(labels):
    """H of each column of integer ``labels`` (N, K), in nats, from its counts: (K,)."""
    labels = labels.cpu()
    result = []
    for column in labels.T:
        p = torch.unique(column, return_counts=True)[1].double() / len(column)
        result.append(-(p * p.log()).sum())
    return torch.stack(result)


def mutual_information(a, b):
    """I(a_i; b_k) in nats for every column i of integer ``a`` (N, d) and k of ``b`` (N, K),
    from the joint counts (the plug-in estimate): a (d, K) tensor."""
    a, b = a.cpu(), b.cpu()
    result = torch.zeros(a.shape[1], b.shape[1], dtype=torch.float64)
    for i, x in enumerate(a.T):
        x = torch.unique(x, return_inverse=True)[1]
        for k, y in enumerate(b.T):
            y = torch.unique(y, return_inverse=True)[1]
            joint = torch.zeros(int(x.max()) + 1, int(y.max()) + 1, dtype=torch.float64)
            joint.index_put_((x, y), torch.ones(len(x), dtype=torch.float64), accumulate=True)
            joint /= len(x)
            outer = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
            nonzero = joint > 0
            result[i, k] = (joint[nonzero] * (joint[nonzero] / outer[nonzero]).log()).sum()
    return result


def gaps(mi, factor_entropy):
    """Eq. (mig) per factor: (largest - second largest I(z_j; v_k) over j) / H(v_k), (K,).

    ``mi`` is (d, K); a code of one dimension has no second largest, which counts as 0."""
    top = mi.topk(min(2, len(mi)), dim=0).values
    second = top[1] if len(top) > 1 else torch.zeros_like(top[0])
    return (top[0] - second) / factor_entropy


def mig(codes, factors, bins=BINS):
    """The Mutual Information Gap, Eq. (mig), and its terms: a dict with ``score`` (float),
    ``gaps`` (K,), ``mi`` (d, K) and ``entropy`` (K,) in nats.

    ``codes``: floats are cut into ``bins`` bins first (``discretize``); integer codes are
    used as they are. A factor with one value (entropy 0) has no gap to measure: an error.
    """
    check_codes_and_factors(codes, factors)
    discrete = codes if not codes.is_floating_point() else discretize(codes, bins)
    h = entropy(factors)
    if (h == 0).any():
        raise ValueError(f"factor columns {torch.nonzero(h == 0).flatten().tolist()} take one "
                         "value only: MIG divides by each factor's entropy; drop those columns")
    mi = mutual_information(discrete, factors)
    per_factor = gaps(mi, h)
    return {"score": float(per_factor.mean()), "gaps": per_factor, "mi": mi, "entropy": h}


def _rows_sharing_a_value(factors):
    """For every factor k: rows sorted by factor k's value, and each row's segment there."""
    order, start, count = [], [], []
    for column in factors.T.contiguous():
        rows = torch.argsort(column, stable=True)
        values, counts = torch.unique(column[rows], return_counts=True)
        first = torch.cumsum(counts, 0) - counts
        where = torch.searchsorted(values, column)          # each row's value, as an index
        order.append(rows)
        start.append(first[where])
        count.append(counts[where])
    return order, start, count


def factor_votes(codes, factors, n_votes, batch_size, generator, scale, active):
    """``n_votes`` draws of Eq. (factorvae-score): a factor k at random, a value of it (that of
    a random image), ``batch_size`` images sharing it; the vote is the active code dimension
    of least variance over the batch divided by ``scale`` (its variance over all images).
    Returns (n_votes,) factors and (n_votes,) dimensions."""
    n, n_factors = factors.shape
    order, start, count = _rows_sharing_a_value(factors)
    k = torch.randint(n_factors, (n_votes,), generator=generator)
    anchor = torch.randint(n, (n_votes,), generator=generator)    # whose value of k is kept
    u = torch.rand(n_votes, batch_size, generator=generator, dtype=torch.float64)
    rows = torch.empty(n_votes, batch_size, dtype=torch.long)
    for j in range(n_factors):
        pick = k == j
        first, size = start[j][anchor[pick]], count[j][anchor[pick]]
        offsets = (u[pick] * size[:, None]).floor().long().clamp(max=size[:, None] - 1)
        rows[pick] = order[j][first[:, None] + offsets]
    variance = codes[rows].var(dim=1) / scale                     # (n_votes, d)
    variance[:, ~active] = torch.inf
    return k, variance.argmin(dim=1)


def factorvae_score(codes, factors, batch_size=64, n_train=10000, n_eval=5000, threshold=0.05,
                    seed=0):
    """The FactorVAE score, Eq. (factorvae-score), with disentanglement_lib's settings (batches
    of 64, 10,000 votes to fit the majority vote, 5,000 to score it, dimensions with standard
    deviation below 0.05 left out): a dict with ``score`` (float, the share of the
    ``n_eval`` votes classified right), ``votes`` (K, d) of the fit, ``active`` (d,) bools.

    The images of one value of a factor are drawn from the rows that have it, so ``factors``
    should hold every combination of values (a full grid, as ``edu_gen.shapes`` makes), or
    at least ``batch_size`` rows for each value. No active dimension: score 0.
    """
    check_codes_and_factors(codes, factors)
    if batch_size < 2 or n_train < 1 or n_eval < 1:
        raise ValueError(f"need batch_size >= 2 and n_train, n_eval >= 1, got {batch_size}, "
                         f"{n_train}, {n_eval}")
    codes, factors = codes.double().cpu(), factors.cpu()
    scale = codes.var(dim=0)
    active = scale.sqrt() >= threshold
    n_factors, d = factors.shape[1], codes.shape[1]
    if not active.any():
        return {"score": 0.0, "votes": torch.zeros(n_factors, d, dtype=torch.long), "active": active}
    generator = torch.Generator().manual_seed(seed)
    k, dim = factor_votes(codes, factors, n_train, batch_size, generator, scale, active)
    votes = torch.zeros(n_factors, d, dtype=torch.long).index_put_((k, dim), torch.ones_like(k),
                                                                   accumulate=True)
    classifier = votes.argmax(dim=0)            # each dimension -> the factor it votes for most
    k, dim = factor_votes(codes, factors, n_eval, batch_size, generator, scale, active)
    score = (classifier[dim] == k).double().mean()
    return {"score": float(score), "votes": votes, "active": active}

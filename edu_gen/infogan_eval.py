"""What does InfoGAN's code mean? Measuring it on generated digits.

- The categorical code as a classifier (Eq. (matched-accuracy)): draw digits with each value
  of c_cat, read them with the book's shipped classifier (``edu_gen.digit_features``), and
  count the share read as the digit the best one-to-one matching of code values to digits
  assigns (Hungarian matching, ``scipy.optimize.linear_sum_assignment``). A code that G
  ignores scores about 1/K: with c independent of the digit, every matching expects
  sum_k P(c = k) P(digit = pi(k)) = 1/K. The paper's own test is the other direction, Q as a
  classifier of real digits (``q_accuracy``).
- The continuous codes (Eq. (moments)): the slant and the width of a digit from its image
  moments, and the rank (Spearman) correlation of each continuous code with them.
"""
import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import spearmanr

from .infogan import Code
from .metrics import features_and_digits
from .runtime import device_of, eval_mode


def matched_accuracy(codes, labels, n_classes=None):
    """The share of ``codes`` (N,) equal to their ``labels`` (N,) after the best one-to-one
    relabelling of the codes (Eq. (matched-accuracy)): ``(accuracy, mapping)``, mapping[k]
    the label code k is matched to (-1 where there are more codes than labels)."""
    codes, labels = torch.as_tensor(codes).cpu().long(), torch.as_tensor(labels).cpu().long()
    if codes.dim() != 1 or codes.shape != labels.shape or len(codes) == 0:
        raise ValueError(f"codes and labels must be two non-empty 1D tensors of the same length, "
                         f"got shapes {tuple(codes.shape)} and {tuple(labels.shape)}")
    if codes.min() < 0 or labels.min() < 0:
        raise ValueError("codes and labels must be integers >= 0")
    n_codes = int(codes.max()) + 1
    n_classes = n_classes or int(labels.max()) + 1
    counts = torch.zeros(n_codes, n_classes, dtype=torch.long)
    counts.index_put_((codes, labels), torch.ones_like(codes), accumulate=True)
    rows, columns = linear_sum_assignment(counts.numpy(), maximize=True)
    mapping = torch.full((n_codes,), -1, dtype=torch.long)
    mapping[torch.as_tensor(rows)] = torch.as_tensor(columns)
    return counts[rows, columns].sum().item() / len(codes), mapping


@torch.no_grad()
def generate(generator, codes, n, seed=0, code=None, noise=None):
    """``(images (n, 1, 28, 28) in [0, 1] on the CPU, Code)``: G's tanh output mapped by
    (x + 1) / 2, for a seeded random input; a given ``code`` and/or ``noise`` (n, n_noise)
    replaces the drawn one (a traversal: one code swept, the noise held)."""
    device = device_of(generator)
    g = torch.Generator(device).manual_seed(seed)
    z, drawn = codes.sample(n, device, generator=g)
    if code is not None or noise is not None:
        drawn = drawn if code is None else Code(code.categories.to(device), code.continuous.to(device))
        noise = z[:, :codes.n_noise] if noise is None else noise.to(device)
        z = codes.inputs(noise, drawn)
    with eval_mode(generator):                         # batch norm on its running statistics
        images = ((generator(z).float().cpu() + 1) / 2).clamp(0, 1)
    return images, Code(drawn.categories.cpu(), drawn.continuous.cpu())


def code_accuracy(images, categories, classifier=None):
    """Eq. (matched-accuracy) of generated digits: the shipped classifier reads each image
    (N, 1, 28, 28) in [0, 1]; returns ``(accuracy, mapping, digits)``."""
    _, digits = features_and_digits(images, classifier, name="generated images")
    accuracy, mapping = matched_accuracy(categories, digits, n_classes=10)
    return accuracy, mapping, digits


@torch.no_grad()
def q_accuracy(discriminator, images, labels, batch_size=1000):
    """The paper's test: Q's most likely category of each *real* image (N, 1, 28, 28) in
    [0, 1] against its label, after the best matching (Eq. (matched-accuracy))."""
    device = device_of(discriminator)
    with eval_mode(discriminator):
        guesses = torch.cat([discriminator(batch.to(device) * 2 - 1)[1].logits.argmax(1).cpu()
                             for batch in images.split(batch_size)])
    return matched_accuracy(guesses, labels.cpu(), n_classes=10)[0]


def slant_and_width(images):
    """Eq. (moments): ``(slant (N,), width (N,))`` of images (N, 1, H, W) from their moments.

    With ink weights w (the pixels) at column x and row y (rows grow downwards), means and
    central moments mu_xx, mu_yy, mu_xy: slant = -mu_xy / mu_yy, how many columns the ink
    moves right per row up (0 upright, > 0 leaning right); width = sqrt(mu_xx - mu_xy^2 /
    mu_yy), the horizontal spread left once the slant is removed, in pixels.
    """
    if not torch.is_tensor(images) or images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be (N, 1, H, W), got {tuple(getattr(images, 'shape', ()))}")
    w = images[:, 0].double().cpu()
    mass = w.sum((1, 2))
    if (mass <= 0).any():
        raise ValueError(f"{int((mass <= 0).sum())} images have no ink (all pixels 0): their "
                         "moments are undefined")
    rows = torch.arange(w.shape[1], dtype=torch.float64)[None, :, None]
    columns = torch.arange(w.shape[2], dtype=torch.float64)[None, None, :]
    x = (w * columns).sum((1, 2)) / mass
    y = (w * rows).sum((1, 2)) / mass
    dx, dy = columns - x[:, None, None], rows - y[:, None, None]
    mu_xx = (w * dx * dx).sum((1, 2)) / mass
    mu_yy = (w * dy * dy).sum((1, 2)) / mass
    mu_xy = (w * dx * dy).sum((1, 2)) / mass
    return -mu_xy / mu_yy, (mu_xx - mu_xy ** 2 / mu_yy).clamp(min=0).sqrt()


def code_correlations(images, continuous):
    """Spearman's rank correlation of each continuous code (N, k) with the slant and the
    width of the images: a (k, 2) array, columns slant and width."""
    slant, width = slant_and_width(images)
    continuous = torch.as_tensor(continuous).cpu().double()
    if continuous.dim() != 2 or len(continuous) != len(images):
        raise ValueError(f"continuous codes must be (N, k) with N = {len(images)} images, got "
                         f"{tuple(continuous.shape)}")
    return np.array([[spearmanr(c.numpy(), m.numpy()).statistic for m in (slant, width)]
                     for c in continuous.T])

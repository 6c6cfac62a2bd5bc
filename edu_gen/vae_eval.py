"""Scoring a trained VAE on held-out images, in nats per image, as papers report it.

- ``evaluate``: the test negative ELBO and its two terms, rate and distortion;
- ``iwae_nll``: the importance-weighted bound -L_k (Eq. (iwae)), an estimate of -log p(x);
- ``active_units``: the latent dimensions the encoder uses;
- ``grey_fraction``: how grey (blurred, double-exposed) images are.

Test digits are binarized once with a fixed seed, so the numbers repeat. Every score runs
the model in eval mode and draws from a seeded random state of its own
(``edu_gen.runtime.eval_mode`` and ``seeded``): called between epochs (``on_epoch_end``), it
leaves the training run's random draws and its train mode as they were.
"""
import torch

from .data import check_images
from .elbo import bernoulli_log_likelihood, iwae_bound_chunked, log_normal, reparameterize
from .runtime import device_of, eval_mode, seeded
from .train import is_count
from .vae import PIXELS, check_labels
from .vae_train import negative_elbo


def binarized(images, seed=0):
    """One fixed binarization of ``images``: the same test set every time it is evaluated."""
    if len(images) and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"binarized draws Bernoulli(x) pixels and needs images in [0, 1], got "
                         f"values in [{images.min():.3g}, {images.max():.3g}]: divide 0..255 "
                         "pixels by 255")
    generator = torch.Generator(device=images.device).manual_seed(seed)
    return torch.bernoulli(images, generator=generator)


def _test_batches(model, images, labels, binarize, seed, batch_size):
    """(x, y) batches of the test images on the model's device, binarized once with ``seed``."""
    check_images(images, dtype=next(model.parameters()).dtype)
    check_labels(labels, len(images), model.n_classes)
    if not is_count(batch_size):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    device = device_of(model)
    x_all = binarized(images.to(device), seed) if binarize else images.to(device)
    for start in range(0, len(x_all), batch_size):
        y = None if labels is None else labels[start:start + batch_size].to(device)
        yield x_all[start:start + batch_size], y


@torch.no_grad()
def evaluate(model, images, labels=None, binarize=True, seed=0, batch_size=500):
    """Test negative ELBO, rate and distortion in nats per image (means over ``images``),
    from ``negative_elbo``: the training loss at beta = 1, one code per image."""
    sums = 0
    with eval_mode(model), seeded(seed, device_of(model)):
        for x, y in _test_batches(model, images, labels, binarize, seed, batch_size):
            distortion, kl = negative_elbo(model, x, y)
            rate = kl.sum(1)
            sums = sums + torch.stack([(distortion + rate).sum(), rate.sum(), distortion.sum()])
    neg_elbo, rate, distortion = (sums / len(images)).tolist()
    return {"neg_elbo": neg_elbo, "rate": rate, "distortion": distortion}


def log_weights(model, x, labels=None, k=1):
    """log p(x, z_i) - log q(z_i|x) for k codes z_i ~ q(z|x): shape (k, N) (Eq. (iwae))."""
    mu, logvar = model.encode(x, labels)
    z = reparameterize(mu.expand(k, *mu.shape), logvar.expand(k, *logvar.shape))
    log_lik = bernoulli_log_likelihood(model.decode_logits(z, labels), x.reshape(len(x), PIXELS))
    return log_lik + log_normal(z) - log_normal(z, mu, logvar)


@torch.no_grad()
def iwae_nll(model, images, labels=None, k=5000, chunk=500, binarize=True, seed=0, batch_size=100):
    """Estimate of the test negative log-likelihood -log p(x) in nats per image (Eq. (iwae)).

    -L_k is an upper bound on -log p(x) that tightens as k grows (Burda et al. 2015 used
    k = 5000); with k = 1 it is the negative ELBO. Codes are drawn in chunks of ``chunk``
    to bound memory.
    """
    if not (is_count(k) and is_count(chunk)):
        raise ValueError(f"k and chunk must be integers >= 1, got k={k!r}, chunk={chunk!r}")
    total = 0
    with eval_mode(model), seeded(seed, device_of(model)):
        for x, y in _test_batches(model, images, labels, binarize, seed, batch_size):
            total = total + iwae_bound_chunked(lambda n: log_weights(model, x, y, n), k, chunk).sum()
    return -(total / len(images)).item()


@torch.no_grad()
def active_units(model, images, labels=None, threshold=0.01, batch_size=500):
    """Latent dimensions the encoder uses: Cov_x(E_q[z_u]) > threshold (Burda et al. 2015).

    Returns ``(count, variance per dimension)``. A dimension whose posterior mean does not
    change with x carries no information about x through its mean; its posterior may still
    differ from the prior (a variance other than 1 costs KL and carries nothing).
    """
    if len(images) < 2:
        raise ValueError(f"active_units measures a variance over images: pass at least 2, got "
                         f"{len(images)}")
    device = device_of(model)
    means = []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            y = None if labels is None else labels[start:start + batch_size].to(device)
            means.append(model.encode(images[start:start + batch_size].to(device), y)[0].float())
    variance = torch.cat(means).var(0)
    return int((variance > threshold).sum().item()), variance.cpu()


def grey_fraction(images, low=0.2, high=0.8):
    """The share of pixels strictly between ``low`` and ``high``: a crisp digit is black and
    white, a blurred one or a double exposure (a pixel cross-fade of two digits) is grey."""
    if not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    images = torch.as_tensor(images)
    return float(((images > low) & (images < high)).float().mean())

"""Image repair with a trained model: fill in missing pixels, remove noise.

Two ways to fill in the unknown pixels of x, given a mask ``known`` (1 = pixel observed):

- **clamped reconstruction** (Rezende et al. 2014, Sec. 5): start the unknown pixels at
  ``init``, then repeat  x <- known * x_obs + (1 - known) * decode(encode(x));
  any model with ``encode`` and ``decode`` works, a plain autoencoder included.
- **MAP in latent space** (a VAE only): find the code that best explains the observed pixels
  under the prior, z* = argmax_z  log p(x_obs | z) + log p(z)  with the log-likelihood
  summed over the known pixels only (Eq. (fill-in) of the conditional chapter), then read
  the unknown pixels off decode(z*).

Denoising decodes the code of the noisy image (``reconstruct``); the error of any repair is
measured on the pixels that were unknown or corrupted (``masked_error``).
"""
import torch
import torch.nn.functional as F

from .data import check_images

HALVES = ("top", "bottom", "left", "right")


def half_mask(images, hide="bottom"):
    """A float mask like ``images``: 1 on the kept half, 0 on the hidden half ``hide``."""
    check_images(images)
    if hide not in HALVES:
        raise ValueError(f"hide must be one of {HALVES}, got {hide!r}")
    known = torch.ones_like(images)
    if hide == "top":
        known[..., :14, :] = 0
    elif hide == "bottom":
        known[..., 14:, :] = 0
    elif hide == "left":
        known[..., :, :14] = 0
    else:
        known[..., :, 14:] = 0
    return known


def salt_and_pepper(images, fraction=0.2, generator=None):
    """Set a random ``fraction`` of pixels to 0 or 1 (half each); return (noisy, corrupted mask)."""
    check_images(images)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    corrupted = (torch.rand(images.shape, generator=generator) < fraction).to(images.device)
    values = (torch.rand(images.shape, generator=generator) < 0.5).to(images)
    return torch.where(corrupted, values, images), corrupted.to(images.dtype)


def _check_mask(images, known):
    check_images(images)
    if known.shape != images.shape:
        raise ValueError(f"the mask must have the images' shape {tuple(images.shape)}, got {tuple(known.shape)}")
    if not ((known == 0) | (known == 1)).all():
        raise ValueError("the mask must hold only 0 (unknown) and 1 (known)")


@torch.no_grad()
def fill_in_clamped(encode, decode, images, known, iterations=30, init=0.0):
    """Clamped reconstruction: ``iterations`` rounds of encode/decode, known pixels held fixed.

    ``encode(x)`` returns a code, ``decode(code)`` images in [0, 1] (for a VAE pass
    ``lambda x: vae.encode(x)[0]``, the posterior mean).
    """
    _check_mask(images, known)
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    x = known * images + (1 - known) * init
    for _ in range(iterations):
        x = known * images + (1 - known) * decode(encode(x)).reshape(images.shape)
    return x


def fill_in_map(model, images, known, labels=None, steps=200, lr=0.05, restarts=1):
    """MAP fill-in for a VAE: maximize  sum_known log p(x_j | z) - |z|^2 / 2  over z with Adam,
    from the encoder's guess (plus ``restarts - 1`` random starts; the best objective wins).

    Returns (repaired images, z*). The known pixels are kept; the unknown ones are decode(z*).
    """
    _check_mask(images, known)
    if steps < 1 or restarts < 1:
        raise ValueError(f"steps and restarts must be at least 1, got {steps}, {restarts}")
    flat_x, flat_known = images.reshape(len(images), -1), known.reshape(len(images), -1)
    with torch.no_grad():
        start = model.encode(known * images, labels)[0]
    starts = [start] + [torch.randn_like(start) for _ in range(restarts - 1)]
    best_z, best_value = None, None
    for z0 in starts:
        z = z0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            logits = model.decode_logits(z, labels)
            log_lik = -(F.binary_cross_entropy_with_logits(logits, flat_x, reduction="none") * flat_known).sum(1)
            objective = log_lik - 0.5 * (z ** 2).sum(1)
            optimizer.zero_grad()
            (-objective.sum()).backward()
            optimizer.step()
        with torch.no_grad():
            logits = model.decode_logits(z, labels)
            log_lik = -(F.binary_cross_entropy_with_logits(logits, flat_x, reduction="none") * flat_known).sum(1)
            value = log_lik - 0.5 * (z ** 2).sum(1)
            if best_z is None:
                best_z, best_value = z.detach().clone(), value
            else:
                better = value > best_value
                best_z[better], best_value[better] = z.detach()[better], value[better]
    with torch.no_grad():
        filled = model.decode(best_z, labels).reshape(images.shape)
    return known * images + (1 - known) * filled, best_z


def masked_error(repaired, original, where):
    """Mean squared error per image over the pixels where ``where`` is 1, averaged over images."""
    if repaired.shape != original.shape or where.shape != original.shape:
        raise ValueError("repaired, original and the mask must share one shape")
    squared = ((repaired - original) ** 2 * where).flatten(1).sum(1)
    return (squared / where.flatten(1).sum(1).clamp(min=1)).mean().item()

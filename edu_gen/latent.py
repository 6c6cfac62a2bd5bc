"""Looking inside a trained VAE's latent space: a grid of 2D codes, and straight lines
between the codes of two images."""
import torch

from .data import check_images
from .runtime import device_of


def latent_grid(n=15, quantile=0.95):
    """An n x n grid of 2D codes spread as N(0, I) spreads them: the Gaussian quantiles of
    n evenly spaced probabilities in [1 - quantile, quantile], shape (n * n, 2), rows top
    (large z_2) to bottom, columns left (small z_1) to right."""
    if n < 2 or not 0.5 < quantile < 1:
        raise ValueError(f"need n >= 2 and 0.5 < quantile < 1, got n={n}, quantile={quantile}")
    levels = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(1 - quantile, quantile, n))
    z2, z1 = torch.meshgrid(levels.flip(0), levels, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


@torch.no_grad()
def decode_grid(model, n=15, quantile=0.95, labels=None):
    """The decoded 2D manifold: ``model.decode`` of ``latent_grid(n, quantile)``."""
    if model.latent_dim != 2:
        raise ValueError(f"decode_grid needs a 2D latent space, this model has {model.latent_dim}")
    return model.decode(latent_grid(n, quantile).to(device_of(model)), labels)


@torch.no_grad()
def interpolate_codes(model, x_a, x_b, steps=8, labels=None):
    """Decode (1 - t) mu_a + t mu_b for t = 0..1 in ``steps`` steps, between the posterior
    means of two images x_a, x_b of shape (1, 1, 28, 28); returns (steps, 1, 28, 28)."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    check_images(x_a, "x_a")
    check_images(x_b, "x_b")
    mu_a, _ = model.encode(x_a, labels)
    mu_b, _ = model.encode(x_b, labels)
    t = torch.linspace(0, 1, steps, device=mu_a.device).unsqueeze(1)
    z = (1 - t) * mu_a[:1] + t * mu_b[:1]
    return model.decode(z, None if labels is None else labels[:1].expand(steps))

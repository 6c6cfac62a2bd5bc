"""The mode-collapse metric of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

On a 2D mixture of K Gaussian modes with standard deviation ``sd`` (the ring of 8 or the
5x5 grid of ``edu_gen.data.mixture_modes``), draw 2,500 samples from the generator:

- a sample is **high quality** when it lies within 3 sd of its nearest mode (Eq. (hq));
- a mode is **covered** when it is the nearest mode of at least one high-quality sample.

The metric is the number of covered modes and the fraction of high-quality samples.
"""
import torch

from .data import mixture_modes

N_SAMPLES = 2500
SD_RADIUS = 3.0


def mode_metric(samples, centers, sd):
    """``{"modes": covered modes, "high_quality": fraction, "covered": bool mask (K,),
    "counts": high-quality samples per mode (K,)}`` for samples (N, 2)."""
    samples = torch.as_tensor(samples).detach().float().cpu()
    centers = torch.as_tensor(centers).float().cpu()
    if samples.dim() != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"expected samples of shape (N, {centers.shape[1]}), "
                         f"got {tuple(samples.shape)}")
    if len(samples) == 0:
        raise ValueError("mode_metric needs at least one sample")
    if sd <= 0:
        raise ValueError(f"sd must be positive, got {sd}")
    if not torch.isfinite(samples).all():
        raise ValueError("the samples contain NaN or infinite values: the generator diverged")
    distances = torch.cdist(samples, centers)               # (N, K)
    nearest_distance, nearest = distances.min(dim=1)
    high_quality = nearest_distance <= SD_RADIUS * sd
    counts = torch.bincount(nearest[high_quality], minlength=len(centers))
    covered = counts > 0
    return {"modes": int(covered.sum()), "high_quality": float(high_quality.float().mean()),
            "covered": covered, "counts": counts}


@torch.no_grad()
def evaluate_generator(generator, name, n=N_SAMPLES, seed=0):
    """``mode_metric`` of ``n`` samples from ``generator`` on the toy mixture ``name``."""
    centers, sd = mixture_modes(name)
    device = next(generator.parameters()).device
    noise = torch.Generator(device=device).manual_seed(seed)
    was_training = generator.training
    generator.eval()
    samples = generator(generator.sample_noise(n, device=device, generator=noise))
    generator.train(was_training)
    return mode_metric(samples, centers, sd)

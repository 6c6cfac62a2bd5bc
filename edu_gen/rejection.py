"""Discriminator rejection sampling (DRS, Azadi et al. 2019) in its idealised, simplified
form: the discriminator corrects the generator after training. The full algorithm of the
paper accepts with a shifted, clipped score F(x) (constants epsilon and gamma) and updates M
as it samples; this module keeps with probability exp(logit - M) and fixes M after a burn-in.

The optimal discriminator of Eq. (d-star), D* = p_data / (p_data + p_g), gives the density
ratio the generator misses:

    D* / (1 - D*) = p_data / p_g,   so   log(p_data / p_g) = logit of D*.      (Eq. (drs))

Rejection sampling with proposal p_g keeps a sample x ~ p_g with probability
p_data(x) / (M' p_g(x)) = exp(logit(x) - M), where M bounds the logits; the kept samples
follow p_data wherever p_g covers it. A trained discriminator only approximates D*, and
the closer, the better the correction; trained along with the generator to the end (with
its learning rate decayed to 0), it has just been fitted to the final generator. M is the
largest logit of a first batch of samples (the burn-in of the DRS paper); a later logit
above it is kept with probability 1.

This needs a discriminator trained with a probability loss (minimax or non-saturating)
that judges one example at a time (not a PacGAN pack).
"""
import torch

BURN_IN = 10_000


@torch.no_grad()
def _draw(generator, n, noise):
    """``n`` samples of ``generator`` in eval mode, made with the random stream ``noise``."""
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    samples = generator(generator.sample_noise(n, device=device, generator=noise))
    generator.train(was_training)
    return samples


@torch.no_grad()
def _logits(discriminator, x):
    was_training = discriminator.training
    discriminator.eval()
    logits = discriminator(x).float().reshape(-1)
    discriminator.train(was_training)
    if len(logits) != len(x):
        raise ValueError(f"the discriminator gave {len(logits)} logits for {len(x)} samples: "
                         "rejection sampling needs one logit per sample (pack=1)")
    return logits


@torch.no_grad()
def rejection_sample(generator, discriminator, n, seed=0, chunk=BURN_IN, max_draws=None):
    """``(samples (n, ...), acceptance rate)``: samples of ``generator`` kept with
    probability exp(logit - M) (Eq. (drs)), drawn in chunks until ``n`` are kept.

    Stops with an error after ``max_draws`` candidates (default 1,000 n) rather than loop
    for ever when the discriminator rejects nearly everything.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    max_draws = max_draws or 1000 * n
    device = next(generator.parameters()).device
    noise = torch.Generator(device=device).manual_seed(seed)
    coin = torch.Generator(device=device).manual_seed(seed + 1)
    burn_in = _draw(generator, chunk, noise)
    max_logit = _logits(discriminator, burn_in).max()
    kept, n_kept, drawn = [], 0, 0
    while n_kept < n:
        if drawn >= max_draws:
            raise RuntimeError(
                f"only {n_kept} of {drawn} samples were accepted (needed {n}): the "
                "discriminator rejects nearly every sample. Check that it was trained with a "
                "probability loss (minimax, non-saturating) against this very generator.")
        x = _draw(generator, chunk, noise)
        accept_prob = torch.exp(_logits(discriminator, x) - max_logit).clamp(max=1)
        accepted = x[torch.rand(len(x), generator=coin, device=device) < accept_prob]
        kept.append(accepted)
        n_kept, drawn = n_kept + len(accepted), drawn + len(x)
    return torch.cat(kept)[:n], n_kept / drawn

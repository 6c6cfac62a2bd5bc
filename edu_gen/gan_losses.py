"""The GAN losses of the book, written on the discriminator's raw outputs (logits).

A discriminator ``D`` returns a logit ``d`` per example; ``sigmoid(d)`` is the probability
that the example is real. Every log-probability below is written with ``softplus`` so that
no logit, however extreme, gives a NaN or an infinity:
``-log sigmoid(d) = softplus(-d)`` and ``-log(1 - sigmoid(d)) = softplus(d)``.

- ``minimax``         Eq. (value): D maximises V(D, G), G minimises log(1 - D(G(z))).
- ``non-saturating``  the same D loss; G minimises -log D(G(z)) (Eq. (ns-loss)).
- ``wasserstein``     Eq. (wgan): a critic ``f`` (no sigmoid); needs weight clipping.
- ``wgan-gp``         Eq. (wgan-gp): the Wasserstein loss plus a gradient penalty on
                      interpolates with alpha ~ Uniform(0, 1) per example.
- ``hinge``           Eq. (hinge): max(0, 1 - f(x)) + max(0, 1 + f(G(z))) for D; -f(G(z)) for G.
"""
import torch
import torch.nn.functional as F

LOSSES = ("minimax", "non-saturating", "wasserstein", "wgan-gp", "hinge")
PROBABILITY_LOSSES = ("minimax", "non-saturating")  # D outputs a probability through a sigmoid


def check_loss_name(name):
    """Raise a ValueError naming the known losses when ``name`` is not one of them."""
    if name not in LOSSES:
        raise ValueError(f"unknown GAN loss {name!r}: use one of {LOSSES}")
    return name


def discriminator_loss(name, real_logits, fake_logits, label_smoothing=0.0):
    """The discriminator's (critic's) loss to *minimise*, averaged over the batch.

    ``minimax`` / ``non-saturating``: -[log D(x) + log(1 - D(G(z)))] (Eq. (value), negated),
    with the real label ``1 - label_smoothing`` (one-sided label smoothing).
    ``wasserstein`` / ``wgan-gp``: f(G(z)) - f(x) (Eq. (wgan); the penalty is added apart).
    ``hinge``: max(0, 1 - f(x)) + max(0, 1 + f(G(z))) (Eq. (hinge)).
    """
    check_loss_name(name)
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if label_smoothing and name not in PROBABILITY_LOSSES:
        raise ValueError(f"label smoothing applies to {PROBABILITY_LOSSES}, not to {name!r}")
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if name in PROBABILITY_LOSSES:
        target = 1.0 - label_smoothing
        # -[t log s(d) + (1 - t) log(1 - s(d))] = t softplus(-d) + (1 - t) softplus(d)
        real = target * F.softplus(-real_logits) + (1.0 - target) * F.softplus(real_logits)
        return real.mean() + F.softplus(fake_logits).mean()
    if name in ("wasserstein", "wgan-gp"):
        return fake_logits.mean() - real_logits.mean()
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def generator_loss(name, fake_logits):
    """The generator's loss to *minimise*, averaged over the batch.

    ``minimax``: log(1 - D(G(z))) = -softplus(d) (Eq. (value); saturates when D wins).
    ``non-saturating``: -log D(G(z)) = softplus(-d) (Eq. (ns-loss)).
    ``wasserstein`` / ``wgan-gp`` / ``hinge``: -f(G(z)).
    """
    check_loss_name(name)
    fake_logits = fake_logits.float()
    if name == "minimax":
        return -F.softplus(fake_logits).mean()
    if name == "non-saturating":
        return F.softplus(-fake_logits).mean()
    return -fake_logits.mean()


def interpolate(real, fake, generator=None):
    """Points ``alpha x + (1 - alpha) x~`` on the segments between real and fake examples.

    One ``alpha ~ Uniform(0, 1)`` per example (Eq. (wgan-gp)), broadcast over its features.
    Returns ``(points, alpha)``.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have the same shape, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return alpha * real + (1.0 - alpha) * fake, alpha


def gradient_penalty(critic, real, fake, generator=None):
    """E[(||grad_x f(x_hat)||_2 - 1)^2] over interpolates x_hat (Eq. (wgan-gp)).

    The gradient is taken with ``create_graph=True`` so the penalty trains the critic.
    The critic must treat each example on its own (no batch norm): see ``check_critic``.
    """
    points, _ = interpolate(real.detach(), fake.detach(), generator)
    points.requires_grad_(True)
    scores = critic(points).float()
    (grad,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)
    return ((norms - 1.0) ** 2).mean()


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Eq. (d-star)), from two density values."""
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    return p_data / (p_data + p_g)

"""The VAE objective: the evidence lower bound (ELBO) and the importance-weighted bound.

Every quantity is in nats and *per example*: a tensor with one value per image, summed over
pixels and latent dimensions, never averaged over them (averaging over the 784 pixels makes
the KL term 784 times too strong, a classic tutorial bug the tests plant and catch).

The book's equations (chapter "The evidence lower bound"):

- Eq. (elbo)     ELBO(x) = E_q(z|x)[log p(x|z)] - beta * KL(q(z|x) || p(z)),  beta = 1
- Eq. (kl)       KL of two diagonal Gaussians, in closed form
- Eq. (reparam)  z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)
- Eq. (bernoulli), Eq. (gaussian)   the two likelihoods behind BCE and MSE
- Eq. (iwae)     L_k(x) = E[log (1/k) sum_i p(x, z_i) / q(z_i|x)],  z_i ~ q(z|x)

Vectors live in the last dimension: a batch of latents is (N, D), a batch of flattened
images is (N, 784), and k importance samples of them are (k, N, D) and (k, N, 784).
"""
import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def reparameterize(mu, logvar):
    """Eq. (reparam): a sample of N(mu, diag exp(logvar)) that gradients flow through.

    The noise ``eps`` carries the randomness; ``mu`` and ``logvar`` enter by a smooth
    function, so ``z.backward()`` reaches both. ``mu`` may carry leading sample
    dimensions, e.g. (k, N, D) for k samples per example.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu_q, logvar_q, mu_p=None, logvar_p=None):
    """Eq. (kl): KL(N(mu_q, diag exp(logvar_q)) || N(mu_p, diag exp(logvar_p))) in nats.

    Summed over the last dimension, one value per example. The default prior is N(0, I):
    then KL = 1/2 sum(mu^2 + exp(logvar) - logvar - 1).
    """
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    var_ratio = torch.exp(logvar_q - logvar_p)
    mean_term = (mu_q - mu_p).pow(2) * torch.exp(-logvar_p)
    return 0.5 * (var_ratio + mean_term - 1 - (logvar_q - logvar_p)).sum(-1)


def log_normal(z, mu=None, logvar=None):
    """log N(z; mu, diag exp(logvar)) summed over the last dimension (default N(0, I))."""
    if mu is None:
        mu = torch.zeros_like(z)
    if logvar is None:
        logvar = torch.zeros_like(z)
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar)).sum(-1)


def bernoulli_log_likelihood(logits, x):
    """Eq. (bernoulli): log p(x|z) = sum_j x_j log p_j + (1 - x_j) log(1 - p_j), p = sigmoid(logits).

    Minus ``binary_cross_entropy_with_logits`` summed over the last dimension, which never
    takes the log of 0: it stays finite for logits of +-1e4. ``x`` may be binary or in
    [0, 1]; it broadcasts against ``logits`` (e.g. (N, 784) against (k, N, 784)).
    """
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


def gaussian_log_likelihood(mean, x, logvar=0.0):
    """Eq. (gaussian): log N(x; mean, exp(logvar) I) summed over the last dimension.

    With a fixed ``logvar`` this is  -||x - mean||^2 / (2 sigma^2) + constant: the MSE loss
    is this likelihood with sigma^2 = 1/2 silently fixed (the chapter shows why it matters).
    """
    logvar = torch.as_tensor(logvar, dtype=mean.dtype, device=mean.device)
    return -0.5 * (LOG_2PI + logvar + (x - mean).pow(2) * torch.exp(-logvar)).sum(-1)


def elbo(log_likelihood, kl, beta=1.0):
    """Eq. (elbo): ELBO = log p(x|z) - beta * KL(q(z|x) || p(z)), per example, in nats.

    ``log_likelihood`` is a one-sample (reparameterized) estimate of E_q[log p(x|z)];
    ``kl`` is the closed-form KL of Eq. (kl). beta = 1 is the true bound on log p(x);
    other betas give the beta-VAE objective (no longer a bound on log p(x) when beta < 1).
    """
    check_beta(beta)
    if log_likelihood.shape != kl.shape:
        raise ValueError(f"log_likelihood and kl must both hold one value per example, got "
                         f"shapes {tuple(log_likelihood.shape)} and {tuple(kl.shape)}")
    return log_likelihood - beta * kl


def check_beta(beta):
    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number >= 0 (1 gives the ELBO), got {beta!r}")


def log_importance_weights(log_joint, log_q):
    """log w = log p(x, z) - log q(z|x), elementwise: the terms of Eq. (iwae)."""
    return log_joint - log_q


def iwae_bound(log_weights, dim=0):
    """Eq. (iwae): log (1/k) sum_i exp(log w_i) over ``dim`` (the k samples), stably.

    ``logsumexp`` subtracts the largest log-weight before exponentiating. The log-weights of
    this book's binarized digits are about -100 nats, and float32's ``exp`` underflows to 0
    below about -103: exponentiating them directly would give log(0). With k = 1 this is
    the ELBO.
    """
    k = log_weights.shape[dim]
    return torch.logsumexp(log_weights, dim) - math.log(k)


def iwae_bound_chunked(sample_log_weights, k, chunk=500):
    """Eq. (iwae) for large k without holding k samples at once.

    ``sample_log_weights(n)`` returns fresh log-weights of shape (n, N) for n samples.
    Each chunk is reduced to its logsumexp; the chunks' logsumexps are combined by one more
    logsumexp, which equals the logsumexp over all k samples.
    """
    if k < 1 or chunk < 1:
        raise ValueError(f"k and chunk must be at least 1, got k={k}, chunk={chunk}")
    partial = []
    for start in range(0, k, chunk):
        n = min(chunk, k - start)
        partial.append(torch.logsumexp(sample_log_weights(n), dim=0))
    return torch.logsumexp(torch.stack(partial), dim=0) - math.log(k)

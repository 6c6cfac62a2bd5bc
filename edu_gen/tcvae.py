"""beta-TCVAE (Chen et al. 2018): the rate of the ELBO split in three, and only its total
correlation penalised by beta.

Averaged over the data (n the index of an image, q(z) = E_n q(z | n) the aggregate
posterior), the KL term of the ELBO splits as Eq. (kl-split):

    E_n KL(q(z | n) || p(z)) = I_q(z; n) + KL(q(z) || prod_j q(z_j)) + sum_j KL(q(z_j) || p(z_j))
                               index-code MI   total correlation (TC)    dimension-wise KL

beta-VAE multiplies all three by beta; beta-TCVAE only the TC, the term that makes the code
dimensions depend on each other (Eq. (tcvae-loss)):

    L = distortion + KL + (beta - 1) * TC      (the paper's alpha = gamma = 1)

with the closed-form KL of Eq. (kl) for the whole rate. q(z) has no closed form: the TC is
estimated on each batch by minibatch-weighted sampling, as the paper does (Eq. (mws)): for
the M codes z_i of a batch drawn from a data set of N images,

    log q(z_i) ~ logsumexp_j log q(z_i | n_j) - log(N M),

and the same for each dimension's marginal q(z_ij). The estimate is biased (by up to log M
nats, with a constant that depends on N), but it is what the paper trains with; its
gradients push the dimensions apart.

The loop is the book's ``train_vae``: the step below has ``vae_step``'s signature, and the
data-set size N, which ``vae_step`` does not need, is bound beforehand::

    train_vae(model, images, epochs, beta=6, binarize=False,
              step=functools.partial(tcvae_step, dataset_size=len(images)))
"""
import math

import torch

from .elbo import LOG_2PI, bernoulli_log_likelihood, gaussian_kl, reparameterize


def log_q_pairs(z, mu, logvar):
    """log q(z_id | n_j) for every code i, image j and dimension d of a batch: (M, M, D)."""
    z, mu, logvar = z[:, None, :], mu[None, :, :], logvar[None, :, :]
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * torch.exp(-logvar))


def total_correlation(z, mu, logvar, dataset_size):
    """The minibatch-weighted estimate of the total correlation, Eq. (mws), per code: (M,)
    ``log q(z_i) - sum_d log q(z_id)``, with q(z | n_j) = N(mu_j, diag exp(logvar_j))."""
    if z.dim() != 2 or mu.shape != z.shape or logvar.shape != z.shape:
        raise ValueError(f"z, mu and logvar must all be (M, D), got {tuple(z.shape)}, "
                         f"{tuple(mu.shape)}, {tuple(logvar.shape)}")
    if not dataset_size >= len(z):
        raise ValueError(f"dataset_size (N = {dataset_size}) must be at least the batch size "
                         f"{len(z)}: pass the number of training images")
    log_nm = math.log(dataset_size * len(z))
    pairs = log_q_pairs(z, mu, logvar)
    log_qz = torch.logsumexp(pairs.sum(2), dim=1) - log_nm                  # log q(z_i)
    log_marginals = (torch.logsumexp(pairs, dim=1) - log_nm).sum(1)          # sum_d log q(z_id)
    return log_qz - log_marginals


def tcvae_step(model, optimizer, x, labels=None, beta=1.0, free_bits=0.0,
               dataset_size=None):
    """One Adam step of beta-TCVAE on the batch ``x`` (Eq. (tcvae-loss)); ``beta``
    weights the total correlation, so beta = 1 is the plain VAE's loss. Returns the
    batch's metrics in nats, those of ``vae_step`` and ``tc`` (the Eq. (mws)
    estimate)."""
    if dataset_size is None:
        raise ValueError(
            "tcvae_step needs the number of training images: train_vae(..., "
            "step=functools.partial(tcvae_step, dataset_size=len(images)))")
    if free_bits:
        raise ValueError("free bits are not part of beta-TCVAE here: leave free_bits=0")
    mu, logvar = model.encode(x, labels)                    # q(z|x) = N(mu, e^logvar)
    z = reparameterize(mu, logvar)                          # Eq. (reparam)
    logits = model.decode_logits(z, labels)
    x_flat = x.reshape(len(x), -1)
    distortion = -bernoulli_log_likelihood(logits, x_flat)  # Eq. (bernoulli)
    rate = gaussian_kl(mu, logvar)                          # KL(q || p(z)), Eq. (kl)
    tc = total_correlation(z, mu, logvar, dataset_size)     # Eq. (mws)
    loss = distortion.mean() + rate.mean() + (beta - 1) * tc.mean()  # Eq. (tcvae-loss)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach(), "neg_elbo": (distortion + rate).mean().detach(),
            "distortion": distortion.mean().detach(), "rate": rate.mean().detach(),
            "tc": tc.mean().detach()}

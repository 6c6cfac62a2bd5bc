"""beta-TCVAE: the minibatch-weighted total correlation against a loop over
torch.distributions and against its value in closed form when every posterior is the
same; the step's loss equals the negative ELBO plus (beta - 1) TC; it trains through
the book's train_vae; clear errors."""
import functools
import math

import pytest
import torch
from torch.distributions import Normal

from edu_gen.elbo import gaussian_kl
from edu_gen.tcvae import log_q_pairs, tcvae_step, total_correlation
from edu_gen.train import adam
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae


def batch(m=6, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(m, d, generator=g, dtype=torch.float64)
    logvar = torch.randn(m, d, generator=g, dtype=torch.float64) * 0.5
    z = mu + torch.exp(0.5 * logvar) * torch.randn(m, d, generator=g, dtype=torch.float64)
    return z, mu, logvar


def test_total_correlation_against_a_loop_over_torch_distributions():
    """Eq. (mws) written out with Normal.log_prob, one code and one image at a time."""
    z, mu, logvar = batch()
    n = 1000
    m, d = z.shape
    expected = []
    for i in range(m):
        joint = torch.stack([Normal(mu[j], torch.exp(0.5 * logvar[j])).log_prob(z[i]).sum()
                             for j in range(m)])
        log_qz = torch.logsumexp(joint, 0) - math.log(n * m)
        marginals = sum(torch.logsumexp(torch.stack([Normal(mu[j, k], torch.exp(0.5 * logvar[j, k]))
                                                     .log_prob(z[i, k]) for j in range(m)]), 0)
                        - math.log(n * m) for k in range(d))
        expected.append(log_qz - marginals)
    torch.testing.assert_close(total_correlation(z, mu, logvar, n), torch.stack(expected))
    pairs = log_q_pairs(z, mu, logvar)
    torch.testing.assert_close(pairs[2, 4], Normal(mu[4], torch.exp(0.5 * logvar[4])).log_prob(z[2]))


def test_total_correlation_when_every_posterior_is_the_same():
    """q(z | n) = N(mu, s^2 I) for every image: each logsumexp over the batch is log M plus
    a log-density, so by hand log q(z) - sum_d log q(z_d) = (D - 1) log N exactly: the
    estimator's constant (the true TC of a factorised q(z) is 0)."""
    m, d, n = 8, 5, 4608
    z, _, _ = batch(m, d, seed=1)
    mu = torch.full((m, d), 0.3, dtype=torch.float64)
    logvar = torch.full((m, d), -0.4, dtype=torch.float64)
    torch.testing.assert_close(total_correlation(z, mu, logvar, n),
                               torch.full((m,), (d - 1) * math.log(n), dtype=torch.float64))


def test_tcvae_step_is_the_negative_elbo_plus_beta_minus_one_times_tc():
    torch.manual_seed(0)
    model = VAE(latent_dim=4, hidden=(32,))
    x = torch.rand(16, 1, 28, 28)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    metrics = tcvae_step(model, adam(model.parameters()), x, beta=5.0, dataset_size=500)
    torch.testing.assert_close(metrics["loss"], metrics["neg_elbo"] + 4.0 * metrics["tc"])
    model.load_state_dict(state)                    # the same batch, recomputed by hand
    torch.manual_seed(1)
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    rate = gaussian_kl(mu, logvar).mean()
    torch.testing.assert_close(metrics["rate"], rate.detach())
    torch.testing.assert_close(metrics["tc"], total_correlation(z, mu, logvar, 500).mean().detach())


def test_beta_one_is_the_plain_vae_loss():
    torch.manual_seed(0)
    model = VAE(latent_dim=4, hidden=(32,))
    metrics = tcvae_step(model, adam(model.parameters()), torch.rand(16, 1, 28, 28), beta=1.0,
                         dataset_size=500)
    torch.testing.assert_close(metrics["loss"], metrics["neg_elbo"])


def test_train_vae_takes_the_step_and_logs_the_tc():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28)
    model = VAE(latent_dim=3, hidden=(16,))
    history = train_vae(model, images, 2, batch_size=32, beta=4.0, binarize=False,
                        step=functools.partial(tcvae_step, dataset_size=len(images)))
    assert set(history) == {"loss", "neg_elbo", "distortion", "rate", "tc"}
    assert all(math.isfinite(v) for values in history.values() for v in values)


def test_clear_errors():
    model = VAE(latent_dim=3, hidden=(16,))
    x = torch.rand(8, 1, 28, 28)
    with pytest.raises(ValueError, match="functools.partial"):
        tcvae_step(model, adam(model.parameters()), x)
    with pytest.raises(ValueError, match="free bits"):
        tcvae_step(model, adam(model.parameters()), x, free_bits=0.5, dataset_size=100)
    z, mu, logvar = batch()
    with pytest.raises(ValueError, match="at least the batch size"):
        total_correlation(z, mu, logvar, dataset_size=3)
    with pytest.raises(ValueError, match=r"\(M, D\)"):
        total_correlation(z, mu[:, :2], logvar, dataset_size=100)

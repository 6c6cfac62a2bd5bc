"""edu_gen.vae_eval and edu_gen.latent: the bounds on images, active units, greyness, and
the latent-space tools."""
import math

import pytest
import torch
from scipy.stats import norm

from edu_gen.latent import interpolate_codes, latent_grid
from edu_gen.vae import VAE
from edu_gen.vae_eval import active_units, evaluate, grey_fraction, iwae_nll, log_weights


def digits(n=64, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_iwae_nll_is_below_negative_elbo_and_grows_tighter():
    """-L_k <= -ELBO on the same binarized digits, and decreases with k."""
    torch.manual_seed(0)
    model = VAE(hidden=(64,), latent_dim=4)
    x = digits(40)
    neg_elbo = evaluate(model, x)["neg_elbo"]
    nll_10, nll_200 = iwae_nll(model, x, k=10), iwae_nll(model, x, k=200, chunk=64)
    assert nll_200 < nll_10 < neg_elbo


def test_one_log_weight_is_an_unbiased_elbo():
    """E_q[log w] = E_q[log p(x|z)] - KL(q || p): L_1 is the ELBO (Eq. (iwae) at k = 1).
    The mean of 4,000 log-weights is within 4 standard errors of the closed-form ELBO."""
    torch.manual_seed(0)
    model = VAE(hidden=(32,), latent_dim=3)
    with torch.no_grad():
        model.encoder[-1].bias[3:].fill_(-1.0)      # posteriors narrower than the prior
    x = torch.bernoulli(digits(4))
    with torch.no_grad():
        w = log_weights(model, x, k=4000)                         # (k, N)
        mu, logvar = model.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(4000, *mu.shape)
        from edu_gen.elbo import bernoulli_log_likelihood
        expected_log_lik = bernoulli_log_likelihood(model.decode_logits(z), x.reshape(4, 784)).mean(0)
        kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1)
    elbo = expected_log_lik - kl                                  # Monte Carlo only in log p(x|z)
    standard_error = w.std(0) / math.sqrt(4000)
    assert ((w.mean(0) - elbo).abs() < 4 * standard_error + 0.05).all(), (w.mean(0), elbo)


def test_evaluate_is_the_training_loss_at_beta_1():
    torch.manual_seed(0)
    model = VAE(hidden=(16,), latent_dim=2)
    scores = evaluate(model, digits(30))
    assert scores["neg_elbo"] == pytest.approx(scores["rate"] + scores["distortion"], rel=1e-5)
    assert evaluate(model, digits(30)) == scores, "the test set is binarized the same way each time"


def test_active_units_counts_informative_dimensions():
    model = VAE(hidden=(32,), latent_dim=4)
    with torch.no_grad():
        model.encoder[-1].weight[[1, 3]] = 0  # mu_1 and mu_3 no longer depend on x
        model.encoder[-1].weight[[0, 2]] *= 50
    count, variance = active_units(model, digits(200))
    assert count == 2 and variance[1] == 0 and variance[3] == 0


def test_grey_fraction_counts_the_pixels_strictly_between_the_bounds():
    images = torch.tensor([0.0, 0.2, 0.21, 0.5, 0.79, 0.8, 1.0, 0.5]).view(2, 1, 2, 2)
    assert grey_fraction(images) == 4 / 8           # 0.21, 0.5, 0.79 and 0.5
    assert grey_fraction(torch.randint(0, 2, (4, 1, 28, 28)).float()) == 0.0


def test_latent_grid_sits_at_gaussian_quantiles():
    grid = latent_grid(n=5, quantile=0.9)
    levels = norm.ppf([0.1, 0.3, 0.5, 0.7, 0.9])
    assert grid.shape == (25, 2)
    torch.testing.assert_close(grid[:5, 0], torch.tensor(levels, dtype=torch.float32))
    torch.testing.assert_close(grid[::5, 1], torch.tensor(levels[::-1].copy(), dtype=torch.float32))


def test_interpolation_ends_at_the_reconstructions():
    torch.manual_seed(0)
    model = VAE(hidden=(16,), latent_dim=3)
    x = digits(2)
    path = interpolate_codes(model, x[:1], x[1:], steps=5)
    torch.testing.assert_close(path[0], model.reconstruct(x[:1])[0])
    torch.testing.assert_close(path[-1], model.reconstruct(x[1:])[0])
    mu = model.encode(x)[0]
    torch.testing.assert_close(path[2], model.decode(mu.mean(0, keepdim=True))[0])

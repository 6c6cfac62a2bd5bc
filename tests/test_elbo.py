"""edu_gen.elbo against independent oracles: torch.distributions, closed forms, and the
linear-Gaussian model whose log p(x) is exact. Three classic tutorial bugs are planted into
copies of the functions and caught by the same assertions the correct code passes."""
import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from edu_gen.elbo import (bernoulli_log_likelihood, elbo, gaussian_kl, gaussian_log_likelihood,
                          iwae_bound, iwae_bound_chunked, log_normal, reparameterize)
from edu_gen.linear_gaussian import LinearGaussian


def diag_normal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


# --- closed forms against torch.distributions -------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_gaussian_kl_matches_torch_distributions(seed):
    g = torch.Generator().manual_seed(seed)
    mu_q, mu_p = torch.randn(2, 64, 7, generator=g, dtype=torch.float64) * 3
    logvar_q, logvar_p = torch.randn(2, 64, 7, generator=g, dtype=torch.float64) * 2
    expected = kl_divergence(diag_normal(mu_q, logvar_q), diag_normal(mu_p, logvar_p))
    torch.testing.assert_close(gaussian_kl(mu_q, logvar_q, mu_p, logvar_p), expected)
    prior = diag_normal(torch.zeros_like(mu_q), torch.zeros_like(mu_q))
    torch.testing.assert_close(gaussian_kl(mu_q, logvar_q),
                               kl_divergence(diag_normal(mu_q, logvar_q), prior))


def test_gaussian_kl_is_zero_only_for_equal_distributions():
    mu, logvar = torch.randn(10, 3), torch.randn(10, 3)
    torch.testing.assert_close(gaussian_kl(mu, logvar, mu, logvar), torch.zeros(10))
    assert (gaussian_kl(mu + 0.1, logvar) > 0).all()


def test_log_densities_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    x, mu, logvar = torch.randn(3, 20, 6, generator=g, dtype=torch.float64)
    torch.testing.assert_close(log_normal(x, mu, logvar), diag_normal(mu, logvar).log_prob(x))
    torch.testing.assert_close(log_normal(x), Independent(Normal(0.0, torch.ones_like(x)), 1).log_prob(x))
    torch.testing.assert_close(gaussian_log_likelihood(mu, x, -0.7),
                               Independent(Normal(mu, math.exp(-0.35)), 1).log_prob(x))
    logits = torch.randn(20, 784, generator=g, dtype=torch.float64) * 5
    bits = torch.bernoulli(torch.full((20, 784), 0.3, dtype=torch.float64), generator=g)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, bits),
                               Independent(Bernoulli(logits=logits), 1).log_prob(bits))


def test_bernoulli_log_likelihood_is_finite_for_extreme_logits():
    logits = torch.tensor([[1e4, -1e4, 100.0, -100.0, 0.0]], requires_grad=True)
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0]])
    log_lik = bernoulli_log_likelihood(logits, x)
    # exact: log sigmoid(1e4) = 0, log(1 - sigmoid(-1e4)) = 0, log(1 - sigmoid(100)) = -100,
    # log sigmoid(-100) = -100, log sigmoid(0) = -log 2
    torch.testing.assert_close(log_lik, torch.tensor([-200.0 - math.log(2)]))
    log_lik.sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_gaussian_likelihood_with_unit_half_variance_is_mse():
    """MSE silently fixes sigma^2 = 1/2: then -log p(x|z) = ||x - mean||^2 + constant."""
    x, mean = torch.rand(4, 784), torch.rand(4, 784)
    neg_log_lik = -gaussian_log_likelihood(mean, x, math.log(0.5))
    constant = 0.5 * 784 * math.log(math.pi)
    torch.testing.assert_close(neg_log_lik, ((x - mean) ** 2).sum(-1) + constant)


def test_beta_must_be_non_negative():
    with pytest.raises(ValueError, match="beta"):
        elbo(torch.zeros(3), torch.zeros(3), beta=-1.0)
    with pytest.raises(ValueError, match="one value per example"):
        elbo(torch.zeros(3, 784), torch.zeros(3))


# --- reparameterization ------------------------------------------------------------------

def buggy_reparameterize_without_mu_sigma(mu, logvar):
    """Planted bug: z drawn from N(0, I), ignoring the encoder's output."""
    return torch.randn_like(mu)


def assert_reparameterized(sample):
    """Samples have the right mean and variance, and gradients reach mu and logvar."""
    torch.manual_seed(0)
    mu = torch.tensor([1.5, -2.0], requires_grad=True)
    logvar = torch.tensor([0.4, -1.0], requires_grad=True)
    z = sample(mu.expand(200_000, 2), logvar.expand(200_000, 2))
    torch.testing.assert_close(z.mean(0), mu.detach(), atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), logvar.detach().exp(), atol=0.02, rtol=0.02)
    # d E[z^2] / d mu = 2 mu,  d E[z^2] / d logvar = exp(logvar)
    (z ** 2).mean(0).sum().backward()
    assert mu.grad is not None and logvar.grad is not None, "no gradient reaches mu / logvar"
    torch.testing.assert_close(mu.grad, 2 * mu.detach(), atol=0.03, rtol=0)
    torch.testing.assert_close(logvar.grad, logvar.detach().exp(), atol=0.03, rtol=0.02)


def test_reparameterize_samples_and_gradients():
    assert_reparameterized(reparameterize)


def test_planted_bug_z_without_mu_and_sigma_is_caught():
    with pytest.raises(AssertionError):
        assert_reparameterized(buggy_reparameterize_without_mu_sigma)


def test_reparameterize_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        reparameterize(torch.zeros(3, 2), torch.zeros(3, 4))


# --- the ELBO on the linear-Gaussian model (exact log p(x)) -------------------------------

@pytest.fixture(scope="module")
def model_and_data():
    model = LinearGaussian.ppca(data_dim=5, latent_dim=2, sigma2=0.5, seed=0)
    x, _ = model.sample(16, generator=torch.Generator().manual_seed(1))
    return model, x


def test_linear_gaussian_posterior_is_bayes_rule(model_and_data):
    """p(z|x) = p(x|z) p(z) / p(x) at a few points: the oracle checks itself."""
    model, x = model_and_data
    z = torch.randn(16, 2, dtype=torch.float64)
    mean, covariance = model.posterior(x)
    log_posterior = torch.distributions.MultivariateNormal(mean, covariance).log_prob(z)
    bayes = model.log_likelihood(x, z) + log_normal(z) - model.log_marginal(x)
    torch.testing.assert_close(log_posterior, bayes)
    assert torch.allclose(covariance, torch.diag(torch.diagonal(covariance))), "ppca posterior is diagonal"


def mismatched_q(model, x):
    mean, logvar = model.posterior_diagonal(x)
    return mean + 0.7, logvar + 1.0


def test_elbo_is_below_log_px_and_estimate_is_unbiased(model_and_data):
    model, x = model_and_data
    log_px = model.log_marginal(x)
    mu, logvar = mismatched_q(model, x)
    exact = model.elbo_closed_form(x, mu, logvar)
    assert (exact < log_px - 0.1).all(), "a mismatched q must give an ELBO below log p(x)"
    torch.manual_seed(0)
    estimate = model.elbo_estimate(x, mu, logvar, samples=100_000)
    torch.testing.assert_close(estimate, exact, atol=0.05, rtol=0)


def one_sample_elbo(model, x, mu, logvar, sample=reparameterize, log_lik=None, kl=gaussian_kl,
                    combine=elbo):
    """The VAE's ELBO estimate assembled from parts, so a test can swap a buggy part in."""
    log_lik = log_lik or model.log_likelihood
    z = sample(mu, logvar)
    return combine(log_lik(x, z), kl(mu, logvar))


def assert_elbo_is_tight_at_true_posterior(**parts):
    """At q = p(z|x) the ELBO equals log p(x) (Eq. (elbo-gap): the KL to the posterior is 0);
    at any other q it stays below."""
    model = LinearGaussian.ppca(data_dim=5, latent_dim=2, sigma2=0.5, seed=0)
    x, _ = model.sample(16, generator=torch.Generator().manual_seed(1))
    log_px = model.log_marginal(x)
    mu, logvar = model.posterior_diagonal(x)
    torch.manual_seed(0)
    estimates = torch.stack([one_sample_elbo(model, x, mu, logvar, **parts) for _ in range(4000)])
    # the one-sample estimate (closed-form KL) varies; its mean is log p(x) (standard error ~0.01)
    torch.testing.assert_close(estimates.mean(0), log_px, atol=0.06, rtol=0)
    mu_off, logvar_off = mismatched_q(model, x)
    estimates = torch.stack([one_sample_elbo(model, x, mu_off, logvar_off, **parts)
                             for _ in range(2000)])
    assert (estimates.mean(0) <= log_px).all(), "the ELBO rose above log p(x)"


def test_elbo_equals_log_px_at_true_posterior():
    assert_elbo_is_tight_at_true_posterior()


def test_planted_bug_kl_with_wrong_sign_is_caught():
    with pytest.raises(AssertionError):
        assert_elbo_is_tight_at_true_posterior(combine=lambda log_lik, kl: log_lik + kl)


def test_planted_bug_reconstruction_averaged_over_pixels_is_caught():
    """Averaging log p(x|z) over the D pixels (BCE/MSE with reduction='mean') divides it by
    D while the KL stays summed: the KL swamps it."""
    def averaged(model):
        return lambda x, z: model.log_likelihood(x, z) / model.data_dim
    model = LinearGaussian.ppca(data_dim=5, latent_dim=2, sigma2=0.5, seed=0)
    with pytest.raises(AssertionError):
        assert_elbo_is_tight_at_true_posterior(log_lik=averaged(model))


def test_planted_bug_z_without_mu_and_sigma_breaks_the_elbo():
    with pytest.raises(AssertionError):
        assert_elbo_is_tight_at_true_posterior(sample=buggy_reparameterize_without_mu_sigma)


# --- the IWAE bound ------------------------------------------------------------------------

def test_iwae_bound_is_monotone_in_k_and_converges_to_log_px(model_and_data):
    """E[L_k] over 200 draws (averaged over the 16 examples): L_1 is the ELBO, then it rises
    with k toward log p(x), never above it."""
    model, x = model_and_data
    log_px = model.log_marginal(x).mean()
    mu, logvar = mismatched_q(model, x)
    torch.manual_seed(0)
    draws, ks = 200, [1, 4, 16, 64, 256]
    means = []
    for k in ks:
        log_w = model.log_weights(x, mu, logvar, k * draws).reshape(draws, k, len(x))
        means.append(iwae_bound(log_w, dim=1).mean())
    elbo_exact = model.elbo_closed_form(x, mu, logvar).mean()
    assert abs(means[0] - elbo_exact) < 0.3, (means[0], elbo_exact)
    for smaller, larger in zip(means, means[1:]):
        assert larger > smaller, f"E[L_k] must grow with k: {means}"
    assert means[-1] <= log_px + 0.01, "L_k must stay below log p(x)"
    gap_first, gap_last = log_px - means[0], log_px - means[-1]
    assert gap_first > 1 and gap_last < 0.05 * gap_first and gap_last < 0.05, (gap_first, gap_last)


def test_iwae_bound_is_exact_at_true_posterior(model_and_data):
    model, x = model_and_data
    mu, logvar = model.posterior_diagonal(x)
    torch.testing.assert_close(model.iwae(x, mu, logvar, 50), model.log_marginal(x))


def test_iwae_bound_is_stable_and_chunking_changes_nothing():
    weights = torch.tensor([[-10_000.0, -20_000.0], [-10_000.0, -20_000.0]])
    torch.testing.assert_close(iwae_bound(weights), torch.tensor([-10_000.0, -20_000.0]))
    g = torch.Generator().manual_seed(0)
    log_w = torch.randn(1000, 7, generator=g, dtype=torch.float64) * 30 - 1000
    cursor = iter(range(0, 1000, 300))
    chunked = iwae_bound_chunked(lambda n: log_w[next(cursor):][:n], k=1000, chunk=300)
    torch.testing.assert_close(chunked, iwae_bound(log_w))
    naive = torch.log(torch.exp(log_w.double()).mean(0))
    assert torch.isinf(naive).all(), "the naive formula underflows here; logsumexp must not"

"""A latent-variable model whose log-likelihood is exact: the linear-Gaussian model
(probabilistic PCA, Tipping and Bishop 1999). It is the oracle the ELBO chapter and the
tests check the bounds of ``edu_gen.elbo`` against.

    z ~ N(0, I_d),    x | z ~ N(W z + b, sigma^2 I_D)

Everything about it is in closed form:

- the evidence       p(x) = N(x; b, W W^T + sigma^2 I)
- the posterior      p(z|x) = N(M^-1 W^T (x - b) / sigma^2,  M^-1),  M = I + W^T W / sigma^2
- the ELBO of any diagonal Gaussian q(z|x)

When the columns of W are orthogonal (``LinearGaussian.ppca``), M is diagonal, so the true
posterior is itself a diagonal Gaussian: a VAE-style q can match it exactly, and then the
ELBO equals log p(x).

Computed in float64 so that the checks are about the math, not round-off.
"""
import math

import torch
from torch.distributions import MultivariateNormal

from .elbo import (gaussian_kl, gaussian_log_likelihood, iwae_bound, log_importance_weights,
                   log_normal, reparameterize)


class LinearGaussian:
    """p(z) = N(0, I_d), p(x|z) = N(W z + b, sigma2 I_D), with W of shape (D, d)."""

    def __init__(self, W, b, sigma2):
        W = torch.as_tensor(W, dtype=torch.float64)
        b = torch.as_tensor(b, dtype=torch.float64)
        if W.dim() != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"W must be (D, d) and b (D,), got {tuple(W.shape)} and {tuple(b.shape)}")
        if sigma2 <= 0:
            raise ValueError(f"sigma2 must be positive, got {sigma2}")
        self.W, self.b, self.sigma2 = W, b, float(sigma2)
        self.data_dim, self.latent_dim = W.shape

    @classmethod
    def ppca(cls, data_dim=5, latent_dim=2, sigma2=0.5, seed=0):
        """A random model whose W has orthogonal columns, so p(z|x) is diagonal."""
        generator = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(data_dim, latent_dim, generator=generator, dtype=torch.float64))
        scales = torch.linspace(2.0, 1.0, latent_dim, dtype=torch.float64)
        b = torch.randn(data_dim, generator=generator, dtype=torch.float64)
        return cls(q * scales, b, sigma2)

    def sample(self, n, generator=None):
        """n draws (x, z) from the model."""
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=torch.float64)
        noise = torch.randn(n, self.data_dim, generator=generator, dtype=torch.float64)
        return z @ self.W.T + self.b + math.sqrt(self.sigma2) * noise, z

    def log_marginal(self, x):
        """Exact log p(x) per example, by torch.distributions (an independent oracle)."""
        covariance = self.W @ self.W.T + self.sigma2 * torch.eye(self.data_dim, dtype=torch.float64)
        return MultivariateNormal(self.b, covariance_matrix=covariance).log_prob(x)

    def posterior(self, x):
        """Exact p(z|x): mean (N, d) and covariance (d, d), the same for every x."""
        M = torch.eye(self.latent_dim, dtype=torch.float64) + self.W.T @ self.W / self.sigma2
        covariance = torch.linalg.inv(M)
        mean = (x - self.b) @ self.W @ covariance / self.sigma2
        return mean, covariance

    def posterior_diagonal(self, x):
        """(mean, logvar) of p(z|x), shaped like a VAE encoder's output.

        Exact only when the posterior covariance is diagonal (``ppca`` models); else this is
        the diagonal of the true covariance, a mismatched q.
        """
        mean, covariance = self.posterior(x)
        logvar = torch.log(torch.diagonal(covariance)).expand_as(mean)
        return mean, logvar

    def log_likelihood(self, x, z):
        """log p(x|z), per example; z may carry leading sample dimensions."""
        return gaussian_log_likelihood(z @ self.W.T + self.b, x, math.log(self.sigma2))

    def elbo_closed_form(self, x, mu, logvar):
        """The exact ELBO of q = N(mu, diag exp(logvar)): no sampling.

        E_q[log p(x|z)] = -D/2 log(2 pi sigma^2) - (||x - W mu - b||^2 + tr(W S W^T)) / (2 sigma^2)
        with S = diag exp(logvar); minus the KL to N(0, I) written out by hand.
        """
        residual = x - mu @ self.W.T - self.b
        trace = (torch.exp(logvar) * (self.W ** 2).sum(0)).sum(-1)
        expected_log_lik = (-0.5 * self.data_dim * math.log(2 * math.pi * self.sigma2)
                            - (residual.pow(2).sum(-1) + trace) / (2 * self.sigma2))
        kl = 0.5 * (mu.pow(2) + torch.exp(logvar) - logvar - 1).sum(-1)
        return expected_log_lik - kl

    def elbo_estimate(self, x, mu, logvar, samples=1):
        """Monte Carlo ELBO with ``edu_gen.elbo``: reparameterized samples, closed-form KL."""
        z = reparameterize(mu.expand(samples, *mu.shape), logvar.expand(samples, *logvar.shape))
        return self.log_likelihood(x, z).mean(0) - gaussian_kl(mu, logvar)

    def log_weights(self, x, mu, logvar, k):
        """log p(x, z_i) - log q(z_i|x) for k samples z_i ~ q: shape (k, N)."""
        z = reparameterize(mu.expand(k, *mu.shape), logvar.expand(k, *logvar.shape))
        log_joint = self.log_likelihood(x, z) + log_normal(z)
        return log_importance_weights(log_joint, log_normal(z, mu, logvar))

    def iwae(self, x, mu, logvar, k):
        """One draw of the IWAE bound L_k per example (Eq. (iwae))."""
        return iwae_bound(self.log_weights(x, mu, logvar, k))

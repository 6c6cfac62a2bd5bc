"""Discriminator rejection sampling against a density ratio known in closed form."""
import math

import pytest
import torch
from scipy import stats
from torch import nn
from torch.distributions import Normal

from edu_gen.gan import MLPDiscriminator, MLPGenerator
from edu_gen.rejection import rejection_sample

P_G, P_DATA = Normal(0.0, 1.0), Normal(0.5, 0.8)


class NoiseAsSample(nn.Module):
    """A 'generator' whose sample is its noise: p_g = N(0, 1) exactly."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))

    def sample_noise(self, n, device=None, generator=None):
        return torch.randn(n, 1, device=device, generator=generator)

    def forward(self, z, labels=None):
        return z


class ExactRatio(nn.Module):
    """The optimal discriminator's logit: log p_data(x) - log p_g(x) (Eq. (drs))."""

    def forward(self, x):
        return (P_DATA.log_prob(x) - P_G.log_prob(x)).squeeze(-1)


def test_kept_samples_follow_p_data_with_the_exact_ratio():
    samples, rate = rejection_sample(NoiseAsSample(), ExactRatio(), 4000, seed=0)
    assert samples.shape == (4000, 1)
    ks = stats.kstest(samples.squeeze(1).numpy(), stats.norm(0.5, 0.8).cdf)
    assert ks.pvalue > 0.01, ks
    # the proposal itself is clearly rejected by the same test: the test can fail
    raw = NoiseAsSample().sample_noise(4000, generator=torch.Generator().manual_seed(0))
    assert stats.kstest(raw.squeeze(1).numpy(), stats.norm(0.5, 0.8).cdf).pvalue < 1e-6
    # acceptance rate = 1 / max_x p_data / p_g; the log ratio is a quadratic in x
    a = 0.5 * (1 - 1 / 0.8 ** 2)                     # x^2 coefficient (negative)
    b = 0.5 / 0.8 ** 2                               # x coefficient
    c = -0.5 * 0.5 ** 2 / 0.8 ** 2 - math.log(0.8)   # constant
    max_log_ratio = c - b ** 2 / (4 * a)
    assert rate == pytest.approx(math.exp(-max_log_ratio), rel=0.05)


def test_a_pack_discriminator_is_a_clear_error():
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8, pack=4)
    with pytest.raises(ValueError, match="one logit per sample"):
        rejection_sample(g, d, 10)


def test_a_discriminator_that_rejects_everything_stops_with_an_error():
    class Sharp(nn.Module):
        def forward(self, x):
            return 1000.0 * x.squeeze(-1)
    with pytest.raises(RuntimeError, match="rejects nearly every sample"):
        rejection_sample(NoiseAsSample(), Sharp(), 100, max_draws=20_000)
    with pytest.raises(ValueError, match="n must be at least 1"):
        rejection_sample(NoiseAsSample(), ExactRatio(), 0)


from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="KL(N(mu, sigma^2) || N(0, I)) = 0.5 * sum(mu^2 + exp(logvar) - 1 - logvar); the usual mistake is the wrong sign")
def test_gaussian_kl_values(gaussian_kl):
    import torch
    from torch.distributions import Normal, kl_divergence
    assert gaussian_kl is not None, "gaussian_kl is not defined: keep the function's name"
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(7, 4, generator=g)
    logvar = torch.randn(7, 4, generator=g)
    kl = gaussian_kl(mu, logvar)
    assert kl is not None, 'gaussian_kl returned None: write its body'
    assert torch.is_tensor(kl) and kl.shape == (7,), 'the KL should have shape (batch,): sum over the latent dimensions only'
    want = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    if not torch.allclose(kl, want, atol=0.0001):
        assert not torch.allclose(kl, -want, atol=0.0001), 'the KL has the wrong sign: it is never negative'
        assert not torch.allclose(kl, want / 4, atol=0.0001), 'the KL is averaged over the 4 latent dimensions: sum it over them (dim=-1)'
        assert not torch.allclose(kl, 2 * want, atol=0.0001), 'the KL is twice too large: the closed form has a factor 1/2'
        assert not torch.allclose(kl, 0.5 * (mu ** 2 + torch.exp(0.5 * logvar) - 1 - logvar).sum(-1), atol=0.0001), 'the KL uses sigma = exp(logvar / 2) where the formula has sigma^2 = exp(logvar)'
        raise AssertionError('the KL does not match torch.distributions.kl_divergence (0.5 * sum(mu^2 + exp(logvar) - 1 - logvar) over the latent dimensions)')


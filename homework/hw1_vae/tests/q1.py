from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="z must be mu + exp(logvar / 2) * eps; the usual mistake is returning eps itself, without mu and sigma")
def test_reparameterize_values(reparameterize):
    import torch
    from torch.distributions import Normal
    assert reparameterize is not None, "reparameterize is not defined: keep the function's name"
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(6, 3, generator=g) * 2
    logvar = torch.randn(6, 3, generator=g)
    eps = torch.randn(6, 3, generator=g)
    z = reparameterize(mu, logvar, eps)
    assert z is not None, 'reparameterize returned None: write its body'
    assert torch.is_tensor(z) and z.shape == mu.shape, f'z should be a tensor of shape {tuple(mu.shape)}'
    want = Normal(mu, torch.exp(0.5 * logvar)).icdf(Normal(0.0, 1.0).cdf(eps))
    assert not torch.allclose(z, eps), 'z equals eps: it must be shifted by mu and scaled by sigma = exp(logvar / 2)'
    assert torch.allclose(z, want, atol=0.0001), 'z is not mu + exp(logvar / 2) * eps (is sigma exp(logvar) instead of exp(logvar / 2)?)'


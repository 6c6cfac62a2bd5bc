from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="negative ELBO = BCE-with-logits summed over the 784 pixels + KL; the usual mistake is averaging the reconstruction over pixels")
def test_negative_elbo_values(negative_elbo):
    import torch
    from torch.distributions import Bernoulli, Normal, kl_divergence
    assert negative_elbo is not None, "negative_elbo is not defined: keep the function's name"
    g = torch.Generator().manual_seed(5)
    logits = 3 * torch.randn(5, 784, generator=g)
    x = (torch.rand(5, 784, generator=g) < 0.3).float()
    mu, logvar = (torch.randn(5, 10, generator=g), torch.randn(5, 10, generator=g))
    loss = negative_elbo(logits, x, mu, logvar)
    assert loss is not None, 'negative_elbo returned None: write its body'
    assert torch.is_tensor(loss) and loss.shape == (5,), 'the loss should have shape (batch,): one value per example'
    recon = -Bernoulli(logits=logits).log_prob(x).sum(1)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    if not torch.allclose(loss, recon + kl, rtol=0.0001):
        for wrong, why in ((recon / 784 + kl, 'the reconstruction is averaged over the pixels: sum it over the 784 pixels'), (recon - kl, 'the KL enters with the wrong sign: the negative ELBO is the reconstruction loss plus the KL'), (recon + kl / 10, 'the KL is averaged over the 10 latent dimensions: sum it over them'), (recon + 2 * kl, 'the KL is twice too large: the closed form has a factor 1/2'), (recon, 'the KL term is missing: add KL(q(z|x) || N(0, I)), the formula of Question 2'), (-recon + kl, 'the reconstruction has the wrong sign: -log p(x|z) (BCE with logits) is positive'), (recon / 784 + kl / 10, 'both terms are averaged (over the pixels and the latent dimensions): sum them')):
            assert not torch.allclose(loss, wrong, rtol=0.0001), why
        raise AssertionError('the loss is not the Bernoulli reconstruction (summed over pixels) plus the KL')


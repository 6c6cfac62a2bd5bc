"""edu_gen.vae, the model: shapes, sizes against pytorch/examples, labels, clear errors."""
import pytest
import torch

from edu_gen.vae import VAE

ARCHITECTURES = {
    "mlp 784-400-20": dict(hidden=(400,), latent_dim=20),
    "mlp 784-512-256-64": dict(hidden=(512, 256), latent_dim=64),
    "conv": dict(conv=True, latent_dim=8),
    "conditional mlp": dict(hidden=(64,), latent_dim=4, n_classes=10),
    "conditional conv": dict(conv=True, latent_dim=4, n_classes=10),
}


def digits(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_shapes(name):
    model = VAE(**ARCHITECTURES[name])
    x, y = digits(5)
    y = y if model.n_classes else None
    mu, logvar = model.encode(x, y)
    assert mu.shape == logvar.shape == (5, model.latent_dim)
    assert model.decode_logits(mu, y).shape == (5, 784)
    k_codes = mu.expand(7, *mu.shape)                    # k = 7 codes per image (IWAE)
    assert model.decode_logits(k_codes, y).shape == (7, 5, 784)
    assert model.decode(mu, y).shape == (5, 1, 28, 28)
    assert model.sample(5, y).shape == (5, 1, 28, 28)
    assert model.reconstruct(x, y).shape == (5, 1, 28, 28)


def test_k_codes_decode_as_each_code_alone():
    model = VAE(hidden=(16,), latent_dim=3, n_classes=10)
    z, y = torch.randn(4, 2, 3), torch.tensor([3, 8])
    together = model.decode_logits(z, y)
    for i in range(4):
        torch.testing.assert_close(together[i], model.decode_logits(z[i], y))


def test_pytorch_examples_size():
    """784-400-20 has exactly the parameters of pytorch/examples' VAE (fc1, fc21, fc22, fc3, fc4)."""
    expected = (784 * 400 + 400) + 2 * (400 * 20 + 20) + (20 * 400 + 400) + (400 * 784 + 784)
    assert sum(p.numel() for p in VAE(hidden=(400,), latent_dim=20).parameters()) == expected


def test_conditional_models_use_the_label():
    torch.manual_seed(0)
    for options in (dict(hidden=(32,)), dict(conv=True)):
        model = VAE(latent_dim=2, n_classes=10, **options)
        images = model.decode(torch.zeros(2, 2), torch.tensor([3, 7]))
        assert not torch.allclose(images[0], images[1])
        x = digits(1)[0].repeat(2, 1, 1, 1)
        mu, _ = model.encode(x, torch.tensor([3, 7]))
        assert not torch.allclose(mu[0], mu[1])


@pytest.mark.parametrize("options, message", [
    (dict(latent_dim=0), "latent_dim"),
    (dict(hidden=()), "hidden"),
    (dict(n_classes=-1), "n_classes"),
])
def test_bad_models_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        VAE(**options)


def test_the_encoder_refuses_images_that_are_not_28x28_and_takes_flat_ones():
    model, (x, _) = VAE(hidden=(8,), latent_dim=2), digits(8)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\) or \(N, 784\)"):
        model.encode(torch.rand(8, 1, 32, 32))
    torch.testing.assert_close(model.encode(x.reshape(8, 784))[0], model.encode(x)[0])


def test_a_conditional_vae_without_labels_says_so():
    model = VAE(hidden=(8,), latent_dim=2, n_classes=10)
    with pytest.raises(ValueError, match="conditional on 10 classes"):
        model.encode(digits(3)[0])

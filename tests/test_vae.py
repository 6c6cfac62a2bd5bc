"""edu_gen.vae: shapes, sizes against pytorch/examples, the bounds on real digits, training,
checkpoints, and clear errors for bad input."""
import math

import pytest
import torch

from edu_gen.checkpoint import CheckpointError
from edu_gen.elbo import bernoulli_log_likelihood, gaussian_kl
from edu_gen.vae import (VAE, active_units, evaluate, grey_fraction, iwae_nll, kl_per_dimension,
                         load_vae, save_vae, train_vae, vae_loss)

ARCHITECTURES = {
    "mlp 784-400-20": dict(hidden=(400,), latent_dim=20),
    "mlp 784-512-256-64": dict(hidden=(512, 256), latent_dim=64),
    "conv": dict(conv=True, latent_dim=8),
    "gaussian": dict(hidden=(64,), latent_dim=4, likelihood="gaussian"),
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
    assert model.decode(mu, y).shape == (5, 1, 28, 28)
    assert model.sample(5, y).shape == (5, 1, 28, 28)
    log_lik, kl, _, _ = model(x, y)
    assert log_lik.shape == kl.shape == (5,)
    assert model.log_weights(x, y, k=7).shape == (7, 5)


def test_pytorch_examples_size():
    """784-400-20 has exactly the parameters of pytorch/examples' VAE (fc1, fc21, fc22, fc3, fc4)."""
    expected = (784 * 400 + 400) + 2 * (400 * 20 + 20) + (20 * 400 + 400) + (400 * 784 + 784)
    assert sum(p.numel() for p in VAE(hidden=(400,), latent_dim=20).parameters()) == expected


def test_forward_is_the_elbo_of_its_parts():
    """The model's terms match a hand computation from the encoder and decoder outputs."""
    model = VAE(hidden=(32,), latent_dim=3)
    x = torch.bernoulli(digits(8)[0])
    mu, logvar = model.encode(x)
    torch.manual_seed(0)
    log_lik, kl, _, _ = model(x)
    torch.manual_seed(0)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decoder(z)
    expected = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x.reshape(8, 784), reduction="none").sum(1)
    torch.testing.assert_close(log_lik, expected)
    torch.testing.assert_close(kl, 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1))


def test_iwae_nll_is_below_negative_elbo_and_grows_tighter():
    """-L_k <= -ELBO on the same binarized digits, and decreases with k."""
    torch.manual_seed(0)
    model = VAE(hidden=(64,), latent_dim=4)
    x, _ = digits(40)
    neg_elbo = evaluate(model, x)["neg_elbo"]
    nll_10, nll_200 = iwae_nll(model, x, k=10), iwae_nll(model, x, k=200, chunk=64)
    assert nll_200 < nll_10 < neg_elbo


def test_kl_per_dimension_sums_to_kl():
    mu, logvar = torch.randn(6, 5), torch.randn(6, 5)
    torch.testing.assert_close(kl_per_dimension(mu, logvar).sum(-1), gaussian_kl(mu, logvar))


def test_free_bits_hold_each_dimension_at_lambda():
    """With every KL_j below lambda the rate term is exactly D * lambda (and no gradient)."""
    model = VAE(hidden=(32,), latent_dim=5)
    x = torch.bernoulli(digits(16)[0])
    torch.manual_seed(0)
    loss, metrics = vae_loss(model, x, free_bits=10.0)
    assert metrics["rate"] < 10.0
    torch.testing.assert_close(loss, metrics["distortion"] + 5 * 10.0)


def test_training_improves_the_elbo_and_warmup_lowers_beta():
    from edu_gen.data import load_mnist
    torch.manual_seed(0)
    x = load_mnist("train", small=True)[0][:512]
    model = VAE(hidden=(64,), latent_dim=4)
    history = train_vae(model, x, epochs=3, batch_size=64)
    assert set(history) == {"loss", "neg_elbo", "distortion", "rate"}
    assert history["neg_elbo"][-1] < history["neg_elbo"][0] - 40
    warm = train_vae(VAE(hidden=(64,), latent_dim=4), x, epochs=1, kl_warmup_epochs=5)
    assert warm["loss"][0] < warm["neg_elbo"][0], "during warm-up beta < 1, so loss < -ELBO"


def test_conditional_decoder_uses_the_label():
    torch.manual_seed(0)
    model = VAE(hidden=(32,), latent_dim=2, n_classes=10)
    z = torch.zeros(2, 2)
    images = model.decode(z, torch.tensor([3, 7]))
    assert not torch.allclose(images[0], images[1])


def test_checkpoint_round_trip(tmp_path):
    model = VAE(hidden=(32,), latent_dim=3, n_classes=10)
    path = save_vae(tmp_path / "vae.pt", model, epochs=2)
    state = torch.load(path, weights_only=True)
    assert state["epochs"] == 2
    loaded, extra = load_vae(path)
    z, y = torch.randn(4, 3), torch.arange(4)
    torch.testing.assert_close(loaded.decode(z, y), model.decode(z, y))
    assert extra["config"]["n_classes"] == 10


def test_active_units_counts_informative_dimensions():
    model = VAE(hidden=(32,), latent_dim=4)
    with torch.no_grad():
        model.head.weight[[1, 3]] = 0  # mu_1 and mu_3 no longer depend on x
        model.head.weight[[0, 2]] *= 50
    count, variance = active_units(model, digits(200)[0])
    assert count == 2 and variance[1] == 0 and variance[3] == 0


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("images, message", [
    (torch.rand(10, 28, 28), r"\(N, 1, 28, 28\)"),
    (torch.rand(10, 1, 28, 28) * 255, r"\[0, 1\]"),
    (torch.full((10, 1, 28, 28), float("nan")), "NaN"),
    (torch.randint(0, 2, (10, 1, 28, 28)), "float"),
])
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        train_vae(VAE(hidden=(8,), latent_dim=2), images, epochs=1)


@pytest.mark.parametrize("options, message", [
    (dict(latent_dim=0), "latent_dim"),
    (dict(likelihood="poisson"), "likelihood"),
    (dict(hidden=()), "hidden"),
])
def test_bad_models_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        VAE(**options)


def test_bad_beta_and_labels_are_refused():
    x, y = digits(8)
    with pytest.raises(ValueError, match="beta"):
        train_vae(VAE(hidden=(8,), latent_dim=2), x, epochs=1, beta=-1.0)
    with pytest.raises(ValueError, match="n_classes=10"):
        train_vae(VAE(hidden=(8,), latent_dim=2), x, epochs=1, labels=y)
    with pytest.raises(ValueError, match="needs labels"):
        train_vae(VAE(hidden=(8,), latent_dim=2, n_classes=10), x, epochs=1)


def test_the_loss_and_the_encoder_refuse_bad_input_when_called_directly():
    model, (x, _) = VAE(hidden=(8,), latent_dim=2), digits(8)
    with pytest.raises(ValueError, match="beta"):
        vae_loss(model, x, beta=-0.5)
    with pytest.raises(ValueError, match="free_bits"):
        vae_loss(model, x, free_bits=-1.0)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\) or \(N, 784\)"):
        model.encode(torch.rand(8, 1, 32, 32))
    loss, _ = vae_loss(model, x.reshape(8, 784))       # flat images are fine
    assert torch.isfinite(loss)


def test_nan_loss_stops_training():
    from edu_gen.train import TrainingDiverged
    model = VAE(hidden=(8,), latent_dim=2)
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    with pytest.raises(TrainingDiverged):
        train_vae(model, digits(16)[0], epochs=1)


def test_corrupt_checkpoint_gives_a_clear_error(tmp_path):
    path = save_vae(tmp_path / "vae.pt", VAE(hidden=(8,), latent_dim=2))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_vae(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_vae(tmp_path / "missing.pt")


def test_cosine_decay_follows_the_formula_and_ends_near_zero():
    """The learning rate seen by each step is lr/2 (1 + cos(pi t / T)), read from the optimizer."""
    torch.manual_seed(0)
    model = VAE(hidden=(8,), latent_dim=2)
    seen = []
    original_step = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    torch.optim.Adam.step = spy
    try:
        train_vae(model, digits(40)[0], epochs=2, batch_size=10, lr=0.01, lr_decay="cosine")
    finally:
        torch.optim.Adam.step = original_step
    expected = [0.005 * (1 + math.cos(math.pi * t / 8)) for t in range(8)]
    assert seen == pytest.approx(expected)
    with pytest.raises(ValueError, match="lr_decay"):
        train_vae(model, digits(8)[0], epochs=1, lr_decay="linear")


def test_latent_grid_sits_at_gaussian_quantiles():
    from scipy.stats import norm
    from edu_gen.vae import latent_grid
    grid = latent_grid(n=5, quantile=0.9)
    levels = norm.ppf([0.1, 0.3, 0.5, 0.7, 0.9])
    assert grid.shape == (25, 2)
    torch.testing.assert_close(grid[:5, 0], torch.tensor(levels, dtype=torch.float32))
    torch.testing.assert_close(grid[::5, 1], torch.tensor(levels[::-1].copy(), dtype=torch.float32))


def test_interpolation_ends_at_the_reconstructions():
    from edu_gen.vae import interpolate
    torch.manual_seed(0)
    model = VAE(hidden=(16,), latent_dim=3)
    x = digits(2)[0]
    path = interpolate(model, x[:1], x[1:], steps=5)
    torch.testing.assert_close(path[0], model.reconstruct(x[:1])[0])
    torch.testing.assert_close(path[-1], model.reconstruct(x[1:])[0])
    mu = model.encode(x)[0]
    torch.testing.assert_close(path[2], model.decode(mu.mean(0, keepdim=True))[0])


def test_training_steps_never_read_the_device(monkeypatch):
    """No .item() / float() per step: host reads do not grow with the number of steps."""
    x = digits(64)[0]
    calls = []
    original = torch.Tensor.item

    def counting_item(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    counts = []
    for batch_size in (32, 4):  # 2 steps, then 16 steps per epoch
        calls.clear()
        train_vae(VAE(hidden=(8,), latent_dim=2), x, epochs=2, batch_size=batch_size,
                  lr_decay="cosine", kl_warmup_epochs=1)
        counts.append(len(calls))
    assert counts[0] == counts[1], counts


def test_grey_fraction_counts_the_pixels_strictly_between_the_bounds():
    images = torch.tensor([0.0, 0.2, 0.21, 0.5, 0.79, 0.8, 1.0, 0.5]).view(2, 1, 2, 2)
    assert grey_fraction(images) == 4 / 8           # 0.21, 0.5, 0.79 and 0.5
    assert grey_fraction(torch.randint(0, 2, (4, 1, 28, 28)).float()) == 0.0

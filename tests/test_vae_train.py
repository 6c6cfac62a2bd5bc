"""edu_gen.vae_train: the negative ELBO against torch.distributions, with planted classic
bugs it must not match; the step against a textbook step written from torch alone;
beta, free bits, KL warm-up; training on real digits; clear errors for bad input."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from edu_gen.data import load_mnist
from edu_gen.train import TrainingDiverged
from edu_gen.vae import VAE
from edu_gen.vae_train import negative_elbo, train_vae, vae_step


def digits(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def oracle_terms(model, x, labels=None, seed=0):
    """-log p(x|z) and KL(q || N(0, I)) per dimension by torch.distributions, with the code z
    drawn from the same noise as ``negative_elbo`` draws after ``torch.manual_seed(seed)``."""
    mu, logvar = model.encode(x, labels)
    torch.manual_seed(seed)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = mu + q.stddev * torch.randn(mu.shape)
    decoder = Independent(Bernoulli(logits=model.decode_logits(z, labels)), 1)
    return -decoder.log_prob(x.reshape(len(x), 784)), kl_divergence(q, Normal(0.0, 1.0))


def matches_the_oracle(fn, model, x, labels=None):
    torch.manual_seed(0)
    distortion, kl = fn(model, x, labels)
    expected_distortion, expected_kl = oracle_terms(model, x, labels)
    return (distortion.shape == expected_distortion.shape and kl.shape == expected_kl.shape
            and torch.allclose(distortion, expected_distortion, rtol=1e-4, atol=1e-3)
            and torch.allclose(kl, expected_kl, rtol=1e-4, atol=1e-5))


# Planted bugs: each is a mistake found in tutorials; the oracle comparison must reject it.
def pixels_averaged(model, x, labels=None):
    distortion, kl = negative_elbo(model, x, labels)
    return distortion / 784, kl          # F.binary_cross_entropy's default averages pixels


def kl_sign_flipped(model, x, labels=None):
    distortion, kl = negative_elbo(model, x, labels)
    return distortion, -kl


def z_without_mu_and_sigma(model, x, labels=None):
    mu, logvar = model.encode(x, labels)
    z = torch.randn_like(mu)             # z ~ N(0, I): the code ignores the encoder
    logits = model.decode_logits(z, labels)
    distortion = F.binary_cross_entropy_with_logits(logits, x.reshape(len(x), -1),
                                                    reduction="none").sum(1)
    return distortion, 0.5 * (mu ** 2 + logvar.exp() - logvar - 1)


@pytest.mark.parametrize("options", [dict(hidden=(32,)), dict(conv=True)])
def test_negative_elbo_matches_torch_distributions(options):
    torch.manual_seed(1)
    model = VAE(latent_dim=3, **options)
    x = torch.bernoulli(digits(8)[0])
    assert matches_the_oracle(negative_elbo, model, x)
    y = torch.arange(8)
    assert matches_the_oracle(negative_elbo, VAE(latent_dim=3, n_classes=10, **options), x, y)


@pytest.mark.parametrize("bug", [pixels_averaged, kl_sign_flipped, z_without_mu_and_sigma])
def test_planted_bugs_do_not_match_the_oracle(bug):
    torch.manual_seed(1)
    model = VAE(hidden=(32,), latent_dim=3)
    with torch.no_grad():                # a posterior far from N(0, 1): every bug shows
        model.encoder[-1].bias.add_(1.0)
    assert not matches_the_oracle(bug, model, torch.bernoulli(digits(8)[0]))


def textbook_step(model, optimizer, x):
    """One step written from torch alone, as pytorch/examples writes it."""
    mu, logvar = model.encoder(x.view(-1, 784)).chunk(2, dim=1)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    bce = F.binary_cross_entropy_with_logits(model.decoder(z), x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    loss = (bce + kld) / len(x)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def test_vae_step_is_the_textbook_step():
    torch.manual_seed(0)
    ours = VAE(hidden=(32,), latent_dim=4)
    theirs = copy.deepcopy(ours)
    x = torch.bernoulli(digits(16)[0])
    for _ in range(3):
        seed = torch.seed()
        metrics = vae_step(ours, torch.optim.SGD(ours.parameters(), lr=0.01), x)
        torch.manual_seed(seed)
        loss = textbook_step(theirs, torch.optim.SGD(theirs.parameters(), lr=0.01), x)
        torch.testing.assert_close(metrics["loss"], loss.detach())
        torch.testing.assert_close(metrics["neg_elbo"], loss.detach())  # beta = 1
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b)


def test_beta_weights_the_rate_and_free_bits_hold_each_dimension_at_lambda():
    model = VAE(hidden=(32,), latent_dim=5)
    x = torch.bernoulli(digits(16)[0])
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)
    torch.manual_seed(0)
    plain = vae_step(model, frozen, x)
    torch.manual_seed(0)
    beta = vae_step(model, frozen, x, beta=4.0)
    torch.testing.assert_close(beta["loss"], plain["distortion"] + 4.0 * plain["rate"])
    torch.manual_seed(0)
    held = vae_step(model, frozen, x, free_bits=10.0)   # every KL_j is below 10 nats here
    assert held["rate"] < 10.0
    torch.testing.assert_close(held["loss"], held["distortion"] + 5 * 10.0)


def test_training_improves_the_elbo_and_warmup_lowers_beta():
    torch.manual_seed(0)
    x = load_mnist("train", small=True)[0][:512]
    history = train_vae(VAE(hidden=(64,), latent_dim=4), x, epochs=3, batch_size=64)
    assert set(history) == {"loss", "neg_elbo", "distortion", "rate"}
    assert history["neg_elbo"][-1] < history["neg_elbo"][0] - 40
    warm = train_vae(VAE(hidden=(64,), latent_dim=4), x, epochs=1, kl_warmup_epochs=5)
    assert warm["loss"][0] < warm["neg_elbo"][0], "during warm-up beta < 1, so loss < -ELBO"


def test_a_conditional_vae_trains_on_labels():
    x, y = digits(32)
    history = train_vae(VAE(hidden=(16,), latent_dim=2, n_classes=10), x, epochs=1,
                        batch_size=8, labels=y)
    assert len(history["loss"]) == 1


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("images, message", [
    (torch.rand(10, 28, 28), r"without the channel axis.*unsqueeze\(1\)"),
    (torch.rand(10, 1, 32, 32), r"28x28.*got \(10, 1, 32, 32\); resize"),
    (torch.rand(0, 1, 28, 28), "empty"),
    (torch.rand(10, 1, 28, 28) * 255, r"\[0, 1\].*divide 0\.\.255"),
    (torch.full((10, 1, 28, 28), float("nan")), "NaN"),
    (torch.rand(10, 1, 28, 28).index_put_((torch.tensor(3),), torch.tensor(float("nan"))),
     "NaN or infinite"),                                     # one NaN image among valid ones
    (torch.rand(10, 1, 28, 28).index_put_((torch.tensor(3),), torch.tensor(float("inf"))),
     "NaN or infinite"),
    (torch.randint(0, 2, (10, 1, 28, 28)), "float"),
])
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        train_vae(VAE(hidden=(8,), latent_dim=2), images, epochs=1)


def test_bad_settings_and_labels_are_refused():
    x, y = digits(8)
    model = VAE(hidden=(8,), latent_dim=2)
    with pytest.raises(ValueError, match="beta"):
        train_vae(model, x, epochs=1, beta=-1.0)
    with pytest.raises(ValueError, match="free_bits"):
        train_vae(model, x, epochs=1, free_bits=-1.0)
    with pytest.raises(ValueError, match="lr_decay must be True or False"):
        train_vae(model, x, epochs=1, lr_decay="cosine")
    with pytest.raises(ValueError, match="n_classes=10"):
        train_vae(model, x, epochs=1, labels=y)
    with pytest.raises(ValueError, match="needs labels"):
        train_vae(VAE(hidden=(8,), latent_dim=2, n_classes=10), x, epochs=1)


def test_nan_loss_stops_training():
    model = VAE(hidden=(8,), latent_dim=2)
    with torch.no_grad():
        model.encoder[-1].bias.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="became nan in epoch 1"):
        train_vae(model, digits(16)[0], epochs=1)


# --- what train_vae feeds its steps (issue 30: shuffling, binarization, warm-up) ------------

def recorded_steps(images, epochs, batch_size, **options):
    """Train a small VAE through a step that records each call's (x, labels, beta), then
    takes the real step; returns the records."""
    calls = []

    def recording_step(model, optimizer, x, labels, beta, free_bits):
        calls.append((x.clone(), labels, beta))
        return vae_step(model, optimizer, x, labels, beta, free_bits)

    torch.manual_seed(0)
    train_vae(VAE(hidden=(8,), latent_dim=2), images, epochs, batch_size=batch_size,
              step=recording_step, **options)
    return calls


def test_each_epoch_visits_every_image_once_in_a_fresh_random_order():
    """Image i is filled with the value i / N, so a batch names the images in it."""
    n, batch = 60, 16
    images = (torch.arange(n) / n).view(n, 1, 1, 1).expand(n, 1, 28, 28).contiguous()
    calls = recorded_steps(images, 3, batch, binarize=False)
    steps_per_epoch = 4                                      # 16 + 16 + 16 + 12
    orders = []
    for epoch in range(3):
        rows = [x[:, 0, 0, 0] * n for x, _, _ in calls[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]]
        assert [len(r) for r in rows] == [16, 16, 16, 12]
        order = torch.cat(rows).round().long()
        assert sorted(order.tolist()) == list(range(n)), "every image once per epoch"
        orders.append(order.tolist())
    assert orders[0] != list(range(n)), "the images are shuffled, not taken in order"
    assert len({tuple(order) for order in orders}) == 3, "each epoch draws a new order"


def test_binarize_draws_fresh_binary_digits_with_the_images_as_probabilities():
    """x_j ~ Bernoulli(x_j) anew in every batch: binary, mean x_j, different every epoch;
    binarize=False trains on the grey values themselves."""
    images = torch.full((64, 1, 28, 28), 0.3)
    calls = recorded_steps(images, 2, 64)
    first, second = calls[0][0], calls[1][0]
    for x in (first, second):
        assert set(x.unique().tolist()) == {0.0, 1.0}
        # 50,176 Bernoulli(0.3) draws: the mean has sd 0.002; 0.01 is 5 sd
        assert abs(x.mean().item() - 0.3) < 0.01
    assert (first != second).float().mean() > 0.3, "each epoch sees new binary digits"
    grey = recorded_steps(images, 1, 64, binarize=False)[0][0]
    assert torch.equal(grey, images)


def test_kl_warmup_raises_beta_linearly_from_zero_over_the_warmup_steps():
    """beta_t = beta * min(1, t / (warm-up epochs * steps per epoch)), t counting steps from 0."""
    calls = recorded_steps(torch.rand(40, 1, 28, 28), 4, 10, beta=2.0, kl_warmup_epochs=2)
    betas = [beta for _, _, beta in calls]                   # 4 steps an epoch, warm-up 8 steps
    assert betas == pytest.approx([2.0 * min(1.0, t / 8) for t in range(16)], abs=1e-12)
    assert [beta for _, _, beta in recorded_steps(torch.rand(40, 1, 28, 28), 2, 10)] == [1.0] * 8

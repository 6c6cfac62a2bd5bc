"""The GAN losses of edu_gen.gan_train against their definitions (binary_cross_entropy
oracles), the gradient penalty against critics whose gradient norm is known, and its
alpha against Uniform(0, 1)."""
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from edu_gen.gan_train import (LOSSES, discriminator_loss, generator_loss, gradient_penalty,
                               optimal_discriminator)

torch.manual_seed(0)
REAL = torch.randn(64) * 3
FAKE = torch.randn(64) * 3 - 1
EXTREME = torch.tensor([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4])


def bce(probabilities, target):
    """The oracle: torch's binary cross-entropy on probabilities (not on logits)."""
    return F.binary_cross_entropy(probabilities, torch.full_like(probabilities, target))


@pytest.mark.parametrize("name", ["minimax", "non-saturating"])
def test_discriminator_loss_is_the_negated_value_function(name):
    d_real, d_fake = torch.sigmoid(REAL.double()), torch.sigmoid(FAKE.double())
    expected = bce(d_real, 1.0) + bce(d_fake, 0.0)   # -[E log D(x) + E log(1 - D(G(z)))]
    torch.testing.assert_close(discriminator_loss(name, REAL.double(), FAKE.double()).double(),
                               expected, rtol=1e-5, atol=1e-6)


def test_label_smoothing_uses_the_smoothed_real_target():
    d_real, d_fake = torch.sigmoid(REAL.double()), torch.sigmoid(FAKE.double())
    expected = bce(d_real, 0.9) + bce(d_fake, 0.0)
    got = discriminator_loss("non-saturating", REAL.double(), FAKE.double(), label_smoothing=0.1)
    torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=1e-6)


def test_generator_losses_against_bce():
    d_fake = torch.sigmoid(FAKE.double())
    # minimax: E log(1 - D(G(z))) = -BCE(D(G(z)), 0); non-saturating: -E log D(G(z)) = BCE(., 1)
    torch.testing.assert_close(generator_loss("minimax", FAKE.double()).double(),
                               -bce(d_fake, 0.0), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(generator_loss("non-saturating", FAKE.double()).double(),
                               bce(d_fake, 1.0), rtol=1e-5, atol=1e-6)


def test_wasserstein_losses_against_their_definitions():
    torch.testing.assert_close(discriminator_loss("wasserstein", REAL, FAKE), FAKE.mean() - REAL.mean())
    torch.testing.assert_close(discriminator_loss("wgan-gp", REAL, FAKE), FAKE.mean() - REAL.mean())
    for name in ("wasserstein", "wgan-gp"):
        torch.testing.assert_close(generator_loss(name, FAKE), -FAKE.mean())


@pytest.mark.parametrize("name", LOSSES)
def test_no_nan_or_inf_for_extreme_logits(name):
    real = EXTREME.clone().requires_grad_(True)
    fake = EXTREME.flip(0).clone().requires_grad_(True)
    d_loss = discriminator_loss(name, real, fake)
    g_loss = generator_loss(name, fake)
    (d_loss + g_loss).backward()
    for value in (d_loss, g_loss, real.grad, fake.grad):
        assert torch.isfinite(value).all(), f"{name}: {value}"


def test_extreme_logits_give_the_right_limits():
    # D sure and right: loss ~0; D sure and wrong by a logit of 100: loss ~100 nats (not inf).
    right = discriminator_loss("minimax", torch.tensor([100.0]), torch.tensor([-100.0]))
    wrong = discriminator_loss("minimax", torch.tensor([-100.0]), torch.tensor([-100.0]))
    assert right < 1e-6 and abs(wrong - 100.0) < 1e-3


def test_unknown_loss_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown GAN loss 'lsgan'.*non-saturating"):
        discriminator_loss("lsgan", REAL, FAKE)
    with pytest.raises(ValueError, match="unknown GAN loss"):
        generator_loss("minmax", FAKE)


def test_label_smoothing_is_checked():
    with pytest.raises(ValueError, match="label_smoothing"):
        discriminator_loss("minimax", REAL, FAKE, label_smoothing=1.5)
    with pytest.raises(ValueError, match="label smoothing applies"):
        discriminator_loss("wasserstein", REAL, FAKE, label_smoothing=0.1)


# --- the gradient penalty -------------------------------------------------------------
# The critics take (x, labels) as the discriminators do.

def test_gradient_penalty_is_zero_for_a_unit_norm_gradient_critic():
    w = torch.randn(2, 3, 3)
    w = w / w.norm()                                  # f(x) = <w, x>: ||grad f|| = 1 everywhere
    critic = lambda x, labels: (x * w).flatten(1).sum(1)
    real, fake = torch.randn(128, 2, 3, 3), torch.randn(128, 2, 3, 3)
    assert gradient_penalty(critic, real, fake) < 1e-10
    norm_critic = lambda x, labels: x.flatten(1).norm(dim=1)  # ||x||: unit gradient away from 0
    assert gradient_penalty(norm_critic, real, fake) < 1e-10


def test_gradient_penalty_equals_the_closed_form_for_a_scaled_critic():
    w = torch.randn(5)
    w = 3.0 * w / w.norm()                            # ||grad|| = 3 -> penalty (3 - 1)^2 = 4
    critic = lambda x, labels: x @ w
    torch.testing.assert_close(gradient_penalty(critic, torch.randn(64, 5), torch.randn(64, 5)),
                               torch.tensor(4.0))


def test_gradient_penalty_trains_the_critic():
    w = torch.full((4,), 1.0, requires_grad=True)     # ||grad|| = 2 -> d/dw (||w|| - 1)^2 != 0
    gradient_penalty(lambda x, labels: x @ w, torch.randn(8, 4), torch.randn(8, 4)).backward()
    expected = 2 * (w.detach().norm() - 1) * w.detach() / w.detach().norm()
    torch.testing.assert_close(w.grad, expected)


def alphas_seen_by_the_critic(n=4000):
    """Between real = 0 and unit-norm fakes, x_hat = (1 - alpha) fake: the critic recovers
    each example's alpha as 1 - ||x_hat||."""
    torch.manual_seed(0)
    fake = torch.randn(n, 1, 2, 2)
    fake = fake / fake.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    seen = []

    def recording_critic(x, labels):
        seen.append(1 - x.detach().flatten(1).norm(dim=1))
        return 0.5 * (x ** 2).flatten(1).sum(1)      # ||grad f(x_hat)|| = 1 - alpha
    penalty = gradient_penalty(recording_critic, torch.zeros_like(fake), fake).item()
    return seen[0], penalty


def normal_alpha(monkeypatch):
    """A classic bug, planted: alpha drawn from a normal instead of Uniform(0, 1)."""
    monkeypatch.setattr(torch, "rand", lambda *shape, **options: torch.randn(*shape, **options))


def test_alpha_is_uniform_per_example_and_the_penalty_is_its_second_moment():
    alpha, penalty = alphas_seen_by_the_critic()
    assert stats.kstest(alpha.numpy(), "uniform").pvalue > 1e-3
    assert alpha.std() > 0.25, "Uniform(0, 1) has sd 0.289; one shared alpha would give 0"
    assert abs(penalty - 1 / 3) < 0.02               # E[alpha^2] = 1/3 for alpha ~ U(0, 1)


def test_a_normal_alpha_fails_both_checks(monkeypatch):
    normal_alpha(monkeypatch)
    alpha, penalty = alphas_seen_by_the_critic()
    assert stats.kstest(alpha.numpy(), "uniform").pvalue < 1e-6
    assert abs(penalty - 1 / 3) > 0.1                # about 0.67 with a normal alpha


def test_gradient_penalty_checks_shapes():
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(lambda x, labels: x.sum(1), torch.zeros(4, 2), torch.zeros(5, 2))


def test_optimal_discriminator_against_scipy_densities():
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    p_data, p_g = stats.norm(0, 1).pdf(x.numpy()), stats.norm(1, 0.5).pdf(x.numpy())
    d_star = optimal_discriminator(torch.from_numpy(p_data), torch.from_numpy(p_g))
    # D*/(1 - D*) = p_data/p_g: the density ratio, computed with log-densities as an oracle
    log_ratio = stats.norm(0, 1).logpdf(x.numpy()) - stats.norm(1, 0.5).logpdf(x.numpy())
    torch.testing.assert_close(torch.logit(d_star), torch.from_numpy(log_ratio), rtol=1e-5, atol=1e-6)

"""The exercise checks accept right answers and reject the classic wrong ones."""
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal

from edu_gen import elbo, exercises, gan_train
from edu_gen.exercises import ExerciseError


def right_elbo(logits, x, mu, logvar):
    return elbo.elbo(elbo.bernoulli_log_likelihood(logits, x), elbo.gaussian_kl(mu, logvar))


RIGHT = [
    (exercises.check_gaussian_kl, elbo.gaussian_kl),
    (exercises.check_reparameterize, elbo.reparameterize),
    (exercises.check_bernoulli_elbo, right_elbo),
    (exercises.check_discriminator_loss,
     lambda r, f: gan_train.discriminator_loss("non-saturating", r, f)),
    (exercises.check_generator_loss, lambda f: gan_train.generator_loss("non-saturating", f)),
    (exercises.check_optimal_discriminator, gan_train.optimal_discriminator),
]

WRONG = {
    "kl averaged over dimensions": (
        exercises.check_gaussian_kl,
        lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).mean(-1)),
    "kl with the wrong sign": (
        exercises.check_gaussian_kl, lambda mu, lv: -0.5 * (mu**2 + lv.exp() - lv - 1).sum(-1)),
    "kl reading logvar as log sigma": (
        exercises.check_gaussian_kl,
        lambda mu, lv: 0.5 * (mu**2 + (2 * lv).exp() - 2 * lv - 1).sum(-1)),
    "z sampled without mu and sigma": (
        exercises.check_reparameterize, lambda mu, lv: torch.randn_like(mu)),
    "z sampled outside the graph": (
        exercises.check_reparameterize, lambda mu, lv: torch.normal(mu.detach(), (0.5 * lv).exp().detach())),
    "z sampled by torch.normal": (
        exercises.check_reparameterize, lambda mu, lv: torch.normal(mu, (0.5 * lv).exp())),
    "z sampled by Normal.sample": (
        exercises.check_reparameterize, lambda mu, lv: Normal(mu, (0.5 * lv).exp()).sample()),
    "sigma detached": (
        exercises.check_reparameterize, lambda mu, lv: mu + (0.5 * lv).exp().detach() * torch.randn_like(mu)),
    "noise drawn by torch.normal(0, sigma)": (
        exercises.check_reparameterize,
        lambda mu, lv: mu + torch.normal(torch.zeros_like(mu), (0.5 * lv).exp())),
    "sigma = exp(logvar)": (
        exercises.check_reparameterize, lambda mu, lv: mu + lv.exp() * torch.randn_like(mu)),
    "reconstruction averaged over pixels": (
        exercises.check_bernoulli_elbo,
        lambda lg, x, mu, lv: -F.binary_cross_entropy_with_logits(lg, x, reduction="none").mean(-1)
        - elbo.gaussian_kl(mu, lv)),
    "the loss instead of the elbo": (
        exercises.check_bernoulli_elbo, lambda lg, x, mu, lv: -right_elbo(lg, x, mu, lv)),
    "log of sigmoid": (
        exercises.check_bernoulli_elbo,
        lambda lg, x, mu, lv: (x * torch.sigmoid(lg).log() + (1 - x) * (1 - torch.sigmoid(lg)).log()).sum(-1)
        - elbo.gaussian_kl(mu, lv)),
    "labels swapped": (
        exercises.check_discriminator_loss, lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean()),
    "probabilities, not logits": (
        exercises.check_discriminator_loss,
        lambda r, f: -(torch.sigmoid(r).log().mean() + (1 - torch.sigmoid(f)).log().mean())),
    "the saturating generator loss": (
        exercises.check_generator_loss, lambda f: -F.softplus(f).mean()),
    "d* upside down": (
        exercises.check_optimal_discriminator, lambda pd, pg: pg / (pd + pg)),
}


@pytest.mark.parametrize("check, fn", RIGHT, ids=[c.__name__ for c, _ in RIGHT])
def test_a_right_answer_passes(check, fn, capsys):
    assert check(fn) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("name", WRONG)
def test_a_classic_mistake_is_rejected(name):
    check, fn = WRONG[name]
    with pytest.raises(ExerciseError):
        check(fn)


def test_torch_normal_is_told_that_its_gradient_is_zero():
    # torch.normal(mu, sigma) keeps z in the graph (z.requires_grad is True) but PyTorch
    # defines its derivative as 0: the student must hear that, not "dz/dmu should be 1"
    mu = torch.zeros(3, requires_grad=True)
    z = torch.normal(mu, torch.ones(3))
    assert z.requires_grad
    z.sum().backward()
    assert mu.grad is not None and not mu.grad.any()
    with pytest.raises(ExerciseError, match="gradient that reaches mu and logvar is zero"):
        exercises.check_reparameterize(WRONG["z sampled by torch.normal"][1])
    with pytest.raises(ExerciseError, match="outside the graph"):
        exercises.check_reparameterize(WRONG["z sampled by Normal.sample"][1])
    with pytest.raises(ExerciseError, match="no gradient reaches logvar"):
        exercises.check_reparameterize(WRONG["sigma detached"][1])
    # mu + torch.normal(0, sigma): dz/dmu = 1 but dz/dlogvar = 0
    with pytest.raises(ExerciseError, match=r"dz/dlogvar should be \(z - mu\) / 2"):
        exercises.check_reparameterize(WRONG["noise drawn by torch.normal(0, sigma)"][1])


def test_not_implemented_says_so():
    def todo(mu, logvar):
        raise NotImplementedError
    with pytest.raises(ExerciseError, match="not implemented yet"):
        exercises.check_gaussian_kl(todo)


def test_expect_rejected_fails_when_the_check_accepts():
    with pytest.raises(AssertionError, match="accepted a wrong"):
        exercises.expect_rejected(exercises.check_gaussian_kl, elbo.gaussian_kl)
    assert "Sum over" in exercises.expect_rejected(*WRONG["kl averaged over dimensions"])

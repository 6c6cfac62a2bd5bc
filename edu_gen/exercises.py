"""Automatic checks for the book's exercises.

Each ``check_*`` function takes *your* implementation, runs it on random inputs and
compares it with an independent oracle (``torch.distributions``, ``binary_cross_entropy``,
a closed form). It prints one line when everything agrees; otherwise it raises
``ExerciseError`` whose message says which case failed and what the usual mistake is.

    from edu_gen.exercises import check_gaussian_kl

    def my_kl(mu, logvar):
        ...
    check_gaussian_kl(my_kl)

The oracles never call ``edu_gen``'s own implementation, so the checks test the
mathematics, not agreement with the package. The random inputs come from
``edu_gen.runtime.generator``: fixed, and shifted by ``EDU_GEN_SEED_OFFSET`` in the margin sweep.
"""
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from .runtime import generator


class ExerciseError(AssertionError):
    """Your implementation disagrees with the oracle; the message says where and why."""


def _run(fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise ExerciseError("not implemented yet: replace `raise NotImplementedError` "
                            "with your code") from None


def _expect(condition, message):
    if not condition:
        raise ExerciseError(message)


def _expect_close(yours, oracle, what, hint=""):
    _expect(torch.is_tensor(yours), f"{what}: return a tensor, got {type(yours).__name__}")
    _expect(yours.shape == oracle.shape,
            f"{what}: expected shape {tuple(oracle.shape)}, got {tuple(yours.shape)}. {hint}")
    _expect(bool(torch.isfinite(yours).all()), f"{what}: your result has NaN or inf. {hint}")
    error = (yours.double() - oracle.double()).abs().max().item()
    scale = oracle.double().abs().max().item() + 1.0
    _expect(error <= 1e-4 * scale,
            f"{what}: off by up to {error:.4g} (values around {scale - 1:.3g}). {hint}")


def _passed(name, cases):
    print(f"{name}: correct ({cases} cases checked)")
    return True


def _gaussians(n=64, d=5, seed=0):
    g = generator(seed)
    mu = torch.randn(n, d, generator=g) * 2
    logvar = torch.randn(n, d, generator=g) * 1.5
    return mu, logvar


def check_gaussian_kl(fn):
    """``fn(mu, logvar)``: KL(N(mu, diag exp(logvar)) || N(0, I)), one value per row (Eq. (kl))."""
    mu, logvar = _gaussians()
    oracle = kl_divergence(Independent(Normal(mu, (0.5 * logvar).exp()), 1),
                           Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1))
    yours = _run(fn, mu, logvar)
    _expect_close(yours, oracle, "KL of random Gaussians",
                  "Sum over the latent dimensions (last axis), do not average; the terms are "
                  "1/2 (mu^2 + exp(logvar) - logvar - 1).")
    zero = _run(fn, torch.zeros(3, 4), torch.zeros(3, 4))
    _expect_close(zero, torch.zeros(3), "KL of N(0, I) from itself", "It must be exactly 0.")
    return _passed("gaussian_kl", 2)


def check_reparameterize(fn, n=200_000):
    """``fn(mu, logvar)``: a sample z ~ N(mu, diag exp(logvar)) that gradients flow through."""
    mu = torch.tensor([[1.5, -2.0, 0.0]]).repeat(n, 1).requires_grad_(True)
    logvar = torch.tensor([[0.0, 1.0, -2.0]]).repeat(n, 1).requires_grad_(True)
    z = _run(fn, mu, logvar)
    _expect(torch.is_tensor(z) and z.shape == mu.shape,
            f"expected a tensor of shape {tuple(mu.shape)}, got {getattr(z, 'shape', type(z))}")
    sd = (0.5 * logvar[0]).exp()
    # n samples: the sample mean is within 5 standard errors of mu (fails by chance ~1e-6).
    mean_error = (z.mean(0) - mu[0]).abs() / (sd / n ** 0.5)
    _expect(bool((mean_error < 5).all()), "the samples' mean is not mu: z = mu + sigma * eps")
    _expect(bool(((z.std(0) / sd - 1).abs() < 0.02).all()),
            "the samples' standard deviation is not exp(logvar / 2): "
            "logvar is log sigma^2, so sigma = exp(0.5 * logvar)")
    _expect(z.requires_grad,
            "z is not connected to mu and logvar, so no gradient reaches the encoder: "
            "Normal(mu, sigma).sample(), .detach() and torch.no_grad() all draw z outside "
            "the graph. Build z = mu + exp(0.5 * logvar) * eps with eps = torch.randn_like(mu).")
    z.sum().backward()
    missing = [name for name, t in (("mu", mu), ("logvar", logvar)) if t.grad is None]
    _expect(not missing, f"no gradient reaches {' or '.join(missing)}: keep both in the graph, "
            "z = mu + exp(0.5 * logvar) * eps (no .detach() on either)")
    _expect(bool(mu.grad.any() or logvar.grad.any()),
            "the gradient that reaches mu and logvar is zero, so the encoder learns nothing: "
            "torch.normal(mu, sigma) draws z with a derivative of 0 for mu and sigma (it "
            "raises no error). Build z = mu + exp(0.5 * logvar) * eps with "
            "eps = torch.randn_like(mu).")
    _expect(bool(torch.allclose(mu.grad, torch.ones_like(mu))),
            "dz/dmu should be 1: z = mu + sigma * eps")
    # dz/dlogvar = sigma * eps / 2 = (z - mu) / 2 for z = mu + exp(logvar / 2) * eps
    _expect(bool(torch.allclose(logvar.grad, 0.5 * (z - mu).detach(), atol=1e-5)),
            "dz/dlogvar should be (z - mu) / 2: sigma = exp(0.5 * logvar), times eps")
    return _passed("reparameterize", 5)


def check_bernoulli_elbo(fn):
    """``fn(logits, x, mu, logvar)``: one-sample ELBO per image with a Bernoulli decoder.

    ``logits`` (N, 784) decode a sample z ~ q(z|x); ``x`` (N, 784) is binary;
    ELBO = log p(x|z) - KL(q(z|x) || N(0, I)) (Eq. (elbo)), summed over pixels.
    """
    g = generator(1)
    logits = torch.randn(32, 784, generator=g) * 4
    x = (torch.rand(32, 784, generator=g) < 0.3).float()
    mu, logvar = _gaussians(32, 8, seed=2)
    log_px = Independent(Bernoulli(logits=logits), 1).log_prob(x)
    kl = kl_divergence(Independent(Normal(mu, (0.5 * logvar).exp()), 1),
                       Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1))
    yours = _run(fn, logits, x, mu, logvar)
    hint = ("Sum log p(x|z) over the 784 pixels (averaging them, as F.binary_cross_entropy's "
            "default does, makes the KL 784 times too strong), and subtract the KL.")
    if torch.is_tensor(yours) and yours.shape == log_px.shape:
        _expect(not torch.allclose(yours, -log_px + kl, atol=1e-3),
                "you returned the loss (-ELBO); the exercise asks for the ELBO itself")
    _expect_close(yours, log_px - kl, "ELBO of random images", hint)
    extreme = _run(fn, torch.full((2, 784), 1e4), torch.zeros(2, 784),
                   torch.zeros(2, 8), torch.zeros(2, 8))
    _expect_close(extreme, torch.full((2,), -784e4), "ELBO at logits of 1e4",
                  "Compute log sigmoid with F.logsigmoid or binary_cross_entropy_with_logits, "
                  "never log(sigmoid(.)), which gives log(0) = -inf.")
    return _passed("bernoulli_elbo", 2)


def check_discriminator_loss(fn):
    """``fn(real_logits, fake_logits)``: -[log D(x) + log(1 - D(G(z)))], batch means (Eq. (value))."""
    g = generator(3)
    real, fake = torch.randn(128, generator=g) * 3, torch.randn(128, generator=g) * 3
    ones, zeros = torch.ones_like(real), torch.zeros_like(fake)
    oracle = (F.binary_cross_entropy(torch.sigmoid(real), ones)
              + F.binary_cross_entropy(torch.sigmoid(fake), zeros))
    _expect_close(_run(fn, real, fake), oracle, "discriminator loss",
                  "Real examples have label 1, generated ones label 0; each term is a mean.")
    hint = ("Work with logits (F.softplus or binary_cross_entropy_with_logits): "
            "sigmoid(200) rounds to 1, and log(1 - 1) is -inf.")
    right = _run(fn, torch.tensor([200.0]), torch.tensor([-200.0]))
    _expect_close(right, torch.tensor(0.0), "a perfect discriminator's loss (logits +-200)", hint)
    wrong = _run(fn, torch.tensor([-200.0]), torch.tensor([200.0]))
    _expect_close(wrong, torch.tensor(400.0), "a completely wrong discriminator's loss", hint)
    return _passed("discriminator_loss", 3)


def check_generator_loss(fn):
    """``fn(fake_logits)``: the non-saturating generator loss -log D(G(z)), a batch mean."""
    g = generator(4)
    fake = (torch.randn(128, generator=g) * 3).requires_grad_(True)
    oracle = F.binary_cross_entropy(torch.sigmoid(fake.detach()), torch.ones(128))
    yours = _run(fn, fake)
    _expect_close(yours.detach() if torch.is_tensor(yours) else yours, oracle,
                  "non-saturating generator loss",
                  "The generator wants D(G(z)) = 1: the loss is -log D(G(z)), not log(1 - D(G(z))).")
    confident = torch.tensor([-20.0], requires_grad=True)
    _run(fn, confident).backward()
    _expect(confident.grad is not None and confident.grad.abs().item() > 0.5,
            "when D confidently rejects a sample (logit -20) the gradient must stay large: "
            "that is the point of the non-saturating loss")
    return _passed("generator_loss", 2)


def check_optimal_discriminator(fn):
    """``fn(p_data, p_g)``: D*(x) from the two densities at x (Eq. (d-star))."""
    x = torch.linspace(-4, 4, 101)
    p_data = Normal(1.0, 0.5).log_prob(x).exp()
    p_g = Normal(-1.0, 1.0).log_prob(x).exp()
    yours = _run(fn, p_data, p_g)
    _expect_close(yours, p_data / (p_data + p_g), "D* of two Gaussians",
                  "D* is the probability that x came from the data: p_data / (p_data + p_g).")
    half = _run(fn, p_data, p_data)
    _expect_close(half, torch.full_like(x, 0.5), "D* when p_g = p_data", "It must be 1/2 everywhere.")
    return _passed("optimal_discriminator", 2)


def expect_rejected(check, wrong_fn):
    """Return the message with which ``check`` rejects ``wrong_fn``; fail if it accepts it.

    The book uses this to show that each check catches a classic mistake.
    """
    try:
        check(wrong_fn)
    except ExerciseError as error:
        print(f"rejected, as it should be: {error}")
        return str(error)
    raise AssertionError(f"{check.__name__} accepted a wrong implementation")

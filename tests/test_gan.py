"""Generators, discriminators and the GAN training step: shapes, clear errors, spectral
normalization against torch.linalg, the 1D optimal discriminator against its closed form,
and planted classic bugs that the tests catch."""
import copy

import pytest
import torch
from scipy import stats
from torch import nn
from torch.nn.utils import parametrize

from edu_gen.gan import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                         Snapshots, apply_spectral_norm, has_batch_norm)
from edu_gen.gan_diagnosis import GAN_DIVERGED_HINT, divergence_cause
from edu_gen.gan_train import (discriminator_loss, discriminator_step, generator_loss,
                               generator_step, train_discriminator, train_gan)
from edu_gen.train import TrainingDiverged, adam


def test_dcgan_shapes_and_init():
    torch.manual_seed(0)
    g, d = DCGANGenerator(latent_dim=16, ngf=8), DCGANDiscriminator(ndf=8)
    x = g(g.sample_noise(5))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1.0
    assert d(x).shape == (5,)
    conv = g.net[0].weight
    assert abs(conv.mean()) < 0.002 and abs(conv.std() - 0.02) < 0.002  # N(0, 0.02)
    bn = g.net[1].weight
    assert abs(bn.mean() - 1.0) < 0.01


def test_conditional_models_take_labels():
    g = DCGANGenerator(latent_dim=8, ngf=4, n_classes=10)
    d = DCGANDiscriminator(ndf=4, n_classes=10)
    labels = torch.arange(10)
    x = g(g.sample_noise(10), labels)
    assert d(x, labels).shape == (10,)
    # the label changes the image for the same noise
    z = g.sample_noise(1).repeat(2, 1)
    g.eval()
    a, b = g(z, torch.tensor([1, 7]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="conditional on 10 classes"):
        g(g.sample_noise(3))
    with pytest.raises(ValueError, match=r"labels of shape \(3,\)"):
        g(g.sample_noise(3), torch.zeros(4, dtype=torch.long))


def test_wrong_latent_size_and_shapes_are_clear_errors():
    g = MLPGenerator(latent_dim=2)
    with pytest.raises(ValueError, match=r"noise of shape \(N, 2\).*sample_noise"):
        g(torch.randn(4, 3))
    with pytest.raises(ValueError, match="not conditional"):
        g(torch.randn(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        DCGANDiscriminator(ndf=4)(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        MLPDiscriminator((2,))(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="divisible by 4"):
        MLPDiscriminator((2,), pack=4)(torch.zeros(6, 2))


def test_pacgan_packs_examples():
    d = MLPDiscriminator((2,), hidden=8, pack=4)
    x = torch.randn(12, 2)
    assert d(x).shape == (3,)
    assert d.net[0].in_features == 8
    # one logit per pack: the first pack's score is the packed examples' joint score
    torch.testing.assert_close(d(x)[:1], d.net(x[:4].reshape(1, 8)).squeeze(1))


def lipschitz_bound_holds(discriminator, n=512):
    """Largest input-gradient norm of D over random points, and each layer's sigma_max."""
    x = (3 * torch.randn(n, 6)).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x)
    weights = [m.weight for m in discriminator.modules() if isinstance(m, nn.Linear)]
    sigmas = [torch.linalg.matrix_norm(w.detach(), ord=2).item() for w in weights]
    return grad.norm(dim=1).max().item(), sigmas


def test_spectral_norm_bounds_the_lipschitz_constant():
    torch.manual_seed(0)
    d = MLPDiscriminator((6,), hidden=64, layers=3, spectral_norm=True)
    with torch.no_grad():
        for _ in range(30):          # power iterations run in training-mode forward passes
            d(torch.randn(8, 6))
    d.eval()
    grad_max, sigmas = lipschitz_bound_holds(d)
    assert all(abs(s - 1.0) < 0.02 for s in sigmas), sigmas   # each layer: sigma_max = 1
    assert grad_max <= 1.0 + 1e-3                               # the network: 1-Lipschitz
    plain = MLPDiscriminator((6,), hidden=64, layers=3)
    grad_plain, sigmas_plain = lipschitz_bound_holds(plain)
    assert max(sigmas_plain) > 1.2   # a normal init is not normalized: the test can tell


def test_spectral_norm_covers_convolutions():
    d = DCGANDiscriminator(ndf=4, batch_norm=False, spectral_norm=True)
    assert all(hasattr(m, "parametrizations") for m in d.modules() if isinstance(m, nn.Conv2d))
    assert len([m for m in d.modules() if isinstance(m, nn.Conv2d)]) == 3


def test_discriminator_step_normalizes_each_weight_once():
    """Spectral normalization inside one D step: one power iteration a layer for the real
    and the fake call together (not one per call), and the same loss as a plain D whose
    weights are set to those normalized weights."""
    torch.manual_seed(0)
    d = MLPDiscriminator((2,), hidden=16, layers=2, spectral_norm=True)
    norms = [m.parametrizations.weight[0] for m in d.modules()
             if isinstance(m, nn.Linear) and parametrize.is_parametrized(m)]
    calls = []
    for norm in norms:
        norm.register_forward_hook(lambda *args: calls.append(1))
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    metrics = discriminator_step(d, torch.optim.SGD(d.parameters(), lr=0.0), real, fake)
    assert len(calls) == len(norms) == 3
    d.eval()                     # eval: the weights normalized with the u, v of that step
    plain = MLPDiscriminator((2,), hidden=16, layers=2)
    with torch.no_grad():
        linears = [[m for m in net.modules() if isinstance(m, nn.Linear)] for net in (plain, d)]
        for mp, md in zip(*linears):
            mp.weight.copy_(md.weight)
            mp.bias.copy_(md.bias)
        expected = discriminator_loss("non-saturating", plain(real), plain(fake))
    assert torch.allclose(metrics["d_loss"], expected, atol=1e-6)


# --- planted bug 1: the generator step back-propagating into D -----------------------

def buggy_generator_step(generator, discriminator, optimizer, fake, labels=None,
                         loss="non-saturating"):
    """The bug: G's loss is back-propagated into D and one optimizer updates both."""
    g_loss = generator_loss(loss, discriminator(fake))
    optimizer.zero_grad()
    g_loss.backward()
    optimizer.step()
    return {"g_loss": g_loss.detach()}


def generator_step_leaves_d_alone(step, shared_optimizer):
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    params = list(g.parameters()) + (list(d.parameters()) if shared_optimizer else [])
    optimizer = adam(params, 1e-2)
    before = copy.deepcopy(d.state_dict())
    g_before = copy.deepcopy(g.state_dict())
    step(g, d, optimizer, g(g.sample_noise(64)))
    d_unchanged = all(torch.equal(before[k], v) for k, v in d.state_dict().items())
    d_no_grad = all(p.grad is None or not p.grad.any() for p in d.parameters())
    g_moved = any(not torch.equal(g_before[k], v) for k, v in g.state_dict().items())
    return d_unchanged and d_no_grad and g_moved and all(p.requires_grad for p in d.parameters())


def test_generator_step_does_not_touch_the_discriminator():
    assert generator_step_leaves_d_alone(generator_step, shared_optimizer=False)
    assert not generator_step_leaves_d_alone(buggy_generator_step, shared_optimizer=True)


def test_the_discriminator_is_unfrozen_even_when_the_generator_step_fails():
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8)
    with pytest.raises(ValueError):
        generator_step(g, d, adam(g.parameters()), torch.randn(4, 3))   # wrong shape for D
    assert all(p.requires_grad for p in d.parameters())


def buggy_discriminator_step(discriminator, optimizer, real, fake, labels=None,
                             loss="non-saturating"):
    """The bug: D's loss on G's fakes without .detach() back-propagates into G."""
    d_loss = discriminator_loss(loss, discriminator(real), discriminator(fake))
    optimizer.zero_grad()
    d_loss.backward()
    optimizer.step()
    return {"d_loss": d_loss.detach()}


def d_step_leaves_g_alone(step):
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    g_before = copy.deepcopy(g.state_dict())
    fake = g(g.sample_noise(64))                     # with its graph back to G
    metrics = step(d, adam(d.parameters(), 1e-2), torch.randn(64, 2), fake)
    unchanged = all(torch.equal(g_before[k], v) for k, v in g.state_dict().items())
    return unchanged and all(p.grad is None or not p.grad.any() for p in g.parameters()), metrics


def test_discriminator_step_does_not_reach_the_generator():
    leaves_g_alone, metrics = d_step_leaves_g_alone(discriminator_step)
    assert leaves_g_alone
    assert 0 < metrics["d_real"] < 1 and 0 < metrics["d_fake"] < 1
    assert metrics["d_grad_norm"] > 0
    assert not d_step_leaves_g_alone(buggy_discriminator_step)[0]


@pytest.mark.parametrize("loss, options, score", [
    ("non-saturating", {}, torch.sigmoid),                 # D(x): a probability
    ("wasserstein", {"weight_clip": 0.01}, lambda f: f),   # a critic's f(x), as it is
])
def test_discriminator_step_logs_the_mean_score_before_its_update(loss, options, score):
    torch.manual_seed(0)
    d = MLPDiscriminator((2,), hidden=16)
    real, fake = torch.randn(64, 2) + 2, torch.randn(64, 2)
    with torch.no_grad():
        expected = score(d(real)).mean(), score(d(fake)).mean()
    metrics = discriminator_step(d, adam(d.parameters(), 1e-2), real, fake, loss=loss, **options)
    torch.testing.assert_close((metrics["d_real"], metrics["d_fake"]), expected)


# --- planted bug 2: batch norm in a WGAN-GP critic -----------------------------------

def examples_are_independent(critic, n=6):
    """True when critic(x)_i depends on x_i only: the Jacobian between examples is 0,
    which the per-example gradient penalty assumes."""
    x = torch.randn(n, 1, 28, 28)
    jac = torch.autograd.functional.jacobian(lambda t: critic(t), x)   # (n, n, 1, 28, 28)
    off_diagonal = jac.flatten(2).norm(dim=2) * (1 - torch.eye(n))
    return off_diagonal.max().item() < 1e-6


def test_wgan_gp_critic_has_no_batch_norm_and_batch_norm_fails():
    torch.manual_seed(0)
    good = DCGANDiscriminator(ndf=4, batch_norm=False)
    buggy = DCGANDiscriminator(ndf=4, batch_norm=True)
    assert not has_batch_norm(good) and examples_are_independent(good)
    assert has_batch_norm(buggy) and not examples_are_independent(buggy)
    g = DCGANGenerator(latent_dim=4, ngf=4)
    data = torch.rand(8, 1, 28, 28) * 2 - 1
    with pytest.raises(ValueError, match="must not use batch norm"):
        train_gan(g, buggy, data, 1, loss="wgan-gp", batch_size=4)


# --- the 1D optimal discriminator ----------------------------------------------------

def test_discriminator_alone_converges_to_the_optimal_discriminator():
    torch.manual_seed(0)
    p_data, p_g = stats.norm(0.0, 1.0), stats.norm(1.5, 0.7)
    real = torch.randn(20000, 1)
    fake = 1.5 + 0.7 * torch.randn(20000, 1)
    d = MLPDiscriminator((1,), hidden=32, layers=2)
    history = train_discriminator(d, real, fake, epochs=15, lr=3e-3, batch_size=500)
    x = torch.linspace(-2.0, 3.0, 101)
    d_star = p_data.pdf(x.numpy()) / (p_data.pdf(x.numpy()) + p_g.pdf(x.numpy()))
    with torch.no_grad():
        learned = torch.sigmoid(d(x[:, None])).numpy()
    assert abs(learned - d_star).max() < 0.05, abs(learned - d_star).max()
    # and its loss approaches the minimum -V(D*, G) = log 4 - 2 JSD
    assert history["d_loss"][-1] < history["d_loss"][0]


# --- train_gan ----------------------------------------------------------------------

def test_train_gan_logs_every_metric_and_snapshots():
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    noise = g.sample_noise(10)
    snaps = Snapshots(g, noise, every=1)
    snaps.take(0)
    history = train_gan(g, d, torch.randn(512, 2), 2, batch_size=64, on_epoch_end=snaps)
    assert set(history) == {"d_loss", "d_real", "d_fake", "d_grad_norm", "g_loss", "g_grad_norm"}
    assert all(len(v) == 2 for v in history.values())
    assert [epoch for epoch, _ in snaps.samples] == [0, 1, 2]
    assert not torch.equal(snaps.samples[0][1], snaps.samples[-1][1])


def test_train_gan_n_critic_and_weight_clipping():
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    history = train_gan(g, d, torch.randn(640, 2), 1, loss="wasserstein", n_critic=5,
                        weight_clip=0.01, batch_size=64)
    assert all(p.abs().max() <= 0.01 for p in d.parameters())
    assert len(history["g_loss"]) == 1
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    history = train_gan(g, d, torch.randn(640, 2), 1, loss="wgan-gp", n_critic=5, batch_size=64)
    assert "gp" in history and history["gp"][0] >= 0


def test_conditional_train_gan():
    g = MLPGenerator(2, hidden=8, n_classes=3)
    d = MLPDiscriminator((2,), hidden=8, n_classes=3)
    history = train_gan(g, d, torch.randn(128, 2), 1, batch_size=32,
                        labels=torch.randint(3, (128,)))
    assert len(history["d_loss"]) == 1
    with pytest.raises(ValueError, match="needs labels"):
        train_gan(g, d, torch.randn(128, 2), 1, batch_size=32)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2"):
        train_gan(g, d, torch.randn(128, 2), 1, batch_size=32, labels=torch.full((128,), 3))


def test_train_gan_bad_input_is_a_clear_error():
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8)
    data = torch.randn(256, 2)
    with pytest.raises(ValueError, match="unknown GAN loss"):
        train_gan(g, d, data, 1, loss="lsgan")
    with pytest.raises(ValueError, match="needs a Lipschitz constraint"):
        train_gan(g, d, data, 1, loss="wasserstein")
    with pytest.raises(ValueError, match="n_critic"):
        train_gan(g, d, data, 1, n_critic=0)
    with pytest.raises(ValueError, match=r"makes examples of shape \(2,\).*\(3,\)"):
        train_gan(g, MLPDiscriminator((3,), hidden=8), torch.randn(256, 3), 1)
    with pytest.raises(ValueError, match="lower batch_size"):
        train_gan(g, d, data, 1, batch_size=512)
    with pytest.raises(ValueError, match="NaN"):
        train_gan(g, d, torch.full((256, 2), float("nan")), 1)
    with pytest.raises(ValueError, match=r"float tensor.*int64.*torch\.as_tensor"):
        train_gan(g, d, torch.randint(0, 5, (256, 2)), 1)
    with pytest.raises(ValueError, match=r"float tensor.*ndarray"):
        train_gan(g, d, data.numpy(), 1)
    conditional = MLPGenerator(2, hidden=8, n_classes=3)
    with pytest.raises(ValueError, match=r"integer tensor.*float32.*labels\.long\(\)"):
        train_gan(conditional, d, data, 1, labels=torch.zeros(256))
    with pytest.raises(ValueError, match=r"generator is on cpu and the discriminator on meta"):
        train_gan(g, MLPDiscriminator((2,), hidden=8).to("meta"), data, 1)


@pytest.mark.parametrize("generator, data", [
    (lambda: DCGANGenerator(latent_dim=8, ngf=4), torch.randint(0, 256, (64, 1, 28, 28)).float()),
    (lambda: MLPGenerator(8, (1, 28, 28), hidden=8, tanh=True), torch.rand(64, 1, 28, 28) * 255),
    (lambda: MLPGenerator(8, (1, 28, 28), hidden=8, tanh=True), torch.rand(64, 1, 28, 28) * 2 - 1.5),
])
def test_a_tanh_generator_refuses_data_beyond_minus_one_to_one(generator, data):
    """Issue 30: a tanh DCGAN trained on 0..255 pixels trained silently on data it can never make."""
    d = MLPDiscriminator((1, 28, 28), hidden=8)
    with pytest.raises(ValueError, match=r"outputs lie in \[-1, 1\].*tanh.*x / 127\.5 - 1"):
        train_gan(generator(), d, data, 1, batch_size=16)


def test_data_far_from_unit_scale_are_refused_and_unit_data_train():
    """A linear generator trains on data within +-1000 (DATA_SCALE); the ring scaled by 1e6 is
    refused, with the fix; [0, 1] pixels for a tanh generator are inside its range."""
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8)
    ring = torch.randn(128, 2)
    with pytest.raises(ValueError, match=r"standardize: \(data - data\.mean\(0\)\) / data\.std\(0\)"):
        train_gan(g, d, ring * 1e6, 1, batch_size=32)
    with pytest.raises(ValueError, match="standardize"):
        train_gan(g, d, ring.clamp(-1, 1) * 1001, 1, batch_size=32)
    train_gan(g, d, ring.clamp(-1, 1) * 999, 1, batch_size=32)
    train_gan(DCGANGenerator(latent_dim=8, ngf=4), DCGANDiscriminator(ndf=4),
              torch.rand(32, 1, 28, 28), 1, batch_size=16)


def test_nan_losses_stop_training_with_a_gan_hint():
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8)
    with torch.no_grad():
        d.net[-1].bias.fill_(float("nan"))     # a discriminator that already diverged
    with pytest.raises(TrainingDiverged, match="Usual GAN causes") as error:
        train_gan(g, d, torch.randn(256, 2), 2, batch_size=64)
    assert GAN_DIVERGED_HINT in str(error.value)
    assert "the discriminator's weights are NaN or infinite" in str(error.value)
    assert len(error.value.history["d_loss"]) == 1   # stopped after the first epoch


@pytest.mark.parametrize("loss, options, cause", [
    ("non-saturating", {}, "the discriminator's gradient norm reached inf"),
    ("wasserstein", {"weight_clip": 1e9}, "the critic's values ran away"),
])
def test_a_learning_rate_far_too_high_is_named_as_the_cause(loss, options, cause):
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    with pytest.raises(TrainingDiverged) as error:
        train_gan(g, d, torch.randn(1024, 2) + 3, 5, batch_size=64, lr=1e4, loss=loss,
                  **options)
    assert cause in str(error.value)
    assert "It broke in the first epoch: lr=10000 may be too high" in str(error.value)


def test_divergence_cause_reads_the_logs():
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8)
    good = dict(d_loss=1.3, d_real=0.6, d_fake=0.4, d_grad_norm=0.5, g_loss=0.8, g_grad_norm=0.5)
    winning = dict(good, d_real=0.999, d_fake=0.001)
    broken = dict(good, d_loss=float("nan"), g_grad_norm=5e4)
    history = {key: [good[key], winning[key], broken[key]] for key in good}
    cause = divergence_cause(history, g, d, False, 2e-4)
    assert cause.startswith("Likely cause: the generator's gradient norm reached 5e+04 "
                            "(epoch 1: 0.5); D won outright (D(x) = 0.999")
    assert "after 2 good epochs: lower lr (now 0.0002)" in cause
    assert cause.endswith(GAN_DIVERGED_HINT)             # then the usual causes
    cause = cause.removesuffix(GAN_DIVERGED_HINT)
    assert "weights" not in cause and "critic" not in cause
    # nothing in the logs stands out: only the remedy, no made-up cause
    calm = {key: [good[key], dict(good, d_loss=float("nan"))[key]] for key in good}
    assert divergence_cause(calm, g, d, False, 2e-4).startswith("It broke after 1")


# --- one step of train_gan is the textbook step ---------------------------------------

def reference_step(g, d, real, z, lr, betas):
    """One textbook step (pytorch/examples dcgan): D on real + fake.detach(), then G on the
    same fakes through the updated D, BCE with logits, separate optimizers."""
    bce = nn.BCEWithLogitsLoss()
    g_opt = torch.optim.Adam(g.parameters(), lr, betas)
    d_opt = torch.optim.Adam(d.parameters(), lr, betas)
    fake = g(z)
    d_opt.zero_grad()
    (bce(d(real), torch.ones(len(real))) + bce(d(fake.detach()), torch.zeros(len(z)))).backward()
    d_opt.step()
    g_opt.zero_grad()
    bce(d(fake), torch.ones(len(z))).backward()
    g_opt.step()


def test_one_step_of_train_gan_is_the_textbook_step():
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=16), MLPDiscriminator((2,), hidden=16)
    g_ref, d_ref = copy.deepcopy(g), copy.deepcopy(d)
    data = torch.randn(64, 2) + 3
    passes = []
    g.register_forward_hook(lambda *args: passes.append(1))
    torch.manual_seed(1)
    train_gan(g, d, data, 1, batch_size=64, lr=1e-2, betas=(0.5, 0.999))
    assert len(passes) == 2, "the shape check's probe, then one generator pass a step"
    torch.manual_seed(1)                  # the same random numbers, in train_gan's order:
    torch.randn(2, 2)                     # the probe's noise,
    real = data[torch.randperm(64)]       # the epoch's shuffle,
    reference_step(g_ref, d_ref, real, torch.randn(64, 2), 1e-2, (0.5, 0.999))   # the step's z
    for ours, theirs in ((g, g_ref), (d, d_ref)):
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


def test_with_n_critic_the_generator_learns_from_the_last_critic_batch():
    """n_critic = 3: three D updates on three chunks of real examples, each with fresh
    fakes, then one G update on the last of them: 3 generator passes a step."""
    torch.manual_seed(0)
    g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8)
    d_calls, passes = [], []
    d.register_forward_hook(lambda module, inputs, output: d_calls.append(len(inputs[0])))
    g.register_forward_hook(lambda *args: passes.append(1))
    history = train_gan(g, d, torch.randn(96, 2), 1, batch_size=32, n_critic=3,
                        loss="wasserstein", weight_clip=0.1)
    assert len(passes) == 1 + 3
    assert d_calls == [32] * 7, "2 calls (real, fake) per critic update, then 1 for G"
    assert len(history["d_loss"]) == len(history["g_loss"]) == 1

"""InfoGAN: the code, Q on D's body, Q's loss against torch.distributions, the bound at its
two ends (Q perfect: log K; Q guessing: 0), both steps against the losses written by hand,
planted bugs caught (Q's loss not reaching G, the Gaussian with the wrong variance), a short
run on the ring of 8 Gaussians, and clear errors for bad codes."""
import copy
import inspect
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Normal

from edu_gen.data import sample_mixture
from edu_gen.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import generator_loss
from edu_gen.infogan import Code, InfoCodes, InfoDiscriminator, QOutput
from edu_gen.infogan_eval import matched_accuracy
from edu_gen.infogan_train import (info_loss, infogan_discriminator_step, infogan_generator_step,
                                   information_bound, train_infogan)
from edu_gen.train import adam


def small_pair(codes, seed=0):
    torch.manual_seed(seed)
    g = MLPGenerator(codes.dim, (2,), hidden=16, layers=2)
    d = InfoDiscriminator(MLPDiscriminator((2,), hidden=16, layers=2), codes, hidden=8)
    return g, d


# --- the code ------------------------------------------------------------------------------

def test_codes_lay_out_noise_one_hot_and_continuous():
    codes = InfoCodes(5, 4, 2)
    z, code = codes.sample(1000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (1000, codes.dim) and codes.dim == 11
    assert torch.equal(z[:, 5:9], F.one_hot(code.categories, 4).float())
    assert torch.equal(z[:, 9:], code.continuous)
    assert code.continuous.min() >= -1 and code.continuous.max() <= 1
    assert torch.bincount(code.categories, minlength=4).min() > 200     # about 250 each
    assert codes.entropy() == pytest.approx(math.log(4))


@pytest.mark.parametrize("sizes, phrase", [
    ((62, 0, 0), "needs a code"), ((62, 1, 2), "1 category"), ((62, -1, 2), ">= 0"),
    ((62, 10, 2.5), ">= 0")])
def test_bad_code_sizes_get_a_clear_error(sizes, phrase):
    with pytest.raises(ValueError, match=phrase):
        InfoCodes(*sizes)


def test_inputs_check_their_shapes():
    codes = InfoCodes(5, 4, 2)
    with pytest.raises(ValueError, match=r"noise must be \(N, 5\)"):
        codes.inputs(torch.zeros(3, 4), Code(torch.zeros(3, dtype=torch.long), torch.zeros(3, 2)))
    with pytest.raises(ValueError, match="continuous codes"):
        codes.inputs(torch.zeros(3, 5), Code(torch.zeros(3, dtype=torch.long), torch.zeros(3, 1)))


# --- Q on D's body ---------------------------------------------------------------------------

def test_q_shares_the_body_and_d_keeps_the_book_discriminators_output():
    codes = InfoCodes(62, 10, 2)
    torch.manual_seed(0)
    book = DCGANDiscriminator(ndf=8).eval()
    info = InfoDiscriminator(copy.deepcopy(book), codes).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    logits, q = info(x)
    torch.testing.assert_close(logits, book(x))                # D's head: the book's logit
    assert q.logits.shape == (5, 10) and q.mean.shape == q.logvar.shape == (5, 2)
    shared = {id(p) for p in info.body.parameters()}
    assert shared and shared.isdisjoint(id(p) for p in info.q_head.parameters())
    # one optimizer step of Q's loss alone moves the shared body
    before = copy.deepcopy(info.body.state_dict())
    optimizer = adam(info.parameters())
    sum(info_loss(info.train()(x)[1], Code(torch.arange(5), torch.zeros(5, 2)))).backward()
    optimizer.step()
    assert any(not torch.equal(before[k], v) for k, v in info.body.state_dict().items())


def test_an_mlp_discriminator_works_as_the_body_too():
    codes = InfoCodes(2, 3, 1)
    info = InfoDiscriminator(MLPDiscriminator((2,), hidden=8), codes)
    logits, q = info(torch.randn(4, 2))
    assert logits.shape == (4,) and q.logits.shape == (4, 3) and q.mean.shape == (4, 1)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        info(torch.randn(4, 3))
    with pytest.raises(ValueError, match="without n_classes and pack"):
        InfoDiscriminator(MLPDiscriminator((2,), hidden=8, pack=2), codes)


# --- Q's loss and the bound --------------------------------------------------------------

def q_output(n=64, k=10, c=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return QOutput(torch.randn(n, k, generator=g) * 2, torch.randn(n, c, generator=g),
                   torch.randn(n, c, generator=g) * 0.5), \
        Code(torch.randint(k, (n,), generator=g), torch.rand(n, c, generator=g) * 2 - 1)


def check_info_loss(loss_fn):
    """Q's loss against torch.distributions: -E log Categorical(c_cat) and
    -E sum_j log N(c_j; mean_j, exp(logvar_j / 2)) (logvar is the log of the variance)."""
    q, code = q_output()
    categorical, continuous = loss_fn(q, code)
    torch.testing.assert_close(categorical, -Categorical(logits=q.logits).log_prob(code.categories).mean())
    oracle = -Normal(q.mean, torch.exp(0.5 * q.logvar)).log_prob(code.continuous).sum(1).mean()
    torch.testing.assert_close(continuous, oracle)


def test_info_loss_against_torch_distributions():
    check_info_loss(info_loss)


def test_planted_bug_gaussian_with_the_wrong_variance_is_caught():
    """The bug: exp(logvar) used as the standard deviation (the variance squared)."""
    def wrong_variance(q, code):
        categorical, _ = info_loss(q, code)
        return categorical, -Normal(q.mean, torch.exp(q.logvar)).log_prob(code.continuous).sum(1).mean()
    with pytest.raises(AssertionError):
        check_info_loss(wrong_variance)


def test_the_bound_is_log_k_when_q_recovers_every_code_and_zero_when_it_guesses():
    """L_I = H(c) - cross-entropy: Q certain and right has cross-entropy 0, so L_I = log 10
    (Eq. (info-bound) is tight); Q uniform has cross-entropy log 10, so L_I = 0."""
    codes = InfoCodes(62, 10, 2)
    categories = torch.arange(100) % 10
    code = Code(categories, torch.zeros(100, 2))
    zeros = torch.zeros(100, 2)
    perfect = QOutput(60.0 * F.one_hot(categories, 10).float(), zeros, zeros)
    cross_entropy = info_loss(perfect, code)[0]
    assert cross_entropy < 1e-20
    assert information_bound(cross_entropy, codes) == pytest.approx(math.log(10), abs=1e-12)
    guessing = QOutput(torch.zeros(100, 10), zeros, zeros)
    assert information_bound(info_loss(guessing, code)[0], codes) == pytest.approx(0.0, abs=1e-6)


# --- the steps -----------------------------------------------------------------------------

def hand_generator_gradient(g, d, z, code, info_weight, continuous_weight):
    """G's gradient of Eq. (infogan)'s G loss, built from the book's generator loss and
    torch.distributions, D and Q frozen."""
    g, d = copy.deepcopy(g), copy.deepcopy(d)
    logits, q = d(g(z))
    ce = -Categorical(logits=q.logits).log_prob(code.categories).mean()
    nll = -Normal(q.mean, torch.exp(0.5 * q.logvar)).log_prob(code.continuous).sum(1).mean()
    loss = generator_loss("non-saturating", logits) + info_weight * ce + continuous_weight * nll
    return torch.autograd.grad(loss, list(g.parameters()))


def buggy_generator_step(generator, discriminator, optimizer, fake, code, info_weight=1.0,
                         continuous_weight=0.1, loss="non-saturating"):
    """The bug: Q's loss computed on detached fakes, so it never reaches G."""
    discriminator.requires_grad_(False)
    fake_logits, _ = discriminator(fake)
    _, q = discriminator(fake.detach())
    q_categorical, q_continuous = info_loss(q, code)
    optimizer.zero_grad(set_to_none=True)
    (generator_loss(loss, fake_logits) + info_weight * q_categorical
     + continuous_weight * q_continuous).backward()
    discriminator.requires_grad_(True)
    optimizer.step()
    return {}


def generator_step_follows_the_hand_gradient(step):
    codes = InfoCodes(3, 4, 2)
    g, d = small_pair(codes)
    z, code = codes.sample(32, generator=torch.Generator().manual_seed(1))
    expected = hand_generator_gradient(g, d, z, code, 1.0, 0.1)
    d_before = copy.deepcopy(d.state_dict())
    step(g, d, torch.optim.SGD(g.parameters(), lr=0.0), g(z), code, 1.0, 0.1)
    got = [p.grad for p in g.parameters()]
    d_unchanged = all(torch.equal(d_before[k], v) for k, v in d.state_dict().items())
    return d_unchanged and all(torch.allclose(a, b, atol=1e-6) for a, b in zip(got, expected))


def test_generator_step_is_the_gan_loss_plus_q_loss_through_frozen_d_and_q():
    assert generator_step_follows_the_hand_gradient(infogan_generator_step)


def test_planted_bug_q_loss_not_reaching_g_is_caught():
    assert not generator_step_follows_the_hand_gradient(buggy_generator_step)


def test_the_plain_baselines_generator_gets_no_gradient_from_q():
    codes = InfoCodes(3, 4, 2)
    g, d = small_pair(codes)
    z, code = codes.sample(32, generator=torch.Generator().manual_seed(1))
    infogan_generator_step(g, d, torch.optim.SGD(g.parameters(), lr=0.0), g(z), code, 0.0, 0.0)
    expected = hand_generator_gradient(g, d, z, code, 0.0, 0.0)
    assert all(torch.allclose(p.grad, e, atol=1e-6) for p, e in zip(g.parameters(), expected))


def test_discriminator_step_trains_d_and_q_and_leaves_g_alone():
    codes = InfoCodes(3, 4, 2)
    g, d = small_pair(codes)
    z, code = codes.sample(32, generator=torch.Generator().manual_seed(1))
    fake = g(z)
    g_before, q_before = copy.deepcopy(g.state_dict()), copy.deepcopy(d.q_head.state_dict())
    metrics = infogan_discriminator_step(d, adam(d.parameters(), 1e-2), torch.randn(32, 2), fake,
                                         code, codes)
    assert all(p.grad is None for p in g.parameters())
    assert all(torch.equal(g_before[k], v) for k, v in g.state_dict().items())
    assert any(not torch.equal(q_before[k], v) for k, v in d.q_head.state_dict().items())
    assert metrics["info_bound"] <= codes.entropy() and 0 < metrics["d_real"] < 1


def test_each_step_reads_in_one_screen():
    for step in (infogan_discriminator_step, infogan_generator_step):
        assert len(inspect.getsource(step).splitlines()) <= 30, step.__name__


# --- a short run -----------------------------------------------------------------------------

def test_infogan_finds_the_modes_of_the_ring_and_the_plain_baseline_does_not():
    """The ring of 8 Gaussians, a categorical code of 8 values: InfoGAN's Q reads the code
    back (L_I above half of log 8 after 12 short epochs) and the code picks the mode (seed 0
    here: L_I 1.32 nats, 80 % of samples in their code's matched mode); the plain
    baseline's Q reads nothing (0.003 nats) and its code picks the mode by chance (16 %)."""
    data = sample_mixture("ring", 2048, generator=torch.Generator().manual_seed(0))
    codes = InfoCodes(2, 8, 0)
    results = {}
    for plain in (False, True):
        torch.manual_seed(0)
        g = MLPGenerator(codes.dim, (2,), hidden=64, layers=2)
        d = InfoDiscriminator(MLPDiscriminator((2,), hidden=64, layers=2), codes, hidden=32)
        history = train_infogan(g, d, data, codes, 12, batch_size=64, plain=plain, lr_g=1e-3)
        z, code = codes.sample(1000, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            angle = torch.atan2(*g(z).T.flip(0))
        mode = ((angle / (2 * math.pi / 8)).round() % 8).long()
        results[plain] = history["info_bound"][-1], matched_accuracy(code.categories, mode)[0]
    (bound, accuracy), (plain_bound, plain_accuracy) = results[False], results[True]
    assert bound > 0.5 * math.log(8) and accuracy > 0.6, results
    assert plain_bound < 0.1 * math.log(8) and plain_accuracy < 0.3, results


def test_train_infogan_checks_its_setup():
    codes = InfoCodes(3, 4, 0)
    g, d = small_pair(InfoCodes(2, 4, 0))
    with pytest.raises(ValueError, match="latent_dim=codes.dim"):
        train_infogan(g, d, torch.randn(64, 2), codes, 1)
    g, d = small_pair(codes)
    with pytest.raises(ValueError, match="lower batch_size"):
        train_infogan(g, d, torch.randn(16, 2), codes, 1, batch_size=32)
    with pytest.raises(ValueError, match="epochs"):
        train_infogan(g, d, torch.randn(64, 2), codes, 0)
    with pytest.raises(ValueError, match="probability losses"):
        train_infogan(g, d, torch.randn(64, 2), codes, 1, loss="wasserstein")
    tanh = InfoCodes(8, 10, 2)
    g, d = DCGANGenerator(tanh.dim, ngf=4), InfoDiscriminator(DCGANDiscriminator(ndf=4), tanh)
    with pytest.raises(ValueError, match=r"2 \* x - 1"):             # pixels in [0, 1] for a tanh G
        train_infogan(g, d, torch.rand(64, 1, 28, 28) * 1.5, tanh, 1)


def test_dcgan_pair_runs_one_epoch():
    codes = InfoCodes(8, 10, 2)
    torch.manual_seed(0)
    g, d = DCGANGenerator(codes.dim, ngf=4), InfoDiscriminator(DCGANDiscriminator(ndf=4), codes)
    history = train_infogan(g, d, torch.rand(64, 1, 28, 28) * 2 - 1, codes, 1, batch_size=32)
    assert set(history) == {"d_loss", "d_real", "d_fake", "info_bound", "q_continuous",
                            "g_loss", "g_grad_norm"}
    assert not g.training and not d.training

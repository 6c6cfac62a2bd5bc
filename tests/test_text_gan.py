"""edu_gen.text_gan: Gumbel noise against scipy's Gumbel law, the Gumbel-max sample against
the categorical (chi-square), the Gumbel-softmax approaching the categorical as the
temperature falls (chi-square; a planted wrong-sign noise is caught), its gradient nonzero
where the argmax's is zero, the generator's layout, training with gan_train, clear errors."""
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import chisquare, gumbel_r, kstest

from edu_gen.gan_train import generator_loss, train_gan
from edu_gen.text_data import END_ID, PAD_ID, load_names
from edu_gen.text_gan import (SequenceDiscriminator, SequenceGenerator, categorical_one_hot,
                              gumbel_noise, gumbel_softmax, one_hot_names)

P = torch.tensor([0.5, 0.25, 0.15, 0.07, 0.03])
N = 20000


def test_gumbel_noise_is_standard_gumbel():
    torch.manual_seed(0)
    assert kstest(gumbel_noise((N,)).numpy(), gumbel_r.cdf).pvalue > 1e-3


def vertex_counts(samples, near=0.99):
    """How many samples lie within ``near`` of each vertex of the simplex (y_i > near)."""
    return (samples > near).sum(0).double()


def fits_the_categorical(samples):
    """Chi-square test of the vertex counts against N * p; samples off the vertices count
    as missing, so a relaxed sample far from one-hot fails the test."""
    counts = vertex_counts(samples)
    if counts.sum() < 0.99 * len(samples):
        return False
    return chisquare(counts, counts.sum() * P.double()).pvalue > 1e-3


def test_the_gumbel_max_sample_is_categorical():
    torch.manual_seed(0)
    samples = categorical_one_hot(P.log().expand(N, -1))
    assert ((samples == 0) | (samples == 1)).all() and (samples.sum(1) == 1).all()
    assert fits_the_categorical(samples)


def test_the_gumbel_softmax_approaches_the_categorical_as_the_temperature_falls():
    torch.manual_seed(0)
    logits = P.log().expand(N, -1)
    taus = (2.0, 0.5, 0.1, 0.01, 0.001)
    near_one_hot = [(vertex_counts(gumbel_softmax(logits, tau)).sum() / N).item() for tau in taus]
    assert near_one_hot == sorted(near_one_hot), "closer to the vertices as tau falls"
    assert near_one_hot[0] < 0.01 and near_one_hot[-1] > 0.99, near_one_hot
    assert not fits_the_categorical(gumbel_softmax(logits, 1.0))
    assert fits_the_categorical(gumbel_softmax(logits, 0.001))
    # the mean of the relaxed samples tends to p as well (it is not p at tau = 1)
    assert (gumbel_softmax(logits, 1.0).mean(0) - P).abs().max() > 0.03
    torch.testing.assert_close(gumbel_softmax(logits, 0.001).mean(0), P, atol=0.015, rtol=0)


def test_a_planted_wrong_sign_of_the_noise_is_caught():
    torch.manual_seed(0)
    logits = P.log().expand(N, -1)
    wrong = gumbel_softmax(logits, 0.001, noise=-gumbel_noise(logits.shape))   # log(-log u)
    assert not fits_the_categorical(wrong)


def test_the_gradient_is_zero_through_the_argmax_and_not_through_the_gumbel_softmax():
    torch.manual_seed(0)
    logits = torch.randn(8, 5, requires_grad=True)
    weights = torch.randn(5)
    noise = gumbel_noise(logits.shape)
    hard = categorical_one_hot(logits, noise)
    assert not hard.requires_grad, "autograd has no path through the argmax"
    # nor has calculus: a small change of the logits leaves the sample as it is
    nudged = categorical_one_hot(logits.detach() + 1e-3 * torch.randn(8, 5), noise)
    assert torch.equal(nudged, hard)
    soft = gumbel_softmax(logits, 0.5, noise=noise)
    (grad,) = torch.autograd.grad((soft @ weights).sum(), logits)
    assert grad.abs().min() > 0
    # straight-through: the value of the argmax sample, the gradient of the soft one
    straight = gumbel_softmax(logits, 0.5, hard=True, noise=noise)
    torch.testing.assert_close(straight, hard)
    (st_grad,) = torch.autograd.grad((straight @ weights).sum(), logits)
    torch.testing.assert_close(st_grad, grad)


def test_straight_through_value_is_exactly_one_hot():
    # one_hot + y - y.detach() is (one_hot + y) - y: one-hot only up to rounding (about 0.6 %
    # of float64 entries differ by 1e-16 on random logits); one_hot + (y - y.detach()) is exact.
    logits = torch.randn(2000, 180, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    straight = gumbel_softmax(logits.requires_grad_(), 0.7, hard=True)
    assert torch.equal(straight.detach(), F.one_hot(straight.argmax(-1), 180).double())


def test_generated_names_have_the_layout_of_the_data():
    torch.manual_seed(0)
    for sampling in ("categorical", "gumbel-softmax", "straight-through"):
        generator = SequenceGenerator(28, max_len=6, sampling=sampling, temperature=0.7)
        rows = generator(generator.sample_noise(64))
        assert rows.shape == (64, 7, 28)
        torch.testing.assert_close(rows.sum(-1), torch.ones(64, 7))
        assert (rows[:, :, PAD_ID][:, 0] == 0).all(), "a name never starts with padding"
        assert (rows[:, -1, END_ID] + rows[:, -1, PAD_ID] == 1).all(), "ended by max_len"
        alive = 1 - torch.cat([torch.zeros(64, 1), rows[:, :-1, END_ID].cumsum(1)], 1).clamp(max=1)
        if sampling != "gumbel-softmax":     # one-hot rows: padding exactly after the end
            torch.testing.assert_close(rows[:, :, PAD_ID], 1 - alive)
    tokens = generator.sample(64)
    assert ((tokens == END_ID).sum(1) == 1).all()
    assert generator.sampling == "straight-through", "sample() restores the sampling"


def test_only_the_relaxed_generator_gets_a_gradient_from_the_discriminator():
    torch.manual_seed(0)
    discriminator = SequenceDiscriminator(28, max_len=6)
    for sampling, has_gradient in [("categorical", False), ("gumbel-softmax", True),
                                   ("straight-through", True)]:
        generator = SequenceGenerator(28, max_len=6, sampling=sampling)
        fake = generator(generator.sample_noise(32))
        assert fake.requires_grad == has_gradient
        loss = generator_loss("non-saturating", discriminator(fake))
        grads = torch.autograd.grad(loss, list(generator.parameters()), allow_unused=True)
        if has_gradient:
            assert all(g.abs().sum() > 0 for g in grads)
        else:
            assert all(g is None for g in grads), "no path from G's weights to D's verdict"



def test_the_gan_trains_with_the_book_s_loop():
    names = load_names("train")
    data = one_hot_names(names.tokens[:256], 28)
    torch.manual_seed(0)
    generator = SequenceGenerator(28, names.max_len, hidden=16, sampling="straight-through")
    history = train_gan(generator, SequenceDiscriminator(28, names.max_len, channels=16),
                        data, epochs=2, batch_size=64, lr=1e-3)
    assert len(history["g_loss"]) == 2 and history["g_grad_norm"][-1] > 0


@pytest.mark.parametrize("temperature", [0, -1.0, None, "1"])
def test_a_temperature_that_is_not_positive_is_refused(temperature):
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        gumbel_softmax(torch.zeros(3), temperature)
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        SequenceGenerator(28, 6, temperature=temperature)


def test_bad_input_is_refused():
    generator = SequenceGenerator(28, 6, sampling="argmax")
    with pytest.raises(ValueError, match="unknown sampling 'argmax'"):
        generator(generator.sample_noise(2))
    with pytest.raises(ValueError, match=r"noise of shape \(N, 32\)"):
        SequenceGenerator(28, 6)(torch.zeros(2, 5))
    discriminator = SequenceDiscriminator(28, 6)
    with pytest.raises(ValueError, match=r"one-hot names \(N, 7, 28\)"):
        discriminator(torch.zeros(2, 8, 28))
    with pytest.raises(ValueError, match="not conditional"):
        discriminator(torch.zeros(2, 7, 28), torch.zeros(2))
    with pytest.raises(ValueError, match="exactly one END"):
        one_hot_names(torch.tensor([[2, 3]]), 28)

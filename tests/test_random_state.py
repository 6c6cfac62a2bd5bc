"""Nothing that scores or watches a run changes it (issue 30): an evaluation draws from a
random state of its own and gives the model back in the mode it had, and the epoch callback
runs before the checkpoint, so a callback that draws random numbers resumes exactly."""
import pytest
import torch

from edu_gen.gan import MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan
from edu_gen.runtime import eval_mode, seeded
from edu_gen.text_data import load_names
from edu_gen.text_vae import SequenceVAE
from edu_gen.text_vae_train import evaluate_text_vae, iwae_nll_per_char, train_text_vae
from edu_gen.vae import VAE
from edu_gen.vae_eval import active_units, evaluate, iwae_nll
from edu_gen.vae_train import train_vae


def digits(n=96, seed=1):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def fresh_vae():
    torch.manual_seed(0)
    return VAE(hidden=(16,), latent_dim=2)


def modes_seen(model):
    """The model's ``training`` flag at every training forward pass of its encoder (with
    gradients on: the scores run without), in a list."""
    seen = []
    model.encoder.register_forward_pre_hook(
        lambda module, args: seen.append(module.training) if torch.is_grad_enabled() else None)
    return seen


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


IMAGE_SCORES = {
    "evaluate": lambda model, x: evaluate(model, x),
    "iwae_nll": lambda model, x: iwae_nll(model, x, k=4, chunk=2),
    "active_units": lambda model, x: active_units(model, x),
}


@pytest.mark.parametrize("name", IMAGE_SCORES)
@pytest.mark.parametrize("training", [True, False])
def test_an_image_score_keeps_the_random_state_and_the_mode(name, training):
    model = fresh_vae().train(training)
    torch.manual_seed(5)
    before = torch.get_rng_state()
    first = IMAGE_SCORES[name](model, digits(20))
    assert torch.equal(torch.get_rng_state(), before), f"{name} moved the global random state"
    assert model.training is training, f"{name} left the model in another mode"
    torch.manual_seed(123)                       # another global state: the same score
    assert str(IMAGE_SCORES[name](model, digits(20))) == str(first)


@pytest.mark.parametrize("training", [True, False])
def test_the_text_scores_keep_the_random_state_and_the_mode(training):
    tokens = load_names("test").tokens[:60]
    torch.manual_seed(0)
    model = SequenceVAE(28, latent_dim=2, hidden=8).train(training)
    for score in (lambda: evaluate_text_vae(model, tokens), lambda: iwae_nll_per_char(model, tokens, k=3),
                  lambda: active_units(model, tokens)):
        torch.manual_seed(5)
        before = torch.get_rng_state()
        first = score()
        assert torch.equal(torch.get_rng_state(), before)
        assert model.training is training
        torch.manual_seed(9)
        assert str(score()) == str(first)


def test_an_evaluating_callback_leaves_the_training_run_bitwise_unchanged():
    """The issue's bug: evaluate() reseeded the global generator (every later epoch repeated
    one shuffle and one binarization) and left the model in eval mode."""
    x, test = digits(), digits(40, seed=2)
    plain = fresh_vae()
    plain_history = train_vae(plain, x, 4, batch_size=32)
    watched = fresh_vae()
    seen = modes_seen(watched)
    scores = []
    watched_history = train_vae(watched, x, 4, batch_size=32, on_epoch_end=lambda epoch, means: scores.append(
        (evaluate(watched, test)["neg_elbo"], iwae_nll(watched, test, k=3, chunk=3),
         active_units(watched, test)[0])))
    assert len(scores) == 4
    assert watched_history == plain_history
    assert same_weights(watched, plain)
    assert seen == [True] * 12, "every epoch trains in train mode"


def test_every_epoch_trains_in_train_mode_whatever_the_callback_left():
    model = fresh_vae()
    seen = modes_seen(model)
    train_vae(model, digits(64), 3, batch_size=32, on_epoch_end=lambda epoch, means: model.eval())
    assert seen == [True] * 6
    generator, discriminator = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    modes = []
    discriminator.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    train_gan(generator, discriminator, torch.randn(64, 2), 2, batch_size=32,
              on_epoch_end=lambda epoch, means: (generator.eval(), discriminator.eval()))
    assert modes and all(modes)
    text = SequenceVAE(28, latent_dim=2, hidden=8)
    text_seen = []
    text.encoder.register_forward_pre_hook(lambda module, args: text_seen.append(module.training))
    train_text_vae(text, load_names("test").tokens[:64], 2, batch_size=32,
                   on_epoch_end=lambda epoch, means: text.eval())
    assert text_seen and all(text_seen)


def test_a_sampling_vae_callback_resumes_exactly(tmp_path):
    """The callback draws from the global generator; it runs before the checkpoint is written,
    so the file holds the random state after its draws, and the resumed run goes on exactly."""
    x = digits()
    straight = fresh_vae()
    straight_history = train_vae(straight, x, 3, batch_size=32,
                                 on_epoch_end=lambda epoch, means: straight.sample(16))
    resumed = fresh_vae()
    train_vae(resumed, x, 2, batch_size=32, checkpoint=tmp_path / "run.pt",
              on_epoch_end=lambda epoch, means: resumed.sample(16))
    torch.manual_seed(77)                       # the file's random states must win
    resumed = VAE(hidden=(16,), latent_dim=2)
    resumed_history = train_vae(resumed, x, 3, batch_size=32, checkpoint=tmp_path / "run.pt",
                                on_epoch_end=lambda epoch, means: resumed.sample(16))
    assert resumed_history == straight_history
    assert same_weights(resumed, straight)


def test_a_sampling_gan_callback_resumes_exactly(tmp_path):
    data = torch.randn(128, 2, generator=torch.Generator().manual_seed(3))

    def fresh():
        torch.manual_seed(0)
        return MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)

    def draw(epoch, means):
        torch.randn(10)

    g, d = fresh()
    straight = train_gan(g, d, data, 3, batch_size=32, on_epoch_end=draw)
    g2, d2 = fresh()
    train_gan(g2, d2, data, 2, batch_size=32, on_epoch_end=draw, checkpoint=tmp_path / "gan.pt")
    torch.manual_seed(77)
    g2, d2 = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    resumed = train_gan(g2, d2, data, 3, batch_size=32, on_epoch_end=draw, checkpoint=tmp_path / "gan.pt")
    assert resumed == straight
    assert same_weights(g, g2) and same_weights(d, d2)


def test_seeded_repeats_its_draws_and_restores_the_callers_stream():
    torch.manual_seed(4)
    expected = torch.randn(3)
    continued = torch.randn(3)
    torch.manual_seed(4)
    torch.randn(3)
    with seeded(10):
        inside = torch.randn(5)
    with seeded(10):
        assert torch.equal(torch.randn(5), inside), "the same seed draws the same numbers"
    assert torch.equal(torch.randn(3), continued), "the caller's stream goes on as if untouched"
    assert not torch.equal(expected, continued)


def test_eval_mode_restores_each_modules_mode_even_after_an_error():
    a, b = torch.nn.Dropout(), torch.nn.Dropout().eval()
    with pytest.raises(ZeroDivisionError):
        with eval_mode(a, b):
            assert not a.training and not b.training
            1 / 0
    assert a.training and not b.training

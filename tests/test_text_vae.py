"""edu_gen.text_vae and text_vae_train: the sequence ELBO against a hand computation on a
two-letter vocabulary and against torch.distributions, padding never counted, KL annealing
against its schedule (planted bugs caught: padding counted, the schedule inverted), the
remedies' options, training on real names, clear errors."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Normal, kl_divergence

from edu_gen.text_data import END_ID, PAD_ID, Vocabulary, check_tokens, load_names
from edu_gen.text_vae import SequenceVAE, decoder_inputs
from edu_gen.text_vae_train import (evaluate_text_vae, iwae_nll_per_char, kl_weight,
                                    negative_elbo, text_vae_step, train_text_vae)
from edu_gen.vae_eval import active_units

VOCAB = Vocabulary("ab")      # symbols: _ . a b


def tiny_model(seed=0):
    torch.manual_seed(seed)
    model = SequenceVAE(len(VOCAB), latent_dim=2, embed_dim=3, hidden=4)
    with torch.no_grad():     # a posterior far from N(0, I): every bug shows in the KL
        model.to_posterior.bias.add_(0.7)
    return model


def code_and_logits(model, tokens, seed=0):
    """The code z ~ q(z|x) that negative_elbo draws after torch.manual_seed(seed), and the
    decoder's logits at z."""
    mu, logvar = model.encode(tokens)
    torch.manual_seed(seed)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape)
    return mu, logvar, model.decode_logits(z, tokens)


def by_hand(model, names, max_len):
    """-log p(x|z) and KL per dimension in Python floats: a log-softmax written out over
    the characters and the end symbol of each name, nothing for padding."""
    tokens = VOCAB.encode(names, max_len)
    mu, logvar, logits = code_and_logits(model, tokens)
    distortion, kl = [], []
    for i, name in enumerate(names):
        targets = [VOCAB.ids[c] for c in name] + [END_ID]
        nats = 0.0
        for t, target in enumerate(targets):
            row = logits[i, t].tolist()
            nats -= row[target] - math.log(sum(math.exp(v) for v in row))
        distortion.append(nats)
        kl.append([0.5 * (m * m + math.exp(lv) - lv - 1) for m, lv in zip(mu[i].tolist(), logvar[i].tolist())])
    return torch.tensor(distortion), torch.tensor(kl)


def test_the_sequence_elbo_is_the_hand_computation():
    model = tiny_model()
    names = ["ab", "b", "abba"]
    torch.manual_seed(0)
    distortion, kl = negative_elbo(model, VOCAB.encode(names, 5))
    expected_distortion, expected_kl = by_hand(model, names, 5)
    torch.testing.assert_close(distortion, expected_distortion, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kl, expected_kl, rtol=1e-5, atol=1e-6)


def oracle_terms(model, tokens):
    """The same two terms by torch.distributions, the padding masked out."""
    mu, logvar, logits = code_and_logits(model, tokens)
    log_p = Categorical(logits=logits).log_prob(tokens)
    distortion = -torch.where(tokens != PAD_ID, log_p, 0.0).sum(1)
    return distortion, kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))


def matches_the_oracle(fn, model, tokens):
    torch.manual_seed(0)
    distortion, kl = fn(model, tokens)
    expected_distortion, expected_kl = oracle_terms(model, tokens)
    return (torch.allclose(distortion, expected_distortion, rtol=1e-5, atol=1e-5)
            and torch.allclose(kl, expected_kl, rtol=1e-5, atol=1e-6))


def padding_counted(model, tokens):
    """A planted bug: the cross-entropy without ignore_index, padding scored as a target."""
    mu, logvar = model.encode(tokens)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decode_logits(z, tokens)
    distortion = F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none").sum(1)
    return distortion, 0.5 * (mu ** 2 + logvar.exp() - logvar - 1)


def characters_averaged(model, tokens):
    """A planted bug: nats per character where nats per name are meant."""
    distortion, kl = negative_elbo(model, tokens)
    return distortion / (tokens != PAD_ID).sum(1), kl


def test_the_elbo_matches_torch_distributions_and_the_planted_bugs_do_not():
    model = tiny_model()
    tokens = VOCAB.encode(["ab", "b", "abba", "a"], 6)
    assert matches_the_oracle(negative_elbo, model, tokens)
    assert not matches_the_oracle(padding_counted, model, tokens)
    assert not matches_the_oracle(characters_averaged, model, tokens)


def test_padding_is_never_counted():
    """The same names with more padding have the same ELBO terms: the encoder reads each
    name up to its end, the decoder is causal, the cross-entropy skips padding."""
    model = tiny_model()
    names = ["ab", "b", "abba"]
    terms = []
    for max_len in (4, 9):
        torch.manual_seed(0)
        terms.append(negative_elbo(model, VOCAB.encode(names, max_len)))
    torch.testing.assert_close(terms[0], terms[1])
    torch.manual_seed(0)
    short = padding_counted(model, VOCAB.encode(names, 4))[0]
    torch.manual_seed(0)
    long = padding_counted(model, VOCAB.encode(names, 9))[0]
    # the decoder never predicts padding, so scoring it as a target costs -log 0 = inf
    assert torch.isinf(long).all() and not torch.equal(long, short), "the planted bug is caught"


def test_decoder_inputs_are_the_previous_symbols():
    tokens = VOCAB.encode(["ab", "b"], 4)
    a, b = VOCAB.ids["a"], VOCAB.ids["b"]
    assert decoder_inputs(tokens).tolist() == [[END_ID, a, b, PAD_ID, PAD_ID],
                                               [END_ID, b, PAD_ID, PAD_ID, PAD_ID]]


def test_word_dropout_hides_every_input_but_the_start():
    model = tiny_model()
    z = torch.randn(2, 2)
    two_names = VOCAB.encode(["ab", "ba"], 3)        # same length, other characters
    seen = model.decode_logits(z, two_names)
    hidden = model.decode_logits(z, two_names, word_dropout=1.0)
    same_z = model.decode_logits(z[:1].expand(2, -1), two_names, word_dropout=1.0)
    assert not torch.allclose(seen, hidden)
    torch.testing.assert_close(same_z[0], same_z[1])  # the names cannot be told apart
    torch.testing.assert_close(hidden[:, 0], seen[:, 0])


# --- KL annealing ---------------------------------------------------------------------------

def inverted(step, warmup_steps, beta=1.0):
    """A planted bug: beta falling from its full value to 0 over the warm-up."""
    return beta * (1 - min(1.0, step / warmup_steps)) if warmup_steps else beta


def follows_the_schedule(weight):
    """Eq. (kl-annealing) point by point: 0 at the start, beta/2 halfway, beta from S on."""
    return (weight(0, 100, 2.0) == 0.0 and weight(50, 100, 2.0) == pytest.approx(1.0)
            and weight(100, 100, 2.0) == weight(500, 100, 2.0) == 2.0
            and weight(7, 0, 2.0) == 2.0)


def test_kl_annealing_rises_from_zero_and_the_inverted_schedule_is_caught():
    assert follows_the_schedule(kl_weight)
    assert not follows_the_schedule(inverted)


def test_free_bits_and_beta_enter_the_loss():
    names = load_names("train").tokens[:64]
    model = SequenceVAE(28, latent_dim=4, hidden=16)
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)
    torch.manual_seed(0)
    plain = text_vae_step(model, frozen, names)
    torch.manual_seed(0)
    half = text_vae_step(model, frozen, names, beta=0.5)
    torch.testing.assert_close(half["loss"], plain["distortion"] + 0.5 * plain["rate"])
    torch.manual_seed(0)
    held = text_vae_step(model, frozen, names, free_bits=10.0)   # each KL_j is below 10 nats
    torch.testing.assert_close(held["loss"], held["distortion"] + 4 * 10.0)


def test_training_on_names_improves_the_elbo_and_warmup_lowers_beta():
    names = load_names("train").tokens[:256]
    torch.manual_seed(0)
    model = SequenceVAE(28, latent_dim=4, embed_dim=16, hidden=32)
    history = train_text_vae(model, names, epochs=4, batch_size=32, lr=1e-2)
    assert set(history) == {"loss", "neg_elbo", "distortion", "rate"}
    # from about log(27) nats per symbol (uniform) towards the letters' frequencies
    assert history["neg_elbo"][-1] < history["neg_elbo"][0] - 4, history["neg_elbo"]
    warm = train_text_vae(SequenceVAE(28, latent_dim=4, hidden=16), names, epochs=1,
                          kl_warmup_epochs=4, batch_size=64)
    assert warm["loss"][0] < warm["neg_elbo"][0], "during warm-up beta < 1, so loss < -ELBO"


def test_evaluation_generation_and_active_units():
    test = load_names("test")
    model = SequenceVAE(28, latent_dim=3, hidden=16)
    scores = evaluate_text_vae(model, test.tokens)
    symbols = (test.tokens != PAD_ID).sum().item()
    assert scores["neg_elbo"] == pytest.approx(scores["rate"] + scores["distortion"], rel=1e-5)
    assert scores["neg_elbo_per_char"] == pytest.approx(scores["neg_elbo"] * len(test) / symbols)
    # an untrained model is near uniform over the 27 symbols it can predict (padding is not one)
    assert abs(scores["distortion"] * len(test) / symbols - math.log(27)) < 0.05
    logits = model.decode_logits(torch.zeros(4, 3), test.tokens[:4])
    assert torch.equal(logits.softmax(-1)[..., PAD_ID], torch.zeros(4, test.tokens.shape[1]))
    for made in (model.sample(50, test.max_len), model.reconstruct(test.tokens[:50])):
        assert made.shape == (50, test.max_len + 1)
        ended = (made == END_ID).cumsum(1)
        assert (ended[:, -1] == 1).all(), "one END per name (forced at max_len)"
        assert ((made == PAD_ID) == ((ended - (made == END_ID).long()) > 0)).all()
    count, variance = active_units(model, test.tokens)
    assert variance.shape == (3,) and 0 <= count <= 3
    one, many = (iwae_nll_per_char(model, test.tokens[:200], k=k) for k in (1, 50))
    assert many < one, "the importance-weighted bound tightens as k grows (Eq. (iwae))"


def test_bad_input_is_refused():
    model = SequenceVAE(28, latent_dim=2, hidden=8)
    names = load_names("test").tokens[:16]
    with pytest.raises(ValueError, match="not conditional"):
        model.encode(names, torch.zeros(16))
    with pytest.raises(ValueError, match="word_dropout must lie in"):
        model.decode_logits(torch.zeros(16, 2), names, word_dropout=1.5)
    with pytest.raises(ValueError, match=r"token ids must lie in 0\.\.3"):
        SequenceVAE(4, latent_dim=2, hidden=8).encode(names)
    with pytest.raises(ValueError, match="int64"):
        train_text_vae(model, names.float(), epochs=1)
    with pytest.raises(ValueError, match="beta"):
        train_text_vae(model, names, epochs=1, beta=-1.0)
    with pytest.raises(ValueError, match="kl_warmup_epochs must be a finite number >= 0"):
        train_text_vae(model, names, epochs=1, kl_warmup_epochs=-1)
    with pytest.raises(ValueError, match="epochs"):
        train_text_vae(model, names, epochs=0)
    with pytest.raises(ValueError, match="at least 1"):
        SequenceVAE(28, latent_dim=0)


def test_interpolate_codes_runs_from_one_posterior_mean_to_the_other():
    test = load_names("test")
    torch.manual_seed(0)
    model = SequenceVAE(28, latent_dim=3, hidden=16)
    a, b = test.tokens[:1], test.tokens[1:2]
    path = model.interpolate_codes(a, b, steps=5)
    assert path.shape == (5, a.shape[1])
    # the ends are the greedy decodings of the two posterior means (the text chapter's interpolation)
    assert torch.equal(path[0], model.reconstruct(a)[0])
    assert torch.equal(path[-1], model.reconstruct(b)[0])
    with pytest.raises(ValueError, match="steps must be at least 2"):
        model.interpolate_codes(a, b, steps=1)


def test_the_iwae_bound_per_character_counts_no_padding():
    """Issue 30. More padding after the same names leaves -L_k per character unchanged (the
    log-weights skip padding, the count of characters skips it too); and with q(z|x) = p(z),
    where log q = log p exactly, -L_1 per character is the negative ELBO per character."""
    model = tiny_model()
    names = ["ab", "b", "abba", "a", "bab"]
    short, long = (iwae_nll_per_char(model, VOCAB.encode(names, max_len), k=20, chunk=7)
                   for max_len in (4, 12))
    assert long == pytest.approx(short, rel=1e-5, abs=1e-6)
    with torch.no_grad():
        model.to_posterior.weight.zero_()
        model.to_posterior.bias.zero_()                      # mu = 0, logvar = 0: q = p
    tokens = VOCAB.encode(names, 12)
    assert iwae_nll_per_char(model, tokens, k=1) == pytest.approx(
        evaluate_text_vae(model, tokens)["neg_elbo_per_char"], rel=1e-5)

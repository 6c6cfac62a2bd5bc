"""edu_gen.ngram: the n-gram's likelihood against a hand count on a two-letter vocabulary,
padding never counted (a planted bug that counts it is caught), sampling against the
model's own probabilities (chi-square), clear errors."""
import math

import pytest
import torch
from scipy.stats import chisquare

from edu_gen.ngram import CharNGram
from edu_gen.text_data import END_ID, PAD_ID, Vocabulary, load_names

VOCAB = Vocabulary("ab")      # symbols: _ . a b


def test_bigram_likelihood_is_the_hand_count():
    # corpus "ab", "b": pairs (.,a) (a,b) (b,.) (.,b) (b,.); K = 3 symbols follow a history
    model = CharNGram(len(VOCAB), order=2, alpha=1.0).fit(VOCAB.encode(["ab", "b"], 3))
    p_a_after_start = (1 + 1) / (2 + 3)      # count(., a) = 1, count(.) = 2
    p_b_after_a = (1 + 1) / (1 + 3)
    p_end_after_b = (2 + 1) / (2 + 3)
    p_b_after_start = (1 + 1) / (2 + 3)
    expected = [-math.log(p_a_after_start * p_b_after_a * p_end_after_b),
                -math.log(p_b_after_start * p_end_after_b)]
    tokens = VOCAB.encode(["ab", "b"], 3)
    torch.testing.assert_close(model.nll(tokens), torch.tensor(expected))
    assert model.nll_per_char(tokens) == pytest.approx(sum(expected) / 5)   # 3 + 2 symbols
    # a name never seen still has a probability (smoothing): "ba" ends after a (count 0)
    assert math.isfinite(model.nll(VOCAB.encode(["ba"], 3)).item())


def test_probabilities_sum_to_one_and_padding_is_never_predicted():
    names = load_names("train")
    model = CharNGram(len(names.vocab), order=3, alpha=0.1).fit(names.tokens)
    probs = model.log_probs().exp()
    torch.testing.assert_close(probs.sum(1), torch.ones(len(probs)))
    assert (probs[:, PAD_ID] == 0).all()


def padding_counted(model, tokens):
    """A planted bug: the likelihood of the padding positions added as if they were symbols."""
    smoothed = model.counts + model.alpha
    log_p = smoothed.log() - smoothed.sum(1, keepdim=True).log()
    return -log_p[model._histories(tokens), tokens].sum(1)


def test_padding_is_never_counted_and_the_planted_bug_is_caught():
    names = VOCAB.encode(["ab", "b"], 3)
    longer = VOCAB.encode(["ab", "b"], 7)          # the same names, more padding
    model = CharNGram(len(VOCAB), order=2, alpha=1.0).fit(names)
    torch.testing.assert_close(model.nll(names), model.nll(longer))
    assert CharNGram(len(VOCAB), 2, 1.0).fit(longer).counts.equal(model.counts)
    assert not torch.allclose(padding_counted(model, names), padding_counted(model, longer))
    assert not torch.allclose(padding_counted(model, names), model.nll(names))


def test_samples_follow_the_model():
    names = load_names("train")
    model = CharNGram(len(names.vocab), order=1, alpha=0.1).fit(names.tokens)   # a unigram
    tokens = model.sample(4000, max_len=names.max_len, generator=torch.Generator().manual_seed(0))
    p = model.log_probs().exp()[0]
    drawn = tokens[:, :-1]                 # the last position is END by force, not drawn
    counts = torch.bincount(drawn[drawn != PAD_ID], minlength=len(p))[1:].double()
    expected = counts.sum() * p[1:].double() / p[1:].double().sum()
    assert chisquare(counts, expected).pvalue > 1e-3
    assert ((tokens == END_ID).sum(1) == 1).all()


def test_a_higher_order_fits_names_better_than_a_unigram():
    train, test = load_names("train"), load_names("test")
    unigram = CharNGram(len(train.vocab), 1, 0.1).fit(train.tokens).nll_per_char(test.tokens)
    fourgram = CharNGram(len(train.vocab), 4, 0.1).fit(train.tokens).nll_per_char(test.tokens)
    assert fourgram < unigram - 0.5, (fourgram, unigram)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="order must be an integer >= 1"):
        CharNGram(4, order=0)
    with pytest.raises(ValueError, match="alpha must be positive"):
        CharNGram(4, alpha=0.0)
    with pytest.raises(ValueError, match="smaller order"):
        CharNGram(28, order=7)
    with pytest.raises(ValueError, match="exactly one END"):
        CharNGram(4).fit(torch.tensor([[2, 3, 2]]))

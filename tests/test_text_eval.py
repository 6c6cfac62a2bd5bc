"""edu_gen.text_eval: the character overlap and the sample report against hand counts."""
import pytest

from edu_gen.ngram import CharNGram
from edu_gen.text_data import Vocabulary
from edu_gen.text_eval import char_overlap, mean_overlap, sample_report


def test_char_overlap_counts_common_characters_with_repetition():
    assert char_overlap("anna", "hannah") == pytest.approx(2 * 4 / 10)   # a, a, n, n
    assert char_overlap("anna", "naan") == 1.0
    assert char_overlap("bob", "ann") == 0.0
    assert char_overlap("aab", "ab") == pytest.approx(2 * 2 / 5)
    assert mean_overlap(["ab", "cd"], ["ab", "ce"]) == pytest.approx((1.0 + 0.5) / 2)
    with pytest.raises(ValueError, match="same length"):
        mean_overlap(["ab"], ["ab", "cd"])


def test_sample_report_is_the_hand_count():
    train, test = ["anna", "bob"], ["ben", "ada"]
    samples = ["anna", "anna", "ben", "zed", "", "bob"]
    report = sample_report(samples, train, test)
    assert report == {"real_test": 1 / 6, "real_train": 3 / 6, "new": 3 / 6,
                      "distinct": 5 / 6, "empty": 1 / 6}
    vocab = Vocabulary()
    ngram = CharNGram(len(vocab), 2).fit(vocab.encode(train, 5))
    with_ngram = sample_report(samples, train, test, ngram, vocab, 5)
    non_empty = [s for s in samples if s]
    assert with_ngram["ngram_nll_per_char"] == pytest.approx(
        ngram.nll(vocab.encode(non_empty, 5)).sum().item() / sum(len(s) + 1 for s in non_empty))
    with pytest.raises(ValueError, match="non-empty list"):
        sample_report([], train, test)
    with pytest.raises(ValueError, match="vocab and max_len"):
        sample_report(samples, train, test, ngram)

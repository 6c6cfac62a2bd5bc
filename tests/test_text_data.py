"""edu_gen.text_data: the census name lists against the package's files read here by hand;
the token layout (characters, END, PAD); clear errors for bad names and bad tokens."""
import sys
from pathlib import Path

import pytest
import torch

from edu_gen.data import DataUnavailableError
from edu_gen.text_data import (END_ID, PAD_ID, Vocabulary, check_tokens, load_names,
                               names_folder)


def census(file):
    """{lowercase name: percent} read straight from one of the names package's files."""
    rows = (line.split() for line in (names_folder() / file).read_text().splitlines())
    return {row[0].lower(): float(row[1]) for row in rows}


def test_the_split_covers_every_first_name_once_and_repeats_with_its_seed():
    male, female = census("dist.male.first"), census("dist.female.first")
    train, test = load_names("train"), load_names("test")
    assert not set(train.names) & set(test.names)
    assert sorted(train.names + test.names) == sorted(set(male) | set(female))
    assert len(train) + len(test) == 5163 and len(test) == round(0.2 * 5163)
    assert load_names("test").names == test.names
    assert load_names("test", seed=1).names != test.names
    assert train.max_len == test.max_len == max(map(len, set(male) | set(female))) == 11


def test_frequencies_are_the_census_percents():
    male, female = census("dist.male.first"), census("dist.female.first")
    names = load_names("train")
    for name, percent in zip(names.names[:200], names.frequencies[:200].tolist()):
        expected = (male.get(name, 0.0) + female.get(name, 0.0)) / 2
        assert percent == pytest.approx(expected, rel=1e-6), name
    surnames = load_names("test", lists="last")
    last = census("dist.all.last")
    assert surnames.frequencies[0].item() == pytest.approx(last[surnames.names[0]], rel=1e-6)
    # frequencies drive sampling: the commonest name of the split is drawn most often
    draws = torch.multinomial(names.frequencies, 5000, replacement=True,
                              generator=torch.Generator().manual_seed(0))
    assert torch.bincount(draws).argmax() == names.frequencies.argmax()


def test_tokens_are_characters_then_end_then_padding():
    vocab = Vocabulary()
    tokens = vocab.encode(["anna", "bo"], max_len=5)
    a, n, b, o = (vocab.ids[c] for c in "anbo")
    assert tokens.tolist() == [[a, n, n, a, END_ID, PAD_ID], [b, o, END_ID, PAD_ID, PAD_ID, PAD_ID]]
    assert vocab.decode(tokens) == ["anna", "bo"]
    names = load_names("test")
    assert vocab.decode(names.tokens) == names.names
    check_tokens(names.tokens, len(names.vocab))


@pytest.mark.parametrize("names, max_len, message", [
    (["anna", "zoë"], 5, r"1 names use characters outside the vocabulary \('ë'\).*zoë"),
    (["Anna"], 5, r"'A'.*name\.lower\(\)"),
    ([], 5, "non-empty list"),
    ("anna", 5, "non-empty list"),
    (["anna", ""], 5, "empty string"),
    (["anna", "christopher", "maximiliano"], 8, r"max_len=8 would cut 2 of 3 names.*max_len >= 11"),
])
def test_bad_names_are_refused(names, max_len, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary().encode(names, max_len)


def test_bad_loader_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown split"):
        load_names("validation")
    with pytest.raises(ValueError, match="unknown name list"):
        load_names(lists="middle")
    with pytest.raises(ValueError, match="test_fraction"):
        load_names(test_fraction=1.0)
    first = set(census("dist.male.first")) | set(census("dist.female.first"))
    too_long = sum(len(name) > 10 for name in first)
    with pytest.raises(ValueError, match=rf"would cut {too_long} of {len(first)} names"):
        load_names(max_len=10)


@pytest.mark.parametrize("tokens, message", [
    (torch.tensor([[2, 1, 0]], dtype=torch.int32), "int64"),
    (torch.tensor([2, 1, 0]), r"int64 tensor \(N, max_len \+ 1\)"),
    (torch.zeros(0, 3, dtype=torch.int64), "empty"),
    (torch.tensor([[2, 30, 1]]), r"0\.\.27"),
    (torch.tensor([[2, 3, 4]]), "exactly one END"),
    (torch.tensor([[2, 1, 1]]), "exactly one END"),
    (torch.tensor([[1, 0, 0]]), "at least one character"),
    (torch.tensor([[2, 0, 1]]), "padding must fill exactly"),
    (torch.tensor([[2, 1, 3]]), "padding must fill exactly"),
])
def test_bad_tokens_are_refused(tokens, message):
    with pytest.raises(ValueError, match=message):
        check_tokens(tokens, 28)


def test_a_missing_names_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "names", None)    # `import names` now raises ImportError
    with pytest.raises(DataUnavailableError, match="pip install names"):
        load_names()
    monkeypatch.undo()
    assert Path(names_folder(), "dist.male.first").is_file()

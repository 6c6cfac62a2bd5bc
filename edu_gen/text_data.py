"""Names as text: the US Census 1990 name lists, as padded character sequences.

The ``names`` package (``pip install names``) ships three plain files, one name a line,
``NAME  percent  cumulative-percent  rank``: 1,219 male and 4,275 female first names and
88,799 surnames. They are read from the installed package, so online and offline alike.

A name becomes a row of token ids: its characters, then the end symbol ``.``, then the
padding symbol ``_`` up to ``max_len + 1`` positions::

    "anna"  ->  a n n a . _ _ _      (max_len = 7)

The end symbol is what a model predicts after the last character (a model of names must
also say where a name stops); padding is never a prediction and never counted in a
likelihood. Models read the end symbol as the start symbol too (the input before the
first character).
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

PAD, END = "_", "."
PAD_ID, END_ID = 0, 1
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NAME_FILES = {"male": "dist.male.first", "female": "dist.female.first", "last": "dist.all.last"}
LISTS = {"first": ("male", "female"), "male": ("male",), "female": ("female",), "last": ("last",)}


class Vocabulary:
    """Token ids of the symbols: 0 is padding, 1 the end of a name, then the characters."""

    def __init__(self, characters=LETTERS):
        characters = sorted(set(characters))
        if not characters or PAD in characters or END in characters:
            raise ValueError(f"a vocabulary needs at least one character other than "
                             f"{PAD!r} and {END!r}, got {characters}")
        self.symbols = [PAD, END] + characters
        self.ids = {symbol: i for i, symbol in enumerate(self.symbols)}

    def __len__(self):
        return len(self.symbols)

    def encode(self, names, max_len):
        """Names -> int64 token ids (N, max_len + 1): characters, END, then PAD."""
        check_names(names, self, max_len)
        tokens = torch.full((len(names), max_len + 1), PAD_ID, dtype=torch.int64)
        for row, name in enumerate(names):
            tokens[row, :len(name) + 1] = torch.tensor([self.ids[c] for c in name] + [END_ID])
        return tokens

    def decode(self, tokens):
        """Token ids (N, T) -> names: the characters before the first END (or PAD)."""
        names = []
        for row in torch.as_tensor(tokens).tolist():
            name = []
            for token in row:
                if token in (PAD_ID, END_ID):
                    break
                name.append(self.symbols[token])
            names.append("".join(name))
        return names


def check_names(names, vocab, max_len):
    """Raise a ValueError that says what to do unless ``names`` is a non-empty list of
    strings of the vocabulary's characters, none longer than ``max_len``."""
    if isinstance(names, str) or len(names) == 0:
        raise ValueError(f"expected a non-empty list of names, got {names!r}")
    unknown = sorted({c for name in names for c in name} - set(vocab.symbols[2:]))
    if unknown:
        bad = [name for name in names if set(name) & set(unknown)]
        raise ValueError(f"{len(bad)} names use characters outside the vocabulary "
                         f"({''.join(unknown)!r}), e.g. {bad[:3]}: the vocabulary is "
                         f"{''.join(vocab.symbols[2:])!r} (lowercase with name.lower(), or "
                         "build Vocabulary(characters) from your names)")
    if any(len(name) == 0 for name in names):
        raise ValueError("an empty string is not a name: drop the empty entries")
    longest = max(len(name) for name in names)
    if longest > max_len:
        cut = sum(len(name) > max_len for name in names)
        raise ValueError(f"max_len={max_len} would cut {cut} of {len(names)} names (the longest "
                         f"has {longest} characters): use max_len >= {longest}")


def check_tokens(tokens, vocab_size):
    """Raise a ValueError unless ``tokens`` is what ``Vocabulary.encode`` returns: int64
    (N, T), N >= 1, ids below ``vocab_size``, every row ending with END then PAD only."""
    if not torch.is_tensor(tokens) or tokens.dtype != torch.int64 or tokens.dim() != 2:
        raise ValueError(f"tokens must be an int64 tensor (N, max_len + 1) from "
                         f"Vocabulary.encode, got {type(tokens).__name__} "
                         f"{getattr(tokens, 'dtype', '')} {tuple(getattr(tokens, 'shape', ()))}")
    if len(tokens) == 0:
        raise ValueError("tokens is empty (0 names): pass at least one name")
    if tokens.min() < 0 or tokens.max() >= vocab_size:
        raise ValueError(f"token ids must lie in 0..{vocab_size - 1} (the model's vocabulary), "
                         f"got {int(tokens.min())}..{int(tokens.max())}")
    ended = (tokens == END_ID).cumsum(1)
    if not (ended[:, -1] == 1).all() or (tokens[:, 0] == END_ID).any():
        raise ValueError("every row must hold one name of at least one character and exactly "
                         "one END token: encode names with Vocabulary.encode")
    after_end = ended.roll(1, 1) > 0
    after_end[:, 0] = False
    if ((tokens == PAD_ID) != after_end).any():
        raise ValueError("padding must fill exactly the positions after END: encode names "
                         "with Vocabulary.encode")


@dataclass
class NameSet:
    """One split of a name list: the names, their token ids (N, max_len + 1), and each
    name's census frequency in percent (``torch.multinomial(frequencies, n)`` draws names
    as often as people bear them)."""
    names: list
    tokens: torch.Tensor
    frequencies: torch.Tensor
    vocab: Vocabulary

    def __len__(self):
        return len(self.names)

    @property
    def max_len(self):
        return self.tokens.shape[1] - 1

    def to(self, device):
        return NameSet(self.names, self.tokens.to(device), self.frequencies.to(device), self.vocab)


def names_folder():
    """The folder of the installed ``names`` package's files."""
    try:
        import names
    except ImportError as error:
        from .data import DataUnavailableError
        raise DataUnavailableError("the name lists come with the names package: "
                                   "pip install names (or pip install 'edu-gen[text]')") from error
    return Path(names.__file__).parent


def read_name_list(which):
    """``{name (lowercase): percent}`` of one census file: ``male``, ``female`` or ``last``."""
    path = names_folder() / NAME_FILES[which]
    frequencies = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if len(fields) != 4:
            raise ValueError(f"{path}, line {number}: expected 'NAME percent cumulative rank', "
                             f"got {line!r}; reinstall the names package")
        frequencies[fields[0].lower()] = float(fields[1])
    return frequencies


def load_names(split="train", lists="first", test_fraction=0.2, max_len=None, seed=0,
               device="cpu"):
    """A seeded split of a census name list as a ``NameSet``.

    ``lists``: ``first`` (male and female first names, 5,163 distinct), ``male``, ``female``
    or ``last`` (88,799 surnames). A first name on both lists gets the mean of its two
    percents (its share of all people, the two sexes counted as equally many). Each name
    appears once; the split shuffles the distinct names with ``seed`` and keeps the last
    ``test_fraction`` for the test split. ``max_len`` defaults to the longest name of the
    whole list, so both splits have the same shape.
    """
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}: use 'train' or 'test'")
    if lists not in LISTS:
        raise ValueError(f"unknown name list {lists!r}: use one of {sorted(LISTS)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    tables = [read_name_list(which) for which in LISTS[lists]]
    every = sorted(set().union(*tables))
    percent = [sum(t.get(name, 0.0) for t in tables) / len(tables) for name in every]
    vocab = Vocabulary()
    max_len = max(len(name) for name in every) if max_len is None else max_len
    check_names(every, vocab, max_len)
    order = np.random.default_rng(seed).permutation(len(every))
    n_test = round(test_fraction * len(every))
    rows = order[:len(every) - n_test] if split == "train" else order[len(every) - n_test:]
    chosen = [every[i] for i in rows]
    tokens = vocab.encode(chosen, max_len)
    frequencies = torch.tensor([percent[i] for i in rows], dtype=torch.float32)
    return NameSet(chosen, tokens, frequencies, vocab).to(device)

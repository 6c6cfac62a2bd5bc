"""Judging generated names: how much of a name a reconstruction keeps, and what a batch of
samples is made of (real names, new names, repeats, their likelihood under a baseline)."""
from collections import Counter


def check_names(names, what):
    """Raise a ValueError unless ``names`` is a collection of strings (not one string)."""
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{what} must be a list of names (strings), got {names!r:.60}: "
                         "decode token ids with vocab.decode(tokens) first")


def char_overlap(a, b):
    """The share of characters two names have in common, counted with repetition (the
    Dice coefficient of their multisets): 2 |A n B| / (|A| + |B|), 1 for anagrams, 0 for
    names without a common letter. ``char_overlap("anna", "hannah")`` is 2 * 4 / 10."""
    if not a and not b:
        return 1.0
    common = sum((Counter(a) & Counter(b)).values())
    return 2 * common / (len(a) + len(b))


def mean_overlap(names, others):
    """The mean ``char_overlap`` of paired names (two lists of the same length)."""
    check_names(names, "names")
    check_names(others, "others")
    if len(names) != len(others) or not names:
        raise ValueError(f"expected two non-empty lists of the same length, got {len(names)} "
                         f"and {len(others)}")
    return sum(char_overlap(a, b) for a, b in zip(names, others)) / len(names)


def sample_report(samples, train_names, test_names, ngram=None, vocab=None, max_len=None):
    """What ``samples`` (a list of names) are made of, as shares of the samples:

    - ``real_test``: names of the test list (real names the model never saw);
    - ``real_train``: names of the training list (possibly memorised);
    - ``new``: not in the training list (the test names among them);
    - ``distinct``: distinct names / samples (1 = no repeats; a collapsed model repeats);
    - ``empty``: names without a character;
    - ``ngram_nll_per_char``: with a fitted ``CharNGram`` (and the ``vocab`` and ``max_len``
      that encode the names), the baseline's nats per character of the non-empty samples:
      how name-like the letter sequences are (the data's own test names score near the
      baseline's test NLL; gibberish scores far above).
    """
    for value, name in ((samples, "samples"), (train_names, "train_names"), (test_names, "test_names")):
        check_names(value, name)
    if not samples:
        raise ValueError("no samples to judge: pass a non-empty list of names")
    train, test, n = set(train_names), set(test_names), len(samples)
    report = {"real_test": sum(s in test for s in samples) / n,
              "real_train": sum(s in train for s in samples) / n,
              "new": sum(s not in train for s in samples) / n,
              "distinct": len(set(samples)) / n,
              "empty": sum(not s for s in samples) / n}
    if ngram is not None:
        if vocab is None or max_len is None:
            raise ValueError("the n-gram likelihood needs the vocab and max_len of the names")
        names = [s for s in samples if s]
        report["ngram_nll_per_char"] = ngram.nll_per_char(vocab.encode(names, max_len))
    return report

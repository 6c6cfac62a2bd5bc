"""A character n-gram model of names: the baseline every neural model of text must beat.

The probability of the next symbol given the n - 1 symbols before it is a smoothed count
(add-alpha, Laplace's rule with alpha = 1):

    p(c | h) = (count(h, c) + alpha) / (count(h) + alpha * K)             Eq. (ngram)

over the K symbols a name can continue with (the characters and the end symbol; padding
is never predicted). Before the first character the history is filled with the end
symbol, which doubles as the start symbol. The likelihood of a name is the product of
p(c | h) over its characters and its end symbol: the same symbols a sequence VAE predicts,
so the nats per character of both are comparable.
"""
import torch

from .text_data import END_ID, PAD_ID, check_tokens


class CharNGram:
    """An add-alpha character n-gram over a vocabulary of ``vocab_size`` symbols."""

    def __init__(self, vocab_size, order=3, alpha=0.1):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"order must be an integer >= 1 (1 = unigram), got {order!r}")
        if not alpha > 0:
            raise ValueError(f"alpha must be positive (alpha = 0 gives unseen names "
                             f"probability 0), got {alpha}")
        if vocab_size ** (order - 1) > 2 ** 24:
            raise ValueError(f"order {order} needs a table of {vocab_size}^{order - 1} "
                             "histories: use a smaller order")
        self.vocab_size, self.order, self.alpha = vocab_size, order, alpha
        self.counts = torch.zeros(vocab_size ** (order - 1), vocab_size)

    def _histories(self, tokens):
        """The id of the n - 1 symbols before each position, (N, T); END before the start."""
        start = torch.full((len(tokens), self.order - 1), END_ID, dtype=torch.int64)
        padded = torch.cat([start, tokens.cpu()], dim=1)
        ids = torch.zeros(tokens.shape, dtype=torch.int64)
        for k in range(self.order - 1):
            ids = ids * self.vocab_size + padded[:, k:k + tokens.shape[1]]
        return ids

    def fit(self, tokens):
        """Count every (history, symbol) pair of the names ``tokens`` (N, T); returns self."""
        check_tokens(tokens, self.vocab_size)
        tokens = tokens.cpu()
        counted = tokens != PAD_ID
        flat = self._histories(tokens)[counted] * self.vocab_size + tokens[counted]
        self.counts += torch.bincount(flat, minlength=self.counts.numel()).view_as(self.counts)
        return self

    def log_probs(self):
        """log p(c | h) of Eq. (ngram), (histories, vocab_size); -inf for padding."""
        smoothed = self.counts + self.alpha
        smoothed[:, PAD_ID] = 0.0
        return smoothed.log() - smoothed.sum(1, keepdim=True).log()

    def nll(self, tokens):
        """-log p(name) in nats, one value per name (N,): the sum of -log p(c | h) over
        its characters and its end symbol; padding is not counted."""
        check_tokens(tokens, self.vocab_size)
        tokens = tokens.cpu()
        log_p = self.log_probs()[self._histories(tokens), tokens]
        return -torch.where(tokens != PAD_ID, log_p, 0.0).sum(1)

    def nll_per_char(self, tokens):
        """Nats per predicted symbol (characters and end symbols) over all ``tokens``."""
        return (self.nll(tokens).sum() / (tokens != PAD_ID).sum().cpu()).item()

    def sample(self, n, max_len, generator=None):
        """``n`` names drawn symbol by symbol from Eq. (ngram), as tokens (n, max_len + 1).
        A name still running after ``max_len`` characters is ended there."""
        probs = self.log_probs().exp()
        tokens = torch.full((n, max_len + 1), PAD_ID, dtype=torch.int64)
        history = torch.full((n, self.order - 1), END_ID, dtype=torch.int64)
        running = torch.ones(n, dtype=torch.bool)
        for t in range(max_len + 1):
            ids = torch.zeros(n, dtype=torch.int64)
            for k in range(self.order - 1):
                ids = ids * self.vocab_size + history[:, k]
            nxt = torch.multinomial(probs[ids], 1, generator=generator).squeeze(1)
            if t == max_len:
                nxt[:] = END_ID
            tokens[running, t] = nxt[running]
            running &= nxt != END_ID
            history = torch.cat([history[:, 1:], nxt[:, None]], dim=1)
        return tokens

"""A VAE of names (Bowman et al. 2016): a GRU encoder to q(z|x), a GRU decoder p(x|z).

The encoder reads the characters and the end symbol of a name and maps its last state to
the mean and log-variance of a diagonal Gaussian q(z|x). The decoder is an autoregressive
language model conditioned on z:

    p(x | z) = prod_t p(x_t | x_<t, z),   t = 1 .. |x| + 1 (the last symbol is the end)   Eq. (seq-likelihood)

z sets the decoder's first state and is fed beside every input character. The input
before the first character is the end symbol; ``word_dropout`` (Bowman et al.'s remedy for
posterior collapse) replaces input characters by padding, a zero embedding, so the
decoder must take what it cannot see from z.
"""
import torch
from torch import nn

from .text_data import END_ID, PAD_ID, check_tokens


def decoder_inputs(tokens):
    """The decoder's input at each position: the symbol before it, END before the first."""
    start = torch.full_like(tokens[:, :1], END_ID)
    return torch.cat([start, tokens[:, :-1]], dim=1).masked_fill(tokens == PAD_ID, PAD_ID)


class SequenceVAE(nn.Module):
    """Names (N, T) of token ids -> q(z|x) -> p(x|z), with ``vocab_size`` symbols."""

    def __init__(self, vocab_size, latent_dim=16, embed_dim=32, hidden=128):
        super().__init__()
        if min(vocab_size, latent_dim, embed_dim, hidden) < 1:
            raise ValueError("vocab_size, latent_dim, embed_dim and hidden must be at least 1")
        self.vocab_size, self.latent_dim = vocab_size, latent_dim
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.encoder = nn.GRU(embed_dim, hidden, batch_first=True)
        self.to_posterior = nn.Linear(hidden, 2 * latent_dim)
        self.to_state = nn.Linear(latent_dim, hidden)
        self.decoder = nn.GRU(embed_dim + latent_dim, hidden, batch_first=True)
        self.to_logits = nn.Linear(hidden, vocab_size)

    def encode(self, tokens, labels=None):
        """``(mu, logvar)`` of q(z|x), each (N, latent_dim), read at each name's end symbol.
        (``labels`` must be None: the model is unconditional; the argument lets
        ``edu_gen.vae_eval.active_units`` call it as it calls the image VAE.)"""
        if labels is not None:
            raise ValueError("SequenceVAE is not conditional: call encode without labels")
        check_tokens(tokens, self.vocab_size)
        states, _ = self.encoder(self.embed(tokens))              # (N, T, hidden)
        last = states[torch.arange(len(tokens)), (tokens != PAD_ID).sum(1) - 1]
        return self.to_posterior(last).chunk(2, dim=1)

    def _run_decoder(self, z, inputs, state=None):
        h = torch.cat([self.embed(inputs), z[:, None].expand(-1, inputs.shape[1], -1)], dim=2)
        if state is None:
            state = torch.tanh(self.to_state(z))[None]
        out, state = self.decoder(h, state)
        logits = self.to_logits(out)
        pad = torch.arange(self.vocab_size, device=logits.device) == PAD_ID
        return logits.masked_fill(pad, -float("inf")), state     # padding is never predicted

    def decode_logits(self, z, tokens, word_dropout=0.0):
        """Logits (N, T, vocab_size) of p(x_t | x_<t, z) at every position of ``tokens``
        (the padding symbol's logit is -inf: p is a distribution over the other symbols)
        (teacher forcing: the true previous symbols are the inputs). ``word_dropout``: the
        share of input characters replaced by padding (the first input, END, is kept)."""
        if not 0.0 <= word_dropout <= 1.0:
            raise ValueError(f"word_dropout must lie in [0, 1], got {word_dropout}")
        inputs = decoder_inputs(tokens)
        if word_dropout > 0:
            dropped = torch.rand(inputs.shape, device=inputs.device) < word_dropout
            dropped[:, 0] = False
            inputs = inputs.masked_fill(dropped, PAD_ID)
        return self._run_decoder(z, inputs)[0]

    @torch.no_grad()
    def generate(self, z, max_len, greedy=False, generator=None):
        """Names decoded from codes z (N, latent_dim) as tokens (N, max_len + 1), one
        symbol at a time: sampled from p(x_t | x_<t, z), or its most likely symbol when
        ``greedy``. A name still running after ``max_len`` characters is ended there."""
        tokens = torch.full((len(z), max_len + 1), PAD_ID, dtype=torch.int64, device=z.device)
        previous = torch.full((len(z), 1), END_ID, dtype=torch.int64, device=z.device)
        running = torch.ones(len(z), dtype=torch.bool, device=z.device)
        state = None
        for t in range(max_len + 1):
            logits, state = self._run_decoder(z, previous, state)
            logits = logits[:, 0].float()
            if t == max_len:
                symbol = torch.full_like(running, END_ID, dtype=torch.int64)
            elif greedy:
                symbol = logits.argmax(1)
            else:
                symbol = torch.multinomial(logits.softmax(1), 1, generator=generator).squeeze(1)
            tokens[running, t] = symbol[running]
            running &= symbol != END_ID
            previous = symbol[:, None]
        return tokens

    def sample(self, n, max_len, generator=None):
        """``n`` names from the model: z ~ N(0, I), then x ~ p(x | z)."""
        device = self.to_state.weight.device
        z = torch.randn(n, self.latent_dim, device=device, generator=generator)
        return self.generate(z, max_len, generator=generator)

    @torch.no_grad()
    def reconstruct(self, tokens):
        """Each name's most likely decoding (greedy) from its posterior mean code."""
        return self.generate(self.encode(tokens)[0], tokens.shape[1] - 1, greedy=True)

    @torch.no_grad()
    def interpolate_codes(self, a, b, steps=8):
        """Greedy decodings of (1 - t) mu(a) + t mu(b), t = 0..1 in ``steps`` steps, between
        the posterior means of two names ``a`` and ``b`` (token rows (1, T)): (steps, T)."""
        if steps < 2:
            raise ValueError(f"steps must be at least 2, got {steps}")
        mu_a, mu_b = self.encode(a)[0][:1], self.encode(b)[0][:1]
        t = torch.linspace(0, 1, steps, device=mu_a.device)[:, None]
        return self.generate((1 - t) * mu_a + t * mu_b, a.shape[1] - 1, greedy=True)

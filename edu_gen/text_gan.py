"""A GAN of names: why sampling discrete symbols blocks the generator's gradient, and the
Gumbel-softmax relaxation that lets one through (Jang et al. 2017; Maddison et al. 2017;
Kusner and Hernandez-Lobato 2016).

A sample of Categorical(softmax(l)) is the argmax of the logits plus Gumbel noise:

    x = one_hot(argmax_i (l_i + g_i)),   g_i = -log(-log u_i),  u_i ~ Uniform(0, 1)   Eq. (gumbel-max)

The argmax is piecewise constant in l: a small change of the generator's weights leaves x,
hence D(x), unchanged, so the gradient of the generator's loss is exactly zero wherever it
exists. The Gumbel-softmax replaces the argmax by a softmax at temperature tau > 0,

    y = softmax((l + g) / tau),                                                    Eq. (gumbel-softmax)

a point of the simplex that is smooth in l and tends to the one-hot x as tau -> 0 (the
gradient's variance grows as tau falls). The straight-through version uses x in the
forward pass (D sees one-hot vectors, like the data) and y's gradient in the backward pass.

The generator writes a name symbol by symbol: a GRU whose input is the previous symbol's
(relaxed) one-hot vector, times the embedding matrix. After the end symbol every position
is padding, written differentiably: position t is alive_t * y_t + (1 - alive_t) * e_PAD,
with alive_t = prod_{s<t} (1 - y_s[END]). Real names enter the discriminator as one-hot
rows (``one_hot_names``); both networks work with ``edu_gen.gan_train``'s steps and loop.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .gan import Generator
from .text_data import END_ID, PAD_ID, check_tokens

SAMPLINGS = ("categorical", "gumbel-softmax", "straight-through")


def check_temperature(temperature):
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"the Gumbel-softmax temperature must be a number > 0 (small: close "
                         f"to one-hot, noisy gradients; about 0.5 to 1 is usual), got {temperature!r}")


def gumbel_noise(shape, device=None, generator=None):
    """g = -log(-log u), u ~ Uniform(0, 1): standard Gumbel noise of the given shape."""
    u = torch.rand(shape, device=device, generator=generator)
    tiny = torch.finfo(u.dtype).tiny
    exponential = -torch.log(u.clamp(min=tiny))          # -log u ~ Exponential(1)
    return -torch.log(exponential.clamp(min=tiny))


def categorical_one_hot(logits, noise=None):
    """An exact sample of Categorical(softmax(logits)) as a one-hot vector (Eq. (gumbel-max)).
    No gradient reaches ``logits``: the argmax is piecewise constant."""
    noise = gumbel_noise(logits.shape, logits.device) if noise is None else noise
    return F.one_hot((logits + noise).argmax(-1), logits.shape[-1]).to(logits.dtype)


def gumbel_softmax(logits, temperature, hard=False, noise=None):
    """y = softmax((logits + g) / tau) (Eq. (gumbel-softmax)), over the last dimension.

    ``hard=True`` is the straight-through version: the value is the one-hot argmax of y (an
    exact categorical sample, Eq. (gumbel-max)) and the gradient is y's.
    """
    check_temperature(temperature)
    noise = gumbel_noise(logits.shape, logits.device) if noise is None else noise
    y = ((logits + noise) / temperature).softmax(-1)
    if not hard:
        return y
    one_hot = F.one_hot(y.argmax(-1), logits.shape[-1]).to(y.dtype)
    return one_hot + (y - y.detach())     # exactly one_hot (y - y is 0), the gradient of y


def one_hot_names(tokens, vocab_size):
    """Names (N, T) of token ids as the discriminator sees them: one-hot rows (N, T, V)."""
    check_tokens(tokens, vocab_size)
    return F.one_hot(tokens, vocab_size).float()


class SequenceGenerator(Generator):
    """z (N, latent_dim) -> a name as (relaxed) one-hot rows (N, max_len + 1, vocab_size).

    ``sampling``: ``categorical`` (exact samples, no gradient: the straightforward GAN),
    ``gumbel-softmax`` (Eq. (gumbel-softmax) at ``temperature``) or ``straight-through``.
    """

    def __init__(self, vocab_size, max_len, latent_dim=32, hidden=64, embed_dim=32,
                 sampling="gumbel-softmax", temperature=1.0):
        super().__init__()
        if min(vocab_size, max_len, latent_dim, hidden, embed_dim) < 1:
            raise ValueError("vocab_size, max_len, latent_dim, hidden, embed_dim must be >= 1")
        check_temperature(temperature)
        self.vocab_size, self.max_len, self.latent_dim = vocab_size, max_len, latent_dim
        self.sampling, self.temperature = sampling, temperature
        self.embed = nn.Parameter(0.1 * torch.randn(vocab_size, embed_dim))
        self.to_state = nn.Linear(latent_dim, hidden)
        self.cell = nn.GRUCell(embed_dim, hidden)
        self.to_logits = nn.Linear(hidden, vocab_size)

    def draw(self, logits):
        """One position's symbol from its logits, by ``self.sampling``."""
        if self.sampling == "categorical":
            return categorical_one_hot(logits)
        if self.sampling in ("gumbel-softmax", "straight-through"):
            return gumbel_softmax(logits, self.temperature, self.sampling == "straight-through")
        raise ValueError(f"unknown sampling {self.sampling!r}: use one of {SAMPLINGS}")

    def forward(self, z, labels=None):
        state = torch.tanh(self.to_state(self.noise_and_label(z, labels)))
        previous = F.one_hot(torch.full((len(z),), END_ID, device=z.device), self.vocab_size)
        previous, alive = previous.to(z.dtype), torch.ones(len(z), 1, device=z.device)
        pad = F.one_hot(torch.tensor(PAD_ID, device=z.device), self.vocab_size).to(z.dtype)
        rows = []
        for t in range(self.max_len + 1):
            state = self.cell(previous @ self.embed, state)
            logits = self.to_logits(state).masked_fill(pad.bool(), -float("inf"))
            if t == self.max_len:               # a name ends by max_len, as in the data
                logits = logits.masked_fill(torch.arange(self.vocab_size, device=z.device)
                                            != END_ID, -float("inf"))
            y = self.draw(logits)
            rows.append(alive * y + (1 - alive) * pad)           # padding after the end
            alive = alive * (1 - y[:, END_ID:END_ID + 1])
            previous = y
        return torch.stack(rows, dim=1)

    @torch.no_grad()
    def sample(self, n, generator=None):
        """``n`` names as token ids (n, max_len + 1): exact categorical samples."""
        sampling, self.sampling = self.sampling, "categorical"
        try:
            rows = self(self.sample_noise(n, generator=generator))
        finally:
            self.sampling = sampling
        return rows.argmax(-1)


class SequenceDiscriminator(nn.Module):
    """(Relaxed) one-hot names (N, T, vocab_size) -> one logit per name (N,): an embedding
    (a linear map of the one-hot rows), two 1D convolutions over the positions, a linear."""

    def __init__(self, vocab_size, max_len, embed_dim=32, channels=64):
        super().__init__()
        self.vocab_size, self.length = vocab_size, max_len + 1
        self.embed = nn.Linear(vocab_size, embed_dim, bias=False)
        self.net = nn.Sequential(
            nn.Conv1d(embed_dim, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(channels * self.length, 1))

    def forward(self, x, labels=None):
        if labels is not None:
            raise ValueError("SequenceDiscriminator is not conditional: call it without labels")
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.length, self.vocab_size):
            raise ValueError(f"the discriminator takes one-hot names (N, {self.length}, "
                             f"{self.vocab_size}) (see one_hot_names), got {tuple(x.shape)}")
        return self.net(self.embed(x).transpose(1, 2)).squeeze(1)

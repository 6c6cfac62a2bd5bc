"""InfoGAN (Chen et al. 2016): a GAN whose generator input carries a code c that an
auxiliary network Q must read back from the image.

G's input is ``[z, one_hot(c_cat), c_cont]``: noise z ~ N(0, I), one categorical code
c_cat ~ Cat(K, 1/K) and continuous codes c_cont ~ Uniform(-1, 1) (``InfoCodes``). Any book
generator serves as G with ``latent_dim = codes.dim``. Q shares D's body: ``InfoDiscriminator``
takes a book discriminator, keeps all its layers but the last as the body, its last layer as
D's head (one logit) and adds Q's head, which returns Q(c | x): the logits of the
categorical code and the mean and log-variance of a factored Gaussian for the continuous
ones (the paper's choice).

Eq. (info-bound), the variational lower bound on the mutual information:

    I(c; G(z, c)) >= L_I(G, Q) = E_{c ~ p(c), x = G(z, c)} [log Q(c | x)] + H(c)

``edu_gen.infogan_train.info_loss`` is -E[log Q(c | x)] = H(c) - L_I, the loss
Eq. (infogan) adds, weighted by lambda, to both players' losses (beside the two steps). For the categorical code
-log Q(c | x) is the cross-entropy, so L_I = log K - cross-entropy: log K when Q reads
every code right, 0 when it guesses.
"""
import math
from typing import NamedTuple

import torch
from torch import nn

from .gan import MLPDiscriminator
from .nets import one_hot
from .runtime import eval_mode


class Code(NamedTuple):
    """The code of a batch: ``categories`` (N,) int64 and ``continuous`` (N, k) floats."""
    categories: torch.Tensor
    continuous: torch.Tensor


class QOutput(NamedTuple):
    """Q(c | x) of a batch: category ``logits`` (N, K), Gaussian ``mean`` and ``logvar`` (N, k)."""
    logits: torch.Tensor
    mean: torch.Tensor
    logvar: torch.Tensor


class InfoCodes:
    """The generator's input: ``n_noise`` noise dimensions, one categorical code of
    ``n_categories`` values and ``n_continuous`` Uniform(-1, 1) codes (the paper's MNIST
    setting: 62, 10, 2). ``dim`` is the generator's ``latent_dim``."""

    def __init__(self, n_noise=62, n_categories=10, n_continuous=2):
        if not all(isinstance(n, int) and n >= 0 for n in (n_noise, n_categories, n_continuous)):
            raise ValueError(f"code sizes must be integers >= 0, got n_noise={n_noise!r}, "
                             f"n_categories={n_categories!r}, n_continuous={n_continuous!r}")
        if n_categories == 1:
            raise ValueError("a categorical code of 1 category carries no information: use "
                             "n_categories >= 2, or 0 for none")
        if n_categories == 0 and n_continuous == 0:
            raise ValueError("InfoGAN needs a code to recover: n_categories >= 2 or "
                             "n_continuous >= 1 (the paper's MNIST code: 10 and 2)")
        self.n_noise, self.n_categories, self.n_continuous = n_noise, n_categories, n_continuous
        self.dim = n_noise + n_categories + n_continuous

    def entropy(self):
        """H(c_cat) = log K in nats, the most the categorical part of L_I can reach."""
        return math.log(self.n_categories) if self.n_categories else 0.0

    def sample(self, n, device="cpu", generator=None):
        """``(input (n, dim), Code)``: z ~ N(0, I), c_cat uniform, c_cont ~ Uniform(-1, 1)."""
        z = torch.randn(n, self.n_noise, device=device, generator=generator)
        categories = torch.randint(max(self.n_categories, 1), (n,), device=device, generator=generator)
        continuous = torch.rand(n, self.n_continuous, device=device, generator=generator) * 2 - 1
        code = Code(categories, continuous)
        return self.inputs(z, code), code

    def inputs(self, z, code):
        """G's input ``[z, one_hot(c_cat), c_cont]`` for given noise (N, n_noise) and code."""
        if z.dim() != 2 or z.shape[1] != self.n_noise:
            raise ValueError(f"noise must be (N, {self.n_noise}), got {tuple(z.shape)}")
        if code.continuous.shape != (len(z), self.n_continuous):
            raise ValueError(f"continuous codes must be (N, {self.n_continuous}) = "
                             f"({len(z)}, {self.n_continuous}), got {tuple(code.continuous.shape)}")
        parts = [z]
        if self.n_categories:
            parts.append(one_hot(code.categories, self.n_categories, len(z)).to(z.dtype))
        return torch.cat(parts + [code.continuous.to(z.dtype)], dim=1)


class InfoDiscriminator(nn.Module):
    """D and Q on one body: a book discriminator's layers but its last (``.net[:-1]``), then
    D's head (its last layer, one logit) and Q's head (a hidden layer of ``hidden`` units).

    ``forward(x)`` returns ``(logits (N,), QOutput)``.
    """

    def __init__(self, discriminator, codes, hidden=128):
        super().__init__()
        if getattr(discriminator, "n_classes", 0) or getattr(discriminator, "pack", 1) != 1:
            raise ValueError("InfoDiscriminator wraps a plain discriminator: build it without "
                             "n_classes and pack")
        self.in_shape = tuple(getattr(discriminator, "in_shape", (1, 28, 28)))
        self.codes = codes
        self.body, self.d_head = discriminator.net[:-1], discriminator.net[-1]
        if isinstance(discriminator, MLPDiscriminator):   # an MLP reads flat inputs
            self.body = nn.Sequential(nn.Flatten(), *self.body)
        with torch.no_grad(), eval_mode(self.body):       # the body's output size, from a probe
            features = self.body(torch.zeros(2, *self.in_shape)).flatten(1).shape[1]
        out = codes.n_categories + 2 * codes.n_continuous
        self.q_head = nn.Sequential(nn.Flatten(), nn.Linear(features, hidden), nn.LeakyReLU(0.2),
                                    nn.Linear(hidden, out))

    def forward(self, x):
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"this discriminator takes inputs of shape (N, "
                             f"{', '.join(map(str, self.in_shape))}), got {tuple(x.shape)}")
        h = self.body(x)                                   # the shared body
        logits = self.d_head(h).flatten()                  # D(x), one logit per example
        q = self.q_head(h).float()                         # Q(c | x)
        k = self.codes.n_categories
        mean, logvar = q[:, k:].chunk(2, dim=1)
        return logits, QOutput(q[:, :k], mean, logvar)

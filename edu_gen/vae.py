"""Variational autoencoders for 28x28 images: MLP or conv nets, Bernoulli or Gaussian
likelihood, a beta weight, and a conditional variant (a one-hot label fed to both nets).

The encoder maps an image x to the mean and log-variance of q(z|x) = N(mu, diag exp(logvar));
the decoder maps a latent z to the parameters of p(x|z); the prior is p(z) = N(0, I).
Training maximizes the ELBO of ``edu_gen.elbo`` (Eq. (elbo)); the loss is its negative.

Sizes used in the book:

- ``VAE(hidden=(400,), latent_dim=20)``       784-400-20, as in pytorch/examples
- ``VAE(hidden=(512, 256), latent_dim=64)``   the 784-512-256-64 MLP common in tutorials
- ``VAE(conv=True, latent_dim=20)``           a small conv net (two strided convolutions)
- ``VAE(..., n_classes=10)``                  the conditional VAE, p(x|z, y) and q(z|x, y)
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .data import Batches
from .elbo import (bernoulli_log_likelihood, check_beta, elbo, gaussian_kl,
                   gaussian_log_likelihood, iwae_bound_chunked, log_normal, reparameterize)
from .train import adam, autocast, maybe_compile, train

IMAGE_SHAPE = (1, 28, 28)
PIXELS = 784
LIKELIHOODS = ("bernoulli", "gaussian")
LR_DECAYS = (None, "cosine")


# --- checking inputs -------------------------------------------------------------------

def check_images(images, name="images"):
    """Raise a ValueError unless ``images`` is a finite float tensor (N, 1, 28, 28) in [0, 1]."""
    if not torch.is_tensor(images) or not images.is_floating_point():
        raise ValueError(f"{name} must be a float tensor of shape (N, 1, 28, 28) in [0, 1], "
                         f"got {type(images).__name__} {getattr(images, 'dtype', '')}")
    if images.dim() != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"{name} must have shape (N, 1, 28, 28), got {tuple(images.shape)}; "
                         "add the channel axis with images.unsqueeze(1)")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} contain NaN or infinite values: clean the data first")
    low, high = images.min().item(), images.max().item()
    if low < 0 or high > 1:
        raise ValueError(f"{name} must lie in [0, 1] (got values in [{low:.3g}, {high:.3g}]): "
                         "divide 0..255 pixels by 255")


def check_labels(labels, n, n_classes):
    if n_classes == 0:
        if labels is not None:
            raise ValueError("labels were given to an unconditional VAE: build it with n_classes=10")
        return
    if labels is None:
        raise ValueError(f"this conditional VAE needs labels (int64 in 0..{n_classes - 1})")
    if labels.shape != (n,) or labels.dtype != torch.int64:
        raise ValueError(f"labels must be int64 of shape ({n},), got {labels.dtype} {tuple(labels.shape)}")
    if labels.min().item() < 0 or labels.max().item() >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")


# --- the networks ----------------------------------------------------------------------

def mlp(sizes):
    """Linear layers of the given sizes with ReLU between them (none after the last)."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """(N, 1, 28, 28) -> 32x14x14 -> 64x7x7 -> features (then a linear head in the VAE)."""

    def __init__(self, features=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, features), nn.ReLU())

    def forward(self, x):
        return self.net(x.reshape(-1, *IMAGE_SHAPE))


class ConvDecoder(nn.Module):
    """features -> 64x7x7 -> 32x14x14 -> (N, 784) outputs (the mirror of ConvEncoder)."""

    def __init__(self, in_features):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, 256), nn.ReLU(), nn.Linear(256, 64 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Flatten())

    def forward(self, h):
        return self.net(h)


class VAE(nn.Module):
    """A VAE for 28x28 images in [0, 1]; see the module docstring for the sizes."""

    def __init__(self, latent_dim=20, hidden=(400,), conv=False, likelihood="bernoulli",
                 n_classes=0):
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1, got {latent_dim!r}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if n_classes < 0:
            raise ValueError(f"n_classes must be >= 0 (0 = unconditional), got {n_classes}")
        hidden = tuple(hidden)
        if not conv and (not hidden or min(hidden) < 1):
            raise ValueError(f"hidden must be a non-empty tuple of positive sizes, got {hidden}")
        self.config = dict(latent_dim=latent_dim, hidden=list(hidden), conv=conv,
                           likelihood=likelihood, n_classes=n_classes)
        self.latent_dim, self.likelihood, self.n_classes = latent_dim, likelihood, n_classes
        if conv:
            self.encoder = ConvEncoder(256)
            self.head = nn.Linear(256 + n_classes, 2 * latent_dim)
            self.decoder = ConvDecoder(latent_dim + n_classes)
        else:
            self.encoder = mlp([PIXELS + n_classes, *hidden])
            self.encoder.append(nn.ReLU())
            self.head = nn.Linear(hidden[-1], 2 * latent_dim)
            self.decoder = mlp([latent_dim + n_classes, *reversed(hidden), PIXELS])
        # Gaussian likelihood: one learned log-variance shared by all pixels (Eq. (gaussian)).
        self.decoder_logvar = nn.Parameter(torch.zeros(())) if likelihood == "gaussian" else None

    def _one_hot(self, labels, like):
        return F.one_hot(labels, self.n_classes).to(like.dtype).expand(*like.shape[:-1], -1)

    def encode(self, x, labels=None):
        """q(z|x[, y]): (mu, logvar), each (N, latent_dim)."""
        if x.dim() < 2 or x[0].numel() != PIXELS:
            raise ValueError(f"the VAE encodes 28x28 images, (N, 1, 28, 28) or (N, 784); "
                             f"got {tuple(x.shape)}")
        x = x.reshape(len(x), PIXELS)
        if isinstance(self.encoder, ConvEncoder):
            h = self.encoder(x)
            if self.n_classes:
                h = torch.cat([h, self._one_hot(labels, h)], -1)
        else:
            if self.n_classes:
                x = torch.cat([x, self._one_hot(labels, x)], -1)
            h = self.encoder(x)
        mu, logvar = self.head(h).chunk(2, dim=-1)
        return mu, logvar

    def decoder_output(self, z, labels=None):
        """Logits (Bernoulli) or pre-sigmoid means (Gaussian), shape (..., 784)."""
        if self.n_classes:
            z = torch.cat([z, self._one_hot(labels, z)], -1)
        lead = z.shape[:-1]
        return self.decoder(z.reshape(-1, z.shape[-1])).reshape(*lead, PIXELS)

    def log_likelihood(self, output, x_flat):
        """log p(x|z) per example: Eq. (bernoulli) or Eq. (gaussian)."""
        output = output.float()
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(output, x_flat)
        return gaussian_log_likelihood(torch.sigmoid(output), x_flat, self.decoder_logvar)

    @torch.no_grad()
    def decode(self, z, labels=None):
        """The decoder's mean image in [0, 1], shape (N, 1, 28, 28)."""
        return torch.sigmoid(self.decoder_output(z, labels).float()).reshape(-1, *IMAGE_SHAPE)

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None):
        """n new images: z ~ N(0, I), then the decoder's mean (the usual way to show samples)."""
        device = self.head.weight.device
        z = torch.randn(n, self.latent_dim, device=device, generator=generator)
        return self.decode(z, labels)

    @torch.no_grad()
    def reconstruct(self, x, labels=None):
        """Decode the posterior mean of each image: (N, 1, 28, 28) in [0, 1]."""
        mu, _ = self.encode(x, labels)
        return self.decode(mu, labels)

    def forward(self, x, labels=None):
        """One-sample ELBO terms per example: (log p(x|z), KL(q(z|x) || p(z)), mu, logvar)."""
        mu, logvar = self.encode(x, labels)
        z = reparameterize(mu.float(), logvar.float())
        log_lik = self.log_likelihood(self.decoder_output(z, labels), x.reshape(len(x), PIXELS))
        kl = gaussian_kl(mu.float(), logvar.float())
        return log_lik, kl, mu, logvar

    def log_weights(self, x, labels=None, k=1):
        """log p(x, z_i) - log q(z_i|x) for k samples z_i ~ q(z|x): shape (k, N) (Eq. (iwae))."""
        mu, logvar = self.encode(x, labels)
        mu, logvar = mu.float(), logvar.float()
        z = reparameterize(mu.expand(k, *mu.shape), logvar.expand(k, *logvar.shape))
        output = self.decoder_output(z, labels)
        log_lik = self.log_likelihood(output, x.reshape(len(x), PIXELS))
        return log_lik + log_normal(z) - log_normal(z, mu, logvar)


# --- the loss ----------------------------------------------------------------------------

def kl_per_dimension(mu, logvar):
    """KL(q || N(0, I)) of each latent dimension separately, shape (N, D) (Eq. (kl) unsummed)."""
    return gaussian_kl(mu.unsqueeze(-1), logvar.unsqueeze(-1))


def vae_loss(model, x, labels=None, beta=1.0, free_bits=0.0):
    """The training loss, averaged over the batch, and its parts (all per-example means).

    loss = distortion + beta * rate, where distortion = -log p(x|z) and rate = KL: the
    negative of Eq. (elbo). With ``free_bits`` = lambda > 0 each latent dimension's
    batch-mean KL counts as max(lambda, KL_j) (Kingma et al. 2016), so the optimizer gains
    nothing by pushing a dimension's KL below lambda: a remedy for posterior collapse.
    """
    check_beta(beta)
    if free_bits < 0:
        raise ValueError(f"free_bits must be >= 0 nats per latent dimension, got {free_bits}")
    log_lik, kl, mu, logvar = model(x, labels)
    distortion = -log_lik.mean()
    if free_bits > 0:
        rate_for_loss = kl_per_dimension(mu.float(), logvar.float()).mean(0).clamp(min=free_bits).sum()
    else:
        rate_for_loss = kl.mean()
    loss = distortion + beta * rate_for_loss
    neg_elbo = -elbo(log_lik, kl).mean()
    return loss, {"loss": loss.detach(), "neg_elbo": neg_elbo.detach(),
                  "distortion": distortion.detach(), "rate": kl.mean().detach()}


def train_vae(model, images, epochs, lr=1e-3, batch_size=128, beta=1.0, binarize=True,
              labels=None, compile=False, kl_warmup_epochs=0, free_bits=0.0,
              lr_decay=None, on_epoch_end=None, desc="vae"):
    """Train ``model`` on ``images`` (N, 1, 28, 28) in [0, 1] with Adam; return the history.

    ``binarize``: dynamic binarization, a fresh Bernoulli(x) draw of every batch (on
    the device), so each epoch sees new binary digits (as in Burda et al. 2015).
    ``kl_warmup_epochs``: KL annealing, beta rising linearly from 0 over that many epochs.
    ``lr_decay="cosine"``: the learning rate falls from ``lr`` to 0 along a half cosine
    over all steps (Loshchilov & Hutter 2017); ``None`` keeps it constant.
    The history holds per-epoch means of loss, neg_elbo, distortion and rate, in nats.
    """
    check_images(images)
    check_beta(beta)
    if free_bits < 0 or kl_warmup_epochs < 0:
        raise ValueError(f"free_bits and kl_warmup_epochs must be >= 0, got {free_bits}, "
                         f"{kl_warmup_epochs}")
    if lr_decay not in LR_DECAYS:
        raise ValueError(f"lr_decay must be one of {LR_DECAYS}, got {lr_decay!r}")
    check_labels(labels, len(images), model.n_classes)
    device = model.head.weight.device
    images = images.to(device)
    tensors = (images,) if labels is None else (images, labels.to(device))
    batches = Batches(*tensors, batch_size=batch_size)
    # convolution weights stored channels-last (N, H, W, C in memory): the layout the CPU's
    # oneDNN and the GPU's cuDNN convolve fastest; same values, MLPs are left as they are
    model.to(memory_format=torch.channels_last)
    optimizer = adam(model.parameters(), lr=lr)
    loss_fn = maybe_compile(vae_loss, compile)
    warmup_steps, total_steps = kl_warmup_epochs * len(batches), epochs * len(batches)
    steps_done = 0

    def step(batch):
        nonlocal steps_done
        x, y = (batch, None) if labels is None else batch
        if binarize:  # x_j ~ Bernoulli(x_j): the same draw as torch.bernoulli(x), 3x faster on a CPU
            x = (torch.rand_like(x) < x).to(x.dtype)
        # Python floats, recomputed each step: no read of the device (no .item()) per step.
        beta_now = beta * min(1.0, steps_done / warmup_steps) if warmup_steps else beta
        if lr_decay == "cosine":
            for group in optimizer.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * steps_done / total_steps))
        with autocast(device):
            loss, metrics = loss_fn(model, x, y, beta_now, free_bits)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps_done += 1
        return metrics

    model.train()
    history = train(step, batches, epochs, desc=desc, on_epoch_end=on_epoch_end)
    model.eval()
    return history


# --- evaluation (float32, fixed binarization seed) ---------------------------------------

def binarized(images, seed=0):
    """One fixed binarization of ``images``: the same test set every time it is evaluated."""
    generator = torch.Generator(device=images.device).manual_seed(seed)
    return torch.bernoulli(images, generator=generator)


@torch.no_grad()
def evaluate(model, images, labels=None, binarize=True, seed=0, batch_size=500):
    """Test negative ELBO, rate and distortion in nats per image (means over ``images``).

    Binary test digits are drawn once with ``seed``; the one-sample ELBO is averaged.
    """
    check_images(images)
    check_labels(labels, len(images), model.n_classes)
    device = model.head.weight.device
    x_all = binarized(images.to(device), seed) if binarize else images.to(device)
    torch.manual_seed(seed)
    model.eval()
    sums = torch.zeros(3, device=device)
    for start in range(0, len(x_all), batch_size):
        x = x_all[start:start + batch_size]
        y = None if labels is None else labels[start:start + batch_size].to(device)
        log_lik, kl, _, _ = model(x, y)
        sums += torch.stack([-(log_lik - kl).sum(), kl.sum(), -log_lik.sum()])
    neg_elbo, rate, distortion = (sums / len(x_all)).tolist()
    return {"neg_elbo": neg_elbo, "rate": rate, "distortion": distortion}


@torch.no_grad()
def iwae_nll(model, images, labels=None, k=5000, chunk=500, binarize=True, seed=0, batch_size=100):
    """Estimate of the test negative log-likelihood -log p(x) in nats per image (Eq. (iwae)).

    -L_k is an upper bound on -log p(x) that tightens as k grows (Burda et al. 2015 used
    k = 5000). Samples are drawn in chunks of ``chunk`` to bound memory.
    """
    check_images(images)
    check_labels(labels, len(images), model.n_classes)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    device = model.head.weight.device
    x_all = binarized(images.to(device), seed) if binarize else images.to(device)
    torch.manual_seed(seed)
    model.eval()
    total = torch.zeros((), device=device)
    for start in range(0, len(x_all), batch_size):
        x = x_all[start:start + batch_size]
        y = None if labels is None else labels[start:start + batch_size].to(device)
        bound = iwae_bound_chunked(lambda n: model.log_weights(x, y, n), k, chunk)
        total += bound.sum()
    return -(total / len(x_all)).item()


@torch.no_grad()
def active_units(model, images, labels=None, threshold=0.01, batch_size=500):
    """Latent dimensions the encoder uses: Cov_x(E_q[z_u]) > threshold (Burda et al. 2015).

    A dimension whose posterior mean does not change with x carries no information about x:
    it has collapsed to the prior.
    """
    device = model.head.weight.device
    means = []
    for start in range(0, len(images), batch_size):
        y = None if labels is None else labels[start:start + batch_size].to(device)
        means.append(model.encode(images[start:start + batch_size].to(device), y)[0].float())
    variance = torch.cat(means).var(0)
    return int((variance > threshold).sum().item()), variance.cpu()


def grey_fraction(images, low=0.2, high=0.8):
    """The share of pixels strictly between ``low`` and ``high``: a crisp digit is black and
    white, a blurred one or a double exposure (a pixel cross-fade of two digits) is grey."""
    return float(((images > low) & (images < high)).float().mean())


# --- looking inside the latent space ------------------------------------------------------

def latent_grid(n=15, quantile=0.95):
    """An n x n grid of 2D codes spread as N(0, I) spreads them: the Gaussian quantiles of
    n evenly spaced probabilities in [1 - quantile, quantile], shape (n * n, 2), rows top
    (large z_2) to bottom, columns left (small z_1) to right."""
    if n < 2 or not 0.5 < quantile < 1:
        raise ValueError(f"need n >= 2 and 0.5 < quantile < 1, got n={n}, quantile={quantile}")
    levels = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(1 - quantile, quantile, n))
    z2, z1 = torch.meshgrid(levels.flip(0), levels, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


@torch.no_grad()
def decode_grid(model, n=15, quantile=0.95, labels=None):
    """The decoded 2D manifold: ``model.decode`` of ``latent_grid(n, quantile)``."""
    if model.latent_dim != 2:
        raise ValueError(f"decode_grid needs a 2D latent space, this model has {model.latent_dim}")
    z = latent_grid(n, quantile).to(model.head.weight.device)
    return model.decode(z, labels)


@torch.no_grad()
def interpolate(model, x_a, x_b, steps=8, labels=None):
    """Decode (1 - t) mu_a + t mu_b for t = 0..1 in ``steps`` steps, between the posterior
    means of two images x_a, x_b of shape (1, 1, 28, 28); returns (steps, 1, 28, 28)."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    check_images(x_a, "x_a")
    check_images(x_b, "x_b")
    mu_a, _ = model.encode(x_a, labels)
    mu_b, _ = model.encode(x_b, labels)
    t = torch.linspace(0, 1, steps, device=mu_a.device).unsqueeze(1)
    z = (1 - t) * mu_a[:1] + t * mu_b[:1]
    return model.decode(z, None if labels is None else labels[:1].expand(steps))


# --- checkpoints ---------------------------------------------------------------------------

def save_vae(path, model, **extra):
    """Save the weights and the constructor arguments, so ``load_vae`` rebuilds the model."""
    return save_checkpoint(path, model, config=model.config, **extra)


def load_vae(path, map_location="cpu"):
    """Rebuild a VAE saved by ``save_vae`` (read with ``torch.load(weights_only=True)``)."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
        config = dict(state["config"])
    except FileNotFoundError as error:
        raise CheckpointError(f"no checkpoint at {path}: train the model first, or check the path") from error
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a VAE checkpoint written by save_vae ({type(error).__name__}: "
            f"{error}); it may be truncated or corrupt: delete it and train again") from error
    model = VAE(**{**config, "hidden": tuple(config["hidden"])})
    extra = load_checkpoint(path, model, map_location)
    return model, extra

"""The variational autoencoder for 28x28 images: an encoder network for q(z|x), a decoder
network for p(x|z), and the prior p(z) = N(0, I).

The encoder maps an image x (784 pixels in [0, 1]) to the mean and log-variance of
q(z|x) = N(mu, diag exp(logvar)); the decoder maps a code z to 784 Bernoulli logits,
p(x|z) = prod_j Bernoulli(x_j; sigmoid(logit_j)) (Eq. (bernoulli)). A conditional VAE
(``n_classes=10``) feeds a one-hot label y to both networks: q(z|x, y) and p(x|z, y).
Training is in ``edu_gen.vae_train``; scores in ``edu_gen.vae_eval``.

Sizes used in the book:

- ``VAE(hidden=(400,), latent_dim=20)``       784-400-20, as in pytorch/examples
- ``VAE(conv=True, latent_dim=20)``           a small conv net (two strided convolutions)
- ``VAE(..., n_classes=10)``                  the conditional VAE
"""
import torch
from torch import nn

from .nets import mlp, one_hot

IMAGE_SHAPE = (1, 28, 28)
PIXELS = 784


class ConvEncoder(nn.Module):
    """[x, y] (N, 784 + n_classes) -> the image through 32x14x14 and 64x7x7 convolutions
    to 256 features, then with the label y to ``out_features``."""

    def __init__(self, out_features, n_classes=0):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU())
        self.head = nn.Linear(256 + n_classes, out_features)

    def forward(self, x_and_label):
        image, label = x_and_label[:, :PIXELS], x_and_label[:, PIXELS:]
        features = self.conv(image.reshape(-1, *IMAGE_SHAPE))
        return self.head(torch.cat([features, label], dim=1))


class ConvDecoder(nn.Module):
    """in_features -> 64x7x7 -> 32x14x14 -> (N, 784) logits (the mirror of ConvEncoder)."""

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

    def __init__(self, latent_dim=20, hidden=(400,), conv=False, n_classes=0):
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1, got {latent_dim!r}")
        if not isinstance(n_classes, int) or n_classes < 0:
            raise ValueError(f"n_classes must be an integer >= 0 (0 = unconditional), got {n_classes!r}")
        hidden = tuple(hidden)
        if not conv and (not hidden or min(hidden) < 1):
            raise ValueError(f"hidden must be a non-empty tuple of positive sizes, got {hidden}")
        # The constructor's arguments, saved with the weights so a checkpoint rebuilds the model.
        self.config = dict(latent_dim=latent_dim, hidden=list(hidden), conv=conv, n_classes=n_classes)
        self.latent_dim, self.n_classes = latent_dim, n_classes
        if conv:
            self.encoder = ConvEncoder(2 * latent_dim, n_classes)
            self.decoder = ConvDecoder(latent_dim + n_classes)
        else:
            self.encoder = mlp([PIXELS + n_classes, *hidden, 2 * latent_dim])
            self.decoder = mlp([latent_dim + n_classes, *reversed(hidden), PIXELS])

    def encode(self, x, labels=None):
        """q(z|x[, y]) = N(mu, diag exp(logvar)): ``(mu, logvar)``, each (N, latent_dim)."""
        if x.dim() < 2 or x[0].numel() != PIXELS:
            raise ValueError(f"the VAE encodes 28x28 images, (N, 1, 28, 28) or (N, 784); "
                             f"got {tuple(x.shape)}")
        x = x.reshape(len(x), PIXELS)
        if self.n_classes:
            x = torch.cat([x, one_hot(labels, self.n_classes, len(x)).to(x.dtype)], dim=1)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z, labels=None):
        """The logits of p(x|z[, y]) (Eq. (bernoulli)): shape (..., 784) for z (..., latent_dim),
        e.g. (k, N, latent_dim) for k codes of each of N examples."""
        if self.n_classes:
            y = one_hot(labels, self.n_classes, z.shape[-2]).to(z.dtype)
            z = torch.cat([z, y.expand(*z.shape[:-1], -1)], dim=-1)
        lead = z.shape[:-1]
        return self.decoder(z.reshape(-1, z.shape[-1])).reshape(*lead, PIXELS)

    @torch.no_grad()
    def decode(self, z, labels=None):
        """The decoder's mean image sigmoid(logits) in [0, 1], shape (N, 1, 28, 28)."""
        return torch.sigmoid(self.decode_logits(z, labels).float()).reshape(-1, *IMAGE_SHAPE)

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None):
        """n new images: z ~ N(0, I), then the decoder's mean (the usual way to show samples)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, device=device, generator=generator)
        return self.decode(z, labels)

    @torch.no_grad()
    def reconstruct(self, x, labels=None):
        """Decode the posterior mean of each image: (N, 1, 28, 28) in [0, 1]."""
        mu, _ = self.encode(x, labels)
        return self.decode(mu, labels)


def check_labels(labels, n, n_classes):
    """Raise a ValueError unless ``labels`` fit a VAE with ``n_classes`` (0: no labels)."""
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

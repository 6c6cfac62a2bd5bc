"""Generators and discriminators: MLPs (2D toys and flat 28x28 digits), the DCGAN for
28x28 digits, their conditional versions, PacGAN packing and spectral normalization; and
``Snapshots``, a generator's samples from fixed noise through training.

Every discriminator returns one *logit* per example (shape (N,)): the losses in
``edu_gen.gan_train`` apply the sigmoid where a probability is meant. Generators check
that the noise has their latent size, and conditional models that labels are given.
"""
import numbers

import torch
from torch import nn

from .nets import mlp, one_hot


def check_sizes(n_classes=0, **sizes):
    """Raise a ValueError unless every size is a whole number >= 1 (``n_classes`` >= 0)."""
    for name, value in {**sizes, "n_classes": n_classes}.items():
        least = 0 if name == "n_classes" else 1
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")


def as_shape(shape, name):
    """``shape`` as a tuple of sizes >= 1: ``2`` is ``(2,)``, ``[1, 28, 28]`` is ``(1, 28, 28)``."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    check_sizes(**{f"{name}[{i}]": size for i, size in enumerate(shape)})
    if not shape:
        raise ValueError(f"{name} must have at least one size, got ()")
    return shape


def init_dcgan_weights(module):
    """N(0, 0.02) for convolution and linear weights, N(1, 0.02) for batch-norm scales,
    zero biases (Radford et al. 2016). Use as ``model.apply(init_dcgan_weights)``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def apply_spectral_norm(model):
    """Divide every linear and convolution weight by its largest singular value
    (Eq. (spectral-norm)), estimated by power iteration; returns ``model``. In training
    mode each forward pass runs one power iteration, except inside
    ``torch.nn.utils.parametrize.cached()``, where the normalized weights are computed once
    for all passes (``discriminator_step`` uses it)."""
    for name, child in model.named_children():
        if isinstance(child, (nn.Linear, nn.Conv2d)):
            setattr(model, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            apply_spectral_norm(child)
    return model


def has_batch_norm(model):
    """True when ``model`` contains a batch-norm layer (which mixes the examples of a batch)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


class Generator(nn.Module):
    """Base class: checks the noise (N, latent_dim) and, if conditional, the labels (N,)."""

    latent_dim: int
    n_classes: int = 0
    output_range = None   # (low, high) where the last layer bounds the outputs (tanh: (-1, 1))

    def sample_noise(self, n, device=None, generator=None):
        """``n`` latent vectors z ~ N(0, I)."""
        device = device or next(self.parameters()).device
        return torch.randn(n, self.latent_dim, device=device, generator=generator)

    def noise_and_label(self, z, labels):
        """The network's input: z, with the one-hot label appended if conditional."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"this generator takes noise of shape (N, {self.latent_dim}), "
                             f"got {tuple(z.shape)}: draw it with generator.sample_noise(N)")
        if self.n_classes == 0:
            if labels is not None:
                raise ValueError("this generator is not conditional: call it without labels")
            return z
        return torch.cat([z, one_hot(labels, self.n_classes, len(z)).to(z.dtype)], dim=1)


class MLPGenerator(Generator):
    """z (N, latent_dim) -> MLP with ReLU -> (N, *out_shape).

    ``out_shape=(2,)`` for the 2D toys (linear output), ``(1, 28, 28)`` for digits with
    ``tanh=True`` (pixels in [-1, 1], the common tutorial GAN).
    """

    def __init__(self, latent_dim=2, out_shape=(2,), hidden=128, layers=3, tanh=False,
                 n_classes=0):
        super().__init__()
        check_sizes(latent_dim=latent_dim, hidden=hidden, layers=layers, n_classes=n_classes)
        out_shape = as_shape(out_shape, "out_shape")
        self.latent_dim, self.n_classes, self.out_shape = latent_dim, n_classes, out_shape
        self.config = dict(latent_dim=latent_dim, out_shape=list(out_shape), hidden=hidden,
                           layers=layers, tanh=tanh, n_classes=n_classes)
        out_features = int(torch.tensor(self.out_shape).prod())
        self.net = mlp([latent_dim + n_classes, *[hidden] * layers, out_features])
        if tanh:
            self.net.append(nn.Tanh())
            self.output_range = (-1.0, 1.0)

    def forward(self, z, labels=None):
        return self.net(self.noise_and_label(z, labels)).view(len(z), *self.out_shape)


class MLPDiscriminator(nn.Module):
    """x (N, *in_shape) -> MLP with LeakyReLU(0.2) -> one logit per example (N,).

    ``pack=m`` is PacGAN: the discriminator judges m examples at once, concatenated, and
    returns one logit per pack, shape (N / m,). ``spectral_norm=True`` normalizes every layer.
    """

    def __init__(self, in_shape=(2,), hidden=128, layers=3, pack=1, spectral_norm=False,
                 n_classes=0):
        super().__init__()
        check_sizes(hidden=hidden, layers=layers, pack=pack, n_classes=n_classes)
        in_shape = as_shape(in_shape, "in_shape")
        self.in_shape, self.pack, self.n_classes = in_shape, pack, n_classes
        self.config = dict(in_shape=list(in_shape), hidden=hidden, layers=layers, pack=pack,
                           spectral_norm=spectral_norm, n_classes=n_classes)
        in_features = int(torch.tensor(self.in_shape).prod()) + n_classes
        self.net = mlp([in_features * pack, *[hidden] * layers, 1],
                       activation=lambda: nn.LeakyReLU(0.2))
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x, labels=None):
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"this discriminator takes inputs of shape (N, "
                             f"{', '.join(map(str, self.in_shape))}), got {tuple(x.shape)}")
        h = x.flatten(1)
        if self.n_classes:
            h = torch.cat([h, one_hot(labels, self.n_classes, len(x)).to(h.dtype)], dim=1)
        if len(h) % self.pack:
            raise ValueError(f"a PacGAN discriminator with pack={self.pack} needs a batch size "
                             f"divisible by {self.pack}, got {len(h)}")
        return self.net(h.reshape(len(h) // self.pack, -1)).squeeze(1)


class DCGANGenerator(Generator):
    """The DCGAN generator for 28x28 images (Radford et al. 2016, sized for MNIST).

    z (N, latent_dim) -> 7x7 (4 ngf channels) -> 14x14 (2 ngf) -> 28x28 (1) with transposed
    convolutions, batch norm and ReLU, and tanh at the end (pixels in [-1, 1]).
    """

    output_range = (-1.0, 1.0)

    def __init__(self, latent_dim=100, ngf=64, n_classes=0):
        super().__init__()
        check_sizes(latent_dim=latent_dim, ngf=ngf, n_classes=n_classes)
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.config = dict(latent_dim=latent_dim, ngf=ngf, n_classes=n_classes)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim + n_classes, 4 * ngf, 7, 1, 0, bias=False),
            nn.BatchNorm2d(4 * ngf), nn.ReLU(),
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * ngf), nn.ReLU(),
            nn.ConvTranspose2d(2 * ngf, 1, 4, 2, 1),
            nn.Tanh(),
        )
        self.apply(init_dcgan_weights)

    def forward(self, z, labels=None):
        h = self.noise_and_label(z, labels)
        return self.net(h[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """The DCGAN discriminator for 28x28 images: strided convolutions and LeakyReLU(0.2),
    batch norm in the middle layer (``batch_norm=False`` for a WGAN-GP critic), one logit.

    A conditional discriminator receives the label as 10 constant extra input channels.
    """

    def __init__(self, ndf=64, batch_norm=True, spectral_norm=False, n_classes=0):
        super().__init__()
        check_sizes(ndf=ndf, n_classes=n_classes)
        self.n_classes = n_classes
        self.config = dict(ndf=ndf, batch_norm=batch_norm, spectral_norm=spectral_norm,
                           n_classes=n_classes)
        self.net = nn.Sequential(
            nn.Conv2d(1 + n_classes, ndf, 4, 2, 1), nn.LeakyReLU(0.2),           # 14x14
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=not batch_norm),               # 7x7
            nn.BatchNorm2d(2 * ndf) if batch_norm else nn.Identity(), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * ndf, 1, 7, 1, 0),                                      # 1x1
        )
        self.apply(init_dcgan_weights)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x, labels=None):
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"the DCGAN discriminator takes images (N, 1, 28, 28), "
                             f"got {tuple(x.shape)}")
        if self.n_classes:
            onehot = one_hot(labels, self.n_classes, len(x)).to(x.dtype)
            x = torch.cat([x, onehot[:, :, None, None].expand(-1, -1, 28, 28)], dim=1)
        return self.net(x).flatten()


class Snapshots:
    """``on_epoch_end`` callback keeping G(z) for a fixed noise batch every ``every`` epochs.

    ``self.samples`` is a list of ``(epoch, samples on the CPU)``; ``take(0)`` before
    training records the untrained generator.
    """

    def __init__(self, generator, noise, labels=None, every=1):
        check_sizes(every=every)
        self.generator, self.noise, self.labels, self.every = generator, noise, labels, every
        self.samples = []

    @torch.no_grad()
    def take(self, epoch):
        was_training = self.generator.training
        self.generator.eval()
        self.samples.append((epoch, self.generator(self.noise, self.labels).float().cpu()))
        self.generator.train(was_training)

    def __call__(self, epoch, means):
        if (epoch + 1) % self.every == 0:
            self.take(epoch + 1)


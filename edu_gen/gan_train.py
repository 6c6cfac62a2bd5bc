"""Training a GAN: the losses, the discriminator's step, the generator's step, and the loop.

A discriminator ``D`` returns a logit ``d`` per example; ``sigmoid(d)`` is the probability
that the example is real. Every log-probability is written with ``softplus``, so no logit,
however extreme, gives a NaN or an infinity:
``-log sigmoid(d) = softplus(-d)`` and ``-log(1 - sigmoid(d)) = softplus(d)``.

The losses (``loss=``):

- ``minimax``         Eq. (value): D maximises V(D, G), G minimises log(1 - D(G(z))).
- ``non-saturating``  the same D loss; G minimises -log D(G(z)) (Eq. (ns-loss)).
- ``wasserstein``     Eq. (wgan): a critic f (no sigmoid), kept Lipschitz by weight clipping.
- ``wgan-gp``         Eq. (wgan-gp): the Wasserstein loss plus a gradient penalty.

Each step of ``train_gan`` takes ``n_critic`` batches of real examples, updates D once on
each (Eq. (d-step)), then updates G once through the frozen D (Eq. (g-step)).
"""
import math

import torch
import torch.nn.functional as F
from torch.nn.utils import get_total_norm, parametrize
from tqdm.auto import tqdm

from .checkpoint import resume_training, save_training
from .gan import has_batch_norm
from .gan_diagnosis import GAN_DIVERGED_HINT, divergence_cause
from .logs import fixed_noise, gan_samples, log_epoch, open_log
from .runtime import device_of
from .train import (adam, check_training, epoch_means, is_count, is_number, lr_schedule,
                    record_epoch, stopped_by_hand)

LOSSES = ("minimax", "non-saturating", "wasserstein", "wgan-gp")
PROBABILITY_LOSSES = ("minimax", "non-saturating")  # D outputs a probability through a sigmoid
UNKNOWN_LOSS = "unknown GAN loss {!r}: use one of " + str(LOSSES)
DATA_SCALE = 1e3   # data beyond +-1000 must be rescaled: networks start with outputs near 1


# --- the losses ----------------------------------------------------------------------------

def discriminator_loss(name, real_logits, fake_logits, label_smoothing=0.0):
    """The discriminator's (critic's) loss to *minimise*, averaged over the batch.

    ``minimax`` / ``non-saturating``: -[log D(x) + log(1 - D(G(z)))] (Eq. (d-step)), with
    the real examples' target ``1 - label_smoothing`` (one-sided label smoothing).
    ``wasserstein`` / ``wgan-gp``: f(G(z)) - f(x) (Eq. (wgan); the penalty is added apart).
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if name in PROBABILITY_LOSSES:
        target = 1.0 - label_smoothing
        # -[t log s(d) + (1 - t) log(1 - s(d))] = t softplus(-d) + (1 - t) softplus(d)
        real = target * F.softplus(-real_logits) + (1.0 - target) * F.softplus(real_logits)
        return real.mean() + F.softplus(fake_logits).mean()
    if name not in LOSSES:
        raise ValueError(UNKNOWN_LOSS.format(name))
    if label_smoothing:
        raise ValueError(f"label smoothing applies to {PROBABILITY_LOSSES}, not to {name!r}")
    return fake_logits.mean() - real_logits.mean()


def generator_loss(name, fake_logits):
    """The generator's loss to *minimise*, averaged over the batch.

    ``minimax``: log(1 - D(G(z))) = -softplus(d) (Eq. (value); saturates when D wins).
    ``non-saturating``: -log D(G(z)) = softplus(-d) (Eq. (ns-loss), Eq. (g-step)).
    ``wasserstein`` / ``wgan-gp``: -f(G(z)) (Eq. (wgan)).
    """
    fake_logits = fake_logits.float()
    if name == "minimax":
        return -F.softplus(fake_logits).mean()
    if name == "non-saturating":
        return F.softplus(-fake_logits).mean()
    if name not in LOSSES:
        raise ValueError(UNKNOWN_LOSS.format(name))
    return -fake_logits.mean()


def gradient_penalty(critic, real, fake, labels=None):
    """E[(||grad_x f(x_hat)||_2 - 1)^2] at x_hat = alpha x + (1 - alpha) x~, one
    alpha ~ Uniform(0, 1) per example (Eq. (wgan-gp)).

    The gradient is taken with ``create_graph=True`` so the penalty trains the critic.
    The critic must treat each example on its own (no batch norm).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have the same shape, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}")
    real, fake = real.detach(), fake.detach().float()
    alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    points = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(points, labels).float().sum(), points, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Eq. (d-star)), from two density values:
    the discriminator that minimises the discriminator loss against a fixed G."""
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    return p_data / (p_data + p_g)


# --- the two steps -------------------------------------------------------------------------

def discriminator_step(discriminator, optimizer, real, fake, labels=None,
                       loss="non-saturating", label_smoothing=0.0, gp_weight=10.0,
                       weight_clip=None):
    """One update of D on a batch of real examples and as many fakes (Eq. (d-step))."""
    fake = fake.detach()                       # D's loss must not reach G
    with parametrize.cached():                 # spectral norm: D's weights, once
        real_logits = discriminator(real, labels)
        fake_logits = discriminator(fake, labels)
        d_loss = discriminator_loss(loss, real_logits, fake_logits, label_smoothing)
        penalty = 0
        if loss == "wgan-gp":
            penalty = gradient_penalty(discriminator, real, fake, labels)
    optimizer.zero_grad(set_to_none=True)
    (d_loss + gp_weight * penalty).backward()  # Eq. (wgan-gp) adds the penalty
    grad_norm = get_total_norm(
        [p.grad for p in discriminator.parameters() if p.grad is not None])
    optimizer.step()
    if weight_clip is not None:                # WGAN: clipped, f stays Lipschitz
        with torch.no_grad():
            for p in discriminator.parameters():
                p.clamp_(-weight_clip, weight_clip)
    d_real, d_fake = real_logits.detach().float(), fake_logits.detach().float()
    if loss in PROBABILITY_LOSSES:             # logged D(x), D(G(z)) as probabilities
        d_real, d_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
    metrics = {"d_loss": d_loss.detach(), "d_real": d_real.mean(),
               "d_fake": d_fake.mean(), "d_grad_norm": grad_norm}
    if loss == "wgan-gp":
        metrics["gp"] = penalty.detach()
    return metrics


def generator_step(generator, discriminator, optimizer, fake, labels=None,
                   loss="non-saturating"):
    """One update of G through a frozen D, Eq. (g-step); ``fake`` = G(z), with graph."""
    discriminator.requires_grad_(False)        # D is frozen: G's loss moves G only
    try:
        g_loss = generator_loss(loss, discriminator(fake, labels))
        optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
    finally:
        discriminator.requires_grad_(True)
    grad_norm = get_total_norm(
        [p.grad for p in generator.parameters() if p.grad is not None])
    optimizer.step()
    return {"g_loss": g_loss.detach(), "g_grad_norm": grad_norm}


# --- the loop -------------------------------------------------------------------------------

def check_gan_setup(generator, discriminator, data, labels, loss, n_critic, batch_size, weight_clip,
                    gp_weight=10.0, epochs=1, on_epoch_end=None):
    """Raise a ValueError that says what to change when the setup cannot train."""
    check_training(epochs, batch_size, on_epoch_end)
    if not torch.is_tensor(data) or not data.is_floating_point():
        raise ValueError(f"the training data must be a float tensor (N, ...), got "
                         f"{type(data).__name__} {getattr(data, 'dtype', '')}: convert it with "
                         "torch.as_tensor(data, dtype=torch.float32)")
    if not hasattr(generator, "sample_noise") or hasattr(discriminator, "sample_noise"):
        raise ValueError(f"train_gan(generator, discriminator, ...) takes the generator (an "
                         f"edu_gen.gan.Generator) first, got a {type(generator).__name__} and a "
                         f"{type(discriminator).__name__}")
    if loss not in LOSSES:
        raise ValueError(UNKNOWN_LOSS.format(loss))
    if not is_count(n_critic):
        raise ValueError(f"n_critic must be an integer >= 1, got {n_critic!r}")
    if not is_number(gp_weight) or not 0 <= gp_weight < math.inf:
        raise ValueError(f"gp_weight must be a finite number >= 0 (10 in the WGAN-GP paper), "
                         f"got {gp_weight!r}")
    if len(data) < n_critic * batch_size:
        raise ValueError(f"{len(data)} examples cannot fill n_critic * batch_size = "
                         f"{n_critic * batch_size}: lower batch_size")
    if loss == "wgan-gp" and has_batch_norm(discriminator):
        raise ValueError("a WGAN-GP critic must not use batch norm: it mixes the examples of "
                         "a batch, so the penalty no longer constrains each example's gradient. "
                         "Build it with batch_norm=False (or layer norm).")
    if loss == "wasserstein" and weight_clip is None:
        raise ValueError("loss='wasserstein' needs a Lipschitz constraint: pass weight_clip "
                         "(0.01 in the WGAN paper) or use loss='wgan-gp'")
    if weight_clip is not None and loss != "wasserstein":
        raise ValueError(f"weight_clip belongs to loss='wasserstein', not {loss!r}")
    if weight_clip is not None and not (is_number(weight_clip) and 0 < weight_clip < math.inf):
        raise ValueError(f"weight_clip must be a positive number (0.01 in the WGAN paper), got "
                         f"{weight_clip!r}")
    n_classes = getattr(generator, "n_classes", 0)
    if n_classes and labels is None:
        raise ValueError("a conditional generator needs labels: train_gan(..., labels=y)")
    if labels is not None and (not torch.is_tensor(labels) or labels.is_floating_point()):
        raise ValueError(f"labels must be an integer tensor (N,) of class indices, got "
                         f"{type(labels).__name__} {getattr(labels, 'dtype', '')}: use labels.long()")
    if labels is not None and labels.shape != (len(data),):
        raise ValueError(f"expected {len(data)} labels of shape ({len(data)},), "
                         f"got {tuple(labels.shape)}")
    if labels is not None and n_classes and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1} for a generator with "
                         f"n_classes={n_classes}, got {int(labels.min())}..{int(labels.max())}")
    if device_of(generator) != device_of(discriminator):
        raise ValueError(f"the generator is on {device_of(generator)} and the discriminator on "
                         f"{device_of(discriminator)}: move both to one device with .to(device)")
    dtype = next(generator.parameters()).dtype
    if data.dtype != dtype:
        raise ValueError(f"the data are {data.dtype} but the networks compute in {dtype}: pass "
                         f"data.to({dtype})")
    if not torch.isfinite(data).all():
        raise ValueError("the training data contains NaN or infinite values")
    check_data_range(generator, data)
    with torch.no_grad():
        was_training = generator.training
        generator.eval()
        probe = generator(generator.sample_noise(2, device=device_of(generator)),
                          None if labels is None else labels[:2].to(device_of(generator)))
        generator.train(was_training)
    if probe.shape[1:] != data.shape[1:]:
        raise ValueError(f"the generator makes examples of shape {tuple(probe.shape[1:])} but "
                         f"the data has shape {tuple(data.shape[1:])}")


def check_data_range(generator, data):
    """Raise a ValueError unless the generator can make values of the data's range: inside
    ``generator.output_range`` when its last layer bounds it (tanh: [-1, 1]), and within
    +-``DATA_SCALE`` otherwise (networks start with outputs of about 1)."""
    low, high = (value.item() for value in torch.aminmax(data))
    bounds = getattr(generator, "output_range", None)
    if bounds is not None and (low < bounds[0] or high > bounds[1]):
        raise ValueError(
            f"the generator's outputs lie in [{bounds[0]:g}, {bounds[1]:g}] (its last layer is "
            f"tanh), but the data lie in [{low:.3g}, {high:.3g}], beyond its reach: scale the "
            "data into its range (pixels 0..255: x / 127.5 - 1; pixels in [0, 1]: 2 * x - 1)")
    if bounds is None and max(-low, high) > DATA_SCALE:
        raise ValueError(
            f"the data lie in [{low:.3g}, {high:.3g}], but networks start with outputs of "
            f"about 1 and Adam moves each weight by about lr a step: scale the data to within "
            f"+-{DATA_SCALE:g} (standardize: (data - data.mean(0)) / data.std(0)) and map the "
            "samples back")


def train_gan(generator, discriminator, data, epochs, loss="non-saturating", n_critic=1,
              lr=2e-4, betas=(0.5, 0.999), batch_size=128, labels=None, gp_weight=10.0,
              weight_clip=None, label_smoothing=0.0, lr_decay=False, on_epoch_end=None,
              desc="GAN", checkpoint=None, log_dir=None):
    """Train ``generator`` against ``discriminator`` on ``data`` (N, ...) with Adam;
    return the history ``{metric: [per-epoch means]}``: both losses, D(x) and D(G(z))
    (probabilities, or a critic's raw values), both gradient norms before the updates.
    ``labels`` (N,): a conditional GAN. ``lr_decay``, ``on_epoch_end(epoch, means)``,
    ``checkpoint`` and ``log_dir`` (with 64 samples G(z) of fixed codes) work as in
    ``train_vae``. A NaN loss raises ``TrainingDiverged``, naming the likely cause."""
    check_gan_setup(generator, discriminator, data, labels, loss, n_critic, batch_size,
                    weight_clip, gp_weight, epochs, on_epoch_end)
    device = device_of(generator)
    data = data.to(device)
    labels = None if labels is None else labels.to(device)
    g_opt = adam(generator.parameters(), lr, betas)
    d_opt = adam(discriminator.parameters(), lr, betas)
    schedules = [lr_schedule(opt, epochs, lr_decay) for opt in (g_opt, d_opt)]

    def hint(history):                         # a NaN loss's message: its likely cause
        critic = loss not in PROBABILITY_LOSSES
        return divergence_cause(history, generator, discriminator, critic, lr)
    settings = dict(loss=loss, n_critic=n_critic, lr=lr, betas=betas,
                    batch_size=batch_size, gp_weight=gp_weight, weight_clip=weight_clip,
                    label_smoothing=label_smoothing, lr_decay=lr_decay, n=len(data),
                    conditional=labels is not None, epochs=epochs if lr_decay else None)
    networks, optimizers = [generator, discriminator], [g_opt, d_opt, *schedules]
    start, history = resume_training(checkpoint, networks, optimizers, settings) \
        if checkpoint else (0, {})
    log = open_log(log_dir, start) if log_dir else None
    pixel_range = (-1, 1) if data.min() < 0 else (0, 1)   # of the logged sample grids
    bar = tqdm(range(start, epochs), desc=desc)
    try:
        for epoch in bar:
            generator.train()                          # whatever a callback left
            discriminator.train()
            steps = []
            order = torch.randperm(len(data), device=device)
            for rows in order.split(n_critic * batch_size):
                if len(rows) < n_critic * batch_size:
                    break                       # the last, incomplete batch is dropped
                for chunk in rows.chunk(n_critic):  # n_critic D updates, Eq. (d-step)
                    real, y = data[chunk], None if labels is None else labels[chunk]
                    z = torch.randn(len(real), generator.latent_dim, device=device)
                    fake = generator(z, y)
                    steps.append(discriminator_step(
                        discriminator, d_opt, real, fake, y, loss, label_smoothing,
                        gp_weight, weight_clip))
                # then one of G, on the last fakes, through the updated D: Eq. (g-step)
                steps.append(
                    generator_step(generator, discriminator, g_opt, fake, y, loss))
            means = record_epoch(history, epoch_means(steps), epoch, hint, bar)
            for schedule in schedules:
                schedule.step()
            if on_epoch_end is not None:  # before the checkpoint, which keeps its draws
                on_epoch_end(epoch, means)
            if checkpoint:
                save_training(
                    checkpoint, networks, optimizers, epoch + 1, history, settings)
            if log:
                z = fixed_noise(64, generator.latent_dim, device)
                log_epoch(log, epoch, means, gan_samples(generator, z, pixel_range))
    except KeyboardInterrupt:
        stopped_by_hand(history)
    finally:
        if log:
            log.close()
    generator.eval()
    discriminator.eval()
    return history


def train_discriminator(discriminator, real, fake, epochs, lr=1e-3, batch_size=256):
    """Train D alone against *fixed* fake examples (the generator does not move), with the
    minimax loss: D approaches D* = p_data / (p_data + p_g) (Eq. (d-star))."""
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real and fake examples differ in shape: {tuple(real.shape)} vs "
                         f"{tuple(fake.shape)}")
    check_training(epochs, batch_size)
    optimizer = adam(discriminator.parameters(), lr)
    n = min(len(real), len(fake))
    if n == 0:
        raise ValueError("train_discriminator needs real and fake examples: got an empty set")
    history = {}
    discriminator.train()
    bar = tqdm(range(epochs), desc="D alone")
    for epoch in bar:
        steps = []
        for rows in torch.randperm(n, device=real.device).split(batch_size):
            steps.append(discriminator_step(discriminator, optimizer, real[rows], fake[rows],
                                            loss="minimax"))
        record_epoch(history, epoch_means(steps), epoch, GAN_DIVERGED_HINT, bar)
    discriminator.eval()
    return history

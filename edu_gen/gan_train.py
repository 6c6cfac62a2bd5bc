"""Training a GAN: the alternating discriminator / generator steps on the book's one loop.

``train_gan`` runs ``edu_gen.train.train``: each step takes a batch of ``n_critic *
batch_size`` real examples, makes ``n_critic`` discriminator (critic) updates on its chunks
(Eq. (d-step)), then one generator update (Eq. (g-step)). Per epoch it logs the two losses,
D(x) and D(G(z)) (probabilities for the minimax and non-saturating losses, raw critic
values otherwise), and the gradient norms of both networks, all summed on the device.
"""
import torch
from torch import nn
from torch.nn.utils import parametrize

from .data import Batches
from .gan import has_batch_norm
from .gan_losses import (PROBABILITY_LOSSES, check_loss_name, discriminator_loss,
                         generator_loss, gradient_penalty)
from .train import adam, autocast, maybe_compile, train

GAN_DIVERGED_HINT = (
    "Usual GAN causes: learning rates too high for the discriminator, a Wasserstein critic "
    "left unconstrained (use weight_clip, loss='wgan-gp' or spectral_norm=True), images "
    "outside the generator's range (tanh gives [-1, 1]: scale the data with 2x - 1), or "
    "NaN in the data."
)
RUNAWAY = 1e3   # a gradient norm or critic value this large means the steps blew up


def divergence_cause(history, generator, discriminator, loss, lr):
    """One sentence naming the likely cause of a NaN or infinite GAN loss, read from the
    weights and from ``train_gan``'s logs (``history``: the broken epoch last)."""
    epochs = [dict(zip(history, values)) for values in zip(*history.values())]
    broken, good = epochs[-1], epochs[:-1]
    causes = [f"the {name}'s weights are NaN or infinite"
              for name, net in (("discriminator", discriminator), ("generator", generator))
              if not all(torch.isfinite(p).all() for p in net.parameters())]
    if loss not in PROBABILITY_LOSSES:
        scale = max(abs(broken["d_real"]), abs(broken["d_fake"]))
        if scale > RUNAWAY:       # NaN compares False: only a real runaway counts
            causes.append(f"the critic's values ran away (f(x) = {broken['d_real']:.3g}, "
                          f"f(G(z)) = {broken['d_fake']:.3g}): it is not kept Lipschitz")
    for name, key in (("discriminator", "d_grad_norm"), ("generator", "g_grad_norm")):
        if broken[key] > RUNAWAY:
            start = f" (epoch 1: {good[0][key]:.3g})" if good else ""
            causes.append(f"the {name}'s gradient norm reached {broken[key]:.3g}{start}")
    if loss in PROBABILITY_LOSSES and good and good[-1]["d_real"] > 0.99 \
            and good[-1]["d_fake"] < 0.01:
        causes.append(f"D won outright (D(x) = {good[-1]['d_real']:.3f}, D(G(z)) = "
                      f"{good[-1]['d_fake']:.3f}) and its logits grew without bound")
    if not good:
        remedy = (f"It broke in the first epoch: lr={lr:g} may be too high for these "
                  "networks (try 10 times lower; DCGAN uses 2e-4), or they started broken.")
    else:
        remedy = (f"It broke after {len(good)} good epochs: lower lr (now {lr:g}), or "
                  "constrain D (spectral_norm=True, loss='wgan-gp'), or pass lr_decay=True.")
    if not causes:
        return remedy
    return f"Likely cause: {'; '.join(causes)}. {remedy}"


def total_grad_norm(parameters):
    """||grad||_2 over all parameters that have a gradient, as a tensor (no host sync).

    One foreach kernel for the per-tensor norms (``torch._foreach_norm``), then one norm of
    those: no Python loop of small kernels, no ``.item()``.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    if hasattr(torch, "_foreach_norm"):
        norms = torch._foreach_norm(grads)
    else:  # very old PyTorch
        norms = [torch.linalg.vector_norm(g) for g in grads]
    return torch.linalg.vector_norm(torch.stack(norms))


def _score(loss, logits):
    """What the logs call D(...): a probability for the probability losses, else f(...)."""
    return torch.sigmoid(logits.float()) if loss in PROBABILITY_LOSSES else logits.float()


def discriminator_step(generator, discriminator, optimizer, real, loss, labels=None,
                       gp_weight=10.0, weight_clip=None, label_smoothing=0.0,
                       g_forward=None, d_forward=None, fake=None):
    """One update of D on real examples and as many fakes (Eq. (d-step)).

    ``fake`` (optional) are fakes already made by G for this step; D sees them detached.
    Without it, fresh fakes are made without a graph. Either way D's loss never reaches
    G's parameters.
    """
    g_forward, d_forward = g_forward or generator, d_forward or discriminator
    metrics = {}
    # With spectral normalization, D's weights are normalized (one power iteration) once
    # for all of D's calls in this step, not once per call; without it this does nothing.
    with parametrize.cached():
        with autocast(real.device):
            if fake is None:
                with torch.no_grad():
                    fake = g_forward(generator.sample_noise(len(real), device=real.device),
                                     labels)
            else:
                fake = fake.detach()
            real_logits = d_forward(real, labels)
            fake_logits = d_forward(fake, labels)
            d_loss = discriminator_loss(loss, real_logits, fake_logits, label_smoothing)
        total = d_loss
        if loss == "wgan-gp":
            penalty = gradient_penalty(lambda x: discriminator(x, labels), real, fake.float())
            total = d_loss + gp_weight * penalty
            metrics["gp"] = penalty.detach()
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    grad_norm = total_grad_norm(discriminator.parameters())
    optimizer.step()
    if weight_clip is not None:
        with torch.no_grad():
            for p in discriminator.parameters():
                p.clamp_(-weight_clip, weight_clip)
    metrics.update(d_loss=d_loss.detach(), d_real=_score(loss, real_logits).mean().detach(),
                   d_fake=_score(loss, fake_logits).mean().detach(), d_grad_norm=grad_norm)
    return metrics


def generator_step(generator, discriminator, optimizer, n, loss, labels=None, device=None,
                   g_forward=None, d_forward=None, fake=None):
    """One update of G through a frozen D (Eq. (g-step)): D's weights get no gradient.

    ``fake`` (optional, with its graph back to G) are the ``n`` fakes of this step, already
    shown to D in its step; without it G makes ``n`` fresh ones.
    """
    g_forward, d_forward = g_forward or generator, d_forward or discriminator
    device = device or next(generator.parameters()).device
    discriminator.requires_grad_(False)
    try:
        with autocast(device):
            if fake is None:
                fake = g_forward(generator.sample_noise(n, device=device), labels)
            g_loss = generator_loss(loss, d_forward(fake, labels))
        optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
    finally:
        discriminator.requires_grad_(True)
    grad_norm = total_grad_norm(generator.parameters())
    optimizer.step()
    return {"g_loss": g_loss.detach(), "g_grad_norm": grad_norm}


def _check_setup(generator, discriminator, data, labels, loss, n_critic, weight_clip):
    check_loss_name(loss)
    if n_critic < 1:
        raise ValueError(f"n_critic must be at least 1, got {n_critic}")
    if loss == "wgan-gp" and has_batch_norm(discriminator):
        raise ValueError("a WGAN-GP critic must not use batch norm: it mixes the examples of "
                         "a batch, so the penalty no longer constrains each example's gradient. "
                         "Build it with batch_norm=False (or layer norm).")
    if loss == "wasserstein" and weight_clip is None:
        raise ValueError("loss='wasserstein' needs a Lipschitz constraint: pass weight_clip "
                         "(0.01 in the WGAN paper) or use loss='wgan-gp'")
    if weight_clip is not None and loss != "wasserstein":
        raise ValueError(f"weight_clip belongs to loss='wasserstein', not {loss!r}")
    if getattr(generator, "n_classes", 0) and labels is None:
        raise ValueError("a conditional generator needs labels: train_gan(..., labels=y)")
    if labels is not None and labels.shape != (len(data),):
        raise ValueError(f"expected {len(data)} labels of shape ({len(data)},), "
                         f"got {tuple(labels.shape)}")
    n_classes = getattr(generator, "n_classes", 0)
    if labels is not None and n_classes and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1} for a generator with "
                         f"n_classes={n_classes}, got {int(labels.min())}..{int(labels.max())}")
    if not torch.isfinite(data).all():
        raise ValueError("the training data contains NaN or infinite values")
    with torch.no_grad():
        was_training = generator.training
        generator.eval()
        probe = generator(generator.sample_noise(2, device=data.device),
                          None if labels is None else labels[:2])
        generator.train(was_training)
    if probe.shape[1:] != data.shape[1:]:
        raise ValueError(f"the generator makes examples of shape {tuple(probe.shape[1:])} but "
                         f"the data has shape {tuple(data.shape[1:])}")


def train_gan(generator, discriminator, data, epochs, loss="non-saturating", n_critic=1,
              lr=2e-4, betas=(0.5, 0.999), batch_size=128, compile=False, labels=None,
              gp_weight=10.0, weight_clip=None, label_smoothing=0.0, lr_decay=False,
              on_epoch_end=None, desc="GAN"):
    """Train ``generator`` against ``discriminator`` on ``data`` (N, ...) already on the
    training device; return ``{metric: [epoch means]}`` (see the module docstring).

    ``labels`` (N,) trains a conditional GAN. ``on_epoch_end`` gets ``(epoch, means)``:
    pass a ``Snapshots`` to keep fixed-noise samples through training. ``lr_decay=True``
    lowers both learning rates linearly to 0 over the epochs (the last steps then settle
    the generator instead of making it circle around the equilibrium).
    Raises ``edu_gen.train.TrainingDiverged`` when a loss becomes NaN or infinite; its
    message names the likely cause (``divergence_cause``).
    """
    _check_setup(generator, discriminator, data, labels, loss, n_critic, weight_clip)
    if len(data) < n_critic * batch_size:
        raise ValueError(f"{len(data)} examples cannot fill n_critic * batch_size = "
                         f"{n_critic * batch_size}: lower batch_size")
    # convolution weights stored channels-last (N, H, W, C in memory): the layout the CPU's
    # oneDNN and the GPU's cuDNN convolve fastest; same values, MLPs are left as they are
    generator.to(memory_format=torch.channels_last)
    discriminator.to(memory_format=torch.channels_last)
    g_opt = adam(generator.parameters(), lr, betas)
    d_opt = adam(discriminator.parameters(), lr, betas)
    g_forward = maybe_compile(generator, compile)
    d_forward = maybe_compile(discriminator, compile)
    tensors = (data,) if labels is None else (data, labels)
    batches = Batches(*tensors, batch_size=n_critic * batch_size, drop_last=True)

    clone_fakes = compile and data.device.type == "cuda"

    def step(batch):
        x, y = (batch, None) if labels is None else batch
        if n_critic == 1:
            # one generator pass a step: D learns from fake.detach(), G from fake
            with autocast(x.device):
                fake = g_forward(generator.sample_noise(len(x), device=x.device), y)
            if clone_fakes:   # a CUDA graph's output is overwritten by its next replay
                fake = fake.clone()
            metrics = discriminator_step(generator, discriminator, d_opt, x, loss, y, gp_weight,
                                         weight_clip, label_smoothing, g_forward, d_forward,
                                         fake=fake)
            metrics.update(generator_step(generator, discriminator, g_opt, len(x), loss, y,
                                          x.device, g_forward, d_forward, fake=fake))
            return metrics
        metrics = {}
        for i in range(n_critic):
            chunk = slice(i * batch_size, (i + 1) * batch_size)
            d_metrics = discriminator_step(
                generator, discriminator, d_opt, x[chunk], loss,
                None if y is None else y[chunk], gp_weight, weight_clip, label_smoothing,
                g_forward, d_forward)
            for name, value in d_metrics.items():
                metrics[name] = metrics.get(name, 0) + value / n_critic
        g_labels = None if y is None else y[:batch_size]
        metrics.update(generator_step(generator, discriminator, g_opt, batch_size, loss,
                                      g_labels, x.device, g_forward, d_forward))
        return metrics

    def end_of_epoch(epoch, means):
        if lr_decay:
            for optimizer in (g_opt, d_opt):
                for group in optimizer.param_groups:
                    group["lr"] = lr * (1 - (epoch + 1) / epochs)
        if on_epoch_end is not None:
            on_epoch_end(epoch, means)

    generator.train()
    discriminator.train()
    def hint(history):
        cause = divergence_cause(history, generator, discriminator, loss, lr)
        return f"{cause} {GAN_DIVERGED_HINT}"

    return train(step, batches, epochs, desc=desc, on_epoch_end=end_of_epoch, hint=hint)


class Snapshots:
    """``on_epoch_end`` callback keeping G(z) for a fixed noise batch every ``every`` epochs.

    ``self.samples`` is a list of ``(epoch, samples on the CPU)``; ``take(0)`` before
    training records the untrained generator.
    """

    def __init__(self, generator, noise, labels=None, every=1):
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


def train_discriminator(discriminator, real, fake, epochs, lr=1e-3, batch_size=256):
    """Train D alone against *fixed* fake examples (the generator does not move), with the
    minimax loss: D approaches D* = p_data / (p_data + p_g) (Eq. (d-star))."""
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real and fake examples differ in shape: {tuple(real.shape)} vs "
                         f"{tuple(fake.shape)}")
    optimizer = adam(discriminator.parameters(), lr)
    n = min(len(real), len(fake))

    def step(batch):
        x, x_fake = batch
        d_loss = discriminator_loss("minimax", discriminator(x), discriminator(x_fake))
        optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        optimizer.step()
        return {"d_loss": d_loss.detach()}

    batches = Batches(real[:n], fake[:n], batch_size=batch_size)
    return train(step, batches, epochs, desc="D alone", hint=GAN_DIVERGED_HINT)

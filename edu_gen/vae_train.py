"""Training a VAE: the negative ELBO of a batch, one optimizer step, and the loop.

The loss of the training chapter (Eq. (vae-loss)) is the negative ELBO of Eq. (elbo),
averaged over a batch of B images, with one reparameterized code per image:

    L = 1/B sum_i [ -log p(x_i | z_i)  +  beta * KL(q(z | x_i) || N(0, I)) ]
               distortion (Eq. (bernoulli))     rate (Eq. (kl))

Every term is summed over pixels and latent dimensions, never averaged over them.
"""
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checkpoint import resume_training, save_training
from .data import check_images
from .logs import fixed_noise, log_epoch, open_log, vae_samples
from .runtime import device_of
from .train import (adam, check_kl_options, check_training, epoch_means, lr_schedule,
                    record_epoch, stopped_by_hand)
from .vae import check_labels


def negative_elbo(model, x, labels=None):
    """The two terms of the negative ELBO of each image x (N, 1, 28, 28), in nats:
    ``(distortion (N,), kl (N, latent_dim))``; the negative ELBO is
    distortion + kl.sum(1)."""
    mu, logvar = model.encode(x, labels)                     # q(z|x) = N(mu, e^logvar)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # z ~ q(z|x), Eq. (reparam)
    logits = model.decode_logits(z, labels)                  # p(x|z), Bernoulli
    distortion = F.binary_cross_entropy_with_logits(  # -log p(x|z), Eq. (bernoulli)
        logits, x.reshape(len(x), -1), reduction="none").sum(1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1)         # KL(q || p(z)), Eq. (kl)
    return distortion, kl


def vae_step(model, optimizer, x, labels=None, beta=1.0, free_bits=0.0):
    """One Adam step on the batch ``x``: Eq. (vae-loss), with the rate weighted by
    ``beta`` (Eq. (beta-vae)) and, with ``free_bits`` = lambda > 0, each latent
    dimension's batch-mean KL counted as at least lambda (Eq. (free-bits)). Returns the
    batch's metrics in nats."""
    distortion, kl = negative_elbo(model, x, labels)
    rate = kl.sum(1)                                         # KL per image
    if free_bits > 0:                                        # Eq. (free-bits)
        rate_in_loss = kl.mean(0).clamp(min=free_bits).sum()
    else:
        rate_in_loss = rate.mean()
    loss = distortion.mean() + beta * rate_in_loss           # Eq. (vae-loss)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach(), "neg_elbo": (distortion + rate).mean().detach(),
            "distortion": distortion.mean().detach(), "rate": rate.mean().detach()}


def train_vae(model, images, epochs, lr=1e-3, batch_size=128, beta=1.0, binarize=True,
              labels=None, kl_warmup_epochs=0, free_bits=0.0, lr_decay=False,
              on_epoch_end=None, desc="VAE", step=vae_step, checkpoint=None, log_dir=None):
    """Train ``model`` on ``images`` (N, 1, 28, 28) in [0, 1] with Adam; return the history
    ``{metric: [per-epoch means]}`` of loss, neg_elbo, distortion and rate, in nats.

    ``binarize``: dynamic binarization, a fresh x_j ~ Bernoulli(x_j) of every batch, so each
    epoch sees new binary digits (as in Burda et al. 2015). ``kl_warmup_epochs``: KL
    annealing, beta rising linearly from 0 over that many epochs' steps. ``lr_decay``: the
    learning rate falls linearly to 0 over the epochs. ``on_epoch_end(epoch, means)`` runs
    after each epoch, before its checkpoint (a resumed run repeats what it draws); each
    epoch trains in train mode, whatever mode it left. ``step`` is ``vae_step``, or the same
    step wrapped by ``edu_gen.fast``.
    ``checkpoint``: a file path; after every epoch the model, optimizer, history and random
    states are written to it, and a later call with the same path continues from the last
    completed epoch, exactly as if never stopped (a disconnect or a kill loses at most the
    epoch under way). ``log_dir``: a folder for TensorBoard logs of every epoch's metrics and
    64 samples (``edu_gen.logs``). Ctrl-C ends training early and keeps what was learned.
    """
    check_images(images, dtype=next(model.parameters()).dtype)
    check_training(epochs, batch_size, on_epoch_end)
    check_kl_options(beta, free_bits, kl_warmup_epochs)
    if not isinstance(binarize, bool):
        raise ValueError(f"binarize must be True or False, got {binarize!r}")
    check_labels(labels, len(images), model.n_classes)
    device = device_of(model)
    images = images.to(device)
    labels = None if labels is None else labels.to(device)
    optimizer = adam(model.parameters(), lr)
    schedule = lr_schedule(optimizer, epochs, lr_decay)
    steps_per_epoch = -(-len(images) // batch_size)
    warmup_steps = kl_warmup_epochs * steps_per_epoch
    settings = dict(lr=lr, batch_size=batch_size, beta=beta, binarize=binarize, n=len(images),
                    kl_warmup_epochs=kl_warmup_epochs, free_bits=free_bits, lr_decay=lr_decay,
                    conditional=labels is not None, epochs=epochs if lr_decay else None)
    start, history = resume_training(checkpoint, [model], [optimizer, schedule], settings) \
        if checkpoint else (0, {})
    log = open_log(log_dir, start) if log_dir else None
    bar = tqdm(range(start, epochs), desc=desc)
    try:
        for epoch in bar:
            model.train()                                    # whatever a callback left
            steps = []
            for i, rows in enumerate(torch.randperm(len(images), device=device).split(batch_size)):
                x = images[rows]
                y = None if labels is None else labels[rows]
                if binarize:   # x_j ~ Bernoulli(x_j), drawn as uniform < x (faster than torch.bernoulli)
                    x = (torch.rand_like(x) < x).to(x.dtype)
                t = epoch * steps_per_epoch + i
                beta_t = beta * min(1.0, t / warmup_steps) if warmup_steps else beta
                steps.append(step(model, optimizer, x, y, beta_t, free_bits))
            means = record_epoch(history, epoch_means(steps), epoch, bar=bar)
            schedule.step()
            if on_epoch_end is not None:                     # before the checkpoint, which keeps its draws
                on_epoch_end(epoch, means)
            if checkpoint:
                save_training(checkpoint, [model], [optimizer, schedule], epoch + 1, history, settings)
            if log:
                z = fixed_noise(64, model.latent_dim, device)
                log_epoch(log, epoch, means, vae_samples(model, z, model.n_classes))
    except KeyboardInterrupt:
        stopped_by_hand(history)
    finally:
        if log:
            log.close()
    model.eval()
    return history

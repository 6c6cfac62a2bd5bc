"""Training a VAE of names: the negative ELBO of a batch, one step, the loop, the test score.

The loss is the image VAE's (Eq. (vae-loss)) with the likelihood of a sequence
(Eq. (seq-likelihood)) as its distortion, averaged over a batch of B names:

    L = 1/B sum_i [ -sum_t log p(x_it | x_i<t, z_i)  +  beta_s * KL(q(z | x_i) || N(0, I)) ]
                     distortion: cross-entropy over the    rate (Eq. (kl))
                     characters and the end symbol

Padding is never counted. The two remedies for posterior collapse of Bowman et al. 2016
are options of the loop: KL annealing (beta_s rising from 0 to beta over the first steps,
Eq. (kl-annealing)) and word dropout (``SequenceVAE.decode_logits``); free bits
(Eq. (free-bits)) as the image chapter has them.
"""
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .elbo import iwae_bound_chunked, log_normal
from .runtime import device_of, eval_mode, seeded
from .text_data import PAD_ID, check_tokens
from .train import (adam, check_kl_options, check_training, epoch_means, is_count,
                    lr_schedule, record_epoch, stopped_by_hand)

TEXT_DIVERGED_HINT = ("Usual causes: a learning rate too high (try 1e-3 or lower) or "
                      "exploding GRU gradients.")


def negative_elbo(model, tokens, word_dropout=0.0):
    """The two terms of the negative ELBO of each name (N, T), in nats:
    ``(distortion (N,), kl (N, latent_dim))``; the negative ELBO is distortion + kl.sum(1)."""
    mu, logvar = model.encode(tokens)                        # q(z|x) = N(mu, diag exp(logvar))
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # z ~ q(z|x), Eq. (reparam)
    logits = model.decode_logits(z, tokens, word_dropout)    # p(x_t | x_<t, z), (N, T, V)
    distortion = F.cross_entropy(                            # -log p(x|z), Eq. (seq-likelihood)
        logits.transpose(1, 2).float(), tokens, ignore_index=PAD_ID, reduction="none").sum(1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1)         # KL(q || N(0, I)) per dimension, Eq. (kl)
    return distortion, kl


def kl_weight(step, warmup_steps, beta=1.0):
    """beta_s = beta * min(1, s / S) at step s of a warm-up of S steps (Eq. (kl-annealing));
    beta throughout when S = 0."""
    return beta * min(1.0, step / warmup_steps) if warmup_steps else beta


def text_vae_step(model, optimizer, tokens, beta=1.0, free_bits=0.0, word_dropout=0.0):
    """One Adam step on a batch of names: Eq. (vae-loss) with the rate weighted by ``beta``
    and, with ``free_bits`` = lambda > 0, each latent dimension's batch-mean KL counted as
    at least lambda (Eq. (free-bits)). Returns the batch's metrics in nats per name."""
    distortion, kl = negative_elbo(model, tokens, word_dropout)
    rate = kl.sum(1)                                         # KL(q(z|x) || p(z)) per name
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


def train_text_vae(model, tokens, epochs, lr=1e-3, batch_size=128, beta=1.0,
                   kl_warmup_epochs=0, free_bits=0.0, word_dropout=0.0, lr_decay=False,
                   on_epoch_end=None, desc="text VAE"):
    """Train ``model`` on names ``tokens`` (N, T) with Adam; return the history
    ``{metric: [per-epoch means]}`` of loss, neg_elbo, distortion and rate, in nats per name.

    ``kl_warmup_epochs``: KL annealing, Eq. (kl-annealing) over that many epochs' steps.
    ``word_dropout``: the share of the decoder's input characters hidden. ``lr_decay``: the
    learning rate falls linearly to 0 over the epochs. Ctrl-C ends training early.
    """
    check_tokens(tokens, model.vocab_size)
    check_training(epochs, batch_size, on_epoch_end)
    check_kl_options(beta, free_bits, kl_warmup_epochs)
    device = device_of(model)
    tokens = tokens.to(device)
    optimizer = adam(model.parameters(), lr)
    schedule = lr_schedule(optimizer, epochs, lr_decay)
    steps_per_epoch = -(-len(tokens) // batch_size)
    warmup_steps = kl_warmup_epochs * steps_per_epoch
    history = {}
    bar = tqdm(range(epochs), desc=desc)
    try:
        for epoch in bar:
            model.train()                                    # whatever a callback left
            steps = []
            for i, rows in enumerate(torch.randperm(len(tokens), device=device).split(batch_size)):
                beta_s = kl_weight(epoch * steps_per_epoch + i, warmup_steps, beta)
                steps.append(text_vae_step(model, optimizer, tokens[rows], beta_s, free_bits,
                                           word_dropout))
            means = record_epoch(history, epoch_means(steps), epoch, TEXT_DIVERGED_HINT, bar)
            schedule.step()
            if on_epoch_end is not None:
                on_epoch_end(epoch, means)
    except KeyboardInterrupt:
        stopped_by_hand(history)
    model.eval()
    return history


def check_batch_size(batch_size):
    if not is_count(batch_size):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")


@torch.no_grad()
def evaluate_text_vae(model, tokens, seed=0, batch_size=1000):
    """Test negative ELBO, rate and distortion in nats per name, and the negative ELBO in
    nats per character (per predicted symbol: characters and end symbols). In eval mode,
    with codes drawn from ``seed``'s own random state: the caller's mode and random stream
    are left as they were."""
    check_tokens(tokens, model.vocab_size)
    check_batch_size(batch_size)
    sums = 0
    with eval_mode(model), seeded(seed, device_of(model)):
        for batch in tokens.to(device_of(model)).split(batch_size):
            distortion, kl = negative_elbo(model, batch)
            rate = kl.sum(1)
            sums = sums + torch.stack([(distortion + rate).sum(), rate.sum(), distortion.sum()])
    neg_elbo, rate, distortion = (sums / len(tokens)).tolist()
    per_char = neg_elbo * len(tokens) / (tokens != PAD_ID).sum().item()
    return {"neg_elbo": neg_elbo, "rate": rate, "distortion": distortion,
            "neg_elbo_per_char": per_char}


def log_weights(model, tokens, k):
    """log p(x, z_i) - log q(z_i|x) for k codes z_i ~ q(z|x) per name: (k, N) (Eq. (iwae))."""
    mu, logvar = model.encode(tokens)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(k, *mu.shape, device=mu.device)
    logits = model.decode_logits(z.flatten(0, 1), tokens.repeat(k, 1))
    log_lik = -F.cross_entropy(logits.transpose(1, 2).float(), tokens.repeat(k, 1),
                               ignore_index=PAD_ID, reduction="none").sum(1).view(k, -1)
    return log_lik + log_normal(z) - log_normal(z, mu, logvar)


@torch.no_grad()
def iwae_nll_per_char(model, tokens, k=100, chunk=50, seed=0, batch_size=500):
    """The importance-weighted bound -L_k on -log p(x) (Eq. (iwae)), in nats per character:
    tighter than the negative ELBO (k = 1), an estimate of the test NLL as k grows. Like
    ``evaluate_text_vae``, it leaves the caller's mode and random stream as they were."""
    check_tokens(tokens, model.vocab_size)
    check_batch_size(batch_size)
    if not (is_count(k) and is_count(chunk)):
        raise ValueError(f"k and chunk must be integers >= 1, got k={k!r}, chunk={chunk!r}")
    total = 0
    with eval_mode(model), seeded(seed, device_of(model)):
        for batch in tokens.to(device_of(model)).split(batch_size):
            total = total + iwae_bound_chunked(lambda n: log_weights(model, batch, n), k, chunk).sum()
    return -(total / (tokens != PAD_ID).sum()).item()

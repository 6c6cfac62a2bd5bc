"""Training InfoGAN: the two steps of the book's GAN with Q's loss added, and the loop.

Eq. (infogan), the paper's game:  min over G, Q  max over D  of  V(D, G) - lambda L_I(G, Q).
Written as losses to minimise, with the book's GAN losses (``edu_gen.gan_train``) and
Q's loss -E[log Q(c | x)] = H(c) - L_I (``info_loss`` below):

    D and Q:  discriminator_loss(D(x), D(G(z, c)))  +  lambda * Q's loss on G(z, c)
    G:        generator_loss(D(G(z, c)))            +  lambda * Q's loss on G(z, c)

so Q learns to read the code from the fakes (in D's step, with D's body), and G is rewarded
for fakes whose code Q can read (in G's step, through the frozen D and Q). ``plain=True`` is
the paper's baseline: the same networks and Q's training, but G's loss without Q's term,
so nothing asks G to use the code.
"""
import torch
import torch.nn.functional as F
from torch.nn.utils import get_total_norm
from tqdm.auto import tqdm

from .elbo import log_normal
from .gan_diagnosis import GAN_DIVERGED_HINT
from .gan_train import check_data_range, discriminator_loss, generator_loss
from .runtime import device_of
from .train import adam, check_training, epoch_means, record_epoch, stopped_by_hand


def info_loss(q, code):
    """-E[log Q(c | x)] over the batch (Eq. (info-bound) without H(c)), as ``(categorical,
    continuous)`` 0-d tensors: the cross-entropy of the category logits, and minus the log
    density of c_cont under the factored Gaussian N(mean, diag exp(logvar))."""
    zero = q.mean.new_zeros(())
    categorical = F.cross_entropy(q.logits, code.categories) if q.logits.shape[1] else zero
    continuous = -log_normal(code.continuous.float(), q.mean, q.logvar).mean() \
        if q.mean.shape[1] else zero
    return categorical, continuous


def information_bound(categorical_loss, codes):
    """The categorical part of L_I (Eq. (info-bound)): log K - cross-entropy, in nats."""
    return codes.entropy() - categorical_loss


def infogan_discriminator_step(discriminator, optimizer, real, fake, code, codes,
                               info_weight=1.0, continuous_weight=0.1,
                               loss="non-saturating"):
    """One update of D and Q (Eq. (infogan)): Eq. (d-step) plus lambda times Q's loss
    (``info_weight`` for the categorical code, ``continuous_weight`` for the
    continuous)."""
    fake = fake.detach()                               # D's, Q's losses skip G
    real_logits, _ = discriminator(real)
    fake_logits, q = discriminator(fake)
    d_loss = discriminator_loss(loss, real_logits, fake_logits)       # Eq. (d-step)
    q_categorical, q_continuous = info_loss(q, code)                   # -E log Q(c | x)
    info = info_weight * q_categorical + continuous_weight * q_continuous
    optimizer.zero_grad(set_to_none=True)
    (d_loss + info).backward()                                         # Eq. (infogan)
    optimizer.step()
    info_bound = information_bound(q_categorical.detach(), codes)  # Eq. (info-bound)
    return {"d_loss": d_loss.detach(),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean(),
            "info_bound": info_bound,
            "q_continuous": q_continuous.detach()}


def infogan_generator_step(generator, discriminator, optimizer, fake, code,
                           info_weight=1.0, continuous_weight=0.1,
                           loss="non-saturating"):
    """One update of G through the frozen D and Q (Eq. (infogan)): Eq. (g-step) plus
    lambda times Q's loss on the same fakes, so G makes fakes whose code Q reads."""
    discriminator.requires_grad_(False)                # D, Q frozen: G moves only
    try:
        fake_logits, q = discriminator(fake)
        g_loss = generator_loss(loss, fake_logits)                    # Eq. (g-step)
        q_categorical, q_continuous = info_loss(q, code)
        info = info_weight * q_categorical + continuous_weight * q_continuous
        optimizer.zero_grad(set_to_none=True)
        (g_loss + info).backward()                                     # Eq. (infogan)
    finally:
        discriminator.requires_grad_(True)
    grad_norm = get_total_norm(
        [p.grad for p in generator.parameters() if p.grad is not None])
    optimizer.step()
    return {"g_loss": g_loss.detach(), "g_grad_norm": grad_norm}


def train_infogan(generator, discriminator, data, codes, epochs, info_weight=1.0,
                  continuous_weight=0.1, plain=False,
                  lr_d=2e-4, lr_g=1e-3, betas=(0.5, 0.999), batch_size=64, loss="non-saturating",
                  on_epoch_end=None, desc="InfoGAN"):
    """Train ``generator`` (latent_dim = ``codes.dim``) against an ``InfoDiscriminator`` on
    ``data`` (N, ...), with the paper's learning rates (D and Q 2e-4, G 1e-3) and lambda =
    ``info_weight``; return the history ``{metric: [per-epoch means]}``: both losses, D(x),
    D(G(z)), ``info_bound`` (L_I of the categorical code, Eq. (info-bound), in nats) and
    ``q_continuous`` (Q's loss on the continuous codes). ``plain=True``: the baseline whose
    G is not rewarded for the code (Q still learns to read it, if it can).
    """
    check_training(epochs, batch_size, on_epoch_end)
    if loss not in ("minimax", "non-saturating"):
        raise ValueError(f"InfoGAN here plays the probability losses 'minimax' or "
                         f"'non-saturating', got {loss!r}")
    if generator.latent_dim != codes.dim:
        raise ValueError(f"the generator takes {generator.latent_dim} inputs but the codes make "
                         f"{codes.dim}: build it with latent_dim=codes.dim")
    if len(data) < batch_size:
        raise ValueError(f"{len(data)} examples cannot fill a batch of {batch_size}: lower batch_size")
    check_data_range(generator, data)                  # a tanh generator needs data in [-1, 1]
    device = device_of(generator)
    data = data.to(device)
    g_opt = adam(generator.parameters(), lr_g, betas)
    d_opt = adam(discriminator.parameters(), lr_d, betas)
    g_weights = (0.0, 0.0) if plain else (info_weight, continuous_weight)
    history = {}
    generator.train()
    discriminator.train()
    bar = tqdm(range(epochs), desc=desc)
    try:
        for epoch in bar:
            steps = []
            for rows in torch.randperm(len(data), device=device).split(batch_size):
                if len(rows) < batch_size:
                    break                              # the last, incomplete batch is dropped
                z, code = codes.sample(batch_size, device)                 # G's input [z, c]
                fake = generator(z)
                steps.append(infogan_discriminator_step(discriminator, d_opt, data[rows], fake,
                                                        code, codes, info_weight,
                                                        continuous_weight, loss))
                steps.append(infogan_generator_step(generator, discriminator, g_opt, fake, code,
                                                    *g_weights, loss))
            means = record_epoch(history, epoch_means(steps), epoch, GAN_DIVERGED_HINT, bar)
            if on_epoch_end is not None:
                on_epoch_end(epoch, means)
    except KeyboardInterrupt:
        stopped_by_hand(history)
    generator.eval()
    discriminator.eval()
    return history

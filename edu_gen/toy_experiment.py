"""The mode-collapse experiment of the chapter "Mode collapse" and of
``scripts/mode_collapse_table.py``: GAN fixes trained on the same 2D toy mixtures with the
same networks and budget, and judged by the mode metric of ``edu_gen.modes``.

Every function here that takes ``seed`` seeds through ``edu_gen.runtime``: the seed used
everywhere in one run (the networks' initialisation, the data, the shuffling, the noise of
the metric and of rejection sampling) is ``seed + EDU_GEN_SEED_OFFSET``
(``used_seed(seed)``).
"""
import torch

from .data import mixture_modes, sample_mixture
from .gan import MLPDiscriminator, MLPGenerator
from .gan_train import train_gan
from .modes import N_SAMPLES, evaluate_generator, mode_metric
from .rejection import rejection_sample
from .runtime import generator as seeded_generator
from .runtime import seed_everything, seed_offset

# The methods compared, as keyword arguments: networks (``pack``, ``spectral_norm``) and
# ``train_gan`` options. The first is the baseline, a plain GAN at a constant learning
# rate; every fix after it lowers its learning rates linearly to 0 over training. Every
# one uses the same MLPs, data, batch size and number of passes over the data. A method
# with ``n_critic`` critic steps per generator step spends n_critic batches on each
# generator step, so it makes n_critic times fewer generator steps (1,200 instead of
# 6,000 for the WGANs here). ``rejection`` trains exactly as "GAN" (same seed, same
# generator), then samples it by discriminator rejection sampling (edu_gen.rejection).
BASELINE = "GAN (constant lr)"
METHODS = {
    BASELINE: dict(loss="non-saturating", lr=3e-3, lr_decay=False),
    "GAN": dict(loss="non-saturating", lr=3e-3),
    "WGAN (clip)": dict(loss="wasserstein", weight_clip=0.01, n_critic=5, lr=1e-4),
    "WGAN-GP": dict(loss="wgan-gp", n_critic=5, lr=1e-4, betas=(0.5, 0.9)),
    "SN-GAN": dict(loss="non-saturating", spectral_norm=True, lr=3e-3),
    "PacGAN4": dict(loss="non-saturating", pack=4, lr=3e-3),
    "GAN + DRS": dict(loss="non-saturating", lr=3e-3, rejection=True),
}
TOY_EPOCHS = 60          # passes over the toy dataset
TOY_BATCH = 512
TOY_DATASET = 100 * TOY_BATCH
TOY_G_HIDDEN = 256       # 3 hidden layers each; the generator wider than the discriminator
TOY_D_HIDDEN = 128


def used_seed(seed):
    """The seed a run of ``seed`` really uses: ``seed + EDU_GEN_SEED_OFFSET``."""
    return seed + seed_offset()


def toy_gan(method, seed=0, device="cpu", g_hidden=TOY_G_HIDDEN, d_hidden=TOY_D_HIDDEN,
            latent_dim=2):
    """(generator, discriminator, train_gan options) of one method of ``METHODS``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {list(METHODS)}")
    options = dict(METHODS[method])
    pack = options.pop("pack", 1)
    spectral_norm = options.pop("spectral_norm", False)
    options.pop("rejection", None)         # a way of sampling, not of training
    options.setdefault("lr_decay", True)   # every fix: learning rates fall linearly to 0
    seed_everything(seed)
    generator = MLPGenerator(latent_dim, (2,), hidden=g_hidden, layers=3).to(device)
    discriminator = MLPDiscriminator((2,), hidden=d_hidden, layers=3, pack=pack,
                                     spectral_norm=spectral_norm).to(device)
    return generator, discriminator, options


def run_toy(method, name, seed=0, epochs=TOY_EPOCHS, device="cpu", on_epoch_end=None,
            **network):
    """Train one method on the toy mixture ``name``; return (generator, history, metric).

    A method with ``rejection`` is measured on samples kept by discriminator rejection
    sampling with its own trained discriminator."""
    generator, discriminator, options = toy_gan(method, seed, device, **network)
    data = sample_mixture(name, TOY_DATASET, seeded_generator(seed), device)
    history = train_gan(generator, discriminator, data, epochs, batch_size=TOY_BATCH,
                        on_epoch_end=on_epoch_end, desc=f"{method} on {name}", **options)
    if not METHODS[method].get("rejection"):
        return generator, history, evaluate_generator(generator, name, seed=used_seed(seed))
    samples, _ = rejection_sample(generator, discriminator, N_SAMPLES, seed=used_seed(seed))
    centers, sd = mixture_modes(name)
    return generator, history, mode_metric(samples, centers, sd)


# The chapter's live runs: a smaller, shorter setup than the table's (3 hidden layers of 128
# units for both networks, 25,600 ring points, batch 256, lr 1e-3, 10 epochs: 1,000 steps,
# 5 to 13 s on one thread of an idle 2-core machine here). ``scripts/mode_collapse_table.py --live`` runs it over
# several seeds, so the chapter can check its live seed against their spread.
LIVE_EPOCHS = 10
LIVE_POINTS = 25600
LIVE_BATCH = 256
LIVE_HIDDEN = 128
LIVE_LR = 1e-3
LIVE_SNAPSHOTS = 1000    # fixed noise vectors kept by the Snapshots callback


def live_ring_run(lr_decay, seed=0, epochs=LIVE_EPOCHS, device="cpu"):
    """One live run of the chapter: a plain GAN on the ring, its learning rates held
    constant (``lr_decay=False``) or decayed linearly to 0. Returns (snapshots, metric
    on 2,500 samples, generator, discriminator); ``snapshots`` holds G(z) for 1,000
    fixed noise vectors five times during training."""
    from .gan import Snapshots

    seed_everything(seed)
    g = MLPGenerator(2, (2,), hidden=LIVE_HIDDEN, layers=3).to(device)
    d = MLPDiscriminator((2,), hidden=LIVE_HIDDEN, layers=3).to(device)
    points = sample_mixture("ring", LIVE_POINTS, seeded_generator(seed), device)
    snaps = Snapshots(g, g.sample_noise(LIVE_SNAPSHOTS), every=max(1, epochs // 5))
    train_gan(g, d, points, epochs, lr=LIVE_LR, batch_size=LIVE_BATCH,
              lr_decay=lr_decay, on_epoch_end=snaps, desc=f"lr_decay={lr_decay}")
    return snaps, evaluate_generator(g, "ring", seed=used_seed(seed)), g, d

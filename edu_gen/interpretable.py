"""The experiment of the chapter "What does the code mean?" and of
``scripts/interpretable_table.py``: one row of its table per trained model and seed.

- ``vae_row``: a beta-VAE or a beta-TCVAE (``edu_gen.tcvae``) trained with the book's
  ``train_vae`` on the shapes of ``edu_gen.shapes``, scored by MIG and the FactorVAE score
  (``edu_gen.disentangle``) on its posterior means of every image, beside its distortion.
- ``infogan_row``: InfoGAN (``edu_gen.infogan``) or the paper's baseline (``plain``: G not
  rewarded for the code) trained on MNIST, scored by the bound L_I, the categorical code's
  matched accuracy on generated digits and Q's on real held-out digits, and the continuous
  codes' rank correlation with slant and width (``edu_gen.infogan_eval``).

The chapter runs one seed of a few rows live; the script runs every row for several seeds,
so the chapter's live values and the committed CSV come from the same code.
"""
import functools
import time

import torch

from .data import load_mnist
from .disentangle import factorvae_score, mig
from .gan import DCGANDiscriminator, DCGANGenerator
from .infogan import InfoCodes, InfoDiscriminator
from .infogan_eval import code_accuracy, code_correlations, generate, q_accuracy
from .infogan_train import train_infogan
from .runtime import seed_everything
from .shapes import shapes_dataset
from .tcvae import tcvae_step
from .vae import VAE
from .vae_train import train_vae

# Sizes per profile. quick: about 15 s a VAE and 20 s a GAN on one thread of an idle 2-core
# CPU; full: for a GPU (not measured). VAEs: 784-400-10 MLP, Adam 2e-3 decayed to 0.
# GANs: the book's DCGAN pair with the paper's code (62 noise, 10 categories, 2 continuous)
# and learning rates (D and Q 2e-4, G 1e-3), lambda 1 (categorical) and 0.1 (continuous).
PROFILES = {
    "quick": dict(shape_sizes=(3, 4, 6, 8, 8), vae_epochs=15, vae_batch=64, latent=10,
                  small_mnist=True, gan_epochs=5, gan_batch=32, width=16, n_generated=1000),
    "full": dict(shape_sizes=(3, 6, 15, 16, 16), vae_epochs=30, vae_batch=256, latent=10,
                 small_mnist=False, gan_epochs=25, gan_batch=64, width=64, n_generated=10000),
}
METHODS = ("beta-VAE", "beta-TCVAE")
GANS = ("InfoGAN", "plain GAN")
FIELDS = ["model", "beta", "seed", "mig", "factorvae", "distortion", "rate", "info_bound",
          "code_accuracy", "q_accuracy", "slant_rho", "width_rho", "seconds"]


def shapes_data(profile="quick", device="cpu"):
    """``(images, factors)`` of the profile's shapes grid."""
    return shapes_dataset(PROFILES[profile]["shape_sizes"], device)


def mnist_data(profile="quick", device="cpu"):
    """``(train images, test images, test labels)`` in [0, 1]."""
    small = PROFILES[profile]["small_mnist"]
    train = load_mnist("train", small=small, device=device)[0]
    test, labels = load_mnist("test", small=small, device=device)
    return train, test, labels


@torch.no_grad()
def posterior_means(model, images, batch_size=2048):
    """The posterior mean of every image, (N, latent_dim) on the CPU."""
    return torch.cat([model.encode(batch)[0].cpu() for batch in images.split(batch_size)])


def vae_row(method, beta, seed=0, profile="quick", data=None, device="cpu"):
    """Train one VAE on the shapes and score it: ``(row, model, history)``. The row's seed is
    the one used, ``seed + EDU_GEN_SEED_OFFSET`` (``edu_gen.runtime.seed_everything``)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {METHODS}")
    p = PROFILES[profile]
    images, factors = data if data is not None else shapes_data(profile, device)
    seed = seed_everything(seed)
    model = VAE(latent_dim=p["latent"], hidden=(400,)).to(device)
    step = {} if method == "beta-VAE" else {
        "step": functools.partial(tcvae_step, dataset_size=len(images))}
    start = time.perf_counter()
    history = train_vae(model, images, p["vae_epochs"], lr=2e-3, batch_size=p["vae_batch"],
                        beta=float(beta), binarize=False, lr_decay=True,
                        desc=f"{method} beta={beta}", **step)
    seconds = time.perf_counter() - start
    codes, factors = posterior_means(model, images), factors.cpu()
    row = {"model": method, "beta": beta, "seed": seed, "mig": mig(codes, factors)["score"],
           "factorvae": factorvae_score(codes, factors, seed=seed)["score"],
           "distortion": history["distortion"][-1], "rate": history["rate"][-1],
           "seconds": round(seconds, 1)}
    return row, model, history


def build_infogan(profile="quick"):
    """``(codes, generator, discriminator)``, untrained."""
    width = PROFILES[profile]["width"]
    codes = InfoCodes(62, 10, 2)
    return codes, DCGANGenerator(codes.dim, ngf=width), \
        InfoDiscriminator(DCGANDiscriminator(ndf=width), codes)


def infogan_row(name, seed=0, profile="quick", data=None, device="cpu"):
    """Train InfoGAN or the plain baseline on MNIST and score it: ``(row, networks, history)``,
    networks = (codes, generator, discriminator); the row's seed is the one used."""
    if name not in GANS:
        raise ValueError(f"unknown model {name!r}: use one of {GANS}")
    p = PROFILES[profile]
    train, test, labels = data if data is not None else mnist_data(profile, device)
    seed = seed_everything(seed)                     # seed + EDU_GEN_SEED_OFFSET
    codes, generator, discriminator = build_infogan(profile)
    generator, discriminator = generator.to(device), discriminator.to(device)
    start = time.perf_counter()
    history = train_infogan(generator, discriminator, train * 2 - 1, codes, p["gan_epochs"],
                            batch_size=p["gan_batch"], plain=name == "plain GAN", desc=name)
    seconds = time.perf_counter() - start
    images, code = generate(generator, codes, p["n_generated"], seed=seed + 1000)
    rho = code_correlations(images, code.continuous)            # (2 codes, [slant, width])
    row = {"model": name, "seed": seed, "info_bound": history["info_bound"][-1],
           "code_accuracy": code_accuracy(images, code.categories)[0],
           "q_accuracy": q_accuracy(discriminator, test, labels),
           "slant_rho": float(abs(rho[:, 0]).max()), "width_rho": float(abs(rho[:, 1]).max()),
           "seconds": round(seconds, 1)}
    return row, (codes, generator, discriminator), history

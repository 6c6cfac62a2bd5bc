"""The experiment of the chapter "VAE or GAN? Measured side by side" and of
``scripts/compare_table.py``: two VAEs and three GANs trained on the same digits for about
the same number of seconds, and every one judged by the same metrics (``edu_gen.metrics``)
against the same held-out digits, beside a floor of real digits.

``run_row(name, seed, profile)`` trains one model (or draws the real digits of the floor)
and returns its row of the table; the chapter calls it for seed 0, the script for seeds
0, 1, 2, so the chapter's live rows and the committed CSV come from the same code.
"""
import time

import torch

from .data import load_mnist
from .gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from .gan_train import train_gan
from .metrics import evaluate_samples
from .runtime import seed_everything
from .vae import VAE
from .vae_eval import grey_fraction, iwae_nll
from .vae_train import train_vae

FLOOR = "real digits"
VAES = ("MLP VAE", "conv VAE")
GANS = ("MLP GAN", "DCGAN", "DCGAN + SN")
ROWS = (FLOOR, *VAES, *GANS)

# Per profile: the epochs of each model, chosen so that each trains for about the same
# seconds (quick: about 15 s on one thread of the 2-core CPU the CSV was made on; full: a
# GPU, not measured), and the evaluation sizes. The GANs follow the GAN chapter (Adam, lr
# 2e-4, betas (0.5, 0.999), constant), the VAEs the VAE chapter (lr 2e-3 decayed to 0).
# Batches of 16 in the quick profile: on a CPU the cost of a step grows with the batch, so
# small batches make the most updates in 15 seconds (32 and 64 gave worse FD in as long).
PROFILES = {
    "quick": dict(small=True, epochs={"MLP VAE": 9, "conv VAE": 3, "MLP GAN": 8, "DCGAN": 3,
                                      "DCGAN + SN": 3},
                  vae_batch=16, gan_batch=16, latent=64, width=16, n_samples=1000,
                  iwae_k=32, iwae_digits=300),
    "full": dict(small=False, epochs={"MLP VAE": 100, "conv VAE": 60, "MLP GAN": 100,
                                      "DCGAN": 25, "DCGAN + SN": 20},
                 vae_batch=64, gan_batch=64, latent=100, width=64, n_samples=10000,
                 iwae_k=1000, iwae_digits=10000),
}
FIELDS = ["model", "seed", "fd", "kid", "kid_se", "precision", "recall", "density", "coverage",
          "class_tv", "grey", "nll", "seconds", "epochs", "parameters", "sampler_parameters", "infers_z"]


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def build(name, profile="quick"):
    """The untrained networks of one row: ``(vae,)`` or ``(generator, discriminator)``."""
    p = PROFILES[profile]
    if name == "MLP VAE":
        return (VAE(latent_dim=20, hidden=(400,)),)
    if name == "conv VAE":
        return (VAE(latent_dim=20, conv=True),)
    if name == "MLP GAN":
        return (MLPGenerator(p["latent"], (1, 28, 28), hidden=256, layers=2, tanh=True),
                MLPDiscriminator((1, 28, 28), hidden=256, layers=2))
    if name in ("DCGAN", "DCGAN + SN"):
        return (DCGANGenerator(p["latent"], ngf=p["width"]),
                DCGANDiscriminator(ndf=p["width"], spectral_norm=name == "DCGAN + SN"))
    raise ValueError(f"unknown model {name!r}: use one of {ROWS[1:]}")


def load_data(profile="quick", device="cpu"):
    """``(train images, test images)`` in [0, 1] on ``device``."""
    small = PROFILES[profile]["small"]
    return load_mnist("train", small=small, device=device)[0], load_mnist("test", small=small, device=device)[0]


@torch.no_grad()
def draw(name, networks, n, seed=0):
    """``n`` samples in [0, 1] (N, 1, 28, 28) on the CPU: decoder means for a VAE,
    (G(z) + 1) / 2 for a GAN (tanh pixels in [-1, 1])."""
    model = networks[0]
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device).manual_seed(seed)
    if name in VAES:
        x = torch.cat([model.sample(len(rows), generator=generator)
                       for rows in torch.arange(n).split(1000)])
        return x.reshape(n, 1, 28, 28).cpu()
    x = torch.cat([model(model.sample_noise(len(rows), device=device, generator=generator))
                   for rows in torch.arange(n).split(1000)])
    return ((x.cpu() + 1) / 2).clamp(0, 1)


def train(name, seed, profile="quick", device="cpu", data=None):
    """Train one model from ``seed``; return ``(networks, seconds)``."""
    p = PROFILES[profile]
    train_images = (data or load_data(profile, device))[0]
    seed_everything(seed)
    networks = tuple(net.to(device) for net in build(name, profile))
    epochs = p["epochs"][name]
    start = time.perf_counter()
    if name in VAES:
        train_vae(networks[0], train_images, epochs, lr=2e-3, batch_size=p["vae_batch"],
                  lr_decay=True, desc=name)
    else:
        train_gan(*networks, train_images * 2 - 1, epochs, lr=2e-4, betas=(0.5, 0.999),
                  batch_size=p["gan_batch"], desc=name)
    if device != "cpu" and torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return networks, time.perf_counter() - start


def measure(name, samples, test_images, train_images, networks=None, profile="quick", seed=0):
    """The metrics of one row (a dict of FIELDS but model, seed, seconds and epochs)."""
    p = PROFILES[profile]
    m = evaluate_samples(samples, test_images[:p["n_samples"]].cpu(), seed=seed)
    row = {k: m[k] for k in ("fd", "kid", "kid_se", "precision", "recall", "density",
                             "coverage", "class_tv")}
    row["grey"] = grey_fraction(samples)   # share of pixels in (0.2, 0.8): blur, not ink or paper
    row["nll"] = None
    if name in VAES:   # a VAE has a density: its IWAE bound on held-out digits, in nats
        row["nll"] = iwae_nll(networks[0], test_images[:p["iwae_digits"]], k=p["iwae_k"], seed=seed)
    row["parameters"] = count(*networks) if networks else 0
    row["sampler_parameters"] = (count(networks[0].decoder) if name in VAES else count(networks[0])) \
        if networks else 0
    row["infers_z"] = "yes" if name in VAES else ("no" if networks else "")
    return row


def run_row(name, seed=0, profile="quick", device="cpu", data=None):
    """One row of the table: ``(row dict, networks or None, samples)``.

    The floor, ``FLOOR``, is ``n_samples`` real training digits (a seeded choice) judged
    against the same held-out digits as every model: what a perfect model could score with
    this many samples.
    """
    data = data or load_data(profile, device)
    train_images, test_images = data
    n = PROFILES[profile]["n_samples"]
    if name == FLOOR:
        rows = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(seed))[:n]
        networks, seconds, samples = None, 0.0, train_images[rows.to(train_images.device)].cpu()
    else:
        networks, seconds = train(name, seed, profile, device, data)
        samples = draw(name, networks, n, seed=seed)
    row = {"model": name, "seed": seed,
           **measure(name, samples, test_images, train_images, networks, profile, seed),
           "seconds": round(seconds, 1),
           "epochs": PROFILES[profile]["epochs"].get(name, 0)}
    return row, networks, samples

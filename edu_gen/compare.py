"""The experiment of the chapter "VAE or GAN? Measured side by side" and of
``scripts/compare_table.py``: two VAEs and three GANs trained on the same digits for about
the same number of seconds, with the same learning-rate schedule (Adam, decayed linearly to
0), and every one judged by the same metrics (``edu_gen.metrics``) against the same
held-out digits, beside real digits (the ceiling) and three sets that are not digits (uniform
noise, coin flips, the mean image: the floor) of the validity ladder (``edu_gen.ladder``).

``run_rows(name, seed, profile)`` trains one model (or draws a reference set) and returns
its rows of the table: a VAE gives two rows, its samples shown as the decoder's means and
drawn as binary pixels (it trains on binary digits; the GANs on grey ones). Every row
carries, beside each metric, its evaluation standard error (``*_se``: the standard deviation
of the metric over fresh sample sets of the same size from the same model) and the metrics
in a second feature space (``*_mlp``: the ``DigitMLP`` network). The chapter calls it for
one seed, the script for five, so the chapter's live rows and the committed CSV come from
the same code.
"""
import time

import torch

from .data import load_mnist
from .digit_features import load_digit_classifier
from .gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from .gan_train import train_gan
from .ladder import NOT_DIGITS
from .metrics import evaluate_samples
from .runtime import generator, seed_everything
from .vae import VAE
from .vae_eval import evaluate, grey_fraction, iwae_nll
from .vae_train import train_vae

FLOOR = "real digits"                       # the ceiling of every score: real digits
VAES = ("MLP VAE", "conv VAE")
GANS = ("MLP GAN", "DCGAN", "DCGAN + SN")
MODELS = (*VAES, *GANS)
BINARY = {name: f"{name}, binary" for name in VAES}
ROWS = (FLOOR, "MLP VAE", BINARY["MLP VAE"], "conv VAE", BINARY["conv VAE"], *GANS, *NOT_DIGITS)

# Per profile: the epochs of each model, chosen so that each trains for about the same
# seconds (quick: about 15 s on one thread of an idle 2-core CPU; the chapter checks live
# that every model's seconds are within a factor of 2 of the median model's; full: a GPU,
# not measured), and the evaluation sizes. Every model: Adam, its lr decayed linearly
# to 0 over its epochs (the GANs lr 2e-4, betas (0.5, 0.999) as in the GAN chapter; the VAEs
# lr 2e-3 as in the VAE chapter). Batches of 16 in the quick profile: on a CPU the cost of a
# step grows with the batch, so small batches make the most updates in 15 seconds.
PROFILES = {
    "quick": dict(small=True, epochs={"MLP VAE": 11, "conv VAE": 3, "MLP GAN": 8, "DCGAN": 3,
                                      "DCGAN + SN": 3},
                  vae_batch=16, gan_batch=16, latent=64, width=16, n_samples=1000,
                  eval_sets=4, iwae_k=32, iwae_digits=1000),
    "full": dict(small=False, epochs={"MLP VAE": 100, "conv VAE": 60, "MLP GAN": 100,
                                      "DCGAN": 25, "DCGAN + SN": 20},
                 vae_batch=64, gan_batch=64, latent=100, width=64, n_samples=10000,
                 eval_sets=4, iwae_k=1000, iwae_digits=10000),
}
METRICS = ("fd", "kid", "precision", "recall", "density", "coverage", "class_tv")
SECOND = ("fd", "precision", "recall", "density", "coverage")      # in the DigitMLP features
FIELDS = ["model", "seed", *METRICS, "kid_se", *(f"{m}_se" for m in METRICS if m != "kid"),
          *(f"{m}_mlp" for m in SECOND), "grey", "nll", "rate", "seconds", "epochs",
          "parameters", "sampler_parameters", "infers_z"]


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def build(name, profile="quick"):
    """The untrained networks of one model: ``(vae,)`` or ``(generator, discriminator)``."""
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
    raise ValueError(f"unknown model {name!r}: use one of {MODELS}")


def load_data(profile="quick", device="cpu"):
    """``(train images, test images)`` in [0, 1] on ``device``."""
    small = PROFILES[profile]["small"]
    return load_mnist("train", small=small, device=device)[0], load_mnist("test", small=small, device=device)[0]


@torch.no_grad()
def draw(name, networks, n, seed=0, binary=False):
    """``n`` samples in [0, 1] (N, 1, 28, 28) on the CPU: a VAE's decoder means, or with
    ``binary`` its pixels drawn from them (x ~ Bernoulli(mean), what its likelihood scores);
    (G(z) + 1) / 2 for a GAN (tanh pixels in [-1, 1]). ``seed`` goes through
    ``runtime.generator`` (shifted by EDU_GEN_SEED_OFFSET)."""
    model = networks[0]
    model.eval()
    device = next(model.parameters()).device
    g = generator(seed, device)
    chunks = torch.arange(n).split(1000)
    if name in VAES:
        x = torch.cat([model.sample(len(rows), generator=g) for rows in chunks])
        if binary:
            x = torch.bernoulli(x, generator=g)
        return x.reshape(n, 1, 28, 28).cpu()
    x = torch.cat([model(model.sample_noise(len(rows), device=device, generator=g)) for rows in chunks])
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
                  batch_size=p["gan_batch"], lr_decay=True, desc=name)
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return networks, time.perf_counter() - start


def reference_set(name, train_images, n, seed=0):
    """``n`` images of a reference row: real training digits (``FLOOR``, a seeded choice),
    uniform noise, coin flips or the mean image, on the CPU."""
    g = generator(seed)
    if name == FLOOR:
        return train_images.cpu()[torch.randperm(len(train_images), generator=g)[:n]]
    if name == "uniform noise":
        return torch.rand(n, 1, 28, 28, generator=g)
    if name == "coin flips":
        return (torch.rand(n, 1, 28, 28, generator=g) < 0.5).float()
    if name == "mean image":
        return train_images.cpu().mean(0, keepdim=True).expand(n, -1, -1, -1).clone()
    raise ValueError(f"unknown reference row {name!r}: use {FLOOR!r} or one of {NOT_DIGITS}")


def judge(draw_set, reference, n_sets, seed=0, second=None):
    """The metrics of the set ``draw_set(0)`` against ``reference``, with each metric's
    evaluation standard error: its standard deviation over ``n_sets`` fresh sets
    ``draw_set(i)`` of the same size (KID keeps its own, ``kid_se``); with ``second`` (a
    feature network), the ``SECOND`` metrics of set 0 in its features too."""
    sets = [draw_set(i) for i in range(n_sets)]
    scores = [evaluate_samples(x, reference, seed=seed) for x in sets]
    row = {m: scores[0][m] for m in (*METRICS, "kid_se")}
    for m in METRICS:
        if m != "kid":
            row[f"{m}_se"] = float(torch.tensor([s[m] for s in scores]).std()) if n_sets > 1 else None
    if second is not None:
        other = evaluate_samples(sets[0], reference, classifier=second, seed=seed)
        row.update({f"{m}_mlp": other[m] for m in SECOND})
    row["grey"] = grey_fraction(sets[0])    # share of pixels in (0.2, 0.8): blur, not ink or paper
    return row, sets[0]


def run_rows(name, seed=0, profile="quick", device="cpu", data=None, second=None):
    """The rows of one model or reference set: ``(rows, networks or None, samples)``, where
    ``rows`` is a list of dicts of FIELDS (two for a VAE: means, then binary draws) and
    ``samples`` a dict row name -> the judged images."""
    p = PROFILES[profile]
    data = data or load_data(profile, device)
    train_images, test_images = data
    n, reference = p["n_samples"], test_images[:p["n_samples"]].cpu()
    second = second or load_digit_classifier(arch="mlp")
    common = {"seed": seed, "nll": None, "rate": None, "epochs": 0, "seconds": 0.0,
              "parameters": 0, "sampler_parameters": 0, "infers_z": ""}
    if name not in MODELS:
        row, x = judge(lambda i: reference_set(name, train_images, n, seed + 1000 * i),
                       reference, p["eval_sets"], seed, second)
        return [{"model": name, **common, **row}], None, {name: x}
    networks, seconds = train(name, seed, profile, device, data)
    common.update(epochs=p["epochs"][name], seconds=round(seconds, 1), parameters=count(*networks),
                  sampler_parameters=count(networks[0].decoder if name in VAES else networks[0]),
                  infers_z="yes" if name in VAES else "no")
    if name in VAES:   # a VAE has a density: its IWAE bound on held-out digits, in nats
        held_out = test_images[:p["iwae_digits"]]
        common["nll"] = iwae_nll(networks[0], held_out, k=p["iwae_k"], seed=seed)
        common["rate"] = evaluate(networks[0], held_out, seed=seed)["rate"]
    rows, samples = [], {}
    for row_name, binary in ([(name, False), (BINARY[name], True)] if name in VAES else [(name, False)]):
        row, x = judge(lambda i: draw(name, networks, n, seed + 1000 * i, binary), reference,
                       p["eval_sets"], seed, second)
        rows.append({"model": row_name, **common, **row})
        samples[row_name] = x
    return rows, networks, samples

"""The one training loop of the book, shared by the autoencoder, the VAEs and the GANs.

A model's module supplies ``step(batch)``: one optimisation step that returns a dict of
scalar tensors (``{"loss": loss.detach()}``). ``train`` runs it over the batches for some
epochs. The metrics are summed *on the device* and read back once per epoch, so a GPU never
waits for the host in the middle of an epoch (no ``.item()`` per step).
"""
import contextlib
import math

import torch
from tqdm.auto import tqdm

DIVERGED_HINT = (
    "Usual causes: a learning rate too high, inputs outside the range the loss expects "
    "(images in [0, 1] for a Bernoulli likelihood), or a log of 0 (a missing clamp)."
)


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite; ``.history`` keeps every finished epoch."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def train(step, batches, epochs, desc="train", on_epoch_end=None, hint=DIVERGED_HINT):
    """Run ``step`` over ``batches`` for ``epochs`` epochs; return ``{metric: [epoch means]}``.

    ``on_epoch_end(epoch, means)`` runs after each epoch (snapshots, sample grids).
    Ctrl-C (or the notebook's stop button) ends training early and keeps what was learned.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    history = {}
    bar = tqdm(range(epochs), desc=desc)
    try:
        for epoch in bar:
            sums, count = {}, 0
            for batch in batches:
                for name, value in step(batch).items():
                    sums[name] = sums.get(name, 0) + value.detach().float()
                count += 1
            means = {name: (total / count).item() for name, total in sums.items()}
            for name, value in means.items():
                history.setdefault(name, []).append(value)
            bar.set_postfix({name: f"{value:.4g}" for name, value in means.items()})
            broken = [name for name, value in means.items() if not math.isfinite(value)]
            if broken:
                raise TrainingDiverged(
                    f"{', '.join(broken)} became {means[broken[0]]} in epoch {epoch + 1}. "
                    f"{hint} The epochs before are in this error's .history.", history)
            if on_epoch_end is not None:
                on_epoch_end(epoch, means)
    except KeyboardInterrupt:
        print(f"Stopped by hand after {len(next(iter(history.values()), []))} epochs; "
              "the model keeps what it learned.")
    return history


def adam(params, lr=1e-3, betas=(0.9, 0.999)):
    """Adam whose update runs as few kernels as possible: fused on CUDA, foreach elsewhere."""
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("adam() got no trainable parameters")
    if lr <= 0:
        raise ValueError(f"the learning rate must be positive, got {lr}")
    if params[0].is_cuda:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def autocast(device, enabled=True):
    """bfloat16 autocast on CUDA (matmuls in bf16, losses in fp32); a no-op elsewhere."""
    if enabled and torch.device(device).type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def maybe_compile(fn, enabled=False):
    """``torch.compile(fn)`` when ``enabled``; ``fn`` unchanged otherwise."""
    if not enabled:
        return fn
    return torch.compile(fn)

"""What every training loop of the book shares: the optimizer, the learning-rate schedule,
and the bookkeeping of one epoch.

The loops themselves are written out where they are used (``train_vae`` in
``edu_gen.vae_train``, ``train_gan`` in ``edu_gen.gan_train``): a loop over epochs, a loop
over shuffled batches, one step. A step returns its metrics as 0-d tensors, the loop keeps
them in a list, and ``epoch_means`` averages them *on the device* and reads them back once
per epoch, so a GPU never waits for the host in the middle of an epoch (no ``.item()`` per
step). A NaN or infinite mean stops training (``TrainingDiverged``); a finite one that grew
over a millionfold from where it started warns (``LossExploded``).
"""
import math
import numbers
import warnings

import torch

DIVERGED_HINT = (
    "Usual causes: a learning rate too high, inputs outside the range the loss expects "
    "(images in [0, 1] for a Bernoulli likelihood), or a log of 0 (a missing clamp)."
)
EXPLOSION = 1e6   # an epoch mean this many times where its metric started has blown up
EXPLODED_HINT = (
    "Training goes on, but the run is almost surely broken. Usual causes: a learning rate "
    "too high (try 10 times lower) or data far from the scale the networks expect (images in "
    "[0, 1]; a tanh generator's data in [-1, 1]; other data standardized to about 1)."
)


class LossExploded(RuntimeWarning):
    """A metric grew a millionfold without becoming infinite (see ``epoch_means`` and
    ``record_epoch``); a NaN or infinite one raises ``TrainingDiverged`` instead."""


def warn_exploded(means, starts, since):
    """A ``LossExploded`` warning naming each metric of ``means`` whose magnitude exceeds
    ``EXPLOSION`` times that of its start in ``starts`` (magnitudes below 1 count as 1)."""
    grown = [f"{name} = {value:.3g} ({since}: {starts[name]:.3g})" for name, value in means.items()
             if name in starts and abs(value) > EXPLOSION * max(1.0, abs(starts[name]))]
    if grown:
        warnings.warn(f"{', '.join(grown)}: over {EXPLOSION:.0e} times where it started. "
                      f"{EXPLODED_HINT}", LossExploded, stacklevel=3)


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite; ``.history`` keeps every epoch, the last one included."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def adam(params, lr=1e-3, betas=(0.9, 0.999)):
    """Adam whose update is one fused kernel where PyTorch has one (CUDA; CPU since 2.4),
    else the foreach update (a few kernels for all parameters, not a Python loop)."""
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("adam() got no trainable parameters")
    if not is_number(lr) or not 0 < lr < math.inf:
        raise ValueError(f"the learning rate must be a positive number, got {lr!r}")
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2
            and all(is_number(b) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"betas must be two numbers in [0, 1), (beta1, beta2) such as (0.9, "
                         f"0.999) or a GAN's (0.5, 0.999), got {betas!r}")
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):  # no fused kernel for this device or PyTorch
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def lr_schedule(optimizer, epochs, decay):
    """The learning rate of epoch e (from 0): lr * (1 - e / epochs) with ``decay``, else lr.

    The rate falls linearly to 0 over training, so the last epochs take small steps that
    settle the weights; call ``.step()`` at the end of each epoch.
    """
    if not isinstance(decay, bool):
        raise ValueError(f"lr_decay must be True or False, got {decay!r}")
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda epoch: 1 - epoch / epochs if decay else 1.0)


def is_number(value):
    """A real number (a NumPy scalar too), not a bool or a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_count(value, at_least=1):
    """A Python int (not a bool; PyTorch's sizes take no NumPy integer) >= ``at_least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= at_least


def check_training(epochs, batch_size, on_epoch_end=None):
    """Raise a ValueError unless epochs and batch_size are integers >= 1 and ``on_epoch_end``
    is None or callable (checked before the first epoch, not after it)."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not is_count(value):
            hint = f": pass int({name})" if isinstance(value, numbers.Integral) else ""
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}{hint}")
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise ValueError(f"on_epoch_end must be a function of (epoch, means), got {on_epoch_end!r}")


def check_kl_options(beta, free_bits, kl_warmup_epochs):
    """Raise a ValueError unless ``beta`` (Eq. (beta-vae)), ``free_bits`` (Eq. (free-bits))
    and ``kl_warmup_epochs`` are finite numbers >= 0 (a NaN is refused, not read as 0)."""
    for name, value in (("beta", beta), ("free_bits", free_bits),
                        ("kl_warmup_epochs", kl_warmup_epochs)):
        if not is_number(value) or not 0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite number >= 0"
                             f"{' (1 gives the ELBO)' if name == 'beta' else ''}, got {value!r}")


def epoch_means(steps):
    """``{metric: mean over the steps that gave it}`` of an epoch's ``steps``, a list of the
    steps' metrics (dicts of 0-d tensors; G's metrics are missing from D's steps), as Python
    floats: one read of the device for all of them. A finite mean over ``EXPLOSION`` (10^6)
    times the metric's first step in magnitude (magnitudes below 1 counted as 1) warns
    (``LossExploded``): it blew up this epoch."""
    names = list(dict.fromkeys(name for metrics in steps for name in metrics))
    if not names:
        return {}
    values = [torch.stack([metrics[name].detach().float() for metrics in steps if name in metrics])
              for name in names]
    means, firsts = torch.stack([torch.stack([v.mean() for v in values]),
                                 torch.stack([v[0] for v in values])]).tolist()
    means = dict(zip(names, means))
    if all(math.isfinite(value) for value in means.values()):  # else record_epoch raises
        warn_exploded(means, dict(zip(names, firsts)), "its first step")
    return means


def record_epoch(history, means, epoch, hint=DIVERGED_HINT, bar=None):
    """Append an epoch's means to ``history`` (``{metric: [per-epoch means]}``) and show
    them beside the progress ``bar`` (a tqdm bar over the epochs).

    A NaN or infinite mean raises ``TrainingDiverged`` with ``hint``: a sentence, or a
    function of the history (the broken epoch last) that returns one. A mean that first
    exceeds ``EXPLOSION`` (10^6) times the metric's first epoch's in magnitude (magnitudes
    below 1 counted as 1) warns (``LossExploded``), once as it crosses; ``epoch_means``
    catches a blow-up within an epoch, the first one included.
    """
    first = {name: values[0] for name, values in history.items() if values}
    before = {name: values[-1] for name, values in history.items() if values}
    for name, value in means.items():
        history.setdefault(name, []).append(value)
    if bar is not None:
        bar.set_postfix({name: f"{value:.4g}" for name, value in means.items()})
    broken = [name for name, value in means.items() if not math.isfinite(value)]
    if broken:
        advice = hint(history) if callable(hint) else hint
        raise TrainingDiverged(
            f"{', '.join(broken)} became {means[broken[0]]} in epoch {epoch + 1}. "
            f"{advice} The epochs before are in this error's .history.", history)
    crossing = {name: value for name, value in means.items() if name in first and not
                abs(before[name]) > EXPLOSION * max(1.0, abs(first[name]))}
    warn_exploded(crossing, first, "epoch 1")
    return means


def stopped_by_hand(history):
    """What a loop prints when Ctrl-C (or the notebook's stop button) ends it early."""
    epochs = len(next(iter(history.values()), []))
    print(f"Stopped by hand after {epochs} epochs; the model keeps what it learned.")

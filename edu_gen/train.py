"""The one training loop of the book, shared by the autoencoder, the VAEs and the GANs.

A model's module supplies ``step(batch)``: one optimisation step that returns a dict of
scalar tensors (``{"loss": loss.detach()}``). ``train`` runs it over the batches for some
epochs. The metrics are summed *on the device* and read back once per epoch, so a GPU never
waits for the host in the middle of an epoch (no ``.item()`` per step).
"""
import contextlib
import functools
import math
import warnings

import torch
from tqdm.auto import tqdm

DIVERGED_HINT = (
    "Usual causes: a learning rate too high, inputs outside the range the loss expects "
    "(images in [0, 1] for a Bernoulli likelihood), or a log of 0 (a missing clamp)."
)


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite; ``.history`` keeps every epoch, the last one included."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def train(step, batches, epochs, desc="train", on_epoch_end=None, hint=DIVERGED_HINT):
    """Run ``step`` over ``batches`` for ``epochs`` epochs; return ``{metric: [epoch means]}``.

    ``on_epoch_end(epoch, means)`` runs after each epoch (snapshots, sample grids).
    Ctrl-C (or the notebook's stop button) ends training early and keeps what was learned.
    A NaN or infinite metric raises ``TrainingDiverged`` with ``hint``: a sentence, or a
    function of the history (the broken epoch last) that returns one.
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
            totals = torch.stack(list(sums.values())) / count  # one read of the device an epoch
            means = dict(zip(sums, totals.tolist()))
            for name, value in means.items():
                history.setdefault(name, []).append(value)
            bar.set_postfix({name: f"{value:.4g}" for name, value in means.items()})
            broken = [name for name, value in means.items() if not math.isfinite(value)]
            if broken:
                advice = hint(history) if callable(hint) else hint
                raise TrainingDiverged(
                    f"{', '.join(broken)} became {means[broken[0]]} in epoch {epoch + 1}. "
                    f"{advice} The epochs before are in this error's .history.", history)
            if on_epoch_end is not None:
                on_epoch_end(epoch, means)
    except KeyboardInterrupt:
        print(f"Stopped by hand after {len(next(iter(history.values()), []))} epochs; "
              "the model keeps what it learned.")
    return history


def adam(params, lr=1e-3, betas=(0.9, 0.999)):
    """Adam whose update is one fused kernel where PyTorch has one (CUDA; CPU since 2.4),
    else the foreach update (a few kernels for all parameters, not a Python loop)."""
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("adam() got no trainable parameters")
    if lr <= 0:
        raise ValueError(f"the learning rate must be positive, got {lr}")
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):  # no fused kernel for this device or PyTorch
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def autocast(device, enabled=True):
    """bfloat16 autocast on CUDA (matmuls in bf16, losses in fp32); a no-op elsewhere."""
    if enabled and torch.device(device).type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _is_compile_error(error):
    """Errors of the compiler itself (dynamo, inductor, triton, a missing C++ compiler)."""
    module = type(error).__module__ or ""
    return module.startswith(("torch._dynamo", "torch._inductor", "triton"))


def maybe_compile(fn, enabled=False, mode=None):
    """``torch.compile(fn)`` when ``enabled``; ``fn`` unchanged otherwise.

    ``mode`` defaults to "reduce-overhead" when CUDA is present (the step is replayed as a
    CUDA graph: one launch instead of hundreds) and to the default mode elsewhere. With CUDA
    graphs an output is valid until the next training iteration (a call made after the
    backward pass): sum or ``.clone()`` what you keep, as ``train`` does. Where
    compiling is impossible (no C++ compiler or triton, an unsupported Python or Windows,
    an old PyTorch) a warning is printed once and ``fn`` runs uncompiled: the results are
    the same, only slower. A compile error seen mid-run re-runs that call uncompiled.
    """
    if not enabled:
        return fn
    if mode is None:
        mode = "reduce-overhead" if torch.cuda.is_available() else "default"
    try:
        compiled = torch.compile(fn, mode=mode)
    except Exception as error:  # torch < 2.0, Python too new for dynamo, Windows
        warnings.warn(f"torch.compile is unavailable here ({error}); running uncompiled")
        return fn
    use_compiled = True

    @functools.wraps(fn, updated=())
    def run(*args, **kwargs):
        nonlocal use_compiled
        if use_compiled:
            try:
                return compiled(*args, **kwargs)
            except Exception as error:
                if not _is_compile_error(error):
                    raise
                failure = f"{type(error).__name__}: {str(error)[:300]}"
            result = fn(*args, **kwargs)  # a mistake in fn itself raises here, uncompiled
            use_compiled = False
            warnings.warn(f"torch.compile failed ({failure}); running uncompiled from now on")
            return result
        return fn(*args, **kwargs)

    run.compiled = compiled
    return run

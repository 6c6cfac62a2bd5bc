"""Where code runs and how big it runs: device, seeds and the book's two profiles.

Every notebook starts with::

    device = get_device()
    PROFILE = get_profile()
    seed_everything(0)

``quick`` runs on a CPU in minutes (small embedded data, few epochs: CI and laptops);
``full`` is what the book's figures are meant for (full data, enough epochs, a GPU).

The environment variable ``EDU_GEN_SEED_OFFSET`` shifts every seed a chapter sets through
``seed_everything`` and ``generator`` (``scripts/margin_sweep.py`` runs the book with
offsets 0, 1, 2 to measure how far each check stands from failing on other seeds).

A function that scores or samples a model it does not train (an evaluation, a callback)
draws inside ``seeded(seed, device)`` and runs the model inside ``eval_mode(model)``: a
training run that calls it every epoch draws the same numbers and trains in the same mode
as a run that never called it.
"""
import contextlib
import os
import random

import numpy as np
import torch

PROFILES = ("quick", "full")
PROFILE_ENV = "EDU_GEN_PROFILE"
SEED_OFFSET_ENV = "EDU_GEN_SEED_OFFSET"


def get_device(prefer=None):
    """The best device here: ``cuda``, then Apple's ``mps``, then ``cpu``.

    ``prefer`` (or the environment variable ``EDU_GEN_DEVICE``) forces one, e.g. "cpu".
    """
    prefer = prefer or os.environ.get("EDU_GEN_DEVICE")
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_of(module):
    """The device of a model's parameters (where its inputs must be)."""
    return next(module.parameters()).device


def get_profile(name=None):
    """``quick`` or ``full``.

    Chosen by, in order: the argument, the environment variable ``EDU_GEN_PROFILE``,
    then ``full`` if a CUDA GPU is present and ``quick`` otherwise.
    """
    name = name or os.environ.get(PROFILE_ENV) or ("full" if torch.cuda.is_available() else "quick")
    name = name.strip().lower()
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r}: use one of {PROFILES} "
            f"(set {PROFILE_ENV}=quick for a CPU, {PROFILE_ENV}=full for a GPU)"
        )
    return name


def seed_offset():
    """The shift ``EDU_GEN_SEED_OFFSET`` adds to every seed a chapter sets (default 0)."""
    text = os.environ.get(SEED_OFFSET_ENV, "0").strip() or "0"
    try:
        offset = int(text)
    except ValueError:
        raise ValueError(f"{SEED_OFFSET_ENV}={text!r} is not a whole number: "
                         f"unset it, or set it to 0, 1, 2, ...") from None
    if offset < 0:
        raise ValueError(f"{SEED_OFFSET_ENV}={offset} is negative: use 0, 1, 2, ...")
    return offset


def seed_everything(seed=0):
    """Seed Python, NumPy and PyTorch (all devices) so a run repeats.

    The seed used is ``seed + seed_offset()``, and it is returned.
    """
    seed = seed + seed_offset()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed


def generator(seed=0, device="cpu"):
    """A ``torch.Generator`` on ``device`` seeded with ``seed + seed_offset()``."""
    return torch.Generator(device=device).manual_seed(seed + seed_offset())


@contextlib.contextmanager
def seeded(seed, device="cpu"):
    """Run the block with the default generators of the CPU and of ``device`` seeded with
    ``seed`` (not shifted by ``EDU_GEN_SEED_OFFSET``: an evaluation's fixed draws), then put
    both back as they were: whatever the block draws, the caller's random stream goes on as
    if it had never run."""
    device = torch.device(device)
    accelerator = [device] if device.type != "cpu" else []
    with torch.random.fork_rng(devices=accelerator, device_type=device.type if accelerator else None):
        torch.random.default_generator.manual_seed(seed)
        if device.type == "cuda":
            torch.cuda.default_generators[device.index if device.index is not None
                                          else torch.cuda.current_device()].manual_seed(seed)
        elif accelerator:
            torch.get_device_module(device.type).manual_seed(seed)
        yield


@contextlib.contextmanager
def eval_mode(*modules):
    """Run the block with ``modules`` in eval mode (batch norm on its running statistics, no
    dropout), then give each back the mode it had, even when the block raises."""
    modes = [module.training for module in modules]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for module, mode in zip(modules, modes):
            module.train(mode)

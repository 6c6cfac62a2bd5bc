"""Where code runs and how big it runs: device, seeds and the book's two profiles.

Every notebook starts with::

    device = get_device()
    PROFILE = get_profile()
    seed_everything(0)

``quick`` runs on a CPU in minutes (small embedded data, few epochs: CI and laptops);
``full`` is what the book's figures are meant for (full data, enough epochs, a GPU).
"""
import os
import random

import numpy as np
import torch

PROFILES = ("quick", "full")
PROFILE_ENV = "EDU_GEN_PROFILE"


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


def seed_everything(seed=0):
    """Seed Python, NumPy and PyTorch (all devices) so a run repeats."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed

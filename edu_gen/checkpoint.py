"""Saving and loading trained weights safely.

Files are written to a temporary name first and renamed, so a crash mid-save never
destroys the previous checkpoint; they are read with ``torch.load(weights_only=True)``,
which refuses to run code hidden in a file.
"""
import os
from pathlib import Path

import torch

from .vae import VAE


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, corrupt, or does not fit the model."""


def save_checkpoint(path, model, **extra):
    """Save ``model.state_dict()`` and plain ``extra`` values (numbers, lists, dicts)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), **extra}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path, model, map_location="cpu"):
    """Load weights saved by ``save_checkpoint`` into ``model``; return the extra values."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train the model first, or check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(error).__name__}: {error}). It may be "
            "truncated or corrupt: delete it and train again, or restore a copy."
        ) from error
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} was not written by edu_gen.checkpoint.save_checkpoint")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CheckpointError(
            f"{path} holds weights for a different architecture than {type(model).__name__} "
            f"(build the model with the same sizes as when it was saved): {error}"
        ) from error
    return {key: value for key, value in state.items() if key != "model"}


def save_vae(path, model, **extra):
    """Save the weights and the constructor arguments, so ``load_vae`` rebuilds the model."""
    return save_checkpoint(path, model, config=model.config, **extra)


def load_vae(path, map_location="cpu"):
    """Rebuild a VAE saved by ``save_vae`` (read with ``torch.load(weights_only=True)``)."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
        config = dict(state["config"])
    except FileNotFoundError as error:
        raise CheckpointError(f"no checkpoint at {path}: train the model first, or check the path") from error
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a VAE checkpoint written by save_vae ({type(error).__name__}: "
            f"{error}); it may be truncated or corrupt: delete it and train again") from error
    model = VAE(**{**config, "hidden": tuple(config["hidden"])})
    extra = load_checkpoint(path, model, map_location)
    return model, extra

"""Saving and loading trained weights safely.

Files are written to a temporary name first and renamed, so a crash mid-save never
destroys the previous checkpoint; they are read with ``torch.load(weights_only=True)``,
which refuses to run code hidden in a file.
"""
import os
from pathlib import Path

import torch

from .gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from .vae import VAE

# The networks save_gan can rebuild from their constructor arguments (``.config``).
GAN_NETWORKS = {cls.__name__: cls for cls in
                (MLPGenerator, MLPDiscriminator, DCGANGenerator, DCGANDiscriminator)}


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, corrupt, or does not fit the model."""


def save_checkpoint(path, model, **extra):
    """Save ``model.state_dict()`` and plain ``extra`` values (numbers, lists, dicts)."""
    return write_atomically({"model": model.state_dict(), **extra}, path)


def write_atomically(state, path):
    """``torch.save`` to a temporary name, then rename: a crash mid-save keeps the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
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


def save_gan(path, generator, discriminator, **extra):
    """Save both networks of a GAN, their classes and constructor arguments, so ``load_gan``
    rebuilds them; ``extra`` plain values (numbers, lists, dicts) are kept beside them."""
    networks = {}
    for role, net in (("generator", generator), ("discriminator", discriminator)):
        name = type(net).__name__
        if name not in GAN_NETWORKS:
            raise TypeError(f"save_gan rebuilds {', '.join(GAN_NETWORKS)}; for a {name}, save its "
                            "weights with save_checkpoint and build it yourself before loading")
        networks[role] = {"class": name, "config": net.config, "weights": net.state_dict()}
    return write_atomically({"gan": networks, **extra}, path)


def load_gan(path, map_location="cpu"):
    """Rebuild ``(generator, discriminator, extra)`` saved by ``save_gan``, in eval mode
    (read with ``torch.load(weights_only=True)``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train the GAN first, or check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
        saved = state["gan"]
        nets = [GAN_NETWORKS[saved[role]["class"]](**saved[role]["config"])
                for role in ("generator", "discriminator")]
        for net, role in zip(nets, ("generator", "discriminator")):
            net.load_state_dict(saved[role]["weights"])
            net.eval()
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a GAN checkpoint written by save_gan ({type(error).__name__}: "
            f"{error}); it may be truncated or corrupt: delete it and train again, or restore "
            "a copy") from error
    return nets[0], nets[1], {key: value for key, value in state.items() if key != "gan"}


# --- resumable training ----------------------------------------------------------------

def random_states():
    """Every random state a training run draws from: the CPU generator, and each CUDA
    device's where CUDA is in use (the on-device shuffling and noise)."""
    states = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states):
    torch.set_rng_state(states["cpu"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _plain(value):
    """Tuples as lists, so settings compare equal after a round trip through a file."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def save_training(path, modules, optimizers, epochs_done, history, settings):
    """Write, atomically, everything a run needs to continue after ``epochs_done`` epochs:
    the weights of ``modules``, the states of ``optimizers`` (and learning-rate schedules),
    the history, every random state, and the run's ``settings`` (a dict of plain values)."""
    write_atomically({"epochs_done": epochs_done, "history": history, "settings": _plain(settings),
                      "modules": [m.state_dict() for m in modules],
                      "optimizers": [o.state_dict() for o in optimizers],
                      "random_states": random_states()}, path)


def resume_training(path, modules, optimizers, settings):
    """Continue a run from ``path``: load weights, optimizer states and random states and
    return ``(epochs_done, history)``; ``(0, {})`` when there is no file yet. A checkpoint of
    other settings or another architecture is refused, naming what differs."""
    path = Path(path)
    if not path.is_file():
        return 0, {}
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = state["settings"]
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a readable training checkpoint ({type(error).__name__}: {error}); it "
            "may be truncated or corrupt: delete it to start afresh, or restore a copy") from error
    for key in sorted(set(saved) | set(settings)):
        if saved.get(key) != _plain(settings.get(key)):
            raise CheckpointError(
                f"{path} was written by a run with {key}={saved.get(key)!r}, but this run has "
                f"{key}={_plain(settings.get(key))!r}: continue with the same settings, or give "
                "another checkpoint path to start a new run")
    try:
        for module, weights in zip(modules, state["modules"], strict=True):
            module.load_state_dict(weights)
        for optimizer, saved_state in zip(optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(saved_state)
    except (RuntimeError, ValueError, KeyError) as error:
        raise CheckpointError(
            f"{path} holds a run of a different architecture (build the models with the same "
            f"sizes as when it was saved, or give another path): {error}") from error
    set_random_states(state["random_states"])
    return state["epochs_done"], state["history"]

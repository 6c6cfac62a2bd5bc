"""Saving and loading trained weights safely.

Four kinds of file, each read by one function:

- ``save_checkpoint(path, model)``: weights only; ``load_checkpoint(path, model)`` reads
  them into a model built as before;
- ``save_vae(path, vae)``: a VAE's weights and constructor arguments; ``load_vae(path)``;
- ``save_gan(path, generator, discriminator)``: both networks, their classes and
  arguments; ``load_gan(path)``;
- ``train_vae(..., checkpoint=path)`` / ``train_gan(..., checkpoint=path)``: a training run,
  continued by the same call (``resume_training``).

A file given to the wrong function is refused with a message that says what it is and which
function reads it. Every file is written to a temporary name, flushed to the disk
(``os.fsync``) and renamed over the old one (``os.replace``, atomic), and the folder is
flushed after the rename: a killed process, a crash of the machine or a power cut in the
middle of a save leaves the previous file or the new one whole, never a mix. (The power cut
holds where the disk honours fsync: local disks on Linux and Windows; macOS's fsync stops
short of the drive's own cache.) The fsync costs tens of milliseconds a save, once an epoch.
Files are read with ``torch.load(weights_only=True)``, which refuses to run code hidden in
a file.
"""
import os
import pickle
from pathlib import Path

import torch

from .gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from .vae import VAE

# The networks save_gan can rebuild from their constructor arguments (``.config``).
GAN_NETWORKS = {cls.__name__: cls for cls in
                (MLPGenerator, MLPDiscriminator, DCGANGenerator, DCGANDiscriminator)}

# What each kind of file is, and the function that reads it.
KINDS = {
    "weights": "a model's weights written by save_checkpoint: read them with "
               "load_checkpoint(path, model), the model built with the sizes it was saved with",
    "vae": "a VAE written by save_vae: read it with load_vae(path)",
    "gan": "a GAN written by save_gan: read it with load_gan(path)",
    "train_vae": "the checkpoint of a train_vae run: continue it with the same train_vae call "
                 "(checkpoint=path, the same settings; a finished run returns at once, its "
                 "weights loaded into the model you pass)",
    "train_gan": "the checkpoint of a train_gan run: continue it with the same train_gan call "
                 "(checkpoint=path, the same settings; a finished run returns at once, its "
                 "weights loaded into the networks you pass)",
}


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, corrupt, of another kind, or does not fit the model."""


def trainer_of(settings):
    """``"train_gan"`` or ``"train_vae"``: the loop whose ``settings`` these are (a GAN's name a loss)."""
    return "train_gan" if "loss" in settings else "train_vae"


def file_kind(state):
    """Which of ``KINDS`` a loaded file is (None for a file edu_gen did not write)."""
    if not isinstance(state, dict):
        return None
    if "gan" in state:
        return "gan"
    if "epochs_done" in state and isinstance(state.get("settings"), dict):
        return trainer_of(state["settings"])
    if "model" in state:
        return "vae" if "config" in state else "weights"
    return None


def read_file(path, kinds, reader, map_location="cpu"):
    """The dict saved at ``path``, read with ``torch.load(weights_only=True)``; a
    ``CheckpointError`` that says what to do when it is missing, unreadable, or not one of
    ``kinds`` (``reader`` names the function the user called)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{reader} needs the path of a file, got {path!r}")
    path = Path(path)
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise CheckpointError(f"no checkpoint at {path} ({what}): train the model first, or "
                              "check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        lines = str(error).splitlines() or [""]
        detail = next((line.strip() for line in lines if "WeightsUnpickler error" in line), lines[0])
        raise CheckpointError(
            f"{path} holds Python objects other than tensors and plain values, which "
            "torch.load(weights_only=True) refuses to unpickle because loading them could run "
            "code. edu_gen never writes such files: if it is not yours, do not load it; if it "
            f"is, save tensors and plain values only. ({detail})") from error
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(error).__name__}: {error}). It may be "
            "truncated or corrupt: delete it and train again, or restore a copy.") from error
    kind = file_kind(state)
    if kind not in kinds:
        it_is = KINDS[kind] if kind else (
            "not a file written by edu_gen.checkpoint (save_checkpoint, save_vae, save_gan, or "
            "a training run's checkpoint=)")
        raise CheckpointError(f"{reader} cannot read {path}: it is {it_is}")
    return state


def save_checkpoint(path, model, **extra):
    """Save ``model.state_dict()`` and plain ``extra`` values (numbers, lists, dicts)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"save_checkpoint saves a torch.nn.Module's weights, got {type(model).__name__}")
    return write_atomically({"model": model.state_dict(), **check_plain(extra)}, path)


def check_plain(extra):
    """``extra``, once every value is one ``torch.load(weights_only=True)`` reads back: None,
    bools, numbers, strings, tensors, and lists, tuples and dicts of them; else a TypeError
    (an object saved beside the weights would make the whole file unreadable)."""
    def plain(value):
        if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
            return True
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return isinstance(value, dict) and all(plain(k) and plain(v) for k, v in value.items())
    for key, value in extra.items():
        if not plain(value):
            raise TypeError(f"{key}={type(value).__name__}(...) cannot be saved beside the weights: "
                            "keep extra values to numbers, strings, tensors, lists and dicts "
                            "(e.g. a history dict of lists), so the file stays loadable")
    return extra


def write_atomically(state, path):
    """``torch.save`` to a temporary name, ``os.fsync``, then ``os.replace``: a save cut short
    by a kill, a crash or a power cut keeps the old file (see the module's docstring)."""
    path = check_checkpoint_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())            # the bytes on the disk before the rename
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.name == "posix":                     # the rename itself on the disk too
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return path


def check_checkpoint_path(path):
    """``path`` as a ``Path``; a ValueError that says what to give instead unless a file can
    be written there (a folder, a path under a file, or an unwritable folder is refused)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"a checkpoint path must be a file name such as 'run.pt', got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a folder: give a file path for the checkpoint, "
                         f"e.g. {str(path / 'run.pt')!r}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write {str(path)!r}: {str(parent)!r} is a file, not "
                                 "a folder; give a path under a folder")
            if not os.access(parent, os.W_OK):
                raise ValueError(f"cannot write {str(path)!r}: the folder {str(parent)!r} is "
                                 "not writable; give a path in a folder you can write to")
            break
    return path


def load_checkpoint(path, model, map_location="cpu"):
    """Load weights saved by ``save_checkpoint`` (or ``save_vae``) into ``model``; return the
    extra values."""
    state = read_file(path, ("weights", "vae"), "load_checkpoint", map_location)
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
    if not isinstance(model, VAE):
        raise TypeError(f"save_vae saves an edu_gen.vae.VAE, got a {type(model).__name__}: "
                        + ("use save_gan(path, generator, discriminator)"
                           if type(model).__name__ in GAN_NETWORKS else "use save_checkpoint"))
    return save_checkpoint(path, model, config=model.config, **extra)


def load_vae(path, map_location="cpu"):
    """Rebuild a VAE saved by ``save_vae`` (read with ``torch.load(weights_only=True)``)."""
    state = read_file(path, ("vae",), "load_vae", map_location)
    try:
        config = dict(state["config"])
        model = VAE(**{**config, "hidden": tuple(config["hidden"])})
    except Exception as error:
        raise CheckpointError(f"{path} holds a config that builds no VAE ({type(error).__name__}: "
                              f"{error}); it may be corrupt: restore a copy") from error
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
        if name.endswith("Generator") != (role == "generator"):
            raise TypeError(f"save_gan(path, generator, discriminator) got a {name} as the "
                            f"{role}: pass the generator first")
        networks[role] = {"class": name, "config": net.config, "weights": net.state_dict()}
    return write_atomically({"gan": networks, **check_plain(extra)}, path)


def load_gan(path, map_location="cpu"):
    """Rebuild ``(generator, discriminator, extra)`` saved by ``save_gan``, in eval mode
    (read with ``torch.load(weights_only=True)``)."""
    state = read_file(path, ("gan",), "load_gan", map_location)
    try:
        saved = state["gan"]
        nets = [GAN_NETWORKS[saved[role]["class"]](**saved[role]["config"])
                for role in ("generator", "discriminator")]
        for net, role in zip(nets, ("generator", "discriminator")):
            net.load_state_dict(saved[role]["weights"])
            net.eval()
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a GAN checkpoint written by save_gan ({type(error).__name__}: "
            f"{error}); it may be corrupt: delete it and train again, or restore a copy") from error
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
    return ``(epochs_done, history)``; ``(0, {})`` when there is no file yet. Called before
    the first epoch, it refuses, naming what to change: a path that cannot hold a file, a
    file of another kind (a saved model, another loop's run), a run of other settings or of
    another architecture."""
    path = check_checkpoint_path(path)
    if not path.exists():
        return 0, {}
    trainer = trainer_of(settings)
    state = read_file(path, tuple(KINDS), trainer)
    if file_kind(state) != trainer:
        raise CheckpointError(f"{trainer} cannot continue {path}: it is {KINDS[file_kind(state)]}. "
                              f"Give this {trainer} run a checkpoint path of its own.")
    saved = state["settings"]
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

"""TensorBoard logs of a training run: every epoch's metrics and a grid of samples.

``train_vae(..., log_dir="runs/vae")`` and ``train_gan(..., log_dir="runs/gan")`` write them
with ``torch.utils.tensorboard.SummaryWriter`` (tensorboard is an optional dependency:
``pip install tensorboard``). Watch a run in Jupyter or on Colab with

    %load_ext tensorboard
    %tensorboard --logdir runs

The step of each point is the epoch (from 0, as in the history). The samples come from a
random generator of their own, fixed for the whole run, so the same codes are decoded every
epoch and logging never changes what the training run draws.
"""
import torch
from torchvision.utils import make_grid

GRID = 64        # samples per grid, 8 x 8
SAMPLE_SEED = 0  # the fixed codes of the grids


def open_log(log_dir, start_epoch=0):
    """A ``SummaryWriter`` on ``log_dir``; a run resumed at ``start_epoch`` drops whatever an
    interrupted run logged for the epochs from there on, so each epoch appears once."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError("log_dir= writes TensorBoard logs and needs tensorboard: "
                          "pip install tensorboard (or pip install 'edu-gen[logs]')") from error
    return SummaryWriter(str(log_dir), purge_step=start_epoch or None)


def log_epoch(writer, epoch, means, samples=None):
    """Write an epoch's metrics (``{name: mean}``) and, for images (N, C, H, W) in [0, 1],
    an 8 x 8 grid of ``samples``."""
    for name, value in means.items():
        writer.add_scalar(name, value, epoch)
    if samples is not None and samples.dim() == 4 and samples.shape[1] in (1, 3):
        writer.add_image("samples", make_grid(samples[:GRID].float().clamp(0, 1).cpu(), nrow=8), epoch)
    writer.flush()


def fixed_noise(n, dim, device):
    """``n`` codes z ~ N(0, I) of ``dim`` dimensions from the log's own seed."""
    return torch.randn(n, dim, device=device, generator=torch.Generator(device).manual_seed(SAMPLE_SEED))


@torch.no_grad()
def vae_samples(model, z, n_classes=0):
    """The decoder's mean images of the codes ``z`` in eval mode, labels 0, 1, 2, ... if conditional."""
    labels = torch.arange(len(z), device=z.device) % n_classes if n_classes else None
    model.eval()
    x = model.decode(z, labels)
    model.train()
    return x


@torch.no_grad()
def gan_samples(generator, z, pixel_range):
    """G(z) in eval mode, mapped from ``pixel_range`` (the data's, e.g. (-1, 1)) to [0, 1]."""
    n_classes = getattr(generator, "n_classes", 0)
    labels = torch.arange(len(z), device=z.device) % n_classes if n_classes else None
    generator.eval()
    x = generator(z, labels)
    generator.train()
    low, high = pixel_range
    return (x - low) / (high - low)

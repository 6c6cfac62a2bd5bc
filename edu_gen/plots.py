"""Figures the chapters share: image grids and training curves."""
import matplotlib.pyplot as plt
import torch
from torchvision.utils import make_grid


def image_grid(images, nrow=8, pad=2):
    """Tile images (N, 1, H, W) or (N, H, W) into one 2D NumPy array with
    ``torchvision.utils.make_grid``: ``nrow`` images a row, gaps of 0 (white in `gray_r`)."""
    images = torch.as_tensor(images).detach().float().cpu()
    if images.dim() == 3:
        images = images[:, None]
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected grayscale images (N, 1, H, W) or (N, H, W), got {tuple(images.shape)}")
    if len(images) == 0:
        raise ValueError("image_grid got no images (an empty tensor): pass at least one")
    return make_grid(images, nrow=nrow, padding=pad, pad_value=0)[0].numpy()


def show_images(images, nrow=8, title=None, ax=None):
    """Show a grid of images in [0, 1] (black digits on white, like ink on paper)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(nrow * 0.6, (-(-len(images) // nrow)) * 0.6 + 0.4))
    ax.imshow(image_grid(images, nrow), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_history(history, keys=None, ax=None, title=None):
    """Plot per-epoch metrics of a history from ``train_vae`` or ``train_gan`` (``keys``: which)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for key in keys or history:
        ax.plot(range(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax

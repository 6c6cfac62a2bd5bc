"""Building blocks the VAEs and the GANs share: a fully connected network and one-hot labels."""
from torch import nn
import torch.nn.functional as F


def mlp(sizes, activation=nn.ReLU):
    """Linear layers of the given sizes, ``activation()`` between them (none after the last).

    ``mlp([784, 400, 40])`` is Linear(784, 400), ReLU, Linear(400, 40).
    """
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"mlp needs at least two positive layer sizes, got {list(sizes)}")
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    return nn.Sequential(*layers[:-1])


def one_hot(labels, n_classes, n):
    """``n`` integer labels in 0..n_classes-1 as float one-hot rows, shape (n, n_classes)."""
    if labels is None:
        raise ValueError(f"this model is conditional on {n_classes} classes: pass labels, "
                         f"int64 of shape (N,)")
    if labels.shape != (n,):
        raise ValueError(f"expected {n} labels of shape ({n},), got {tuple(labels.shape)}")
    return F.one_hot(labels.long(), n_classes).float()

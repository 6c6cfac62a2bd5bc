import pytest
import torch

from edu_gen.autoencoder import Autoencoder
from edu_gen.checkpoint import (CheckpointError, load_checkpoint, load_gan, load_vae,
                                save_checkpoint, save_gan, save_vae)
from edu_gen.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan
from edu_gen.vae import VAE


def test_round_trip_keeps_weights_and_extras(tmp_path):
    model = Autoencoder(latent_dim=3)
    path = save_checkpoint(tmp_path / "ae.pt", model, epochs=5, history={"loss": [1.0, 0.5]})
    other = Autoencoder(latent_dim=3)
    extra = load_checkpoint(path, other)
    assert extra == {"epochs": 5, "history": {"loss": [1.0, 0.5]}}
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)
    assert not (tmp_path / "ae.pt.tmp").exists()


def test_corrupt_missing_and_mismatched_checkpoints_say_what_to_do(tmp_path):
    model = Autoencoder(latent_dim=3)
    with pytest.raises(CheckpointError, match="train the model first"):
        load_checkpoint(tmp_path / "none.pt", model)
    path = save_checkpoint(tmp_path / "ae.pt", model)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path, model)
    save_checkpoint(path, model)
    with pytest.raises(CheckpointError, match="different architecture"):
        load_checkpoint(path, Autoencoder(latent_dim=4))


class PlantsAFile:
    """A pickled payload that, if unpickled with weights_only=False, creates a file: code run
    by merely loading a checkpoint."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_checkpoint_refuses_pickled_code(tmp_path):
    # The weights are valid, so only weights_only=True stands between the file and the code:
    # with torch.load(weights_only=False) the marker file appears and no error is raised.
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    model = Autoencoder(latent_dim=3)
    torch.save({"model": model.state_dict(), "payload": PlantsAFile(marker)}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path, Autoencoder(latent_dim=3))
    vae = VAE(latent_dim=2)
    torch.save({"model": vae.state_dict(), "config": vae.config, "payload": PlantsAFile(marker)}, path)
    with pytest.raises(CheckpointError, match="not a VAE checkpoint"):
        load_vae(path)
    torch.save({"gan": {}, "payload": PlantsAFile(marker)}, path)
    with pytest.raises(CheckpointError, match="not a GAN checkpoint"):
        load_gan(path)
    assert not marker.exists(), "loading a checkpoint ran code hidden in it"


def test_a_vae_round_trip_rebuilds_the_model(tmp_path):
    model = VAE(hidden=(32,), latent_dim=3, n_classes=10)
    path = save_vae(tmp_path / "vae.pt", model, epochs=2)
    assert torch.load(path, weights_only=True)["epochs"] == 2
    loaded, extra = load_vae(path)
    z, y = torch.randn(4, 3), torch.arange(4)
    torch.testing.assert_close(loaded.decode(z, y), model.decode(z, y))
    assert extra["config"]["n_classes"] == 10


def test_a_corrupt_or_missing_vae_checkpoint_says_what_to_do(tmp_path):
    path = save_vae(tmp_path / "vae.pt", VAE(hidden=(8,), latent_dim=2))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_vae(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_vae(tmp_path / "missing.pt")


GANS = {
    "mlp, spectral norm, PacGAN": lambda: (
        MLPGenerator(latent_dim=3, hidden=16), MLPDiscriminator(hidden=16, pack=2, spectral_norm=True)),
    "dcgan, conditional": lambda: (
        DCGANGenerator(latent_dim=8, ngf=4, n_classes=10), DCGANDiscriminator(ndf=4, n_classes=10)),
    "dcgan critic without batch norm": lambda: (
        DCGANGenerator(latent_dim=8, ngf=4), DCGANDiscriminator(ndf=4, batch_norm=False)),
}


@pytest.mark.parametrize("kind", GANS)
def test_a_gan_round_trip_rebuilds_both_networks(tmp_path, kind):
    torch.manual_seed(0)
    generator, discriminator = GANS[kind]()
    conditional = generator.n_classes > 0
    data = torch.randn(64, 2) if isinstance(generator, MLPGenerator) else torch.rand(64, 1, 28, 28) * 2 - 1
    labels = torch.arange(64) % 10 if conditional else None
    train_gan(generator, discriminator, data, 1, batch_size=16, labels=labels)  # batch norm stats move
    path = save_gan(tmp_path / "gan.pt", generator, discriminator, epochs=1)
    loaded_g, loaded_d, extra = load_gan(path)
    assert extra == {"epochs": 1} and not loaded_g.training and not loaded_d.training
    z, y = generator.sample_noise(8), (torch.arange(8) if conditional else None)
    torch.testing.assert_close(loaded_g(z, y), generator(z, y), rtol=0, atol=0)
    x = data[:8]
    torch.testing.assert_close(loaded_d(x, y), discriminator(x, y), rtol=0, atol=0)


def test_a_corrupt_missing_or_unknown_gan_checkpoint_says_what_to_do(tmp_path):
    path = save_gan(tmp_path / "gan.pt", MLPGenerator(hidden=8), MLPDiscriminator(hidden=8))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_gan(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_gan(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="save_checkpoint"):
        save_gan(tmp_path / "other.pt", torch.nn.Linear(2, 2), MLPDiscriminator(hidden=8))
